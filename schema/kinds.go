package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Column is one column of the dns_messages table.
type Column struct {
	Name  string         // column name, the same in ClickHouse, Arrow and Parquet
	Type  string         // ClickHouse type
	Codec string         // ClickHouse codec, empty for the default
	Arrow arrow.DataType // Arrow type of the batches
	Doc   string         // what the column holds, used as the column comment

	// newBuf returns an empty buffer that draws the column from Rows and
	// builds arrays of the Arrow type above.
	newBuf func() colBuf
}

// The constructors below pair a ClickHouse type with the Arrow type that
// ClickHouse reads into it, so a column cannot get one without the other.

func fixed[T uint8 | uint16 | uint32 | uint64 | int64](name, chType string, typ arrow.DataType, doc string,
	get func(*Row) T) Column {
	return Column{Name: name, Type: chType, Arrow: typ, Doc: doc,
		newBuf: func() colBuf { return &fixedBuf[T]{typ: typ, get: get} }}
}

func u8(name, doc string, get func(*Row) uint8) Column {
	return fixed(name, "UInt8", arrow.PrimitiveTypes.Uint8, doc, get)
}

func u16(name, doc string, get func(*Row) uint16) Column {
	return fixed(name, "UInt16", arrow.PrimitiveTypes.Uint16, doc, get)
}

func u32(name, doc string, get func(*Row) uint32) Column {
	return fixed(name, "UInt32", arrow.PrimitiveTypes.Uint32, doc, get)
}

func u64(name, doc string, get func(*Row) uint64) Column {
	return fixed(name, "UInt64", arrow.PrimitiveTypes.Uint64, doc, get)
}

func i64(name, doc string, get func(*Row) int64) Column {
	return fixed(name, "Int64", arrow.PrimitiveTypes.Int64, doc, get)
}

func timestamp(name, doc string, get func(*Row) int64) Column {
	c := fixed(name, "DateTime64(9, 'UTC')", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, doc, get)
	c.Codec = "Delta, ZSTD"
	return c
}

func flag(name, doc string, get func(*Row) bool) Column {
	return Column{Name: name, Type: "Bool", Arrow: arrow.FixedWidthTypes.Boolean, Doc: doc,
		newBuf: func() colBuf { return &boolBuf{get: get} }}
}

// text is a String column of presentation text.
func text(name, doc string, get func(*Row) []byte) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.String, Doc: doc,
		newBuf: func() colBuf { return &bytesBuf{typ: arrow.BinaryTypes.String, get: get} }}
}

// label is a column with few distinct values, which ClickHouse
// dictionary-encodes.
func label(name, doc string, get func(*Row) string) Column {
	return Column{Name: name, Type: "LowCardinality(String)", Arrow: arrow.BinaryTypes.String, Doc: doc,
		newBuf: func() colBuf { return &labelBuf{get: get} }}
}

// blob is a String column of raw bytes, Arrow binary rather than UTF-8.
func blob(name, doc string, get func(*Row) []byte) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.Binary, Doc: doc,
		newBuf: func() colBuf { return &bytesBuf{typ: arrow.BinaryTypes.Binary, get: get} }}
}

// addr is an IPv6 column; IPv4 addresses are stored IPv4-mapped
// (::ffff:a.b.c.d), with ip_version telling the two apart.
func addr(name, doc string, get func(*Row) [16]byte) Column {
	return Column{Name: name, Type: "IPv6", Arrow: &arrow.FixedSizeBinaryType{ByteWidth: 16}, Doc: doc,
		newBuf: func() colBuf { return &addrBuf{get: get} }}
}

func listU16(name, doc string, each func(*Row, func(uint16))) Column {
	typ := arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint16)
	return Column{Name: name, Type: "Array(UInt16)", Arrow: typ, Doc: doc,
		newBuf: func() colBuf { return newListBuf(typ, each) }}
}

func listU32(name, doc string, each func(*Row, func(uint32))) Column {
	typ := arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint32)
	return Column{Name: name, Type: "Array(UInt32)", Arrow: typ, Doc: doc,
		newBuf: func() colBuf { return newListBuf(typ, each) }}
}

func listText(name, doc string, each func(*Row, func([]byte))) Column {
	return Column{Name: name, Type: "Array(String)", Arrow: arrow.ListOfNonNullable(arrow.BinaryTypes.String), Doc: doc,
		newBuf: func() colBuf { return newListTextBuf(each) }}
}
