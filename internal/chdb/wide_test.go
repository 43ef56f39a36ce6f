package chdb

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// wideColumn is one column of the 50-column table used to measure inserts,
// shaped like pcapload's dns_messages: many small integers and flags, a few
// strings, string arrays, addresses and a nanosecond timestamp.
type wideColumn struct {
	name, chType string
	arrow        arrow.DataType
}

func wideColumns() []wideColumn {
	cols := []wideColumn{{"ts", "DateTime64(9, 'UTC')", tsUTC}}
	add := func(n int, prefix, chType string, dt arrow.DataType) {
		for i := range n {
			cols = append(cols, wideColumn{fmt.Sprintf("%s%d", prefix, i), chType, dt})
		}
	}
	add(20, "u", "UInt16", arrow.PrimitiveTypes.Uint16)
	add(8, "f", "Bool", arrow.FixedWidthTypes.Boolean)
	add(3, "n", "UInt32", arrow.PrimitiveTypes.Uint32)
	add(10, "s", "String", arrow.BinaryTypes.String)
	add(4, "a", "Array(String)", arrow.ListOf(arrow.BinaryTypes.String))
	add(4, "ip", "IPv6", &arrow.FixedSizeBinaryType{ByteWidth: 16})
	return cols
}

func wideDDL(table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", table)
	for i, c := range wideColumns() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.name, c.chType)
	}
	b.WriteString(") ENGINE = MergeTree ORDER BY ts")
	return b.String()
}

func wideSchema() *arrow.Schema {
	var fields []arrow.Field
	for _, c := range wideColumns() {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.arrow})
	}
	return arrow.NewSchema(fields, nil)
}

// wideBatches builds rows rows in batches of batch rows; values are cheap
// deterministic functions of the row number.
func wideBatches(rows, batch int) []arrow.RecordBatch {
	return wideBatchesFrom(memory.DefaultAllocator, rows, batch)
}

// wideBatchesFrom is wideBatches with the batches' memory from mem.
func wideBatchesFrom(mem memory.Allocator, rows, batch int) []arrow.RecordBatch {
	schema := wideSchema()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var recs []arrow.RecordBatch
	for start := 0; start < rows; start += batch {
		n := min(batch, rows-start)
		for i := start; i < start+n; i++ {
			appendWideRow(b, i)
		}
		recs = append(recs, b.NewRecordBatch())
	}
	return recs
}

var wideBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

func appendWideRow(b *array.RecordBuilder, row int) {
	f := 0
	next := func() array.Builder { f++; return b.Field(f - 1) }
	next().(*array.TimestampBuilder).Append(arrow.Timestamp(wideBase + int64(row)*1000))
	for j := range 20 {
		next().(*array.Uint16Builder).Append(uint16(row + j))
	}
	for j := range 8 {
		next().(*array.BooleanBuilder).Append((row>>j)&1 == 1)
	}
	for j := range 3 {
		next().(*array.Uint32Builder).Append(uint32(row * (j + 1)))
	}
	for j := range 10 {
		next().(*array.StringBuilder).Append(fmt.Sprintf("host%d.example%d.com.", row%1000, j))
	}
	for range 4 {
		lb := next().(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).Append("a.example.com.")
		lb.ValueBuilder().(*array.StringBuilder).Append("192.0.2.1")
	}
	addr := netip.AddrFrom4([4]byte{10, byte(row >> 16), byte(row >> 8), byte(row)}).As16()
	for range 4 {
		next().(*array.FixedSizeBinaryBuilder).Append(addr[:])
	}
}
