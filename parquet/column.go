package parquet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
)

// Parquet physical types.
const (
	typeBoolean = 0
	typeInt32   = 1
	typeInt64   = 2
	typeBytes   = 6
	typeFixed   = 7
)

// Parquet encodings.
const (
	encPlain    = 0
	encRLE      = 3
	encDelta    = 5
	encRLEDict  = 8
	pageData2   = 3
	pageDict    = 2
	codecZstd   = 6
	repRequired = 0
	repRepeated = 2
)

// kind is how a leaf's Arrow values are read and written.
type kind int

const (
	kindBool  kind = iota
	kindSmall      // uint8 or uint16: INT32, dictionary-encoded through a table
	kindU32        // INT32, plain
	kindI64        // int64, uint64 or timestamp: INT64
	kindBytes      // string or binary: BYTE_ARRAY
	kindAddr       // fixed_size_binary(16): FIXED_LEN_BYTE_ARRAY(16)
)

// column is one top-level Arrow field written as one Parquet leaf column,
// directly or inside a three-level LIST.
type column struct {
	name  string
	leaf  arrow.DataType // the values' type: the field's, or its list's elements'
	item  string         // the list element's name; empty when not a list
	kind  kind
	dict  bool // dictionary-encode the values
	keyed bool // an Arrow dictionary: indices a row into the batch's values
	delta bool // delta-encode the values (INT64 only)
	stats bool // write min and max

	stored int // pages still to store uncompressed, zstd having gained little
}

func newColumn(f arrow.Field, dict, stats bool) (column, error) {
	c := column{name: f.Name, leaf: f.Type, dict: dict, stats: stats}
	if f.Nullable {
		return c, fmt.Errorf("column %s: nullable columns are not written", f.Name)
	}
	if l, ok := f.Type.(*arrow.ListType); ok {
		if l.ElemField().Nullable {
			return c, fmt.Errorf("column %s: nullable list elements are not written", f.Name)
		}
		c.leaf, c.item = l.Elem(), l.ElemField().Name
	}
	if d, ok := c.leaf.(*arrow.DictionaryType); ok && c.item == "" {
		// A label column: its values are written as strings, through
		// the file's own dictionary like any other (see dictIndices).
		if d.IndexType.ID() != arrow.INT32 || (d.ValueType.ID() != arrow.STRING && d.ValueType.ID() != arrow.BINARY) {
			return c, fmt.Errorf("column %s: Arrow type %s is not written", f.Name, f.Type)
		}
		c.leaf, c.keyed, c.dict = d.ValueType, true, true
	}
	switch c.leaf.ID() {
	case arrow.BOOL:
		c.kind, c.dict = kindBool, false
	case arrow.UINT8, arrow.UINT16:
		c.kind, c.dict = kindSmall, true
	case arrow.UINT32:
		c.kind, c.dict = kindU32, false
	case arrow.UINT64, arrow.INT64, arrow.TIMESTAMP:
		if ts, ok := c.leaf.(*arrow.TimestampType); ok && ts.Unit != arrow.Nanosecond {
			return c, fmt.Errorf("column %s: only nanosecond timestamps are written", f.Name)
		}
		c.kind, c.dict = kindI64, false
		c.delta = deltaColumns[f.Name]
	case arrow.STRING, arrow.BINARY:
		c.kind = kindBytes
	case arrow.FIXED_SIZE_BINARY:
		if c.leaf.(*arrow.FixedSizeBinaryType).ByteWidth != 16 {
			return c, fmt.Errorf("column %s: only 16-byte fixed-size binary is written", f.Name)
		}
		c.kind = kindAddr
	default:
		return c, fmt.Errorf("column %s: Arrow type %s is not written", f.Name, f.Type)
	}
	return c, nil
}

func (c *column) physical() int32 {
	switch c.kind {
	case kindBool:
		return typeBoolean
	case kindSmall, kindU32:
		return typeInt32
	case kindI64:
		return typeInt64
	case kindAddr:
		return typeFixed
	}
	return typeBytes
}

// encoding returns the encoding of the column's data pages.
func (c *column) encoding() int32 {
	switch {
	case c.dict:
		return encRLEDict
	case c.delta:
		return encDelta
	}
	return encPlain
}

