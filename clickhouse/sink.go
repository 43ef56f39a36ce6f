package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// Options configure a Sink. Zero values take the defaults.
type Options struct {
	Sensor      string        // sensor stored in the load records
	Conns       int           // connections to the server; all cores when 0
	InsertRows  int           // rows gathered before an insert; 262144 when 0
	InsertBytes int64         // Arrow bytes gathered before an insert; 16 MiB when 0
	Retries     int           // attempts after the first failed one; 3 when 0, none when < 0
	Backoff     time.Duration // wait before the first retry, doubled each time; 250 ms when 0
	Compression string        // "lz4", "zstd" or "none"; lz4 for native, zstd for HTTP when empty
	Retention   int           // days rows are kept after loading (schema.RetentionDDL); unchanged when 0
}

func (o *Options) defaults() {
	if o.Conns <= 0 {
		o.Conns = runtime.GOMAXPROCS(0)
	}
	if o.InsertRows <= 0 {
		o.InsertRows = 256 << 10
	}
	// Bytes end an insert before rows do: 65536 rows of typical traffic
	// are about 28 MiB of Arrow, so an insert is one batch. A file holds
	// the insert gathering and the one in flight, which the native
	// protocol also holds encoded and compressed: at 16 MiB (plus the
	// batch that crosses it) a loader stays under 256 MiB, where 64 MiB
	// took it to 700 MB.
	if o.InsertBytes <= 0 {
		o.InsertBytes = 16 << 20
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
}

// inserter is one protocol's way to the server. Its methods are called
// from several goroutines at once.
type inserter interface {
	// exec runs a statement that returns nothing.
	exec(ctx context.Context, query string) error
	// query runs a query of one String column and returns the first
	// row's value, "" when there is none.
	query(ctx context.Context, query string) (string, error)
	// insert sends recs, all of schema s, as one INSERT into table, with
	// token as its insert_deduplication_token when not empty.
	insert(ctx context.Context, table, token string, s *arrow.Schema, recs []arrow.RecordBatch) error
	close() error
}

// Sink loads into a ClickHouse server. It implements load.Sink.
type Sink struct {
	target Target
	opt    Options
	ins    inserter
	schema *arrow.Schema
	table  string // database.dns_messages, quoted
	ledger *load.Ledger

	mu      sync.Mutex
	tables  bool     // the tables were created
	cluster *cluster // the shards, once found; nil for one server
}

var _ load.Sink = (*Sink)(nil)

// Open returns a Sink for the destination URL (see Parse). It does not
// connect: the server is first reached when a file begins, so that a
// server that is down fails the files, each retried, rather than the run.
func Open(rawURL string, opt Options) (*Sink, error) {
	t, err := Parse(rawURL)
	if err != nil {
		return nil, err
	}
	opt.defaults()
	if opt.Compression == "" {
		opt.Compression = t.Compression
	}
	if opt.Compression == "" {
		// Measured by BenchmarkSink: LZ4 is the faster native choice,
		// zstd the faster HTTP one (arrow IPC in an LZ4 frame is slower).
		opt.Compression = map[Protocol]string{Native: "lz4", HTTP: "zstd"}[t.Protocol]
	}
	ins, err := newInserter(t, opt)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t, err)
	}
	s := &Sink{
		target: t, opt: opt, ins: ins, schema: schema.Arrow(),
		table: schema.QuoteIdent(t.Database) + "." + schema.Table,
	}
	s.ledger = load.NewLedger(retryConn{s}, t.Database, opt.Sensor)
	return s, nil
}

// newInserter connects to t by its protocol.
func newInserter(t Target, opt Options) (inserter, error) {
	if t.Protocol == Native {
		return newNative(t, opt)
	}
	return newHTTP(t, opt)
}

// retryConn is the Ledger's way to the server: every statement retried.
type retryConn struct{ s *Sink }

func (c retryConn) Exec(ctx context.Context, q string) error {
	return c.s.retry(ctx, func() error { return c.s.ins.exec(ctx, q) })
}

func (c retryConn) QueryString(ctx context.Context, q string) (string, error) {
	var out string
	err := c.s.retry(ctx, func() error {
		var err error
		out, err = c.s.ins.query(ctx, q)
		return err
	})
	return out, err
}

// Name implements load.Sink.
func (s *Sink) Name() string { return s.target.String() }

// Close implements load.Sink.
func (s *Sink) Close() error {
	err := s.ins.close()
	if s.cluster != nil {
		err = errors.Join(err, s.cluster.close())
	}
	return err
}

// Begin implements load.Sink; it creates the tables on first use.
func (s *Sink) Begin(f load.File) (load.FileSink, error) {
	ctx := context.Background()
	if err := s.ensureTables(ctx); err != nil {
		return nil, err
	}
	if s.target.Cluster != "" {
		return s.beginShard(ctx, f)
	}
	g, err := s.ledger.Begin(ctx, f)
	if err != nil {
		return nil, err
	}
	return &fileSink{sink: s, file: f, generation: g}, nil
}

