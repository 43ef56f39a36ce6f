package chdb

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// typeCase is one ClickHouse column type, the Arrow type fed to it, a value
// appender and the value expected back from toString(column).
type typeCase struct {
	col    string
	chType string
	arrow  arrow.DataType
	append func(b array.Builder)
	want   string
}

var tsUTC = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}

var when = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

var typeCases = []typeCase{
	{"u8", "UInt8", arrow.PrimitiveTypes.Uint8,
		func(b array.Builder) { b.(*array.Uint8Builder).Append(200) }, "200"},
	{"u16", "UInt16", arrow.PrimitiveTypes.Uint16,
		func(b array.Builder) { b.(*array.Uint16Builder).Append(65535) }, "65535"},
	{"u32", "UInt32", arrow.PrimitiveTypes.Uint32,
		func(b array.Builder) { b.(*array.Uint32Builder).Append(4000000000) }, "4000000000"},
	{"i64", "Int64", arrow.PrimitiveTypes.Int64,
		func(b array.Builder) { b.(*array.Int64Builder).Append(-5) }, "-5"},
	{"f64", "Float64", arrow.PrimitiveTypes.Float64,
		func(b array.Builder) { b.(*array.Float64Builder).Append(0.25) }, "0.25"},
	{"flag", "Bool", arrow.FixedWidthTypes.Boolean,
		func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }, "true"},
	{"s", "String", arrow.BinaryTypes.String,
		func(b array.Builder) { b.(*array.StringBuilder).Append("example.com.") }, "example.com."},
	{"bin", "String", arrow.BinaryTypes.Binary,
		func(b array.Builder) { b.(*array.BinaryBuilder).Append([]byte("raw")) }, "raw"},
	{"lc", "LowCardinality(String)", arrow.BinaryTypes.String,
		func(b array.Builder) { b.(*array.StringBuilder).Append("NOERROR") }, "NOERROR"},
	{"ns", "Nullable(String)", arrow.BinaryTypes.String,
		func(b array.Builder) { b.AppendNull() }, "\\N"},
	{"fs", "FixedString(2)", &arrow.FixedSizeBinaryType{ByteWidth: 2},
		func(b array.Builder) { b.(*array.FixedSizeBinaryBuilder).Append([]byte("ab")) }, "ab"},
	{"names", "Array(String)", arrow.ListOf(arrow.BinaryTypes.String),
		appendList("a.", "b."), "['a.','b.']"},
	{"ip6", "IPv6", &arrow.FixedSizeBinaryType{ByteWidth: 16},
		appendIP("2001:db8::1"), "2001:db8::1"},
	{"ip4in6", "IPv6", &arrow.FixedSizeBinaryType{ByteWidth: 16},
		appendIP("::ffff:192.0.2.1"), "::ffff:192.0.2.1"},
	{"ip4", "IPv4", arrow.PrimitiveTypes.Uint32,
		func(b array.Builder) { b.(*array.Uint32Builder).Append(0xC0000201) }, "192.0.2.1"},
	{"ts", "DateTime64(9, 'UTC')", tsUTC,
		func(b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(when.UnixNano())) },
		"2024-05-06 07:08:09.123456789"},
	{"dt", "DateTime('UTC')", arrow.PrimitiveTypes.Uint32,
		func(b array.Builder) { b.(*array.Uint32Builder).Append(uint32(when.Unix())) }, "2024-05-06 07:08:09"},
	{"day", "Date", arrow.FixedWidthTypes.Date32,
		func(b array.Builder) { b.(*array.Date32Builder).Append(arrow.Date32FromTime(when)) }, "2024-05-06"},
}

func appendList(vals ...string) func(array.Builder) {
	return func(b array.Builder) {
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		for _, v := range vals {
			lb.ValueBuilder().(*array.StringBuilder).Append(v)
		}
	}
}

func appendIP(s string) func(array.Builder) {
	return func(b array.Builder) {
		a := netip.MustParseAddr(s).As16()
		b.(*array.FixedSizeBinaryBuilder).Append(a[:])
	}
}

// TestDB_InsertArrow_types checks the Arrow type each ClickHouse column type
// accepts, one column per case, by reading every value back as text.
func TestDB_InsertArrow_types(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	for _, tc := range typeCases {
		t.Run(tc.col+" "+tc.chType, func(t *testing.T) {
			mustExec(t, db, "CREATE TABLE t_"+tc.col+" (k UInt8, v "+tc.chType+") ENGINE = MergeTree ORDER BY k")
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "k", Type: arrow.PrimitiveTypes.Uint8},
				{Name: "v", Type: tc.arrow, Nullable: true},
			}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			defer b.Release()
			b.Field(0).(*array.Uint8Builder).Append(1)
			tc.append(b.Field(1))
			rec := b.NewRecordBatch()
			defer rec.Release()

			if err := db.InsertArrow(ctx, "t_"+tc.col, schema, rec); err != nil {
				t.Fatalf("InsertArrow: %v", err)
			}
			got := mustQuery(t, db, "SELECT v FROM t_"+tc.col, "TSV")
			if got != tc.want+"\n" {
				t.Errorf("read back %q, want %q", got, tc.want+"\n")
			}
		})
	}
}

func TestDB_InsertArrow_errors(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE t (k UInt8) ENGINE = MergeTree ORDER BY k")
	schema := arrow.NewSchema([]arrow.Field{{Name: "nope", Type: arrow.PrimitiveTypes.Uint8}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Uint8Builder).Append(1)
	rec := b.NewRecordBatch()
	defer rec.Release()

	var e *Error
	if err := db.InsertArrow(ctx, "t", schema, rec); !errors.As(err, &e) || e.Name != "NO_SUCH_COLUMN_IN_TABLE" {
		t.Errorf("InsertArrow(unknown column) = %v, want NO_SUCH_COLUMN_IN_TABLE", err)
	}
	if err := db.InsertArrow(ctx, "missing", schema, rec); !errors.As(err, &e) || e.Name != "UNKNOWN_TABLE" {
		t.Errorf("InsertArrow(missing table) = %v, want UNKNOWN_TABLE", err)
	}
	// The connection must still work after failed inserts.
	if got := mustQuery(t, db, "SELECT count() FROM t", "TSV"); got != "0\n" {
		t.Errorf("count after failed inserts = %q, want 0", got)
	}
}
