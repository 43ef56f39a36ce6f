package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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
	InsertBytes int64         // Arrow bytes gathered before an insert; see defaultInsertBytes when 0
	InsertHeld  int64         // bytes an insert holds, as encoded and compressed, before it is sent; 28 MiB when 0, less as the worker holds more (heldBound)
	Retries     int           // attempts after the first failed one; 3 when 0, none when < 0
	Backoff     time.Duration // wait before the first retry, doubled each time; 250 ms when 0
	Compression string        // "lz4", "zstd" or "none"; lz4 when empty
	Retention   int           // days rows are kept after loading (schema.RetentionDDL); unchanged when 0
	// Takeover is how old an unfinished load's mark must be before a run
	// reloads the file (load.Ledger.SetTakeover); load.DefaultTakeover
	// when 0, none when < 0.
	Takeover time.Duration
	// Done, when closed (the run was interrupted), ends retries: a
	// statement then fails after the attempt in progress.
	Done <-chan struct{}
	// Timeout bounds the wait for the server's answer to one attempt at
	// a statement; 5 minutes when 0 (see answerTimeout).
	Timeout time.Duration
}

func (o *Options) defaults(t Target) {
	if o.Conns <= 0 {
		o.Conns = runtime.GOMAXPROCS(0)
	}
	if o.InsertRows <= 0 {
		o.InsertRows = 256 << 10
	}
	if o.InsertBytes <= 0 {
		o.InsertBytes = defaultInsertBytes(t, o.Compression)
	}
	if o.InsertHeld <= 0 {
		o.InsertHeld = defaultInsertHeld
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = answerTimeout
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
	// gatherer returns an empty gatherer of one insert's batches of
	// schema s.
	gatherer(s *arrow.Schema) gatherer
	// inflight is how many inserts of one file may be in flight at once.
	inflight() int
	// encoder names what turns the batches into the bytes a gatherer
	// holds, with the versions of the modules that decide their size:
	// inserts cut by those bytes are cut the same by the same encoder
	// only.
	encoder() string
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

	// downSince is when a statement's retries first ended without
	// reaching the server, in Unix nanoseconds; 0 once one reaches it.
	// lastTry is when a statement last tried it while it was down (see
	// retry).
	downSince, lastTry atomic.Int64

	// slots bounds the inserts in flight of all files at once (see
	// fileSink.flush), and spare keeps as many gatherers of inserts that
	// ended, emptied, for the next inserts of any file.
	slots chan struct{}
	spare chan gatherer

	mu      sync.Mutex
	tables  bool     // the tables were created
	cluster *cluster // the shards, once found; nil for one server
	// distributedOver names the cluster of a shard's Sink, whose
	// Distributed tables it creates with its own.
	distributedOver string
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
	if opt.Compression == "" {
		opt.Compression = t.Compression
	}
	if opt.Compression == "" {
		// LZ4 for both protocols, measured by BenchmarkSink. Over HTTP
		// it was zstd until LZ4 without its content checksum loaded one
		// file 10% faster (the loader compresses and the server
		// decompresses it for less), for 10% more loader memory.
		opt.Compression = "lz4"
	}
	opt.defaults(t)
	ins, err := newInserter(t, opt)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t, err)
	}
	return newSink(t, opt, ins), nil
}

// newSink returns the Sink of t through ins, opt's defaults set.
func newSink(t Target, opt Options, ins inserter) *Sink {
	s := &Sink{
		target: t, opt: opt, ins: ins, schema: schema.Arrow(),
		table: schema.QuoteIdent(t.Database) + "." + schema.Table,
	}
	s.slots = make(chan struct{}, max(opt.Conns, ins.inflight()))
	s.spare = make(chan gatherer, cap(s.slots))
	s.ledger = load.NewLedger(retryConn{s}, t.Database, opt.Sensor)
	if opt.Takeover != 0 {
		s.ledger.SetTakeover(opt.Takeover)
	}
	return s
}

