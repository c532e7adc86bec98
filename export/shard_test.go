package export

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"", Shard{}, ""},
		{"0/1", Shard{0, 1}, ""},
		{"2/4", Shard{2, 4}, ""},
		{" 3 / 4 ", Shard{3, 4}, ""},
		{"4/4", Shard{}, "0 <= I < N"},
		{"-1/4", Shard{}, "0 <= I < N"},
		{"1/0", Shard{}, "0 <= I < N"},
		{"1", Shard{}, "I/N"},
		{"a/b", Shard{}, "I/N"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseShard(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestShardNames(t *testing.T) {
	assert.Equal(t, "_deltashare_state.json", Shard{}.StateName())
	assert.Equal(t, "_deltashare_state.lock", Shard{}.LockName())
	assert.Equal(t, "part", Shard{}.PartPrefix())
	assert.Nil(t, Shard{}.Filter())
	s := Shard{1, 3}
	assert.Equal(t, "1/3", s.String())
	assert.Equal(t, "_deltashare_state.shard-1-of-3.json", s.StateName())
	assert.Equal(t, "part-shard-1-of-3", s.PartPrefix())
	// Part files of one shard are not part files of another, nor of an unsharded run.
	assert.True(t, isPart("part-shard-1-of-3-00000.parquet", s.PartPrefix()))
	assert.False(t, isPart("part-shard-1-of-3-00000.parquet", "part"))
	assert.False(t, isPart("part-shard-1-of-3-00000.parquet", Shard{0, 3}.PartPrefix()))
	assert.False(t, isPart("part-00000.parquet", s.PartPrefix()))
}

func TestShardsPartitionIDs(t *testing.T) {
	// Every id lands in exactly one of N shards, the same one every time, and the shares are
	// roughly even.
	const n, ids = 4, 4000
	counts := make([]int, n)
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("%032x", i*7919)
		in := 0
		for k := 0; k < n; k++ {
			if (Shard{k, n}).Contains(id) {
				in++
				counts[k]++
			}
		}
		require.Equal(t, 1, in, id)
	}
	for k, c := range counts {
		assert.InDelta(t, ids/n, c, ids/n/5, "shard %d", k)
	}
	assert.True(t, Shard{}.Contains("anything"))
	assert.True(t, Shard{0, 1}.Contains("anything"))
}
