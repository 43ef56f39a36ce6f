package schema

import (
	"net/netip"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapload/pcapload/ingest/packet"
)

// A colBuf gathers one column of a batch in flat Go slices, the way ch-go's
// column buffers do, and hands them to Arrow without copying. This is
// written by hand rather than with Arrow's builders because the builders
// set a validity bit and check capacity for every value: on this path that
// was half the cost of a row, and no column here is ever null.
//
// The generated rowBufs.append (builder_gen.go) appends a row to every
// buffer directly; the interface serves what is done once a batch.
type colBuf interface {
	// array returns the values gathered so far and starts over. The
	// array holds the slices it was given until it is released, and then
	// gives them back (see slot).
	array() arrow.Array
	// reserve takes slices as large as the last batch needed, so that
	// appending grows none. Builder calls it at a batch's first row rather
	// than in array: a batch handed on and the next one's empty slices
	// would otherwise be held together while the first is written, a
	// batch's worth of memory more per worker.
	reserve()
}

// A slot recycles one slice of a column from batch to batch. The buffer
// that hands the slice to Arrow frees it into the slot (the slot is its
// memory.Allocator) when the last holder of the batch releases it, and the
// next batch takes it back instead of allocating: a large load then
// allocates its batches once, not once a batch, which spares the collector
// and the kernel tens of megabytes of fresh pages a batch. Holders must
// not read a batch after releasing it, as Arrow requires anyway.
type slot struct {
	// need is the most bytes either of the last two batches used (not
	// the capacity they had), and used the last one's.
	need, used int

	mu   sync.Mutex
	free [][]byte // slices given back, at most maxFree
}

// keptSlice is the largest slice a slot keeps for batches that need less
// than half of it.
const keptSlice = 64 << 10

// maxFree bounds the slices a slot keeps: as many batches as an insert of
// 262,144 rows gathers, which are released together. Slices kept are
// memory the batches in flight held a moment before, not more.
const maxFree = 4

// Allocate and Reallocate complete memory.Allocator; nothing calls them,
// as a slot's buffers are not resizable.
func (s *slot) Allocate(n int) []byte { return make([]byte, n) }

func (s *slot) Reallocate(n int, b []byte) []byte { return append(make([]byte, 0, n), b...)[:n] }

// Free takes back a slice handed on by give. It is called from whichever
// goroutine releases the batch last.
func (s *slot) Free(b []byte) {
	s.mu.Lock()
	if len(s.free) < maxFree {
		s.free = append(s.free, b[:0])
	}
	s.mu.Unlock()
}

// take returns an empty slice with room for the values of the last batch:
// the one given back when there is one, else a new one; nil before the
// first batch.
func take[T any](s *slot) []T {
	var b []byte
	s.mu.Lock()
	if n := len(s.free); n > 0 {
		b = s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
	}
	s.mu.Unlock()
	var v T
	size := int(unsafe.Sizeof(v))
	if cap(b) > 2*s.need && cap(b) > keptSlice {
		// Batches got smaller (the loader ends them sooner while its
		// decoder holds much): a slice sized for the larger ones would
		// keep their memory in every batch after. Two batches must
		// have been smaller, so that batches alternating large and
		// small (rows of 64 KiB among small ones) keep their slices.
		b = nil
	}
	if cap(b) >= s.need && cap(b) >= size {
		// The slice was a []T when give viewed it as bytes, so it is
		// aligned for T and its capacity a multiple of size.
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/size)[:0]
	}
	if s.need == 0 {
		return nil
	}
	return make([]T, 0, s.need/size)
}

// give returns a buffer of vals's bytes, as Arrow stores them, that frees
// the whole slice into s.
func give[T any](s *slot, vals []T) *memory.Buffer {
	var v T
	size := int(unsafe.Sizeof(v))
	s.need = max(s.used, len(vals)*size)
	s.used = len(vals) * size
	if cap(vals) == 0 {
		return memory.NewBufferBytes(nil)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), cap(vals)*size)
	return memory.NewBufferWithAllocator(b[:len(vals)*size], s)
}