// gatherer holds one insert's data, from its first batch until the insert
// succeeded, in the form its protocol sends again on a retry.
type gatherer interface {
	// add takes rec into the insert; the caller keeps its reference.
	add(rec arrow.RecordBatch) error
	// send sends the insert into table, with token as its
	// insert_deduplication_token when not empty. It may be called again
	// after a failure.
	send(ctx context.Context, table, token string) error
	// reset empties the gatherer for another insert.
	reset()
	// held is the bytes the insert holds so far, as it will send them
	// (encoded and compressed), less what its compressor still buffers.
	held() int64
}

// defaultInsertBytes is the Arrow bytes that end an insert unless
// Options say: inserts are parts for the server to write, sort, feed to
// the views and merge, and BenchmarkSink showed inserts of one 65536-row
// batch costing the server 2.7 times the CPU of 262,144-row ones. But a
// file holds two inserts (see fileSink): the native sink and the HTTP sink
// with compression hold them compressed (a quarter to a sixth of the
// Arrow bytes), so their inserts end at InsertRows; HTTP without
// compression holds them whole, and ends at 16 MiB (one typical batch) to
// keep a loader under 256 MiB.
func defaultInsertBytes(t Target, compression string) int64 {
	if t.Protocol == Native || compression != "none" {
		return 256 << 20
	}
	return 16 << 20
}

// defaultInsertHeld bounds what an insert holds, compressed: a load keeps
// as many inserts in flight as it has connections, and one gathering a
// file, four for two workers. Bounded by Arrow bytes alone, 256 MiB of
// them compress to a quarter of that or to nearly as much: two files of
// malformed 64 KiB responses of random bytes (and as many zone
// transfers) peaked at 575 MiB over HTTP and 622 MiB natively, 186 and
// 219 MiB with inserts of 28 MiB; zone transfers alone, 70 MB of LZ4 an
// insert, at 196-197 and 236-237 MiB, 187-189 and 225 MiB now. 262,144
// rows of a resolver's traffic are 83 MB of Arrow bytes, 26.6 MB with LZ4
// (12.5 MB with zstd), so that such inserts end at InsertRows still: at
// 24 MiB, the server spent a tenth to a fifth more CPU on the parts of a
// file cut in two.
const defaultInsertHeld = 28 << 20

// An insert ends sooner, in compressed bytes, as the worker holds more
// for the file beside its batches (load.HoldingFileSink): InsertHeld less
// what that holding exceeds holdingSlack by, and minInsertHeld at least.
// A resolver's capture holds a few MiB of waiting queries, and a file
// compressed with zstd's or xz's default levels a window of 8 MiB at most,
// so its inserts end where they did. Two files made to fill the decoder's
// bounds (32 MiB of waiting queries, fragments and TCP streams) and then
// the inserts (internal/hostile.AllAtOnce) peaked at 252-308 MiB with
// inserts of 28 MiB beside that state, 184-218 MiB now.
//
// The least is a quarter of InsertHeld when that is smaller: a load into
// several servers shares one InsertHeld among them (cmd/pcapload), and
// each holds, a file, an insert gathering and those in flight. The same
// two files into a native and an HTTP server and Parquet at once peaked
// at 256-268 MiB with inserts of 4 MiB each beside the full state.
const (
	holdingSlack  = 8 << 20
	minInsertHeld = 4 << 20
)

// leastHeld is where an insert ends at the soonest, in compressed bytes.
func (o *Options) leastHeld() int64 { return min(minInsertHeld, o.InsertHeld/4) }

// heldBound returns where an insert ends, in compressed bytes, the worker
// holding holding bytes when its last batch ended.
func (o *Options) heldBound(holding int) int64 {
	return max(o.leastHeld(), min(o.InsertHeld, o.InsertHeld+holdingSlack-int64(holding)))
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
	return c.s.retry(ctx, func(ctx context.Context) error { return c.s.ins.exec(ctx, q) })
}

