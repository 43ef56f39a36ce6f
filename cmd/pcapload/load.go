package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/sensorname"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// loadFlags are the flags of the load command.
type loadFlags struct {
	to         multiFlag
	db         string
	workers    int
	sensor     string
	ports      string
	batchRows  int
	insertRows int
	groupFiles int
	takeover   time.Duration
	force      bool
	json       bool
	progress   string
	retention  int
	dbSet      bool // --db was given
	rowsSet    bool // --batch-rows was given
	sensorSet  bool // --sensor was given
	shard      string
	dashDash   bool // the inputs came after --
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func (e *env) load(ctx context.Context, args []string) error {
	f, fs, err := e.loadFlags(args)
	if err != nil {
		return err
	}
	ports, err := f.check(fs)
	if err != nil {
		return err
	}
	inputs, skipped, err := e.loadInputs(f, fs.Args())
	if err != nil {
		return err
	}
	var refused []string // notes of sidecar sensors refused
	if !f.sensorSet {
		refused = e.sidecarSensors(inputs, f.sensor)
	}
	began := time.Now()
	sinks, err := openSinks(ctx, f)
	if err != nil {
		return err
	}
	if err := distinctDatabases(ctx, sinks); err != nil {
		for _, s := range sinks {
			s.Close()
		}
		return err
	}
	// The summary's time counts the opening of the destinations: the
	// embedded engine starts in it (a new user timed 6.2 s of a load the
	// summary said took 5). Not the wait for another load's lock.
	opening := time.Since(began)
	unlock, err := lockDestinations(ctx, sinks, e.stderr)
	if err != nil {
		for _, s := range sinks {
			s.Close()
		}
		return err
	}
	defer unlock()
	prog := &ingest.Progress{}
	bar := startProgress(e.stderr, f.progress, inputs, prog)
	rows, size := batchBounds(sinks, f.batchRows, f.rowsSet)
	opt := load.Options{
		Workers:    f.workers,
		BatchRows:  rows,
		BatchBytes: size,
		GroupFiles: f.groupFiles,
		Decode:     ingest.Config{Ports: ports, Sensor: f.sensor, Stdin: e.stdin},
		Progress:   prog,
		Force:      f.force,
		Checkpoint: testCheckpoint(ctx, e.stderr),
		Waiting: func(paths []string, wait time.Duration) {
			fmt.Fprintf(e.stderr, "pcapload: waiting %.1f s before replacing the rows of %s, whose earlier load "+
				"began and did not end: its last insert may still land (--takeover-after)\n",
				wait.Seconds(), oneLine(someOf(paths)))
		},
	}
	var res *load.Result
	if _, ok := sinks[0].(load.NullSink); ok {
		res = load.Decode(ctx, inputs, opt) // null stands alone: see openSinks
	} else {
		res = load.Run(ctx, inputs, sinks, opt)
	}
	bar.stop()
	res.Duration += opening
	s := summarize(res, skipped, sinks)
	if f.sensorSet {
		s.Notes = append(s.Notes, sensorNotes(res, f.sensor)...)
	}
	s.Notes = append(s.Notes, refused...)
	return e.printSummary(s, len(skipped), f.json)
}

// serverBatchRows and serverBatchBytes bound the batches of a load whose
// destinations are all servers. Their inserts are cut from the batches
// (262,144 rows), and a batch is held twice a worker, built and being
// encoded into its insert, so smaller batches make a smaller loader,
// and inserts still end at 262,144 rows. Two files of a million
// messages over HTTP peaked at 226 MiB with batches of 65,536 rows and
// 32 MiB, 173 MiB with these; natively 284 and 214 MiB; two files of zone
// transfers (64 KiB responses of 4,000 address records) over HTTP 302 and
// 199 MiB, natively 352 and 246.
//
// Beside a server, Parquet's row groups and the embedded engine's inserts
// keep batches of 65,536 rows, bounded at serverBatchBytes too, and a
// server's inserts end at besideInsertHeld compressed rather than
// clickhouse.Options' 28 MiB when the load has another destination,
// shared among the servers when there are several (a hostile run's
// malformed responses into two native servers at once peaked at 375 MiB
// with 28 MiB each, 206 MiB with 8). Two files of zone transfers
// into Parquet and a server at once peaked at 304-315 MiB over HTTP and
// 343-353 natively with 32 MiB batches and inserts of 256 MiB of Arrow
// bytes (70 MB of LZ4 each); natively 239 MiB with 8 MiB batches and
// inserts of 32 MiB, 205-216 with 24 MiB, 200-201 with 16 MiB. Two of a
// million messages, natively, at 233-248 MiB with inserts of 24 MiB,
// over the runtime's memory limit, so that the collector ran without
// pause (10.7 CPU-seconds), and at 208-210 MiB and 7.3 CPU-seconds with
// 16 (over HTTP 186-191 and 157-159 MiB). A resolver's 65,536 rows are
// about 22 MiB, so that its row groups there hold about 24,000, and its
// inserts about 157,000 rows.
const (
	serverBatchRows  = 16384
	serverBatchBytes = 8 << 20
	besideInsertHeld = 16 << 20
)

// batchBounds returns the rows and bytes that end a batch for sinks, rows
// given by --batch-rows (set when the flag was given); 0 bytes is the
// load's default. Several servers share serverBatchBytes, as they share
// besideInsertHeld: an insert ends at the first batch past its bound, so
// that beside a full decoder, with batches of random bytes that do not
// compress, each of a file's inserts held a batch's 8 MiB whatever its
// bound. Two files of internal/hostile.AllAtOnce into a native and an
// HTTP server and Parquet at once peaked at 238-261 MiB with batches of 8
// MiB.
func batchBounds(sinks []load.Sink, rows int, set bool) (int, int) {
	servers := 0
	for _, s := range sinks {
		if _, ok := s.(*clickhouse.Sink); ok {
			servers++
		}
	}
	if servers == 0 {
		return rows, 0
	}
	size := serverBatchBytes / servers
	if servers == len(sinks) && !set {
		return serverBatchRows, size
	}
	return rows, size
}

// loadFlags parses the load command's flags.
func (e *env) loadFlags(args []string) (loadFlags, *flag.FlagSet, error) {
	var f loadFlags
	fs := e.flagSet("load", "[flags] INPUT...")
	fs.Var(&f.to, "to", "destination, repeatable: db (the embedded database), db:PATH, parquet:DIR,\n"+
		"clickhouse://[USER[:PASS]@]HOST:PORT/DB, http(s)://[USER[:PASS]@]HOST:PORT/DB (either with\n"+
		"?cluster=NAME and &compression=lz4|zstd|none), or null: decode only, to check\n"+
		"captures or time the decoding; no Arrow batches are built and nothing is stored")
	fs.StringVar(&f.db, "db", "./pcapload.db", "data directory of the embedded database")
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "files decoded at once")
	fs.StringVar(&f.sensor, "sensor", "default", "sensor name stored with every row; not given, each file's rotate sidecar names its\n"+
		"own, and other files take this default")
	fs.StringVar(&f.ports, "ports", "53,5353,5355", "comma-separated ports that carry DNS")
	fs.IntVar(&f.batchRows, "batch-rows", 65536, "rows per Arrow batch and Parquet row group; not given, 16384 when every\n"+
		"destination is a server")
	fs.IntVar(&f.insertRows, "insert-rows", 256<<10,
		"rows gathered into one ClickHouse insert (a failed load rerun with another value is replaced, not completed)")
	fs.IntVar(&f.groupFiles, "group-files", load.DefaultGroupFiles,
		"small files (up to 4 MiB) loaded together into a database destination, their rows in shared\n"+
			"inserts; 1 loads every file on its own")
	fs.DurationVar(&f.takeover, "takeover-after", load.DefaultTakeover,
		"a file marked by a load into a database that did not finish is deleted and loaded again once\n"+
			"the mark is this old; a killed loader's last insert may still be landing")
	fs.BoolVar(&f.force, "force", false, "load files the destinations already hold again, replacing their rows")
	fs.BoolVar(&f.json, "json", false, "print the summary as JSON on stdout")
	fs.StringVar(&f.progress, "progress", "auto", "progress bars on stderr: auto (on a terminal), always or never")
	fs.IntVar(&f.retention, "retention", 0,
		"ClickHouse destinations drop rows this many days after they were loaded; 0 keeps the table's setting")
	fs.StringVar(&f.shard, "shard", "", "K/N: load only this machine's share of the files, chosen by base name")
	if err := e.parse(fs, args); err != nil {
		return f, nil, err
	}
	// flag drops the -- that ends the flags: the inputs after it may
	// look like flags.
	f.dashDash = fs.NArg() < len(args) && args[len(args)-fs.NArg()-1] == "--"
	fs.Visit(func(fl *flag.Flag) {
		f.dbSet = f.dbSet || fl.Name == "db"
		f.rowsSet = f.rowsSet || fl.Name == "batch-rows"
		f.sensorSet = f.sensorSet || fl.Name == "sensor"
	})
	return f, fs, nil
}

