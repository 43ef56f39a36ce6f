package parquet

import "encoding/binary"

// compact appends Parquet's metadata structures in Thrift's compact
// protocol, the encoding of page headers and of the footer. Only what the
// writer sends is here: structs, lists of structs, strings and integers.
type compact struct {
	buf  []byte
	last []int16 // field ID last written, per open struct
}

// Compact protocol type codes.
const (
	ctTrue   = 1
	ctFalse  = 2
	ctI32    = 5
	ctI64    = 6
	ctBinary = 8
	ctList   = 9
	ctStruct = 12
)

func (c *compact) field(id int16, typ byte) {
	top := &c.last[len(c.last)-1]
	if d := id - *top; d > 0 && d <= 15 {
		c.buf = append(c.buf, byte(d)<<4|typ)
	} else {
		c.buf = append(c.buf, typ)
		c.buf = binary.AppendVarint(c.buf, int64(id))
	}
	*top = id
}

// begin opens a struct: the message itself, a list element or, after
// field, a struct field.
func (c *compact) begin() { c.last = append(c.last, 0) }

// end closes the struct opened last.
func (c *compact) end() {
	c.buf = append(c.buf, 0)
	c.last = c.last[:len(c.last)-1]
}

func (c *compact) i32(id int16, v int32) {
	c.field(id, ctI32)
	c.buf = binary.AppendVarint(c.buf, int64(v))
}

func (c *compact) i64(id int16, v int64) {
	c.field(id, ctI64)
	c.buf = binary.AppendVarint(c.buf, v)
}

func (c *compact) bool(id int16, v bool) {
	if v {
		c.field(id, ctTrue)
	} else {
		c.field(id, ctFalse)
	}
}

func (c *compact) binary(id int16, v []byte) {
	c.field(id, ctBinary)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.buf = append(c.buf, v...)
}

func (c *compact) string(id int16, v string) {
	c.field(id, ctBinary)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.buf = append(c.buf, v...)
}

// structField opens a struct-valued field; close it with end.
func (c *compact) structField(id int16) {
	c.field(id, ctStruct)
	c.begin()
}

// list starts a list field of n elements of type elem; elements follow,
// structs each between begin and end.
func (c *compact) list(id int16, elem byte, n int) {
	c.field(id, ctList)
	if n < 15 {
		c.buf = append(c.buf, byte(n)<<4|elem)
	} else {
		c.buf = append(c.buf, 0xf0|elem)
		c.buf = binary.AppendUvarint(c.buf, uint64(n))
	}
}

// listI32 is a list field of 32-bit integers.
func (c *compact) listI32(id int16, vs ...int32) {
	c.list(id, ctI32, len(vs))
	for _, v := range vs {
		c.buf = binary.AppendVarint(c.buf, int64(v))
	}
}

// listString is a list field of strings.
func (c *compact) listString(id int16, vs ...string) {
	c.list(id, ctBinary, len(vs))
	for _, v := range vs {
		c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
		c.buf = append(c.buf, v...)
	}
}
