package load

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// database is the embedded engine's database that holds the tables.
const database = "default"

// insertRows is how many rows the embedded sink gathers before an insert:
// fewer, larger inserts make fewer parts for the engine to merge.
const insertRows = 256 << 10

// insertBytes bounds the batches gathered for an insert by their Arrow
// bytes, which rows alone do not bound. It is above the 110 MiB of 262,144
// rows of typical traffic, so insertRows still decides where inserts end:
// smaller inserts made the engine merge more parts, for 20% more CPU and
// little less memory, the engine's own being most of it.
const insertBytes = 128 << 20

// EmbeddedSink loads into the embedded ClickHouse engine, exactly once
// (see Ledger).
type EmbeddedSink struct {
	// InsertRows is how many rows are gathered before an insert; insertRows
	// when 0. A rerun of a failed load with another value replaces the
	// file's rows rather than complete them (see File.CutInto).
	InsertRows int

	db     *chdb.DB
	conns  chan *chdb.DB // the inserts' connections, db among them
	schema *arrow.Schema
	ledger *Ledger
	owed   atomic.Bool // this run wrote its row of viewsOwed
}

// viewsOwed is the embedded database's table of the views' corrections
// owed: a row while one is (see CheckViews). A correction owed outlives
// the run that owes it, killed or interrupted before its end.
const viewsOwed = "views_owed"

// maxInflight is how many inserts of one file are in flight at once. The
// engine turns an insert into a part on one thread, and one connection
// runs one statement at a time: with one insert in flight, loading one
// large file kept the engine busy and the decoder waiting half the time
// (1M packets: 4 inserts back to back, 1.2 of 2.3 s waited). With two, on
// connections of their own, the engine writes two parts at once. Their
// order does not matter: each insert is its own part, and its token makes
// one sent again by a rerun a no-op.
const maxInflight = 2