func (c retryConn) QueryString(ctx context.Context, q string) (string, error) {
	var out string
	err := c.s.retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = c.s.ins.query(ctx, q)
		return err
	})
	return out, err
}

// LockKey names the database the sink loads, for the loads of one machine
// to take turns on: by its address, so the same server reached through
// its other protocol's port is another key.
func (s *Sink) LockKey() string {
	if s.target.Cluster != "" {
		return "cluster " + s.target.Cluster + " database " + s.target.Database
	}
	return "server " + strings.ToLower(s.target.Addr) + " database " + s.target.Database
}

// Database returns the database the sink loads, and the server's answer
// to who it is: its host name, native port and UUID, the same whichever
// address or port reached it. Two destinations of a load that answer the
// same are one database, whose rows the load would store twice when their
// inserts are cut otherwise. A cluster's sink answers "" (its shards are
// many), as does a server that is down or does not answer within
// identifyTimeout: the load's files find it so. It asks on the system
// database (onSystem): the URL's may not exist yet.
func (s *Sink) Database(ctx context.Context) (database, server string) {
	if s.target.Cluster != "" {
		return s.target.Database, ""
	}
	ctx, cancel := context.WithTimeout(ctx, identifyTimeout)
	defer cancel()
	var id string
	err := s.onSystem(ctx, func(ins inserter) (err error) {
		id, err = ins.query(ctx, "SELECT concat(hostName(), ', native port ', toString(tcpPort()), ', UUID ', toString(serverUUID()))")
		return err
	})
	if err != nil {
		return s.target.Database, ""
	}
	return s.target.Database, id
}

// identifyTimeout bounds the wait for a server's answer to Database.
const identifyTimeout = 5 * time.Second

// Unfinished lists the files whose load began and did not end, on a
// server; a cluster's shards are not asked.
func (s *Sink) Unfinished() ([]string, error) {
	if s.target.Cluster != "" {
		return nil, nil
	}
	return s.ledger.Unfinished(context.Background())
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
	f = f.CutInto(s.opt.InsertRows, s.opt.InsertBytes, fmt.Sprintf("%d bytes (less what the worker holds past %d, %d at least) of %s",
		s.opt.InsertHeld, holdingSlack, s.opt.leastHeld(), s.ins.encoder()))
	ctx, cancel := s.beginContext()
	defer cancel()
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
	return &fileSink{sink: s, file: f, tokens: load.TokenPrefix(f.Hash, g), generation: g, began: time.Now()}, nil
}

