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

	// How the generated Builder (builder_gen.go) draws the column from a
	// Row r: buf is the buffer type, get a Go expression of the value; a
	// list column takes elem of each element e of the slice expression
	// list (elem "e" is the element itself).
	buf, get, list, elem string
}

// The constructors below pair a ClickHouse type with the Arrow type that
// ClickHouse reads into it, so a column cannot get one without the other.

func fixed(name, chType, goType string, typ arrow.DataType, doc, get string) Column {
	return Column{Name: name, Type: chType, Arrow: typ, Doc: doc, buf: "fixedBuf[" + goType + "]", get: get}
}

func u8(name, doc, get string) Column {
	return fixed(name, "UInt8", "uint8", arrow.PrimitiveTypes.Uint8, doc, get)
}

func u16(name, doc, get string) Column {
	return fixed(name, "UInt16", "uint16", arrow.PrimitiveTypes.Uint16, doc, get)
}

func u32(name, doc, get string) Column {
	return fixed(name, "UInt32", "uint32", arrow.PrimitiveTypes.Uint32, doc, get)
}

func u64(name, doc, get string) Column {
	return fixed(name, "UInt64", "uint64", arrow.PrimitiveTypes.Uint64, doc, get)
}

func i64(name, doc, get string) Column {
	return fixed(name, "Int64", "int64", arrow.PrimitiveTypes.Int64, doc, get)
}

func timestamp(name, doc, get string) Column {
	c := fixed(name, "DateTime64(9, 'UTC')", "int64", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, doc, get)
	c.Codec = "Delta, ZSTD"
	return c
}

func flag(name, doc, get string) Column {
	return Column{Name: name, Type: "Bool", Arrow: arrow.FixedWidthTypes.Boolean, Doc: doc, buf: "boolBuf", get: get}
}

// text is a String column of presentation text, get a []byte.
func text(name, doc, get string) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.String, Doc: doc, buf: "bytesBuf", get: get}
}

// label is a column with few distinct values, which ClickHouse
// dictionary-encodes; get is a string.
func label(name, doc, get string) Column {
	return Column{Name: name, Type: "LowCardinality(String)", Arrow: LabelType, Doc: doc,
		buf: "labelBuf", get: get}
}

// blob is a String column of raw bytes, Arrow binary rather than UTF-8.
func blob(name, doc, get string) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.Binary, Doc: doc, buf: "bytesBuf", get: get}
}

// addr is an IPv6 column; IPv4 addresses are stored IPv4-mapped
// (::ffff:a.b.c.d), with ip_version telling the two apart. get is a
// [16]byte.
func addr(name, doc, get string) Column {
	return Column{Name: name, Type: "IPv6", Arrow: &arrow.FixedSizeBinaryType{ByteWidth: 16}, Doc: doc,
		buf: "addrBuf", get: get}
}

func listU16(name, doc, list, elem string) Column {
	return Column{Name: name, Type: "Array(UInt16)", Arrow: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint16),
		Doc: doc, buf: "listBuf[uint16]", list: list, elem: elem}
}

func listU32(name, doc, list, elem string) Column {
	return Column{Name: name, Type: "Array(UInt32)", Arrow: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint32),
		Doc: doc, buf: "listBuf[uint32]", list: list, elem: elem}
}

func listText(name, doc, list, elem string) Column {
	return Column{Name: name, Type: "Array(String)", Arrow: arrow.ListOfNonNullable(arrow.BinaryTypes.String),
		Doc: doc, buf: "listTextBuf", list: list, elem: elem}
}