// schema appends the column's schema elements.
func (c *column) schema(t *compact) {
	if c.item != "" {
		t.begin()
		t.i32(3, repRequired)
		t.string(4, c.name)
		t.i32(5, 1)
		t.i32(6, 3) // ConvertedType LIST
		t.structField(10)
		t.structField(3) // LogicalType LIST
		t.end()
		t.end()
		t.end()
		t.begin()
		t.i32(3, repRepeated)
		t.string(4, "list")
		t.i32(5, 1)
		t.end()
	}
	t.begin()
	t.i32(1, c.physical())
	if c.kind == kindAddr {
		t.i32(2, 16)
	}
	t.i32(3, repRequired)
	if c.item != "" {
		t.string(4, c.item)
	} else {
		t.string(4, c.name)
	}
	c.annotation(t)
	t.end()
}

// annotation appends the converted and logical types of the leaf.
func (c *column) annotation(t *compact) {
	integer := func(converted int32, width byte, signed bool) {
		t.i32(6, converted)
		t.structField(10)
		t.structField(10) // IntType
		t.field(1, 3)     // bitWidth, a byte
		t.buf = append(t.buf, width)
		t.bool(2, signed)
		t.end()
		t.end()
	}
	switch c.leaf.ID() {
	case arrow.UINT8:
		integer(11, 8, false)
	case arrow.UINT16:
		integer(12, 16, false)
	case arrow.UINT32:
		integer(13, 32, false)
	case arrow.UINT64:
		integer(14, 64, false)
	case arrow.TIMESTAMP:
		t.structField(10)
		t.structField(8) // TimestampType
		t.bool(1, c.leaf.(*arrow.TimestampType).TimeZone != "")
		t.structField(2)
		t.structField(3) // NANOS
		t.end()
		t.end()
		t.end()
		t.end()
	case arrow.STRING:
		t.i32(6, 0) // UTF8
		t.structField(10)
		t.structField(1) // StringType
		t.end()
		t.end()
	}
}

func (c *column) path() []string {
	if c.item != "" {
		return []string{c.name, "list", c.item}
	}
	return []string{c.name}
}

// leafView reads an Arrow array's buffers without building array objects.
type leafView struct {
	off   int
	bits  []byte  // bool values
	fixed []byte  // fixed-width values
	offs  []int32 // variable-width offsets, absolute
	data  []byte  // variable-width bytes
	keys  []int32 // a keyed column's indices into offs; nil when not keyed
}

// keyedView reads an Arrow dictionary array: its indices, and its values'
// offsets and bytes.
func keyedView(d arrow.ArrayData) leafView {
	dict := d.Dictionary()
	v := viewOf(dict, kindBytes)
	v.offs, v.off = v.offs[v.off:v.off+dict.Len()+1], 0
	v.keys = arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()]
	return v
}

// key returns the dictionary entry of value i of a keyed view.
func (v *leafView) key(i int) []byte {
	k := v.keys[i]
	return v.data[v.offs[k]:v.offs[k+1]]
}

func viewOf(d arrow.ArrayData, k kind) leafView {
	v := leafView{off: d.Offset()}
	bufs := d.Buffers()
	switch k {
	case kindBool:
		v.bits = bufs[1].Bytes()
	case kindBytes:
		v.offs = arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
		if bufs[2] != nil {
			v.data = bufs[2].Bytes()
		}
	default:
		if bufs[1] != nil {
			v.fixed = bufs[1].Bytes()
		}
	}
	return v
}

// chunk is one column of one batch being encoded: its list offsets, if a
// list, and its leaf values.
type chunk struct {
	rows  int
	lists []int32 // list offsets into the leaf, absolute; nil when not a list
	leaf  leafView
}

func (c *column) chunkOf(d arrow.ArrayData) chunk {
	ch := chunk{rows: d.Len()}
	if c.keyed {
		ch.leaf = keyedView(d)
		return ch
	}
	if c.item == "" {
		ch.leaf = viewOf(d, c.kind)
		return ch
	}
	offs := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())
	ch.lists = offs[d.Offset() : d.Offset()+d.Len()+1]
	ch.leaf = viewOf(d.Children()[0], c.kind)
	return ch
}