// beginContext is the context of beginning files, ended by an interrupt
// (Options.Done): a server that never answers held the run past every
// signal (a hostile run). A begin cut short is one a crash cut, which the
// Ledger's records are made for.
func (s *Sink) beginContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if s.opt.Done != nil {
		go func() {
			select {
			case <-s.opt.Done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// SplitGroup implements load.GroupSink: files make one group on a server,
// and one per shard on a cluster, each loaded on its shard.
func (s *Sink) SplitGroup(files []load.File) ([][]int, error) {
	if s.target.Cluster == "" {
		return load.OneGroup(len(files)), nil
	}
	ctx, cancel := s.beginContext()
	defer cancel()
	if err := s.ensureTables(ctx); err != nil {
		return nil, err
	}
	shards, err := s.shardsOf(ctx, files)
	if err != nil {
		return nil, err
	}
	var parts [][]int
	part := make(map[*Sink]int)
	for i, sh := range shards {
		p, ok := part[sh]
		if !ok {
			p = len(parts)
			part[sh] = p
			parts = append(parts, nil)
		}
		parts[p] = append(parts[p], i)
	}
	return parts, nil
}

// BeginGroup implements load.GroupSink.
func (s *Sink) BeginGroup(files []load.File) (load.GroupFileSink, []bool, error) {
	ctx, cancel := s.beginContext()
	defer cancel()
	if err := s.ensureTables(ctx); err != nil {
		return nil, nil, err
	}
	if s.target.Cluster != "" {
		sh, err := s.shardOf(ctx, files[0].Hash)
		if err != nil {
			return nil, nil, err
		}
		return sh.BeginGroup(files)
	}
	g, loaded, err := s.ledger.BeginGroup(ctx, files)
	if err != nil || len(g.Files) == 0 {
		return nil, loaded, err
	}
	return &groupSink{fileSink{sink: s, file: g.Files[0], tokens: g.Token, began: time.Now()}, g}, loaded, nil
}

// groupSink gathers the batches of a group's files into inserts as
// fileSink does one file's.
type groupSink struct {
	fileSink
	group *load.Group
}

func (g *groupSink) Commit(stats []*ingest.FileStats) error {
	if err := g.finish(); err != nil {
		return err
	}
	ctx := context.Background()
	if err := g.sink.ledger.CheckKept(ctx, g.group.Files, g.group.Generations, g.sent, g.began); err != nil {
		return err
	}
	return g.sink.ledger.CommitGroup(ctx, g.group, stats)
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
	merge := schema.MergeDDL(s.target.Database)
	for _, ddl := range ddls {
		err := s.retry(ctx, func(ctx context.Context) error { return s.ins.exec(ctx, ddl) })
		if err != nil && ddl == merge && unknownSetting(err) {
			continue // a server before ClickHouse 24.11 keeps its merge defaults
		}
		if err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
	}
	if s.distributedOver != "" {
		if err := s.createDistributed(ctx, s.distributedOver); err != nil {
			return err
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
		err := s.retry(ctx, func(ctx context.Context) (err error) {
			n, err = ins.query(ctx, "SELECT toString(count()) FROM system.databases WHERE name = "+schema.Quote(db))
			return err
		})
		if err != nil {
			return fmt.Errorf("look for database %s: %w", db, err)
		}
		if n != "0" {
			return nil
		}
		err = s.retry(ctx, func(ctx context.Context) error {
			return ins.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+schema.QuoteIdent(db))
		})
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

// retry runs f until it succeeds, ctx ends, the run is interrupted or the
// retries are spent, doubling the wait between attempts, and returns f's
// last error. Each attempt has Options.Timeout: a server that stopped
// reading an insert's body held it for good (a hostile run). An answer that
// no retry can change (see permanent) ends it at once.
//
// A server not reached (see unreachable) is retried until it has not been
// for the outage, however many attempts that takes, so that a restart is
// ridden out: its 1.75 s of retries failed whole groups over a 2 s
// restart. Past the outage the server counts as down: statements then
// fail without trying it, but for one probe (SELECT 1, see ping) every
// probe interval, until one reaches it. A nightly load of a thousand files
// into a server that was down spent the retries on every file, minutes of
// waiting for as many identical errors, and one that never answered hung
// it.
func (s *Sink) retry(ctx context.Context, f func(context.Context) error) error {
	wait := s.opt.Backoff
	retries := s.opt.Retries
	if s.isDown() {
		if last := s.lastTry.Load(); last != 0 && time.Since(time.Unix(0, last)) < s.probe() {
			return fmt.Errorf("%w: not reached for %s; not tried", errDown, s.downFor())
		}
		s.lastTry.Store(time.Now().UnixNano())
		err := s.ping(ctx)
		// The next probe counts from this one's end.
		s.lastTry.Store(time.Now().UnixNano())
		if err != nil && unreachable(err) {
			return fmt.Errorf("%w (probed: not reached for %s)", err, s.downFor())
		}
		s.downSince.Store(0) // reached: the statement has its retries
	}
	start := time.Now() // of the first attempt: a server down since
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
		err := f(actx)
		cancel()
		if err == nil {
			s.downSince.Store(0)
			return nil
		}
		notReached := unreachable(err)
		more := attempt < retries
		if notReached {
			// Tried until not reached for the outage, however many
			// attempts that takes: fewer than the retries when an
			// attempt waits out its timeout. A server that accepted
			// and never answered held the first file for each retry's
			// 5 minutes (a new user's 20 minutes).
			more = retries > 0 && time.Since(start) < s.outage()
		}
		if !more || ctx.Err() != nil || permanent(err) || s.interrupted() {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts in %s)", err, attempt+1, time.Since(start).Round(100*time.Millisecond))
			}
			if notReached && !more {
				// Down since the first attempt: the next file would
				// otherwise wait out another outage before it counted
				// the server down.
				s.downSince.CompareAndSwap(0, start.UnixNano())
			}
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		case <-s.opt.Done:
			return err
		}
		wait = min(wait*2, maxBackoff)
	}
}

// maxBackoff bounds the wait between attempts while a server is ridden
// out.
const maxBackoff = 2 * time.Second

// errDown is the error of a statement not tried, the server being down.
var errDown = errors.New("server down")

// isDown reports whether the server has not been reached for longer than
// outage since a statement's retries first failed to.
func (s *Sink) isDown() bool {
	since := s.downSince.Load()
	return since != 0 && time.Since(time.Unix(0, since)) > s.outage()
}

// downFor is how long the server has not been reached, by the seconds.
func (s *Sink) downFor() time.Duration {
	return time.Since(time.Unix(0, s.downSince.Load())).Round(time.Second)
}

// probe is how often a statement tries a server that is down.
func (s *Sink) probe() time.Duration { return max(s.outage()/4, time.Second) }

// ping asks a server that is down for an answer, waiting twice the probe
// interval for it at most (7 s by default): a probe with the statement
// itself waited its whole timeout on a server that accepted and never
// answered, 5 minutes a probe.
func (s *Sink) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(s.opt.Timeout, 2*s.probe()))
	defer cancel()
	_, err := s.ins.query(ctx, "SELECT 1")
	return err
}

