package clickhouse

import (
	"fmt"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// block is the native-protocol form of Arrow batches of one schema: a
// ch-go column per Arrow column, refilled from each batch in turn.
//
// Written against ch-go's column types rather than clickhouse-go's batch
// API because the batch API appends row by row through reflection, and
// list columns cost it a slice per row: BenchmarkSink's loader spent 30%
// of its CPU there, more than decoding. Here numbers, timestamps and
// addresses alias the Arrow buffers, strings reuse the Arrow data buffer
// with a position per value, and only booleans (bit-packed in Arrow) are
// unpacked; ch-go then encodes each column once into its send buffer.
type block struct {
	cols  []colFiller
	input proto.Input
}

// colFiller is one column of a block: fill points it at an Arrow array.
type colFiller interface {
	fill(a arrow.Array) error
	data() proto.ColInput
}

// newBlock returns the block for batches of s.
func newBlock(s *arrow.Schema) (*block, error) {
	b := &block{}
	for _, f := range s.Fields() {
		c, err := newFiller(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		b.cols = append(b.cols, c)
		b.input = append(b.input, proto.InputColumn{Name: f.Name, Data: c.data()})
	}
	return b, nil
}

// fill points the block's columns at rec's.
func (b *block) fill(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(b.cols) {
		return fmt.Errorf("batch of %d columns, want %d", rec.NumCols(), len(b.cols))
	}
	for i, c := range b.cols {
		if err := c.fill(rec.Column(i)); err != nil {
			return fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
	}
	return nil
}

func newFiller(t arrow.DataType) (colFiller, error) {
	switch t := t.(type) {
	case *arrow.Uint8Type:
		return &fixedCol[uint8, proto.ColUInt8]{}, nil
	case *arrow.Uint16Type:
		return &fixedCol[uint16, proto.ColUInt16]{}, nil
	case *arrow.Uint32Type:
		return &fixedCol[uint32, proto.ColUInt32]{}, nil
	case *arrow.Uint64Type:
		return &fixedCol[uint64, proto.ColUInt64]{}, nil
	case *arrow.Int64Type:
		return &fixedCol[int64, proto.ColInt64]{}, nil
	case *arrow.TimestampType:
		if t.Unit != arrow.Nanosecond {
			return nil, fmt.Errorf("timestamp in %s: want nanoseconds", t.Unit)
		}
		return &timeCol{col: proto.ColDateTime64{Precision: proto.PrecisionNano, PrecisionSet: true}}, nil
	case *arrow.BooleanType:
		return &boolCol{}, nil
	case *arrow.StringType, *arrow.BinaryType:
		return &strCol{}, nil
	case *arrow.DictionaryType:
		if t.IndexType.ID() == arrow.INT32 && t.ValueType.ID() == arrow.STRING {
			return &labelCol{}, nil
		}
	case *arrow.FixedSizeBinaryType:
		if t.ByteWidth != 16 {
			return nil, fmt.Errorf("fixed_size_binary(%d): want 16, an IPv6 address", t.ByteWidth)
		}
		return &addrCol{}, nil
	case *arrow.ListType:
		switch t.Elem().(type) {
		case *arrow.Uint16Type:
			return newListCol(&fixedCol[uint16, proto.ColUInt16]{}), nil
		case *arrow.Uint32Type:
			return newListCol(&fixedCol[uint32, proto.ColUInt32]{}), nil
		case *arrow.StringType:
			return newListCol(&strCol{}), nil
		}
	}
	return nil, fmt.Errorf("arrow type %s: not converted", t)
}

// fixedCol is a column of numbers: ch-go's slice type over the Arrow
// values, no copy.
type fixedCol[T uint8 | uint16 | uint32 | uint64 | int64, C ~[]T] struct{ col C }

// values is the subset of arrow-go's numeric arrays fixedCol reads.
type values[T any] interface{ Values() []T }

func (c *fixedCol[T, C]) fill(a arrow.Array) error {
	v, ok := a.(values[T])
	if !ok {
		return fmt.Errorf("arrow %s: not a %T column", a.DataType(), c.col)
	}
	c.col = C(v.Values())
	return nil
}

func (c *fixedCol[T, C]) data() proto.ColInput {
	if in, ok := any(&c.col).(proto.ColInput); ok {
		return in
	}
	panic(fmt.Sprintf("%T is no ch-go input column", c.col))
}

func (c *fixedCol[T, C]) column() proto.ColumnOf[T] {
	return any(&c.col).(proto.ColumnOf[T])
}

// timeCol is DateTime64(9): Arrow's nanoseconds are its values.
type timeCol struct{ col proto.ColDateTime64 }

func (c *timeCol) fill(a arrow.Array) error {
	ts, ok := a.(*array.Timestamp)
	if !ok {
		return fmt.Errorf("arrow %s: want a timestamp", a.DataType())
	}
	v := ts.TimestampValues()
	c.col.Data = unsafe.Slice((*proto.DateTime64)(unsafe.SliceData(v)), len(v))
	return nil
}

func (c *timeCol) data() proto.ColInput { return &c.col }

// boolCol unpacks Arrow's bits into bytes, reusing its slice.
type boolCol struct{ col proto.ColBool }

func (c *boolCol) fill(a arrow.Array) error {
	b, ok := a.(*array.Boolean)
	if !ok {
		return fmt.Errorf("arrow %s: want booleans", a.DataType())
	}
	c.col = c.col[:0]
	for i := range b.Len() {
		c.col = append(c.col, b.Value(i))
	}
	return nil
}

func (c *boolCol) data() proto.ColInput { return &c.col }

// strCol is String (or LowCardinality(String), which the server converts
// to): the Arrow data buffer with a start and end per value.
type strCol struct{ col proto.ColStr }

// binaryLike is arrow-go's String and Binary arrays.
type binaryLike interface {
	arrow.Array
	ValueOffsets() []int32
	ValueBytes() []byte
}

func (c *strCol) fill(a arrow.Array) error {
	s, ok := a.(binaryLike)
	if !ok {
		return fmt.Errorf("arrow %s: want strings", a.DataType())
	}
	c.set(s.ValueBytes(), s.ValueOffsets())
	return nil
}

// set points the column at data, whose values offs delimit; offs[0] is
// where data starts.
func (c *strCol) set(data []byte, offs []int32) {
	base := int(offs[0])
	c.col.Buf = data
	c.col.Pos = c.col.Pos[:0]
	for i := 1; i < len(offs); i++ {
		c.col.Pos = append(c.col.Pos, proto.Position{Start: int(offs[i-1]) - base, End: int(offs[i]) - base})
	}
}

func (c *strCol) data() proto.ColInput { return &c.col }

func (c *strCol) column() proto.ColumnOf[string] { return &c.col }

// labelCol is a label column (schema.LabelType), sent as strings: each row
// a position in the Arrow dictionary's bytes, which the column points at.
type labelCol struct{ strCol }

func (c *labelCol) fill(a arrow.Array) error {
	d, ok := a.(*array.Dictionary)
	if !ok {
		return fmt.Errorf("arrow %s: want a dictionary", a.DataType())
	}
	vals, ok := d.Dictionary().(binaryLike)
	if !ok {
		return fmt.Errorf("arrow %s: want a dictionary of strings", a.DataType())
	}
	offs := vals.ValueOffsets()
	keys := d.Indices().(*array.Int32).Int32Values()
	base := int(offs[0])
	c.col.Buf = vals.ValueBytes()
	c.col.Pos = c.col.Pos[:0]
	for _, k := range keys {
		c.col.Pos = append(c.col.Pos, proto.Position{Start: int(offs[k]) - base, End: int(offs[k+1]) - base})
	}
	return nil
}

// addrCol is IPv6: the Arrow fixed-size data buffer, 16 bytes a value.
type addrCol struct{ col proto.ColIPv6 }

func (c *addrCol) fill(a arrow.Array) error {
	f, ok := a.(*array.FixedSizeBinary)
	if !ok {
		return fmt.Errorf("arrow %s: want fixed-size binary", a.DataType())
	}
	var b []byte
	if buf := f.Data().Buffers()[1]; buf != nil {
		b = buf.Bytes()
	}
	off, n := 16*f.Data().Offset(), 16*f.Len()
	if len(b) < off+n {
		return fmt.Errorf("%d bytes for %d addresses", len(b), f.Len())
	}
	b = b[off : off+n]
	c.col = unsafe.Slice((*proto.IPv6)(unsafe.Pointer(unsafe.SliceData(b))), f.Len())
	return nil
}

func (c *addrCol) data() proto.ColInput { return &c.col }

// listCol is Array(T): offsets made absolute from Arrow's, over the
// element column filled from the list's values.
type listCol[T any] struct {
	elem elemFiller[T]
	col  proto.ColArr[T]
}

// elemFiller is a column that can hold a list's elements.
type elemFiller[T any] interface {
	colFiller
	column() proto.ColumnOf[T]
}

func newListCol[T any](elem elemFiller[T]) *listCol[T] {
	return &listCol[T]{elem: elem, col: proto.ColArr[T]{Data: elem.column()}}
}

func (c *listCol[T]) fill(a arrow.Array) error {
	l, ok := a.(*array.List)
	if !ok {
		return fmt.Errorf("arrow %s: want a list", a.DataType())
	}
	// arrow-go's Offsets are the whole buffer's, whatever the slice.
	o := l.Data().Offset()
	offs := l.Offsets()[o : o+l.Len()+1]
	start, end := int64(offs[0]), int64(offs[len(offs)-1])
	vals := array.NewSlice(l.ListValues(), start, end)
	defer vals.Release()
	if err := c.elem.fill(vals); err != nil {
		return err
	}
	c.col.Data = c.elem.column()
	c.col.Offsets = c.col.Offsets[:0]
	for _, o := range offs[1:] {
		c.col.Offsets = append(c.col.Offsets, uint64(int64(o)-start))
	}
	return nil
}

func (c *listCol[T]) data() proto.ColInput { return &c.col }