// values returns the leaf value range of rows [r0, r1).
func (ch *chunk) values(r0, r1 int) (int, int) {
	if ch.lists == nil {
		return r0, r1
	}
	return int(ch.lists[r0]), int(ch.lists[r1])
}

// width returns the plain size of one value of a fixed-width kind.
func (c *column) width() int {
	switch c.kind {
	case kindBool:
		return 1 // an upper bound, for page sizing
	case kindSmall, kindU32:
		return 4
	case kindI64:
		return 8
	}
	return 16
}

// pageEnd returns where the page starting at row r0 ends: about pageBytes
// of plain values, one row at least.
func (c *column) pageEnd(ch *chunk, r0 int) int {
	if ch.leaf.keys != nil {
		// Rows' sizes are no differences of offsets: add them up.
		n := 0
		for r := r0; r < ch.rows; r++ {
			if n += len(ch.leaf.key(r)) + 4; n >= pageBytes {
				return r + 1
			}
		}
		return ch.rows
	}
	size := func(r1 int) int {
		v0, v1 := ch.values(r0, r1)
		if c.kind == kindBytes {
			o := ch.leaf.offs[ch.leaf.off:]
			return int(o[v1]-o[v0]) + 4*(v1-v0)
		}
		return (v1 - v0) * c.width()
	}
	n := sort.Search(ch.rows-r0, func(i int) bool { return size(r0+i+1) >= pageBytes })
	return min(r0+n+1, ch.rows)
}

// levels returns the repetition and definition levels of rows [r0, r1)
// of a list column as bitmaps, least significant bit first, in rep and
// def's space; with their count, and the count of empty lists. Both
// levels are 0 or 1: a list is the only repeated or optional level.
func (ch *chunk) levels(r0, r1 int, rep, def []byte) ([]byte, []byte, int, int) {
	n := int(ch.lists[r1]-ch.lists[r0]) + r1 - r0 // an upper bound
	words := (n + 63) / 64
	rep = slices.Grow(rep[:0], words*8)[:words*8]
	def = slices.Grow(def[:0], words*8)[:words*8]
	clear(rep)
	clear(def)
	p, empty := 0, 0
	for r := r0; r < r1; r++ {
		k := int(ch.lists[r+1] - ch.lists[r])
		if k == 0 {
			p++ // rep 0, def 0
			empty++
			continue
		}
		setBits(def, p, k)
		setBits(rep, p+1, k-1) // the first element has rep 0
		p += k
	}
	return rep, def, p, empty
}

// setBits sets bits [from, from+k) of bm.
func setBits(bm []byte, from, k int) {
	for ; k > 0 && from&7 != 0; k-- {
		bm[from>>3] |= 1 << (from & 7)
		from++
	}
	for ; k >= 8; k -= 8 {
		bm[from>>3] = 0xff
		from += 8
	}
	for ; k > 0; k-- {
		bm[from>>3] |= 1 << (from & 7)
		from++
	}
}

// minMax tracks a column chunk's smallest and largest values, compared as
// Parquet's type-defined order does: signed for INT64, unsigned bytes for
// byte arrays.
type minMax struct {
	set      bool
	min, max []byte
}

func (m *minMax) bytes(v []byte) {
	if !m.set {
		m.min, m.max, m.set = append(m.min[:0], v...), append(m.max[:0], v...), true
		return
	}
	if bytes.Compare(v, m.min) < 0 {
		m.min = append(m.min[:0], v...)
	}
	if bytes.Compare(v, m.max) > 0 {
		m.max = append(m.max[:0], v...)
	}
}

func (m *minMax) int64s(vs []int64) {
	if len(vs) == 0 {
		return
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if m.set {
		lo, hi = int64(binary.LittleEndian.Uint64(m.min)), int64(binary.LittleEndian.Uint64(m.max))
	}
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	m.min = binary.LittleEndian.AppendUint64(m.min[:0], uint64(lo))
	m.max = binary.LittleEndian.AppendUint64(m.max[:0], uint64(hi))
	m.set = true
}