// check validates the flags and returns the DNS ports.
func (f *loadFlags) check(fs *flag.FlagSet) ([]uint16, error) {
	if fs.NArg() == 0 {
		return nil, usagef("load: no input given")
	}
	if a := fs.Arg(0); a != "load" && slices.Contains(commands, a) && !f.dashDash {
		if _, err := os.Stat(a); err != nil {
			// "pcapload --db x sql 'SELECT 1'" loaded files named sql
			// and SELECT 1.
			return nil, usagef("%s is a command: its flags go after it (pcapload %s --db PATH ...)", a, a)
		}
	}
	for _, a := range fs.Args() {
		// Flags end at the first input: one after it would be taken for
		// a file, and the load would go to the default destination. A
		// file named like a flag is given as ./-x, or after --.
		if strings.HasPrefix(a, "-") && a != "-" && !f.dashDash {
			return nil, usagef("load: %s after the inputs: flags go before them (a file of that name: ./%s, or -- before the inputs)", a, a)
		}
	}
	ports, err := parsePorts(f.ports)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"workers", f.workers}, {"batch-rows", f.batchRows}, {"insert-rows", f.insertRows}, {"group-files", f.groupFiles}} {
		if c.n < 1 {
			return nil, usagef("load: --%s %d: want 1 or more", c.name, c.n)
		}
	}
	switch {
	case f.retention < 0:
		return nil, usagef("load: --retention must not be negative")
	case f.takeover < 0:
		return nil, usagef("load: --takeover-after must not be negative")
	case f.sensor == "":
		return nil, usagef("load: --sensor must not be empty")
	case sensorname.Check(f.sensor) != nil:
		return nil, usagef("load: --sensor: %v", sensorname.Check(f.sensor))
	case f.progress != "auto" && f.progress != "always" && f.progress != "never":
		return nil, usagef("load: --progress %q: want auto, always or never", f.progress)
	}
	return ports, nil
}

