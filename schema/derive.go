package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Table is the name of the table of DNS messages.
const Table = "dns_messages"

// Arrow returns the Arrow schema of the batches, derived from Columns.
func Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(Columns))
	for i, c := range Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Arrow}
	}
	return arrow.NewSchema(fields, nil)
}

// DDL returns the CREATE TABLE statement of the dns_messages table in the
// given database, derived from Columns.
//
// The table is partitioned by day so that old days can be dropped whole.
// TODO(schema): the ORDER BY and skip indexes are a first guess; issue #3
// chooses them by benchmarking the two analyst questions.
func DDL(database string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s\n(\n", quoteIdent(database), Table)
	for i, c := range Columns {
		fmt.Fprintf(&b, "    %s %s COMMENT %s", quoteIdent(c.Name), c.Type, Quote(c.Doc))
		if c.Codec != "" {
			fmt.Fprintf(&b, " CODEC(%s)", c.Codec)
		}
		if i < len(Columns)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("    , INDEX src_addr_idx src_addr TYPE bloom_filter GRANULARITY 4\n")
	b.WriteString(")\nENGINE = MergeTree\nPARTITION BY toDate(time)\nORDER BY (qname, qtype, time)\n")
	return b.String()
}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
}

// Builder builds Arrow record batches of dns_messages rows. It is not safe
// for concurrent use.
type Builder struct {
	rb      *array.RecordBuilder
	appends []func(*Row)
}

// NewBuilder returns an empty Builder allocating from mem (the Go allocator
// when mem is nil).
func NewBuilder(mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	rb := array.NewRecordBuilder(mem, Arrow())
	b := &Builder{rb: rb, appends: make([]func(*Row), len(Columns))}
	for i, c := range Columns {
		b.appends[i] = c.bind(rb.Field(i))
	}
	return b
}

// Append adds one row.
func (b *Builder) Append(r *Row) {
	for _, f := range b.appends {
		f(r)
	}
}

// Len returns the number of rows appended since the last NewRecord.
func (b *Builder) Len() int { return b.rb.Field(0).Len() }

// NewRecord returns the rows appended so far as a record batch and resets
// the Builder. Arrow hands the buffers to the batch, so the Builder reserves
// room for as many rows again: a batch then costs one allocation per buffer
// instead of a doubling series. The caller releases the batch.
func (b *Builder) NewRecord() arrow.RecordBatch {
	n := b.Len()
	rec := b.rb.NewRecordBatch()
	b.rb.Reserve(n)
	return rec
}

// Release frees the Builder's buffers.
func (b *Builder) Release() { b.rb.Release() }