// newData is array.NewData that passes the buffers' references to the
// data: when the data goes, so do they.
func newData(typ arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData) arrow.ArrayData {
	d := array.NewData(typ, n, bufs, children, 0, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return d
}

func makeArray(typ arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData) arrow.Array {
	data := newData(typ, n, bufs, children)
	defer data.Release()
	return array.MakeFromData(data)
}

// fixedBuf holds a column of fixed-width numbers.
type fixedBuf[T uint8 | uint16 | uint32 | uint64 | int64] struct {
	typ  arrow.DataType
	vals []T
	slot slot
}

func (b *fixedBuf[T]) array() arrow.Array {
	a := makeArray(b.typ, len(b.vals), []*memory.Buffer{nil, give(&b.slot, b.vals)}, nil)
	b.vals = nil
	return a
}

func (b *fixedBuf[T]) reserve() { b.vals = take[T](&b.slot) }

// boolBuf holds a column of booleans as a bitmap.
type boolBuf struct {
	bits []byte
	n    int
	slot slot
}

func (b *boolBuf) push(v bool) {
	if b.n&7 == 0 {
		b.bits = append(b.bits, 0)
	}
	if v {
		b.bits[b.n>>3] |= 1 << (b.n & 7)
	}
	b.n++
}

func (b *boolBuf) array() arrow.Array {
	a := makeArray(arrow.FixedWidthTypes.Boolean, b.n, []*memory.Buffer{nil, give(&b.slot, b.bits)}, nil)
	b.bits, b.n = nil, 0
	return a
}

func (b *boolBuf) reserve() { b.bits = take[byte](&b.slot) }

// varBuf holds variable-length values: offsets into one data slice.
type varBuf struct {
	offs []int32 // len(offs) == values + 1
	data []byte

	offsSlot, dataSlot slot
}

func (v *varBuf) add(b []byte) {
	if len(v.offs) == 0 {
		v.offs = append(v.offs, 0)
	}
	v.data = append(v.data, b...)
	v.offs = append(v.offs, int32(len(v.data)))
}

func (v *varBuf) addString(s string) {
	if len(v.offs) == 0 {
		v.offs = append(v.offs, 0)
	}
	v.data = append(v.data, s...)
	v.offs = append(v.offs, int32(len(v.data)))
}

func (v *varBuf) values() int { return max(len(v.offs)-1, 0) }

// data returns the Arrow data of the values and starts over.
func (v *varBuf) arrayData(typ arrow.DataType) arrow.ArrayData {
	if len(v.offs) == 0 {
		v.offs = append(v.offs, 0)
	}
	d := newData(typ, v.values(), []*memory.Buffer{nil, give(&v.offsSlot, v.offs), give(&v.dataSlot, v.data)}, nil)
	v.offs, v.data = nil, nil
	return d
}

func (v *varBuf) reserve() { v.offs, v.data = take[int32](&v.offsSlot), take[byte](&v.dataSlot) }

// bytesBuf holds a String column (utf8 or binary).
type bytesBuf struct {
	typ arrow.DataType
	varBuf
}

func (b *bytesBuf) array() arrow.Array {
	d := b.arrayData(b.typ)
	defer d.Release()
	return array.MakeFromData(d)
}

// LabelType is the Arrow type of the label columns (sensor, file,
// file_hash, transport, malformed): a dictionary of their few values and an
// index a row. ClickHouse reads it straight into LowCardinality, and the
// Parquet writer into its dictionary pages. As plain strings they were
// about 110 of a row's 370 Arrow bytes, the 64-character hash most of it,
// and the server hashed every row's value into its own dictionary again.
var LabelType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// labelBuf holds a label column drawn from Go strings: each distinct value
// of the batch once, in the order first seen, and an index a row.
type labelBuf struct {
	idx     []int32
	vals    []string         // the batch's distinct values
	find    map[string]int32 // vals by value, once there are too many to scan
	last    int32            // the last row's index
	size    int              // the bytes of vals
	idxSlot slot
	dict    varBuf // vals as Arrow stores them, built with the array
}

// labelScan is the most values looked up by scanning: a batch holds one
// sensor, path and hash per capture file in it, the three transports and
// the few reasons for a malformed message.
const labelScan = 8

func (b *labelBuf) addString(s string) {
	if len(b.vals) > 0 && b.vals[b.last] == s {
		b.idx = append(b.idx, b.last)
		return
	}
	b.last = b.index(s)
	b.idx = append(b.idx, b.last)
}

// index returns the index of s, adding it when new.
func (b *labelBuf) index(s string) int32 {
	if b.find != nil {
		if k, ok := b.find[s]; ok {
			return k
		}
	} else {
		for k, v := range b.vals {
			if v == s {
				return int32(k)
			}
		}
	}
	k := int32(len(b.vals))
	b.vals, b.size = append(b.vals, s), b.size+len(s)
	if b.find != nil {
		b.find[s] = k
	} else if len(b.vals) > labelScan {
		b.find = make(map[string]int32, 2*len(b.vals))
		for i, v := range b.vals {
			b.find[v] = int32(i)
		}
	}
	return k
}

// setAll makes s the value of every row held.
func (b *labelBuf) setAll(s string) {
	b.vals, b.find, b.last, b.size = append(b.vals[:0], s), nil, 0, len(s)
	clear(b.idx)
}

// bytes returns the bytes of the values held; Builder.Size asks it a row.
func (b *labelBuf) bytes() int { return b.size }

func (b *labelBuf) array() arrow.Array {
	for _, v := range b.vals {
		b.dict.addString(v)
	}
	dict := b.dict.arrayData(arrow.BinaryTypes.String)
	defer dict.Release()
	idx := give(&b.idxSlot, b.idx)
	d := array.NewDataWithDictionary(LabelType, len(b.idx), []*memory.Buffer{nil, idx}, 0, 0, dict.(*array.Data))
	idx.Release()
	defer d.Release()
	clear(b.vals) // let go of the strings
	b.idx, b.vals, b.find, b.last, b.size = nil, b.vals[:0], nil, 0, 0
	return array.MakeFromData(d)
}

func (b *labelBuf) reserve() {
	b.idx = take[int32](&b.idxSlot)
	b.dict.reserve()
}

// addrBuf holds 16-byte addresses.
type addrBuf struct {
	data []byte
	slot slot
}

func (b *addrBuf) push(a netip.Addr) { b.data = packet.AppendAddr16(b.data, a) }

func (b *addrBuf) array() arrow.Array {
	a := makeArray(&arrow.FixedSizeBinaryType{ByteWidth: 16}, len(b.data)/16,
		[]*memory.Buffer{nil, give(&b.slot, b.data)}, nil)
	b.data = nil
	return a
}

func (b *addrBuf) reserve() { b.data = take[byte](&b.slot) }

// listBuf holds a list of numbers per row: the values of a row are
// appended to vals, then end closes the row.
type listBuf[T uint16 | uint32] struct {
	typ  *arrow.ListType
	offs []int32
	vals []T

	offsSlot, valsSlot slot
}

func (b *listBuf[T]) end() {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	b.offs = append(b.offs, int32(len(b.vals)))
}

func (b *listBuf[T]) array() arrow.Array {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	child := newData(b.typ.Elem(), len(b.vals), []*memory.Buffer{nil, give(&b.valsSlot, b.vals)}, nil)
	defer child.Release()
	a := makeArray(b.typ, len(b.offs)-1, []*memory.Buffer{nil, give(&b.offsSlot, b.offs)}, []arrow.ArrayData{child})
	b.offs, b.vals = nil, nil
	return a
}

// bytes returns the bytes of the items held; Builder.Size asks it a row.
func (b *listBuf[T]) bytes() int {
	var v T
	return len(b.vals) * int(unsafe.Sizeof(v))
}

func (b *listBuf[T]) reserve() { b.offs, b.vals = take[int32](&b.offsSlot), take[T](&b.valsSlot) }

// listTextBuf holds a list of strings per row: the strings of a row are
// added to items, then end closes the row.
type listTextBuf struct {
	offs  []int32
	items varBuf
	slot  slot
}

func (b *listTextBuf) end() {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	b.offs = append(b.offs, int32(b.items.values()))
}

func (b *listTextBuf) array() arrow.Array {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	child := b.items.arrayData(arrow.BinaryTypes.String)
	defer child.Release()
	a := makeArray(arrow.ListOfNonNullable(arrow.BinaryTypes.String), len(b.offs)-1,
		[]*memory.Buffer{nil, give(&b.slot, b.offs)}, []arrow.ArrayData{child})
	b.offs = nil
	return a
}

// bytes returns the bytes of the items held, their offsets included;
// Builder.Size asks it a row. A 64 KiB response holds up to 4,000 records,
// and the offsets and numbers of each are as many bytes as its text.
func (b *listTextBuf) bytes() int { return len(b.items.data) + 4*len(b.items.offs) }

func (b *listTextBuf) reserve() {
	b.offs = take[int32](&b.slot)
	b.items.reserve()
}

// Label returns row i of a label column: of LabelType as batches hold it,
// or of strings as a Parquet reader gives it back.
func Label(a arrow.Array, i int) string {
	if s, ok := a.(*array.String); ok {
		return s.Value(i)
	}
	d := a.(*array.Dictionary)
	return d.Dictionary().(*array.String).Value(d.GetValueIndex(i))
}