// loadInputs expands the arguments into this shard's inputs, largest
// first, saying what it skipped.
func (e *env) loadInputs(f loadFlags, args []string) ([]ingest.Input, []ingest.Skipped, error) {
	inputs, skipped, err := ingest.Expand(args)
	if err != nil {
		return nil, nil, usagef("load: %v", err)
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "pcapload: skipped %s: %s\n", oneLine(s.Path), s.Reason)
	}
	if len(inputs) == 0 {
		// Not a usage error: a nightly load of a sensor's folder finds
		// nothing when its one file is still being written (*.part).
		fmt.Fprintf(e.stderr, "pcapload: nothing to load in %s\n", oneLine(strings.Join(args, " ")))
	}
	if inputs, err = e.takeShard(f.shard, inputs); err != nil {
		return nil, nil, err
	}
	ingest.SortBySize(inputs)
	return inputs, skipped, nil
}

// sidecarSensors gives each input of a load not given --sensor the
// sensor its rotate sidecar names, if it has one: rotate's files loaded
// without --sensor were stored as "default" (a new user's run). A file's
// sensor is its own, whatever else the run loads: taken for a whole run,
// the same file was exported under two sensors by two runs (a hostile
// run). The others keep def. It says what it did, and returns notes of
// the sidecars whose sensor pcapload refuses.
func (e *env) sidecarSensors(inputs []ingest.Input, def string) []string {
	files := make(map[string]int)
	var notes []string
	for i := range inputs {
		s := ingest.SidecarSensor(inputs[i].Path)
		if s == "" {
			continue
		}
		if err := sensorname.Check(s); err != nil {
			notes = append(notes, fmt.Sprintf("%s: its sidecar's sensor %q is refused (%v); loaded as %q",
				inputs[i].Path, s, err, def))
			continue
		}
		inputs[i].Sensor = s
		files[s]++
	}
	if len(files) > 0 {
		var each []string
		for _, s := range slices.Sorted(maps.Keys(files)) {
			each = append(each, fmt.Sprintf("%q %s", s, plural(uint64(files[s]), "file")))
		}
		fmt.Fprintf(e.stderr, "pcapload: sensor from rotate's sidecars: %s; any other file %q (--sensor sets one for all)\n",
			oneLine(strings.Join(each, ", ")), def)
	}
	return notes
}

