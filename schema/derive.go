package schema

import (
	"fmt"
	"slices"
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
// The table is partitioned by day so that old days can be dropped whole,
// and sorted by OrderBy.
func DDL(database string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s\n(\n", QuoteIdent(database), Table)
	for i, c := range Columns {
		fmt.Fprintf(&b, "    %s %s COMMENT %s", QuoteIdent(c.Name), c.Type, Quote(c.Doc))
		if c.Codec != "" {
			fmt.Fprintf(&b, " CODEC(%s)", c.Codec)
		}
		if i < len(Columns)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString(qnameRevColumn)
	b.WriteString(loadedAtColumn)
	b.WriteString("    , INDEX src_addr_idx src_addr TYPE bloom_filter GRANULARITY 4\n")
	b.WriteString(")\nENGINE = MergeTree\nPARTITION BY toDate(time)\nORDER BY " + OrderBy + "\n")
	fmt.Fprintf(&b, "SETTINGS non_replicated_deduplication_window = %d, %s\n", DedupWindow, partSettings)
	return b.String()
}

// partSettings makes the parts inserts write compact: all columns in one
// file rather than two files a column. An insert's part (262,144 rows, about
// 107 MB before compression) was past the engine's default threshold of 10
// MB, so each insert created some 200 files, and creating them was a tenth
// of a server's CPU (ext4_create in perf). Compact, the server spent 0.3 to
// 0.7 CPU-seconds less per million rows and the embedded engine 12% less
// time. Merges of two inserts' parts or more are written wide, as queries
// read a wide part's columns without skipping over the others.
const partSettings = "min_rows_for_wide_part = 524288"

// MergeDDL returns the statement that makes dns_messages merge its parts
// less often and more at a time than the engine's default, for bulk loads:
// a merge chosen from 30 parts of about one size rather than from 5 (the
// simple merge selector's base) rewrites each row fewer times over its
// life. Loading ten million generated messages into a server on the
// development machine, with all merges run out after, the server merged
// 7.5 million rows instead of 19.6 million and spent 29 CPU-seconds
// instead of 46; the load itself took 19 s instead of 24.5 (523,000 rows/s
// instead of 410,000). A partition that stops growing with fewer parts than
// that left over (a day of reprocessed captures) is merged whole once all
// its parts are an hour old, so queries on it read few parts.
//
// merge_selector_base is ClickHouse 24.11's: servers before it refuse the
// statement (UNKNOWN_SETTING), and a loader then keeps their defaults (see
// the clickhouse package's ensureTables).
func MergeDDL(database string) string {
	return fmt.Sprintf("ALTER TABLE %s.%s MODIFY SETTING %s", QuoteIdent(database), Table, mergeSettings)
}

const mergeSettings = "merge_selector_base = 30, min_age_to_force_merge_seconds = 3600, " +
	"min_age_to_force_merge_on_partition_only = 1"

// DedupWindow is how many of the most recent inserted blocks a table
// remembers the deduplication tokens of, so that a batch inserted again
// after a retry or a crash is dropped (insert_deduplication_token). It must
// cover every block inserted between a crashed load and its rerun; a block
// is one insert's rows of one day, so 100,000 is a generous, arbitrary
// bound that costs the engine a log of a few megabytes.
const DedupWindow = 100_000

// OrderBy is the sorting key of dns_messages, chosen by BenchmarkLayout
// (load/layout_bench_test.go) on a generated month of 3M messages against
// (qname, qtype, time): everything about a domain and its subdomains over
// the month reads 270k rows instead of all 3M and takes about half the
// time (0.15-0.22 s against 0.28-0.42 s, two runs on 2 cores), for 4% more
// disk (the qname_rev column). Neither key, nor a bloom filter on the
// client, helps the other question (everything a client did in a day,
// 58-67 ms): every granule holds most of the 3,000 clients, so it reads the
// whole day. The bloom filter on src_addr is kept for sparser clients.
//
// TODO(schema): a projection ordered by client reads one granule for the
// client question (45 ms) but makes the table 2.3 times larger; worth it,
// as an option, when a day is far larger than 100k rows.
const OrderBy = "(qname_rev, qtype, time)"

// qnameRevExpr is the first question's name with its labels reversed and
// in lower case, "www.Example.com" as "com.example.www", so that a domain
// and all its subdomains are one range of the key whatever the case they
// were asked in: everything about example.com is
// WHERE qname_rev = 'com.example' OR startsWith(qname_rev, 'com.example.').
// Names are compared without case in DNS, and resolvers vary it on
// purpose (0x20); qname keeps the case as sent. lower() folds ASCII only,
// as DNS does. A label with an escaped dot (\.) is split there too.
const qnameRevExpr = "lower(arrayStringConcat(arrayReverse(splitByChar('.', qname)), '.'))"

const qnameRevColumn = "    , `qname_rev` String MATERIALIZED " + qnameRevExpr +
	" COMMENT 'qname with its labels reversed, in lower case: the sorting key'\n"

// loadedAtColumn is the time a row was inserted, which retention counts
// from (see RetentionDDL). It is MATERIALIZED, not in Columns: the engine
// fills it, the loader never sends it, and SELECT * leaves it out, so the
// Arrow batches and Parquet files are the same with or without it.
const loadedAtColumn = "    , `loaded_at` DateTime('UTC') MATERIALIZED now() " +
	"COMMENT 'when the row was loaded, UTC; retention counts from it'\n"

// Setup returns the statements that create the tables and views in
// database, or bring ones an earlier version made up to date, and record
// Version: DDL, FilesDDL, UpgradeDDL, MergeDDL, ViewsDDL, then the version. Running
// them again changes nothing.
func Setup(database string) []string {
	q := append([]string{DDL(database), FilesDDL(database)}, UpgradeDDL(database)...)
	q = append(q, MergeDDL(database))
	q = append(q, ViewsDDL(database)...)
	return append(q, versionDDL(database)...)
}

// RetentionDDL returns the statement that makes dns_messages drop rows
// days after they were loaded, whatever their packet time: a capture from
// years ago loaded today stays days.
//
// The statement runs on every load that asks for retention, so it does not
// rewrite the parts already stored (materialize_ttl_after_modify = 0):
// they take the TTL when merges rewrite them. Rows loaded before schema
// version 3 have no stored loaded_at; the engine computes it when it reads
// them, so they expire only once a merge has written it.
func RetentionDDL(database string, days int) string {
	return fmt.Sprintf("ALTER TABLE %s.%s MODIFY TTL loaded_at + INTERVAL %d DAY "+
		"SETTINGS materialize_ttl_after_modify = 0", QuoteIdent(database), Table, days)
}

// UpgradeDDL returns the statements that bring tables made by an earlier
// version to the current schema: columns added since, and the settings
// exactly-once loading needs. They do nothing on current tables.
//
// Rows and load records from before have an empty file_hash, so their
// files are not known as loaded: loaded again, they are stored twice.
// Hashing the files still at their recorded paths and filling file_hash in
// would let the loader recognise them.
//
// A table's sorting key cannot change in place: tables made before
// version 3 gain qname_rev but stay sorted by qname, so domain queries on
// them read every row of the days asked; and those made before version 4
// keep a qname_rev that keeps the names' case.
// TODO(schema): migrate the key; creating dns_messages anew, INSERT ...
// SELECT the old rows and EXCHANGE TABLES would, at the cost of a copy.
func UpgradeDDL(database string) []string {
	db := QuoteIdent(database)
	dedup := fmt.Sprintf("MODIFY SETTING non_replicated_deduplication_window = %d", DedupWindow)
	return []string{
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS file_hash LowCardinality(String) AFTER file",
			db, Table),
		fmt.Sprintf("ALTER TABLE %s.%s %s, %s", db, Table, dedup, partSettings),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS %s", db, Table, trimColumn(qnameRevColumn)),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS %s", db, Table, trimColumn(loadedAtColumn)),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS file_hash String FIRST", db, FilesTable),
		fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN IF NOT EXISTS generation UInt32 AFTER file_hash", db, FilesTable),
		fmt.Sprintf("ALTER TABLE %s.%s %s", db, FilesTable, dedup),
		fmt.Sprintf("ALTER TABLE %s.%s MODIFY COLUMN loaded_at DEFAULT now64(3, 'UTC')", db, FilesTable),
		fmt.Sprintf("ALTER TABLE %s.%s COMMENT COLUMN error %s", db, FilesTable, Quote(errorComment)),
	}
}

// trimColumn turns a column line of DDL into an ADD COLUMN's definition.
func trimColumn(line string) string {
	return strings.TrimPrefix(strings.TrimSpace(line), ", ")
}

// QuoteIdent quotes a name with backticks, escaping as ClickHouse reads it.
func QuoteIdent(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
}

// InsertSettings returns the SETTINGS clause of an insert of batches, with
// token as its insert_deduplication_token unless empty. An insert's rows
// of each day become a part, and the engine refuses an insert of more
// than 100 days (TOO_MANY_PARTS): a group of small daily files of four
// months, reprocessed, failed whole on every run (a hostile run), so the
// bound is lifted.
func InsertSettings(token string) string {
	s := " SETTINGS " + MaxPartitionsSetting + " = 0"
	if token != "" {
		s += ", insert_deduplication_token = " + Quote(token)
	}
	return s
}

// MaxPartitionsSetting bounds the days (parts) one insert may write.
const MaxPartitionsSetting = "max_partitions_per_insert_block"

// InsertSQL returns "INSERT INTO table (`a`, `b`, ...)" naming the columns
// of s, so that an insert matches columns by name, never by position.
func InsertSQL(table string, s *arrow.Schema) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	for i, f := range s.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(f.Name))
	}
	b.WriteString(")")
	return b.String()
}