func (s *Sink) interrupted() bool {
	select {
	case <-s.opt.Done:
		return true
	default:
		return false
	}
}

// Timeouts of one attempt at a statement: to connect, and to wait for the
// server's answer. An insert is answered once its part and views are
// written, seconds for the largest; a server that takes minutes is
// taken for one that stopped answering.
const (
	dialTimeout   = 10 * time.Second
	answerTimeout = 5 * time.Minute
)

// outage is how long a server may not be reached before it counts as
// down (see retry): eight times the backoff of one statement's retries,
// 14 s by default.
func (s *Sink) outage() time.Duration {
	var spent time.Duration
	for i, w := 0, s.opt.Backoff; i < s.opt.Retries; i, w = i+1, w*2 {
		spent += w
	}
	return 8 * spent
}

// fileSink gathers one file's batches into inserts bounded by InsertRows,
// InsertBytes and InsertHeld, on a goroutine of its own (see Write), and
// keeps up to maxInflight inserts in flight (one over the native
// protocol), each on a goroutine of its own, while the worker decodes the
// next batches: the decoder, the encoder and the server then work at the
// same time, which is what makes one large file load at the pace of the
// slowest of them rather than of their sum. What an insert sends is kept until it
// succeeds, so a retry sends it again (see gatherer): a file holds one
// insert more than it keeps in flight at most, the one gathering.
//
// Each insert carries a deduplication token of the file's hash, generation
// and the insert's sequence number (see load.Ledger): the same file cut
// into the same batches makes the same inserts, so a retry after a lost
// answer, or a rerun after a crash, is dropped by the server. Inserts are
// cut by rows, Arrow bytes and the bytes they hold once compressed; the
// loading mark names the compressor and its module's version with the
// bounds (see Begin), so that a rerun that would compress otherwise
// replaces the file's rows rather than completes them.
// A server that restarted may have kept a token without its rows, so
// Commit counts the rows kept then (load.Ledger.CheckKept).
type fileSink struct {
	sink       *Sink
	file       load.File
	tokens     string // the inserts' token prefix (load.InsertToken); none when empty
	generation uint32
	seq        int // inserts started
	rows       int
	sent       int64     // rows of the inserts started (see load.Ledger.CheckKept)
	began      time.Time // when the file began, before its first insert
	bytes      int64     // Arrow bytes gathered

	gathering gatherer
	flights   []chan error // the results of the inserts in flight, oldest first

	// The batches are gathered (encoded and compressed) by a goroutine of
	// the file's own, which Write hands them to; see encode.
	queue  chan heldBatch        // nil until the first batch, and once closed
	ended  chan struct{}         // closed when the encoder has returned
	failed atomic.Pointer[error] // the encoder's first error
}

