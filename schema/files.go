package schema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// FilesTable is the name of the table of load records, one per capture file
// loaded.
const FilesTable = "capture_files"

// FilesDDL returns the CREATE TABLE statement of the capture_files table.
func FilesDDL(database string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.%s
(
    file_hash String COMMENT 'hex SHA-256 of the file as stored: its identity',
    generation UInt32 COMMENT 'times the file was replaced (--force); tokens differ per generation',
    path String COMMENT 'capture file as given to the loader',
    sensor LowCardinality(String),
    format LowCardinality(String) COMMENT 'pcap, nsecpcap or pcapng',
    compression LowCardinality(String),
    bytes UInt64 COMMENT 'bytes read as stored',
    packets UInt64,
    messages UInt64 COMMENT 'DNS messages: rows in dns_messages',
    malformed UInt64 COMMENT 'messages that did not parse whole',
    snapped UInt64 COMMENT 'messages cut by the snaplen',
    reasons Map(LowCardinality(String), UInt64) COMMENT 'packets by reason; sums to packets',
    first_time DateTime64(9, 'UTC'),
    last_time DateTime64(9, 'UTC'),
    status LowCardinality(String) COMMENT 'loaded, failed, skipped, loading, grouped, replacing, replaced or superseded',
    error String COMMENT %s,
    loaded_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (file_hash, generation, loaded_at)
SETTINGS non_replicated_deduplication_window = %d
`, QuoteIdent(database), FilesTable, Quote(errorComment), DedupWindow)
}

// errorComment documents capture_files.error, which a loading mark uses
// for where its load cuts the file into inserts (FileRecord.Cut): kept in
// a column of the first tables, so that loaders of every version insert
// records into tables of every version.
const errorComment = "why the load failed; on a loading mark, where the load cut the file into inserts " +
	"and what its rows hold, which a rerun must match to complete it"

// Load record statuses. A file is loaded in a generation when that
// generation has a StatusLoaded record; --force starts the next generation
// with StatusReplacing, deletes the file's rows, and records
// StatusReplaced before loading again. Before its first row is inserted, a
// generation is marked StatusLoading when the file's inserts are its own,
// or StatusGrouped when they also carry other files' rows (see
// load.Ledger). StatusSkipped records a file of a group found not to be a
// capture at all, which has no rows.
const (
	StatusLoaded    = "loaded"
	StatusFailed    = "failed"
	StatusReplacing = "replacing"
	StatusReplaced  = "replaced"
	StatusLoading   = "loading"
	StatusGrouped   = "grouped"
	StatusSkipped   = "skipped"
	// StatusSuperseded ends the replacement of a file's rows, as
	// StatusReplaced does, when a longer file that starts with its bytes
	// was loaded (see load.Ledger): the file is then held, as the start
	// of that one.
	StatusSuperseded = "superseded"
)

// FileRecord is one row of capture_files.
type FileRecord struct {
	Hash                              string
	Generation                        uint32
	Path, Sensor, Format, Compression string
	Bytes, Packets, Messages          uint64
	Malformed, Snapped                uint64
	Reasons                           map[string]uint64
	First, Last                       int64 // ns since the epoch
	Status, Error                     string
	LoadedAt                          time.Time // the server's time when zero
}

// InsertSQL returns the INSERT statement that stores r in database. A
// non-empty token is the insert's deduplication token: the record inserted
// again with the same token is dropped.
func (r *FileRecord) InsertSQL(database, token string) string {
	return InsertRecordsSQL(database, token, []*FileRecord{r})
}

// InsertRecordsSQL returns one INSERT statement that stores recs in
// database, deduplicated by token as InsertSQL is: the records of a group
// of files are written together or not at all.
//
// The values are literals only, times as text: the engine parses such
// rows as a stream, where a function call in a row (fromUnixTimestamp64Nano,
// now64) had it evaluate every row as an expression, 160 ms for a group's
// 256 records against under 10, a third of a server's CPU loading 1,000
// small files. Records that take the server's time leave loaded_at to its
// default, when all of them do.
func InsertRecordsSQL(database, token string, recs []*FileRecord) string {
	serverTime := !slices.ContainsFunc(recs, func(r *FileRecord) bool { return !r.LoadedAt.IsZero() })
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s.%s (%s", QuoteIdent(database), FilesTable, recordColumns)
	if !serverTime {
		b.WriteString(", loaded_at")
	}
	b.WriteByte(')')
	if token != "" {
		b.WriteString(" SETTINGS insert_deduplication_token = " + Quote(token))
	}
	b.WriteString(" VALUES")
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		r.appendValues(&b, !serverTime)
	}
	return b.String()
}

// recordColumns are the columns of capture_files a record insert names,
// loaded_at apart.
const recordColumns = "file_hash, generation, path, sensor, format, compression, bytes, packets, " +
	"messages, malformed, snapped, reasons, first_time, last_time, status, error"

// nanoLiteral returns ns since the epoch as a DateTime64(9, 'UTC') value:
// text the engine parses exactly, but for times before 1900, which it
// cannot all read from text (it overflows on the first second of the
// range, where a pcapng interface's offset saturates times), and which
// are rare enough to go as a function call.
func nanoLiteral(ns int64) string {
	if ns < minTextTime {
		return fmt.Sprintf("fromUnixTimestamp64Nano(%d, 'UTC')", ns)
	}
	return "'" + time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000000000") + "'"
}

// minTextTime is 1900-01-01 in ns since the epoch.
var minTextTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// appendValues writes r as a VALUES tuple, with its loaded_at when withAt.
func (r *FileRecord) appendValues(b *strings.Builder, withAt bool) {
	keys := make([]string, 0, len(r.Reasons))
	for k := range r.Reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var m strings.Builder
	for i, k := range keys {
		if i > 0 {
			m.WriteString(", ")
		}
		fmt.Fprintf(&m, "%s: %d", Quote(k), r.Reasons[k])
	}
	fmt.Fprintf(b, " (%s, %d, %s, %s, %s, %s, %d, %d, %d, %d, %d, {%s}, %s, %s, %s, %s",
		Quote(r.Hash), r.Generation,
		Quote(r.Path), Quote(r.Sensor), Quote(r.Format), Quote(r.Compression),
		r.Bytes, r.Packets, r.Messages, r.Malformed, r.Snapped, m.String(),
		nanoLiteral(r.First), nanoLiteral(r.Last), Quote(r.Status), Quote(r.Error))
	switch {
	case !withAt:
	case r.LoadedAt.IsZero():
		// A record without a time takes the server's: marks are aged by
		// it (load.Ledger), whatever the loaders' clocks say.
		b.WriteString(", now64(3, 'UTC')")
	default:
		fmt.Fprintf(b, ", '%s'", r.LoadedAt.UTC().Format("2006-01-02 15:04:05.000"))
	}
	b.WriteByte(')')
}

// Quote returns s as a ClickHouse string literal.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