// OpenEmbedded opens (creating when needed) the embedded database at path
// and its tables.
func OpenEmbedded(ctx context.Context, path, sensor string) (*EmbeddedSink, error) {
	db, err := chdb.Open(path)
	if err != nil {
		return nil, err
	}
	for _, q := range schema.Setup(database) {
		if err := db.Exec(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("create tables in %s: %w", path, err)
		}
	}
	s := &EmbeddedSink{db: db, schema: schema.Arrow()}
	// A connection a core, two at least: the engine writes as many parts
	// at once. More inserts in flight wait for one of them.
	n := max(maxInflight, runtime.GOMAXPROCS(0))
	s.conns = make(chan *chdb.DB, n)
	s.conns <- db
	for range n - 1 {
		c, err := chdb.Open(path)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.conns <- c
	}
	s.ledger = NewLedger(embeddedConn{db}, database, sensor)
	s.ledger.beforeUncount = s.oweFor
	s.ledger.engineInProcess = true
	q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s (at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')) "+
		"ENGINE = MergeTree ORDER BY tuple()", database, viewsOwed)
	if err := db.Exec(ctx, q); err != nil {
		s.Close()
		return nil, fmt.Errorf("create tables in %s: %w", path, err)
	}
	// A load killed before this run may have left an insert's rows
	// without their counts.
	if unfinished, err := s.ledger.Unfinished(ctx); err != nil || len(unfinished) > 0 {
		if err := s.owe(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// oweFor is owe before the rows of the files of quotedHashes are taken
// out of the views, when dns_messages holds any: a file that is no capture,
// named in a group, is replaced on every load and has none. The Ledger
// does not call it for loads that ended loaded, as a --force of a loaded
// file replaces: their rows were counted whole, and a correction would
// cost 1 to 10 s for ten million rows for nothing.
func (s *EmbeddedSink) oweFor(ctx context.Context, quotedHashes string) error {
	if s.owed.Load() {
		return nil
	}
	out, err := s.db.Query(ctx, fmt.Sprintf("SELECT count() > 0 FROM %s.%s WHERE file_hash IN (%s)",
		database, schema.Table, quotedHashes), "TSV")
	if err != nil {
		return fmt.Errorf("record the views' correction owed: %w", err)
	}
	if strings.TrimSpace(string(out)) != "1" {
		return nil
	}
	return s.owe(ctx)
}

// owe records, once a run, that the views owe a correction.
func (s *EmbeddedSink) owe(ctx context.Context) error {
	if s.owed.Load() {
		return nil
	}
	if err := s.db.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s (at) VALUES (now64(3, 'UTC'))", database, viewsOwed)); err != nil {
		return fmt.Errorf("record the views' correction owed: %w", err)
	}
	s.owed.Store(true)
	return nil
}

// CheckViews makes the views' tables hold the aggregates of every row of
// dns_messages once, when a load of this run or of one killed before may
// have left them otherwise, and returns a note of what it corrected.
//
// The engine commits an insert's part of dns_messages and the views'
// parts one after the other. A loader killed in between (with the engine,
// which runs in its process) leaves rows without their counts, or counts
// without their rows; with two inserts in flight, two inserts' so. Loading
// the file again in the same generation sends the same inserts, and the
// views, deduplicated apart from dns_messages, count what they lack; but
// a rerun that replaces the file's rows takes out what dns_messages holds,
// counted or not. Rows loaded before the views existed are taken out the
// same way.
//
// So a run that takes rows out of the views, or that finds a load killed
// before it, first records in viewsOwed that the views owe a correction;
// and at the end of a run that finds one owed, CheckViews corrects the
// views by the difference of each group between them and the rows
// (schema.CorrectViewsSQL): a full aggregation of both, 1 to 10 s and up to
// 0.7 GB for ten million rows, the more distinct answer records the more
// (a hostile run on 1.6 million of them). Comparing totals first
// is not enough: one insert's rows without their counts and another's
// counts without their rows add up. It does not while a load is
// unfinished: loading it again may send an insert the views lack, which
// they would then count twice. A load killed stays unfinished until a
// run sends all its inserts again (Ledger.Unfinished), whatever came
// between; an insert the engine failed (between the two parts, say, out
// of memory in a view) records no outcome, the file aborted, so its load
// stays unfinished as well. The row of viewsOwed goes once the correction is
// made: a run killed in between corrects again, and finds nothing left
// to correct or what is.
func (s *EmbeddedSink) CheckViews(ctx context.Context) (string, error) {
	out, err := s.db.Query(ctx, fmt.Sprintf("SELECT count() FROM %s.%s", database, viewsOwed), "TSV")
	if err != nil {
		return "", fmt.Errorf("check the views: %w", err)
	}
	if strings.TrimSpace(string(out)) == "0" {
		return "", nil
	}
	if unfinished, err := s.ledger.Unfinished(ctx); err != nil || len(unfinished) > 0 {
		return "", err // said in the summary; they are corrected once loaded
	}
	// With a retention, the views hold what dns_messages dropped since:
	// made to count what it holds, they would lose that history.
	out, err = s.db.Query(ctx, fmt.Sprintf("SELECT position(engine_full, ' TTL ') > 0 FROM system.tables "+
		"WHERE database = %s AND name = %s", schema.Quote(database), schema.Quote(schema.Table)), "TSV")
	if err != nil {
		return "", fmt.Errorf("check the views: %w", err)
	}
	var note string
	if strings.TrimSpace(string(out)) == "1" {
		note = "a load killed inside an insert, then replaced, may have left the views counting its rows " +
			"wrongly; they are not corrected, as dns_messages keeps rows for --retention days and the views " +
			"all of them (pcapload schema rebuild-views would make them count only what it holds now)"
	} else {
		var groups uint64
		for _, q := range schema.CorrectViewsSQL(database) {
			n, err := s.db.ExecRows(ctx, q)
			if err != nil {
				return "", fmt.Errorf("correct the views: %w", err)
			}
			groups += n
		}
		if groups > 0 {
			note = fmt.Sprintf("the views did not count the rows of dns_messages once (a load killed inside "+
				"an insert, then replaced): corrected %d of their groups", groups)
		}
	}
	if err := s.db.Exec(ctx, fmt.Sprintf("TRUNCATE TABLE %s.%s", database, viewsOwed)); err != nil {
		return "", fmt.Errorf("correct the views: %w", err)
	}
	return note, nil
}

// embeddedConn is the Ledger's way to the embedded engine.
type embeddedConn struct{ db *chdb.DB }

func (c embeddedConn) Exec(ctx context.Context, q string) error { return c.db.Exec(ctx, q) }

func (c embeddedConn) QueryString(ctx context.Context, q string) (string, error) {
	out, err := c.db.Query(ctx, q, "TSVRaw")
	return string(out), err
}

// Unfinished lists the files whose load began and did not end.
func (s *EmbeddedSink) Unfinished() ([]string, error) {
	return s.ledger.Unfinished(context.Background())
}

// Name implements Sink.
func (s *EmbeddedSink) Name() string { return "db:" + s.db.Path() }

// Close implements Sink. No insert may be in flight.
func (s *EmbeddedSink) Close() error {
	for len(s.conns) > 0 {
		if c := <-s.conns; c != s.db {
			c.Close()
		}
	}
	return s.db.Close()
}

// Begin implements Sink.
func (s *EmbeddedSink) Begin(f File) (FileSink, error) {
	limit := s.InsertRows
	if limit <= 0 {
		limit = insertRows
	}
	f = f.CutInto(limit, insertBytes, "")
	g, err := s.ledger.Begin(context.Background(), f)
	if err != nil {
		return nil, err
	}
	return &embeddedFile{sink: s, file: f, tokens: TokenPrefix(f.Hash, g), generation: g, limit: int64(limit)}, nil
}

// SplitGroup implements GroupSink: files make one group.
func (s *EmbeddedSink) SplitGroup(files []File) ([][]int, error) { return OneGroup(len(files)), nil }

// OneGroup is the split of n files into one group (see GroupSink).
func OneGroup(n int) [][]int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return [][]int{all}
}

// BeginGroup implements GroupSink.
func (s *EmbeddedSink) BeginGroup(files []File) (GroupFileSink, []bool, error) {
	g, loaded, err := s.ledger.BeginGroup(context.Background(), files)
	if err != nil || len(g.Files) == 0 {
		return nil, loaded, err
	}
	limit := s.InsertRows
	if limit <= 0 {
		limit = insertRows
	}
	return &embeddedGroup{embeddedFile{sink: s, file: g.Files[0], tokens: g.Token, limit: int64(limit)}, g}, loaded, nil
}

// embeddedGroup gathers the batches of a group's files into inserts as
// embeddedFile does one file's.
type embeddedGroup struct {
	embeddedFile
	group *Group
}

func (g *embeddedGroup) Commit(stats []*ingest.FileStats) error {
	if err := g.finish(); err != nil {
		return err
	}
	return g.sink.ledger.CommitGroup(context.Background(), g.group, stats)
}

// embeddedFile gathers a file's batches into inserts of about limit rows.
// The worker cuts the same batches from the same file, so the inserts and
// their tokens are the same from run to run.
type embeddedFile struct {
	sink       *EmbeddedSink
	file       File
	tokens     string // the inserts' token prefix (TokenPrefix); none when empty
	generation uint32
	limit      int64
	seq        int          // inserts sent
	inflight   []chan error // the results of the inserts in flight, oldest first
	recs       []arrow.RecordBatch
	rows       int64
	bytes      int64
}

func (f *embeddedFile) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	rec.Retain()
	f.recs = append(f.recs, rec)
	f.rows += rec.NumRows()
	f.bytes += RecordBytes(rec)
	if f.rows >= f.limit || f.bytes >= insertBytes {
		return f.insert()
	}
	return nil
}