// maxInflight is how many inserts of one file are in flight at once over
// HTTP. A server turns an insert into a part on one thread: with one in
// flight, loading one large file into a server on the same machine kept
// 1.35 of its two cores busy; with two, the server works on two parts at
// once. Their order does not matter: each insert is its own part, and its
// token makes a resent one a no-op. Native inserts keep one: each decodes
// its batches again as it sends them, and with two the loader peaked at
// 267 MiB (BenchmarkSink). Files loaded side by side share the Sink's
// slots, one a connection.
const maxInflight = 2

// Write hands rec to the file's encoder and returns while it is gathered,
// so that the worker decodes the next batch meanwhile: gathering (Arrow
// IPC and LZ4, or native blocks) on the worker's goroutine made it a
// third of the loader's CPU in a row, and left the second core idle
// while it ran. The queue is unbuffered, so a file holds one batch more
// than before, the one waiting to be gathered. Write returns the first
// error of the encoder, if any, instead of handing rec over.
func (f *fileSink) Write(p parquet.Partition, rec arrow.RecordBatch) error {
	return f.WriteHolding(p, rec, 0)
}

// heldBatch is a batch handed to the encoder, with what the worker held
// beside it.
type heldBatch struct {
	rec     arrow.RecordBatch
	holding int
}

// WriteHolding implements load.HoldingFileSink: it is Write, the insert
// the batch goes into ending sooner as holding grows (Options.heldBound).
func (f *fileSink) WriteHolding(_ parquet.Partition, rec arrow.RecordBatch, holding int) error {
	if err := f.failed.Load(); err != nil {
		return *err
	}
	if f.queue == nil {
		f.queue, f.ended = make(chan heldBatch), make(chan struct{})
		go f.encode(f.queue)
	}
	rec.Retain()
	f.queue <- heldBatch{rec, holding}
	return nil
}

// encode gathers the batches of queue into inserts and starts them as
// they fill, until queue closes. After an error it only releases them.
//
// TODO(race): the encoders of several servers read one batch at once,
// and arrow-go's Dictionary.Dictionary() makes and retains the
// dictionary's array on its first call: a -race build loading into two
// servers reports the race (a hostile run; the rows were exact). Calling
// it once for each dictionary column before the worker hands the batch to
// the sinks would leave the encoders only reading.
func (f *fileSink) encode(queue <-chan heldBatch) {
	defer close(f.ended)
	for b := range queue {
		if f.failed.Load() == nil {
			if err := f.gather(b.rec, b.holding); err != nil {
				f.failed.Store(&err)
			}
		}
		b.rec.Release()
	}
}