// printSummary prints the summary: notes and errors one line each on stderr
// (the first skipped ones were said already), the summary on stdout.
func (e *env) printSummary(sum *summary, said int, asJSON bool) error {
	// Errors first: a note may say what became of a failure's rows.
	for _, msg := range sum.errorLines() {
		fmt.Fprintf(e.stderr, "pcapload: %s\n", oneLine(msg))
	}
	for _, msg := range sum.Notes[said:] {
		fmt.Fprintf(e.stderr, "pcapload: %s\n", oneLine(msg))
	}
	if asJSON {
		if err := sum.writeJSON(e.stdout); err != nil {
			return err
		}
	} else {
		sum.writeText(e.stdout)
	}
	if len(sum.Errors) > 0 {
		return errFailed
	}
	return nil
}

// takeShard leaves out the inputs of other shards when --shard is given,
// and says how many files this shard took.
func (e *env) takeShard(flag string, inputs []ingest.Input) ([]ingest.Input, error) {
	if flag == "" {
		return inputs, nil
	}
	sh, err := ingest.ParseShard(flag)
	if err != nil {
		return nil, usagef("load: --shard: %v", err)
	}
	for _, in := range inputs {
		if in.Path == ingest.Stdin {
			return nil, usagef("load: --shard takes files, not standard input")
		}
	}
	all := len(inputs)
	inputs = sh.Take(inputs)
	fmt.Fprintf(e.stderr, "pcapload: shard %s: %d of %d files\n", sh, len(inputs), all)
	return inputs, nil
}

// oneLine escapes control characters, so that a message stays one line
// whatever the file names in it hold (a newline in a name must not forge a
// second message).
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func parsePorts(s string) ([]uint16, error) {
	var ports []uint16
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil || n == 0 {
			return nil, usagef("load: --ports: %q is not a port", p)
		}
		ports = append(ports, uint16(n))
	}
	return ports, nil
}

// isServer reports whether dest is a ClickHouse server's URL.
func isServer(dest string) bool {
	return strings.HasPrefix(dest, "clickhouse://") || strings.HasPrefix(dest, "http://") ||
		strings.HasPrefix(dest, "https://")
}

// openSinks opens every destination named by --to; the embedded database
// when none is.
func openSinks(ctx context.Context, f loadFlags) ([]load.Sink, error) {
	to := f.to
	if len(to) == 0 {
		to = multiFlag{"db"}
	}
	if len(to) > 1 && slices.Contains(to, load.NullName) {
		return nil, usagef("load: --to null decodes only; it takes no other destination")
	}
	// Flags that would be ignored are refused (a new user's --db beside
	// --to db:PATH or --to null, --retention into Parquet).
	dbs, databases, dbPaths, servers := 0, 0, 0, 0
	for _, dest := range to {
		if dest == "db" || strings.HasPrefix(dest, "db:") {
			dbs++
		}
		if isServer(dest) {
			servers++
		}
		if strings.HasPrefix(dest, "db:") {
			dbPaths++
		}
		if dest != load.NullName && !strings.HasPrefix(dest, "parquet:") {
			databases++
		}
	}
	switch {
	case dbs > 1:
		return nil, usagef("load: %d embedded databases: a load opens one (serve another and load into it by URL)", dbs)
	case f.dbSet && dbPaths > 0:
		return nil, usagef("load: --db names the database of --to db; --to db:PATH names its own")
	case f.dbSet && dbs == 0:
		return nil, usagef("load: --db names the database of --to db, and no destination is one")
	case f.retention > 0 && databases == 0:
		return nil, usagef("load: --retention applies to databases, and no destination is one")
	}
	var sinks []load.Sink
	seen := make(map[string]bool)
	fail := func(err error) ([]load.Sink, error) {
		for _, s := range sinks {
			s.Close()
		}
		return nil, err
	}
	for _, dest := range to {
		if dest == "db" {
			dest = "db:" + f.db
		}
		if seen[dest] {
			return fail(usagef("load: --to %s is given twice", dest))
		}
		seen[dest] = true
		switch {
		case dest == load.NullName:
			sinks = append(sinks, load.NullSink{})
		case strings.HasPrefix(dest, "db:"):
			path := strings.TrimPrefix(dest, "db:")
			if path == "" {
				return fail(usagef("load: --to db: needs a path"))
			}
			s, err := load.OpenEmbedded(ctx, path, f.sensor)
			if err != nil {
				return fail(err)
			}
			setMemoryLimitTo(embeddedMemoryLimit)
			s.InsertRows = f.insertRows
			s.SetTakeover(f.takeover)
			sinks = append(sinks, s)
			if err := s.SetRetention(ctx, f.retention); err != nil {
				return fail(err)
			}
		case strings.HasPrefix(dest, "parquet:"):
			dir := strings.TrimPrefix(dest, "parquet:")
			if dir == "" {
				return fail(usagef("load: --to parquet: needs a directory"))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fail(fmt.Errorf("create %s: %w", dir, err))
			}
			ps := load.NewParquetSink(dir)
			ps.Sensor = f.sensor
			sinks = append(sinks, ps)
		case isServer(dest):
			opt := clickhouse.Options{
				Sensor: f.sensor, Conns: f.workers, InsertRows: f.insertRows, Retention: f.retention,
				Takeover: cmp.Or(f.takeover, -1), Done: ctx.Done(),
			}
			if len(to) > 1 {
				// Each server holds its inserts: they share the room.
				opt.InsertHeld = besideInsertHeld / int64(servers)
			}
			s, err := clickhouse.Open(dest, opt)
			if err != nil {
				return fail(usagef("load: --to %s: %v", dest, err))
			}
			sinks = append(sinks, s)
		default:
			return fail(usagef("load: --to %q: want db, db:PATH, parquet:DIR, a server URL or null", dest))
		}
	}
	return sinks, nil
}

