package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	fmt.Fprintf(&b, "SETTINGS non_replicated_deduplication_window = %d\n", DedupWindow)
	return b.String()
}

// DedupWindow is how many of the most recent inserted blocks a table
// remembers the deduplication tokens of, so that a batch inserted again
// after a retry or a crash is dropped (insert_deduplication_token). It must
// cover every block inserted between a crashed load and its rerun; a block
// is one insert's rows of one day, so 100,000 is a generous, arbitrary
// bound that costs the engine a log of a few megabytes.
const DedupWindow = 100_000

// Setup returns the statements that create the tables in database, or bring
// ones an earlier version made up to date: DDL, FilesDDL, then UpgradeDDL.
func Setup(database string) []string {
	return append([]string{DDL(database), FilesDDL(database)}, UpgradeDDL(database)...)
}

// UpgradeDDL returns the statements that bring tables made by an earlier
// version to the current schema: columns added since, and the settings
// exactly-once loading needs. They do nothing on current tables.
//
// Rows and load records from before have an empty file_hash, so their
// files are not known as loaded: loaded again, they are stored twice.
// Hashing the files still at their recorded paths and filling file_hash in
// would let the loader recognise them.
func UpgradeDDL(database string) []string {
	db := quoteIdent(database)
	dedup := fmt.Sprintf("MODIFY SETTING non_replicated_deduplication_window = %d", DedupWindow)
	return []string{
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS file_hash LowCardinality(String) AFTER file",
			db, Table),
		fmt.Sprintf("ALTER TABLE %s.%s %s", db, Table, dedup),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS file_hash String FIRST", db, FilesTable),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS generation UInt32 AFTER file_hash", db, FilesTable),
		fmt.Sprintf("ALTER TABLE %s.%s %s", db, FilesTable, dedup),
	}
}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
}

// Builder builds Arrow record batches of dns_messages rows. It is not safe
// for concurrent use.
type Builder struct {
	schema *arrow.Schema
	bufs   []colBuf
	rows   int
	bytes  int // estimate of the bytes held
}

// rowOverhead estimates the bytes of a row's fixed-width columns and
// offsets; the text of names and RDATA comes on top.
const rowOverhead = 512

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	b := &Builder{schema: Arrow(), bufs: make([]colBuf, len(Columns))}
	for i, c := range Columns {
		b.bufs[i] = c.newBuf()
	}
	return b
}

// Append adds one row.
func (b *Builder) Append(r *Row) {
	for _, c := range b.bufs {
		c.append(r)
	}
	b.rows++
	b.bytes += rowOverhead + r.DNS.TextSize()
	if r.DNS.Malformed != "" {
		b.bytes += len(r.Net.Payload)
	}
}

// Len returns the number of rows appended since the last NewRecord.
func (b *Builder) Len() int { return b.rows }

// Size returns an estimate of the bytes held, kept as rows are appended,
// so that callers can bound a batch by size as well as by rows: one hostile
// message can expand to megabytes of text, and Arrow's 32-bit offsets must
// not overflow.
func (b *Builder) Size() int { return b.bytes }

// NewRecord returns the rows appended so far as a record batch and resets
// the Builder. The batch owns the memory it was built in; the caller
// releases it.
func (b *Builder) NewRecord() arrow.RecordBatch {
	cols := make([]arrow.Array, len(b.bufs))
	for i, c := range b.bufs {
		cols[i] = c.array()
	}
	rec := array.NewRecordBatch(b.schema, cols, int64(b.rows))
	for _, a := range cols {
		a.Release()
	}
	b.rows, b.bytes = 0, 0
	return rec
}
