package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Column is one column of the dns_messages table.
type Column struct {
	Name  string         // column name, the same in ClickHouse, Arrow and Parquet
	Type  string         // ClickHouse type
	Codec string         // ClickHouse codec, empty for the default
	Arrow arrow.DataType // Arrow type of the batches
	Doc   string         // what the column holds, used as the column comment

	// bind returns the function that appends a Row's value to b, which is
	// a builder of the Arrow type above.
	bind func(b array.Builder) func(*Row)
}

// The constructors below pair a ClickHouse type with the Arrow type that
// ClickHouse reads into it, so a column cannot get one without the other.

func u8(name, doc string, get func(*Row) uint8) Column {
	return Column{Name: name, Type: "UInt8", Arrow: arrow.PrimitiveTypes.Uint8, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			ub := b.(*array.Uint8Builder)
			return func(r *Row) { ub.Append(get(r)) }
		}}
}

func u16(name, doc string, get func(*Row) uint16) Column {
	return Column{Name: name, Type: "UInt16", Arrow: arrow.PrimitiveTypes.Uint16, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			ub := b.(*array.Uint16Builder)
			return func(r *Row) { ub.Append(get(r)) }
		}}
}

func u32(name, doc string, get func(*Row) uint32) Column {
	return Column{Name: name, Type: "UInt32", Arrow: arrow.PrimitiveTypes.Uint32, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			ub := b.(*array.Uint32Builder)
			return func(r *Row) { ub.Append(get(r)) }
		}}
}

func u64(name, doc string, get func(*Row) uint64) Column {
	return Column{Name: name, Type: "UInt64", Arrow: arrow.PrimitiveTypes.Uint64, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			ub := b.(*array.Uint64Builder)
			return func(r *Row) { ub.Append(get(r)) }
		}}
}

func flag(name, doc string, get func(*Row) bool) Column {
	return Column{Name: name, Type: "Bool", Arrow: arrow.FixedWidthTypes.Boolean, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			bb := b.(*array.BooleanBuilder)
			return func(r *Row) { bb.Append(get(r)) }
		}}
}

func timestamp(name, doc string, get func(*Row) int64) Column {
	return Column{Name: name, Type: "DateTime64(9, 'UTC')", Codec: "Delta, ZSTD",
		Arrow: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			tb := b.(*array.TimestampBuilder)
			return func(r *Row) { tb.Append(arrow.Timestamp(get(r))) }
		}}
}

// text is a String column of presentation text.
func text(name, doc string, get func(*Row) []byte) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.String, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			sb := b.(*array.StringBuilder)
			return func(r *Row) { sb.BinaryBuilder.Append(get(r)) }
		}}
}

// label is a column with few distinct values, which ClickHouse
// dictionary-encodes.
func label(name, doc string, get func(*Row) string) Column {
	return Column{Name: name, Type: "LowCardinality(String)", Arrow: arrow.BinaryTypes.String, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			sb := b.(*array.StringBuilder)
			return func(r *Row) { sb.Append(get(r)) }
		}}
}

// blob is a String column of raw bytes, Arrow binary rather than UTF-8.
func blob(name, doc string, get func(*Row) []byte) Column {
	return Column{Name: name, Type: "String", Arrow: arrow.BinaryTypes.Binary, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			bb := b.(*array.BinaryBuilder)
			return func(r *Row) { bb.Append(get(r)) }
		}}
}

// addr is an IPv6 column; IPv4 addresses are stored IPv4-mapped
// (::ffff:a.b.c.d), with ip_version telling the two apart.
func addr(name, doc string, get func(*Row) [16]byte) Column {
	return Column{Name: name, Type: "IPv6", Arrow: &arrow.FixedSizeBinaryType{ByteWidth: 16}, Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			fb := b.(*array.FixedSizeBinaryBuilder)
			return func(r *Row) {
				a := get(r)
				fb.Append(a[:])
			}
		}}
}

func listU16(name, doc string, each func(*Row, func(uint16))) Column {
	return Column{Name: name, Type: "Array(UInt16)", Arrow: arrow.ListOf(arrow.PrimitiveTypes.Uint16), Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			lb := b.(*array.ListBuilder)
			add := lb.ValueBuilder().(*array.Uint16Builder).Append
			return func(r *Row) {
				lb.Append(true)
				each(r, add)
			}
		}}
}

func listU32(name, doc string, each func(*Row, func(uint32))) Column {
	return Column{Name: name, Type: "Array(UInt32)", Arrow: arrow.ListOf(arrow.PrimitiveTypes.Uint32), Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			lb := b.(*array.ListBuilder)
			add := lb.ValueBuilder().(*array.Uint32Builder).Append
			return func(r *Row) {
				lb.Append(true)
				each(r, add)
			}
		}}
}

func listText(name, doc string, each func(*Row, func([]byte))) Column {
	return Column{Name: name, Type: "Array(String)", Arrow: arrow.ListOf(arrow.BinaryTypes.String), Doc: doc,
		bind: func(b array.Builder) func(*Row) {
			lb := b.(*array.ListBuilder)
			add := lb.ValueBuilder().(*array.StringBuilder).BinaryBuilder.Append
			return func(r *Row) {
				lb.Append(true)
				each(r, add)
			}
		}}
}
