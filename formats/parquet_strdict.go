package formats

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math/bits"
	stdslices "slices"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// stringDict dictionary-encodes a string or binary column itself. Handing the values to the
// column chunk writer one by one would hash each through an interface method that allocates
// for every value (most of the cost of writing a column of short strings); instead the column's
// values of a row group are collected here as indices into the group's dictionary, and
// written once the row group is complete as an Arrow dictionary array, which the writer takes
// as it is: the dictionary page, then the indices. The output is what the value-by-value path
// writes: the same dictionary in first-seen order, the same indices, the same fallback to plain
// encoding once the dictionary outgrows its limit.
//
// The values are kept in a hash table of their own (an arena of bytes and slices of integers:
// nothing for the collector to scan, no allocation per value) that outlives the row group
// while most of its values recur in the next one: a column of a few thousand values, written
// over many row groups, then hashes and copies each value once, not once per group.
type stringDict struct {
	dt arrow.DataType // String or Binary
	// The known values: value k is data[offs[k]:offs[k+1]], hashes[k] its hash, local[k] its
	// index in the row group's dictionary plus one (0: not in it). table is an open-addressing
	// hash table (linear probing, at most half full) of entries: the high 32 bits of a value's
	// hash and its key+1 in the low 32 bits; 0 for an empty slot.
	seed   maphash.Seed
	data   []byte
	offs   []int64 // 64 bits: the known values of several groups may pass 2 GiB
	hashes []uint64
	local  []int32
	table  []uint64
	order  []int32 // the row group's dictionary: keys in first-seen order
	size   int64   // bytes of the dictionary page: 4 + length per value
	idx    []int32 // the pending rows' indices (0 for a null)
	def    []int16 // the pending rows' definition levels; nil for a required column
	nulls  int
	// last, lastK: the last value added and its index, while lastOK
	last   string
	lastK  int32
	lastOK bool
	// dense: the dictionary outgrew parquetDictLimit in this row group; the rest of the group
	// is written value by value, as plain values once the writer has fallen back.
	dense bool
	// The known keys in byte order (Parquet's order for byte arrays) and the rank of each key
	// in it, for the first len(sorted) keys: kept up to date by sort, which merges in the keys
	// added since.
	sorted []int32
	rank   []int32
	// Scratch of dictionary and sort, reused from group to group.
	dictData []byte
	dictOffs []int32
	added    []int32
	merged   []int32
}

// strDictMinTable is the initial size of a stringDict's hash table.
const strDictMinTable = 64

func newStringDict(dt arrow.DataType) *stringDict {
	return &stringDict{dt: dt, seed: maphash.MakeSeed(), offs: []int64{0}, table: make([]uint64, strDictMinTable)}
}

// value is known value k.
func (d *stringDict) value(k int32) []byte { return d.data[d.offs[k]:d.offs[k+1]] }

// find returns the key of s (-1 when unknown) and the slot where s is or would go.
func (d *stringDict) find(s string, h uint64) (key int32, slot int) {
	mask := len(d.table) - 1
	for p := int(h) & mask; ; p = (p + 1) & mask {
		e := d.table[p]
		if e == 0 {
			return -1, p
		}
		if e>>32 == h>>32 {
			if k := int32(uint32(e)) - 1; string(d.value(k)) == s {
				return k, p
			}
		}
	}
}

// insert adds s, unknown, as a new key at slot.
func (d *stringDict) insert(s string, h uint64, slot int) int32 {
	k := int32(len(d.hashes))
	d.data = append(d.data, s...)
	d.offs = append(d.offs, int64(len(d.data)))
	d.hashes = append(d.hashes, h)
	d.local = append(d.local, 0)
	d.table[slot] = tableEntry(h, k)
	if 2*len(d.hashes) > len(d.table) {
		d.table = make([]uint64, 2*len(d.table))
		mask := len(d.table) - 1
		for j, h := range d.hashes {
			p := int(h) & mask
			for d.table[p] != 0 {
				p = (p + 1) & mask
			}
			d.table[p] = tableEntry(h, int32(j))
		}
	}
	return k
}

// tableEntry is the hash table entry of key k of hash h.
func tableEntry(h uint64, k int32) uint64 { return h&^(1<<32-1) | uint64(uint32(k+1)) }

// addString and addBytes append a value's index, adding the value to the dictionary if new:
// false when that would grow the dictionary past its limit, and nothing was added.
func (d *stringDict) addString(s string) bool {
	// Runs of one value are common (sorted or clustered data): the last value skips the table.
	if d.lastOK && s == d.last {
		d.idx = append(d.idx, d.lastK)
		return true
	}
	h := maphash.String(d.seed, s)
	k, slot := d.find(s, h)
	var j int32
	if k >= 0 && d.local[k] > 0 {
		j = d.local[k] - 1
	} else {
		if d.size+int64(len(s))+4 > parquetDictLimit && len(d.order) > 0 {
			return false
		}
		if k < 0 {
			k = d.insert(s, h, slot)
		}
		j = int32(len(d.order))
		d.order = append(d.order, k)
		d.local[k] = j + 1
		d.size += int64(len(s)) + 4
	}
	d.idx = append(d.idx, j)
	d.last, d.lastK, d.lastOK = s, j, true
	return true
}

