package schema

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A colBuf gathers one column of a batch in flat Go slices, the way ch-go's
// column buffers do, and hands them to Arrow without copying. This is
// written by hand rather than with Arrow's builders because the builders
// set a validity bit and check capacity for every value: on this path that
// was half the cost of a row, and no column here is ever null.
type colBuf interface {
	append(r *Row)
	// array returns the values gathered so far and starts over. The
	// array owns the slices it was given; the buffer allocates new ones.
	array() arrow.Array
}

// bytesOf views a slice of fixed-width values as the bytes Arrow stores.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var v T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(v)))
}

func buf(b []byte) *memory.Buffer { return memory.NewBufferBytes(b) }

func makeArray(typ arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData) arrow.Array {
	data := array.NewData(typ, n, bufs, children, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// fixedBuf holds a column of fixed-width numbers.
type fixedBuf[T uint8 | uint16 | uint32 | uint64 | int64] struct {
	typ  arrow.DataType
	get  func(*Row) T
	vals []T
}

func (b *fixedBuf[T]) append(r *Row) { b.vals = append(b.vals, b.get(r)) }

func (b *fixedBuf[T]) array() arrow.Array {
	a := makeArray(b.typ, len(b.vals), []*memory.Buffer{nil, buf(bytesOf(b.vals))}, nil)
	b.vals = make([]T, 0, cap(b.vals))
	return a
}

// boolBuf holds a column of booleans as a bitmap.
type boolBuf struct {
	get  func(*Row) bool
	bits []byte
	n    int
}

func (b *boolBuf) append(r *Row) {
	if b.n&7 == 0 {
		b.bits = append(b.bits, 0)
	}
	if b.get(r) {
		b.bits[b.n>>3] |= 1 << (b.n & 7)
	}
	b.n++
}

func (b *boolBuf) array() arrow.Array {
	a := makeArray(arrow.FixedWidthTypes.Boolean, b.n, []*memory.Buffer{nil, buf(b.bits)}, nil)
	b.bits, b.n = make([]byte, 0, cap(b.bits)), 0
	return a
}

// varBuf holds variable-length values: offsets into one data slice.
type varBuf struct {
	offs []int32 // len(offs) == values + 1
	data []byte
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
	d := array.NewData(typ, v.values(), []*memory.Buffer{nil, buf(bytesOf(v.offs)), buf(v.data)}, nil, 0, 0)
	v.offs, v.data = make([]int32, 0, cap(v.offs)), make([]byte, 0, cap(v.data))
	return d
}

// bytesBuf holds a String column (utf8 or binary).
type bytesBuf struct {
	typ arrow.DataType
	get func(*Row) []byte
	varBuf
}

func (b *bytesBuf) append(r *Row) { b.add(b.get(r)) }

func (b *bytesBuf) array() arrow.Array {
	d := b.arrayData(b.typ)
	defer d.Release()
	return array.MakeFromData(d)
}

// labelBuf holds a utf8 column drawn from Go strings.
type labelBuf struct {
	get func(*Row) string
	varBuf
}

func (b *labelBuf) append(r *Row) { b.addString(b.get(r)) }

func (b *labelBuf) array() arrow.Array {
	d := b.arrayData(arrow.BinaryTypes.String)
	defer d.Release()
	return array.MakeFromData(d)
}

// addrBuf holds 16-byte addresses.
type addrBuf struct {
	get  func(*Row) [16]byte
	data []byte
}

func (b *addrBuf) append(r *Row) {
	a := b.get(r)
	b.data = append(b.data, a[:]...)
}

func (b *addrBuf) array() arrow.Array {
	a := makeArray(&arrow.FixedSizeBinaryType{ByteWidth: 16}, len(b.data)/16, []*memory.Buffer{nil, buf(b.data)}, nil)
	b.data = make([]byte, 0, cap(b.data))
	return a
}

// listBuf holds a list of numbers per row.
type listBuf[T uint16 | uint32] struct {
	typ  *arrow.ListType
	each func(*Row, func(T))
	add  func(T)
	offs []int32
	vals []T
}

func newListBuf[T uint16 | uint32](typ *arrow.ListType, each func(*Row, func(T))) *listBuf[T] {
	b := &listBuf[T]{typ: typ, each: each}
	b.add = func(v T) { b.vals = append(b.vals, v) }
	return b
}

func (b *listBuf[T]) append(r *Row) {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	b.each(r, b.add)
	b.offs = append(b.offs, int32(len(b.vals)))
}

func (b *listBuf[T]) array() arrow.Array {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	child := array.NewData(b.typ.Elem(), len(b.vals), []*memory.Buffer{nil, buf(bytesOf(b.vals))}, nil, 0, 0)
	defer child.Release()
	a := makeArray(b.typ, len(b.offs)-1, []*memory.Buffer{nil, buf(bytesOf(b.offs))}, []arrow.ArrayData{child})
	b.offs, b.vals = make([]int32, 0, cap(b.offs)), make([]T, 0, cap(b.vals))
	return a
}

// listTextBuf holds a list of strings per row.
type listTextBuf struct {
	each  func(*Row, func([]byte))
	add   func([]byte)
	offs  []int32
	items varBuf
}

func newListTextBuf(each func(*Row, func([]byte))) *listTextBuf {
	b := &listTextBuf{each: each}
	b.add = b.items.add
	return b
}

func (b *listTextBuf) append(r *Row) {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	b.each(r, b.add)
	b.offs = append(b.offs, int32(b.items.values()))
}

func (b *listTextBuf) array() arrow.Array {
	if len(b.offs) == 0 {
		b.offs = append(b.offs, 0)
	}
	child := b.items.arrayData(arrow.BinaryTypes.String)
	defer child.Release()
	a := makeArray(arrow.ListOfNonNullable(arrow.BinaryTypes.String), len(b.offs)-1,
		[]*memory.Buffer{nil, buf(bytesOf(b.offs))}, []arrow.ArrayData{child})
	b.offs = make([]int32, 0, cap(b.offs))
	return a
}
