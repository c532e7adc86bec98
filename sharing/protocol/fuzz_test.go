package protocol

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
)

func FuzzDecodeLine(f *testing.F) {
	for _, b := range sharedtest.Seeds("protocol/ndjson", "*") {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
	}
	f.Add([]byte(`{"add":{"url":"https://x","id":"a","partitionValues":{},"size":1,"version":0,"timestamp":1}}`))
	f.Add([]byte(`{"endStreamAction":{"errorMessage":"e","httpStatusErrorCode":500}}`))
	f.Add([]byte(`{"nextPageToken":"n"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		it, err := DecodeLine(line)
		if err != nil || it.IsZero() {
			return
		}
		_ = it.String()
		var enc func(Item) ([]byte, error)
		switch it.Format {
		case FormatDelta:
			enc = EncodeDeltaLine
		default:
			enc = func(it Item) ([]byte, error) { return EncodeParquetLine(it, true) }
		}
		b1, err := enc(it)
		if err != nil {
			t.Fatalf("encoding a decoded item: %v", err)
		}
		again, err := DecodeLine(b1)
		if err != nil {
			t.Fatalf("decoding %s: %v", b1, err)
		}
		if again.IsZero() {
			t.Fatalf("re-decoded to nothing: %s", b1)
		}
		b2, err := enc(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("decode/encode is not stable:\n%s\n%s", b1, b2)
		}
	})
}
