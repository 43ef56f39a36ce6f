package load

import (
	"context"
	"fmt"
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

// EmbeddedSink loads into the embedded ClickHouse engine.
type EmbeddedSink struct {
	db     *chdb.DB
	schema *arrow.Schema
	sensor string
}

// OpenEmbedded opens (creating when needed) the embedded database at path
// and its tables.
func OpenEmbedded(ctx context.Context, path, sensor string) (*EmbeddedSink, error) {
	db, err := chdb.Open(path)
	if err != nil {
		return nil, err
	}
	for _, ddl := range []string{schema.DDL(database), schema.FilesDDL(database)} {
		if err := db.Exec(ctx, ddl); err != nil {
			db.Close()
			return nil, fmt.Errorf("create tables in %s: %w", path, err)
		}
	}
	return &EmbeddedSink{db: db, schema: schema.Arrow(), sensor: sensor}, nil
}

// Name implements Sink.
func (s *EmbeddedSink) Name() string { return "db:" + s.db.Path() }

// Close implements Sink.
func (s *EmbeddedSink) Close() error { return s.db.Close() }

// Begin implements Sink.
func (s *EmbeddedSink) Begin(string) (FileSink, error) { return &embeddedFile{sink: s}, nil }

// embeddedFile gathers a file's batches into inserts of insertRows rows.
//
// TODO(exactly-once): rows inserted before a failure stay, and a rerun adds
// them again; issue #3 makes loads exactly once with a load record checked
// before loading and insert deduplication tokens.
type embeddedFile struct {
	sink *EmbeddedSink
	recs []arrow.RecordBatch
	rows int64
}

func (f *embeddedFile) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	rec.Retain()
	f.recs = append(f.recs, rec)
	f.rows += rec.NumRows()
	if f.rows >= insertRows {
		return f.insert()
	}
	return nil
}

func (f *embeddedFile) insert() error {
	defer f.release()
	if len(f.recs) == 0 {
		return nil
	}
	return f.sink.db.InsertArrow(context.Background(), database+"."+schema.Table, f.sink.schema, f.recs...)
}

func (f *embeddedFile) release() {
	for _, r := range f.recs {
		r.Release()
	}
	f.recs, f.rows = f.recs[:0], 0
}

func (f *embeddedFile) Commit(st *ingest.FileStats) error {
	if err := f.insert(); err != nil {
		return err
	}
	rec := fileRecord(st, f.sink.sensor)
	return f.sink.db.Exec(context.Background(), rec.InsertSQL(database))
}

func (f *embeddedFile) Abort() { f.release() }

// fileRecord turns a file's accounting into its load record.
func fileRecord(st *ingest.FileStats, sensor string) *schema.FileRecord {
	rec := &schema.FileRecord{
		Path: st.Path, Sensor: sensor, Format: st.Format, Compression: st.Compression,
		Bytes: uint64(st.Bytes), Packets: st.Packets, Messages: st.Messages(),
		Malformed: st.Malformed, Snapped: st.Snapped, Reasons: st.Reasons.Map(),
		First: st.First, Last: st.Last, Status: "loaded", LoadedAt: time.Now(),
	}
	if st.Err != nil {
		rec.Status, rec.Error = "failed", st.Err.Error()
	}
	return rec
}