// Builder builds Arrow record batches of dns_messages rows. It is not safe
// for concurrent use.
type Builder struct {
	schema *arrow.Schema
	cols   *rowBufs
	bufs   []colBuf // cols's buffers in column order
	rows   int
	most   int // rows of the largest batch made
}

// rowOverhead estimates the bytes of a row's fixed-width columns and
// offsets (232 in Arrow, and the bits of its booleans); the text of names
// and RDATA, and the items of lists, come on top (rowBufs.varBytes).
const rowOverhead = 256

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	cols := newRowBufs()
	return &Builder{schema: Arrow(), cols: cols, bufs: cols.all()}
}

// Append adds one row.
func (b *Builder) Append(r *Row) {
	if b.rows == 0 {
		for _, c := range b.bufs {
			c.reserve()
		}
	}
	b.cols.append(r)
	b.rows++
}

// MostRows returns the rows of the largest batch NewRecord made: the
// buffers a Builder keeps for its next batches are about that large.
func (b *Builder) MostRows() int { return b.most }

// Len returns the number of rows appended since the last NewRecord.
func (b *Builder) Len() int { return b.rows }

// Size returns an estimate of the bytes held, read off the buffers,
// so that callers can bound a batch by size as well as by rows: one hostile
// message can expand to megabytes of text, and Arrow's 32-bit offsets must
// not overflow.
//
// The text is counted as the buffers hold it, not as the message did: a
// name compressed to a two-byte pointer is stored whole each time, and
// one 64 KiB message can expand to megabytes.
func (b *Builder) Size() int { return b.rows*rowOverhead + b.cols.varBytes() }

// SizeVersion names how Size and the Arrow bytes of a batch are reckoned
// (the label columns' dictionaries changed both; then Size counted lists'
// items): batches, and so inserts and their tokens, are cut by them. It
// goes into the load records' cut (FileRecord.Cut), so that a rerun
// reckoning otherwise replaces a failed load's rows rather than complete
// them. Change it whenever either changes.
const SizeVersion = "sizes 3"

// SetFileHash sets the file_hash of every row appended since the last
// NewRecord to h. A loader that hashes a large file while decoding it
// (the hash is a pass over the whole file, a tenth of the time a Parquet
// export of it takes) appends the first rows before the hash is known,
// and then sets it; the rows after carry it themselves.
func (b *Builder) SetFileHash(h string) {
	if b.rows == 0 {
		return
	}
	b.bufs[fileHashColumn].(*labelBuf).setAll(h)
}

// fileHashColumn is the index of file_hash in Columns.
var fileHashColumn = slices.IndexFunc(Columns, func(c Column) bool { return c.Name == "file_hash" })

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
	b.most = max(b.most, b.rows)
	b.rows = 0
	return rec
}