// insert waits until fewer than maxInflight inserts are in flight, then
// inserts what was gathered on a goroutine of its own, so that the worker
// decodes the next rows while the engine sorts and writes these: one large
// file then loads at the pace of the engine rather than of the engine and
// the decoder one after the other (1M packets: 3.1-3.6 s against 4.0-4.8).
// An insert in flight releases its batches once the engine has copied
// them, long before it ends, so a file holds the batches of the insert
// gathering and, briefly, of those being handed over (see cmd/pcapload's
// memory limit).
func (f *embeddedFile) insert() error {
	if len(f.inflight) >= maxInflight {
		if err := f.waitOldest(); err != nil {
			f.release()
			return err
		}
	}
	if len(f.recs) == 0 {
		return nil
	}
	f.seq++
	recs, seq := f.recs, f.seq
	f.recs, f.rows, f.bytes = nil, 0, 0
	done := make(chan error, 1)
	f.inflight = append(f.inflight, done)
	go func() {
		token := InsertToken(f.tokens, seq)
		table := database + "." + schema.Table
		db := <-f.sink.conns
		err := db.InsertArrowTaking(context.Background(), table, token, f.sink.schema, recs)
		f.sink.conns <- db
		if err == nil {
			f.file.Reached("insert", seq)
		}
		done <- err
	}()
	return nil
}

// finish inserts what is gathered and waits for it.
func (f *embeddedFile) finish() error {
	if err := f.insert(); err != nil {
		return err
	}
	return f.wait()
}

// wait waits for every insert in flight and returns the first error.
func (f *embeddedFile) wait() error {
	var first error
	for len(f.inflight) > 0 {
		if err := f.waitOldest(); first == nil {
			first = err
		}
	}
	return first
}

// waitOldest waits for the oldest insert in flight and returns its error.
func (f *embeddedFile) waitOldest() error {
	err := <-f.inflight[0]
	f.inflight = f.inflight[1:]
	return err
}

func (f *embeddedFile) release() {
	for _, r := range f.recs {
		r.Release()
	}
	clear(f.recs)
	f.recs, f.rows, f.bytes = f.recs[:0], 0, 0
}

// RecordBytes is the size of rec's buffers, children included: what the
// sinks bound their gathered batches by.
func RecordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += dataBytes(d.Dictionary())
	}
	return n
}

func (f *embeddedFile) Commit(st *ingest.FileStats) error {
	if err := f.finish(); err != nil {
		return err
	}
	return f.sink.ledger.Commit(context.Background(), f.file, f.generation, st)
}

func (f *embeddedFile) Abort() {
	_ = f.wait() // the file fails; its error is already reported
	f.release()
}

// Cancel implements CancelFileSink.
func (f *embeddedFile) Cancel(st *ingest.FileStats) error {
	f.Abort()
	return f.sink.ledger.Commit(context.Background(), f.file, f.generation, st)
}

// Skip implements SkipFileSink.
func (f *embeddedFile) Skip() error {
	f.Abort()
	return f.sink.ledger.Skip(context.Background(), f.file, f.generation)
}

// SetTakeover sets how old an unfinished load's mark must be before a run
// reloads the file (Ledger.SetTakeover).
func (s *EmbeddedSink) SetTakeover(d time.Duration) { s.ledger.SetTakeover(d) }

// SetRetention makes the database drop rows days after they were loaded
// (schema.RetentionDDL); 0 leaves the retention as it is.
func (s *EmbeddedSink) SetRetention(ctx context.Context, days int) error {
	if days <= 0 {
		return nil
	}
	if err := s.db.Exec(ctx, schema.RetentionDDL(database, days)); err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	return nil
}