// ensureTables creates the tables once; a failure is tried again by the
// next file.
func (s *Sink) ensureTables(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tables {
		return nil
	}
	if s.target.Cluster != "" {
		if err := s.setupCluster(ctx); err != nil {
			return fmt.Errorf("set up cluster %s: %w", s.target.Cluster, err)
		}
		s.tables = true
		return nil
	}
	if err := s.ensureDatabase(ctx); err != nil {
		return err
	}
	ddls := schema.Setup(s.target.Database)
	if s.opt.Retention > 0 {
		ddls = append(ddls, schema.RetentionDDL(s.target.Database, s.opt.Retention))
	}
	for _, ddl := range ddls {
		err := s.retry(ctx, func() error { return s.ins.exec(ctx, ddl) })
		if err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
	}
	s.tables = true
	return nil
}

// ensureDatabase creates the URL's database when the server lacks it. It
// asks first, so that a user allowed to write tables but not to create
// databases can load into one that exists.
func (s *Sink) ensureDatabase(ctx context.Context) error {
	db := s.target.Database
	return s.onSystem(ctx, func(ins inserter) error {
		var n string
		err := s.retry(ctx, func() (err error) {
			n, err = ins.query(ctx, "SELECT toString(count()) FROM system.databases WHERE name = "+schema.Quote(db))
			return err
		})
		if err != nil {
			return fmt.Errorf("look for database %s: %w", db, err)
		}
		if n != "0" {
			return nil
		}
		err = s.retry(ctx, func() error { return ins.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+schema.QuoteIdent(db)) })
		if err != nil {
			return fmt.Errorf("create database %s: %w", db, err)
		}
		return nil
	})
}

// onSystem runs f on a connection of its own to the server's system
// database, for what must not depend on the URL's database existing: the
// served engine (chDB 26.7) aborts when a native client connects a second
// time naming a database that does not exist.
func (s *Sink) onSystem(ctx context.Context, f func(inserter) error) error {
	t := s.target
	t.Database = "system"
	ins, err := newInserter(t, s.opt)
	if err != nil {
		return err
	}
	defer ins.close()
	return f(ins)
}

// ApplySchema creates the tables when they are missing.
func (s *Sink) ApplySchema(ctx context.Context) error { return s.ensureTables(ctx) }

// retry runs f until it succeeds, ctx ends or the retries are spent,
// doubling the wait between attempts, and returns f's last error.
func (s *Sink) retry(ctx context.Context, f func() error) error {
	wait := s.opt.Backoff
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || attempt >= s.opt.Retries || ctx.Err() != nil {
			if err != nil && attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait *= 2
	}
}

// fileSink gathers one file's batches into inserts bounded by InsertRows
// and InsertBytes, and keeps one insert in flight on its own goroutine
// while the worker decodes and gathers the next: the decoder and the
// server then work at the same time, which is what makes one large file
// load at the pace of the slower of the two rather than of their sum.
// Inserts still reach the server one at a time and in order. Batches are
// retained until their insert succeeds, so a retry sends them again; at
// most two inserts' batches (2 × InsertBytes) are held per file.
//
// Each insert carries a deduplication token of the file's hash, generation
// and the insert's sequence number (see load.Ledger): the same file cut
// into the same batches makes the same inserts, so a retry after a lost
// answer, or a rerun after a crash, is dropped by the server.
type fileSink struct {
	sink       *Sink
	file       load.File
	generation uint32
	seq        int // inserts started
	recs       []arrow.RecordBatch
	rows       int
	bytes      int64

	inflight chan error          // the running insert's result; nil when none runs
	sending  []arrow.RecordBatch // the running insert's batches, reused once it ends
}

func (f *fileSink) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	rec.Retain()
	f.recs = append(f.recs, rec)
	f.rows += int(rec.NumRows())
	f.bytes += load.RecordBytes(rec)
	if f.rows >= f.sink.opt.InsertRows || f.bytes >= f.sink.opt.InsertBytes {
		return f.flush()
	}
	return nil
}

// flush waits for the insert in flight, then starts inserting what was
// gathered. It returns the error of the insert it waited for.
func (f *fileSink) flush() error {
	if err := f.wait(); err != nil {
		f.release()
		return err
	}
	if len(f.recs) == 0 {
		return nil
	}
	f.seq++
	recs, seq := f.recs, f.seq
	f.recs, f.sending = f.sending[:0], recs
	f.rows, f.bytes = 0, 0
	done := make(chan error, 1)
	f.inflight = done
	go func() {
		s, ctx := f.sink, context.Background()
		token := load.Token(f.file.Hash, f.generation, seq)
		err := s.retry(ctx, func() error { return s.ins.insert(ctx, s.table, token, s.schema, recs) })
		if err == nil {
			f.file.Reached("insert", seq)
		}
		done <- err
	}()
	return nil
}

// wait waits for the insert in flight, if any, releases its batches and
// returns its error.
func (f *fileSink) wait() error {
	if f.inflight == nil {
		return nil
	}
	err := <-f.inflight
	f.inflight = nil
	releaseAll(f.sending)
	f.sending = f.sending[:0]
	return err
}

func (f *fileSink) release() {
	releaseAll(f.recs)
	f.recs, f.rows, f.bytes = f.recs[:0], 0, 0
}

func releaseAll(recs []arrow.RecordBatch) {
	for i, r := range recs {
		r.Release()
		recs[i] = nil
	}
}

func (f *fileSink) Commit(st *ingest.FileStats) error {
	err := f.flush()
	if err == nil {
		err = f.wait()
	}
	if err != nil {
		return err
	}
	return f.sink.ledger.Commit(context.Background(), f.file, f.generation, st)
}

func (f *fileSink) Abort() {
	_ = f.wait() // the file fails; its error is already reported
	f.release()
}