// distinctDatabases refuses a load into two server destinations that are
// one database: through both of a server's ports, or by two of its names.
// Their inserts cut otherwise (the protocols cut them otherwise), the load
// stored every row twice (a hostile run). A server that does not answer
// is not compared: its files fail as it does.
func distinctDatabases(ctx context.Context, sinks []load.Sink) error {
	var servers []int
	for i, s := range sinks {
		if _, ok := s.(*clickhouse.Sink); ok {
			servers = append(servers, i)
		}
	}
	if len(servers) < 2 {
		return nil
	}
	ids := make([]string, len(sinks))
	var wg sync.WaitGroup
	for _, i := range servers {
		wg.Go(func() {
			if db, server := sinks[i].(*clickhouse.Sink).Database(ctx); server != "" {
				ids[i] = "database " + schema.Quote(db) + " of the server " + server
			}
		})
	}
	wg.Wait()
	first := make(map[string]int)
	for _, i := range servers {
		if ids[i] == "" {
			continue
		}
		if j, ok := first[ids[i]]; ok {
			return usagef("load: --to %s and --to %s are one database, the %s: name it once",
				sinks[j].Name(), sinks[i].Name(), ids[i])
		}
		first[ids[i]] = i
	}
	return nil
}

// The environment variables of the crash tests, each set to STEP:N (see
// load.File.Checkpoint, e.g. "insert:3", "record:0", and "batch:N" for
// the Nth batch a worker sends on): when any file reaches step N the
// loader kills itself with SIGKILL (crashEnv), stops itself with SIGSTOP
// until the test continues it (stopEnv), or interrupts itself with SIGINT
// (interruptEnv), as Ctrl-C does. They exist so that tests can crash a
// load, or a server under it, at a chosen moment; nothing else sets them.
const (
	crashEnv     = "PCAPLOAD_TEST_CRASH_AT"
	stopEnv      = "PCAPLOAD_TEST_STOP_AT"
	interruptEnv = "PCAPLOAD_TEST_INTERRUPT_AT"
)

// testCheckpoint returns the load.Options.Checkpoint the crash test
// variables ask for, nil when none is set. An interrupt waits until the
// signal has cancelled ctx, as a Ctrl-C at that moment would have: the
// loader, two inserts ahead, went on to load some twenty small files
// before the signal landed under the race detector.
func testCheckpoint(ctx context.Context, stderr io.Writer) func(string, int) {
	crash, stop, interrupt := os.Getenv(crashEnv), os.Getenv(stopEnv), os.Getenv(interruptEnv)
	if crash == "" && stop == "" && interrupt == "" {
		return nil
	}
	var stopped, interrupted sync.Once
	return func(step string, n int) {
		at := fmt.Sprintf("%s:%d", step, n)
		switch at {
		case crash:
			fmt.Fprintf(stderr, "pcapload: %s=%s: killing the loader\n", crashEnv, at)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		case interrupt:
			interrupted.Do(func() {
				fmt.Fprintf(stderr, "pcapload: %s=%s: interrupting the loader\n", interruptEnv, at)
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Second):
				}
			})
		case stop:
			// Once: the test continues the loader for the rest of the load.
			stopped.Do(func() {
				fmt.Fprintf(stderr, "pcapload: %s=%s: stopping the loader\n", stopEnv, at)
				_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
			})
		}
	}
}