// stopEncoder closes the queue and waits for the encoder to have gathered
// what it was given; then fileSink's fields are the caller's again. It
// returns the encoder's error.
func (f *fileSink) stopEncoder() error {
	if f.queue != nil {
		close(f.queue)
		<-f.ended
		f.queue = nil
	}
	if err := f.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// gather adds rec to the insert being gathered, and starts the insert
// when it is full, the worker holding holding bytes beside it.
func (f *fileSink) gather(rec arrow.RecordBatch, holding int) error {
	if f.gathering == nil {
		f.gathering = f.newGatherer()
	}
	if err := f.gathering.add(rec); err != nil {
		return err
	}
	f.rows += int(rec.NumRows())
	f.bytes += load.RecordBytes(rec)
	if f.rows >= f.sink.opt.InsertRows || f.bytes >= f.sink.opt.InsertBytes ||
		f.gathering.held() >= f.sink.opt.heldBound(holding) {
		return f.flush()
	}
	return nil
}

func (f *fileSink) newGatherer() gatherer {
	select {
	case g := <-f.sink.spare:
		return g
	default:
		return f.sink.ins.gatherer(f.sink.schema)
	}
}

// flush waits until fewer inserts are in flight than the protocol keeps, then
// starts inserting what was gathered. It returns the error of an insert
// it waited for.
func (f *fileSink) flush() error {
	if len(f.flights) >= f.sink.ins.inflight() {
		if err := f.waitOldest(); err != nil {
			f.release()
			return err
		}
	}
	if f.rows == 0 {
		return nil
	}
	// A slot of the sink's: a file keeps two inserts in flight when it
	// loads alone, and files loaded side by side share as many as the
	// sink has connections, one a worker. Two files over HTTP kept four
	// in flight and two gathering, 152 of a 250 MB peak for a resolver's
	// traffic, for no more speed with a server on the same two cores.
	f.sink.slots <- struct{}{}
	f.seq++
	g, seq := f.gathering, f.seq
	f.gathering = f.newGatherer()
	f.sent += int64(f.rows)
	f.rows, f.bytes = 0, 0
	done := make(chan error, 1)
	f.flights = append(f.flights, done)
	go func() {
		s, ctx := f.sink, context.Background()
		token := load.InsertToken(f.tokens, seq)
		err := s.retry(ctx, func(ctx context.Context) error { return g.send(ctx, s.table, token) })
		// Its room goes to the next insert of any file: a gatherer is
		// then gathering, in flight or spare, and there are no more of
		// them than the slots and the files open.
		g.reset()
		select {
		case s.spare <- g:
		default:
		}
		<-s.slots
		if err == nil {
			f.file.Reached("insert", seq)
		}
		done <- err
	}()
	return nil
}

// waitOldest waits for the oldest insert in flight and returns its error.
func (f *fileSink) waitOldest() error {
	done := f.flights[0]
	f.flights = append(f.flights[:0], f.flights[1:]...)
	return <-done
}

// wait waits for every insert in flight and returns the first error.
func (f *fileSink) wait() error {
	var first error
	for len(f.flights) > 0 {
		if err := f.waitOldest(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (f *fileSink) release() {
	if f.gathering != nil {
		f.gathering.reset()
	}
	f.rows, f.bytes = 0, 0
}

func (f *fileSink) Commit(st *ingest.FileStats) error {
	if err := f.finish(); err != nil {
		return err
	}
	ctx := context.Background()
	if err := f.sink.ledger.CheckKept(ctx, []load.File{f.file}, []uint32{f.generation}, f.sent, f.began); err != nil {
		return err
	}
	return f.sink.ledger.Commit(ctx, f.file, f.generation, st)
}

// finish sends what is gathered and waits for every insert to end.
func (f *fileSink) finish() error {
	if err := f.stopEncoder(); err != nil {
		_ = f.wait()
		f.release()
		return err
	}
	if err := f.flush(); err != nil {
		return err
	}
	return f.wait()
}

func (f *fileSink) Abort() {
	_ = f.stopEncoder() // the file fails; its error is already reported
	_ = f.wait()
	f.release()
}

// Cancel implements load.CancelFileSink.
func (f *fileSink) Cancel(st *ingest.FileStats) error {
	f.Abort()
	return f.sink.ledger.Commit(context.Background(), f.file, f.generation, st)
}

// Skip implements load.SkipFileSink.
func (f *fileSink) Skip() error {
	f.Abort()
	return f.sink.ledger.Skip(context.Background(), f.file, f.generation)
}