// addBytes is addString of b's bytes, which are only read during the call (the view is kept
// as the last value: collect forgets it when it returns).
func (d *stringDict) addBytes(b []byte) bool {
	return d.addString(unsafe.String(unsafe.SliceData(b), len(b)))
}

// collect adds rows [lo, hi) of arr and returns how many it took: fewer when the dictionary
// filled up.
func (d *stringDict) collect(arr arrow.Array, lo, hi int, required bool) int {
	// The last value is a view of arr's memory: only good during this call.
	d.lastOK = false
	defer func() { d.last, d.lastOK = "", false }()
	nulls := arr.NullN() > 0
	null := func() {
		d.idx = append(d.idx, 0)
		d.def = append(d.def, 0)
		d.nulls++
	}
	switch a := arr.(type) {
	case *array.String:
		for j := lo; j < hi; j++ {
			if nulls && a.IsNull(j) {
				null()
				continue
			}
			if !d.addString(a.Value(j)) {
				return j - lo
			}
			if !required {
				d.def = append(d.def, 1)
			}
		}
	case *array.Binary:
		for j := lo; j < hi; j++ {
			if nulls && a.IsNull(j) {
				null()
				continue
			}
			if !d.addBytes(a.Value(j)) {
				return j - lo
			}
			if !required {
				d.def = append(d.def, 1)
			}
		}
	default:
		panic(fmt.Sprintf("string dictionary of %s", arr.DataType()))
	}
	return hi - lo
}

// pendingBytes estimates the encoded size of the pending rows: the dictionary and bit-packed
// indices.
func (d *stringDict) pendingBytes() int64 {
	return d.size + int64(len(d.idx))*int64(bits.Len(uint(len(d.order))))/8
}

// dictionary returns the row group's dictionary as an array of d.dt, a view of scratch
// buffers good until the next call.
func (d *stringDict) dictionary() arrow.Array {
	d.dictData = d.dictData[:0]
	d.dictOffs = append(d.dictOffs[:0], 0)
	for _, k := range d.order {
		d.dictData = append(d.dictData, d.value(k)...)
		d.dictOffs = append(d.dictOffs, int32(len(d.dictData)))
	}
	data := array.NewData(d.dt, len(d.order), []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.dictOffs)), memory.NewBufferBytes(d.dictData)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// sort brings d.sorted and d.rank up to date with the known keys, so that a part's minimum and
// maximum come from comparing integers. Values kept from earlier row groups keep their place:
// only the keys added since are sorted, and merged in.
func (d *stringDict) sort() {
	n := int32(len(d.hashes))
	have := int32(len(d.sorted))
	if have == n {
		return
	}
	less := func(a, b int32) int { return bytes.Compare(d.value(a), d.value(b)) }
	d.added = d.added[:0]
	for k := have; k < n; k++ {
		d.added = append(d.added, k)
	}
	stdslices.SortFunc(d.added, less)
	d.merged = d.merged[:0]
	i, j := 0, 0
	for i < len(d.sorted) && j < len(d.added) {
		if less(d.added[j], d.sorted[i]) < 0 {
			d.merged = append(d.merged, d.added[j])
			j++
		} else {
			d.merged = append(d.merged, d.sorted[i])
			i++
		}
	}
	d.merged = append(append(d.merged, d.sorted[i:]...), d.added[j:]...)
	d.sorted, d.merged = d.merged, d.sorted
	d.rank = stdslices.Grow(d.rank[:0], int(n))[:n]
	for r, k := range d.sorted {
		d.rank[k] = int32(r)
	}
}

// reset empties the dictionary for the next row group. The known values stay while at least
// half of them were in this group's dictionary; otherwise (values that change from group to
// group) they are dropped, which bounds them to about twice a dictionary's size.
func (d *stringDict) reset() {
	for _, k := range d.order {
		d.local[k] = 0
	}
	known := int64(len(d.data)) + 4*int64(len(d.hashes))
	if known > 2*d.size {
		d.data, d.offs, d.hashes, d.local = d.data[:0], d.offs[:1], d.hashes[:0], d.local[:0]
		d.sorted, d.rank = d.sorted[:0], d.rank[:0]
		if len(d.table) > 4*strDictMinTable && 8*int64(len(d.order)) < int64(len(d.table)) {
			d.table = make([]uint64, strDictMinTable)
		} else {
			clear(d.table)
		}
	}
	d.order = d.order[:0]
	d.size, d.dense = 0, false
	d.last, d.lastOK = "", false
}
