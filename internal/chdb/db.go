package chdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"
)

var (
	// ErrClosed reports a call on a DB after Close.
	ErrClosed = errors.New("chdb: database closed")
	// ErrOtherPath reports an Open on a second data path while the engine
	// still has connections to the first; the engine holds one path per process.
	ErrOtherPath = errors.New("engine already open on another path")
	// ErrLocked reports a data path held by another process.
	ErrLocked = errors.New("data path is locked by another process")
)

// engine is the process-wide state of the one engine chDB allows.
var engine struct {
	mu    sync.Mutex
	path  string
	conns int
}

// DB is one connection to the embedded engine. Its methods are safe for
// concurrent use but run one statement at a time; open several DBs on the same
// path to run statements in parallel.
type DB struct {
	mu   sync.Mutex
	lib  *library
	conn *uintptr // chdb_connection *, as returned by chdb_connect; C memory
	path string
}

// Open starts (once per process) the engine on the data directory dbPath,
// creating it if needed, and returns a new connection to it. Opening the path
// that is already open adds a connection; another path fails with ErrOtherPath
// until every DB on the first is closed. A path another process holds fails
// with ErrLocked.
func Open(dbPath string) (*DB, error) {
	l, err := lib()
	if err != nil {
		return nil, fmt.Errorf("chdb: open %s: %w", dbPath, err)
	}
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return nil, fmt.Errorf("chdb: open %s: %w", dbPath, err)
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.conns > 0 && engine.path != abs {
		return nil, fmt.Errorf("chdb: open %s: %w (%s)", abs, ErrOtherPath, engine.path)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("chdb: open %s: %w", abs, err)
	}
	conn, err := connect(l, abs)
	if err != nil {
		return nil, fmt.Errorf("chdb: open %s: %w", abs, err)
	}
	engine.path = abs
	engine.conns++
	return &DB{lib: l, conn: conn, path: abs}, nil
}

// connect calls chdb_connect with clickhouse-local style arguments, keeping
// what the engine prints on failure off stderr and in the error.
func connect(l *library, path string) (*uintptr, error) {
	args := []string{"pcapload", "--path=" + path}
	argv := make([]*byte, len(args)+1)
	for i, a := range args {
		argv[i] = cString(a)
	}
	var conn *uintptr
	printed, err := captureStderr(func() {
		conn = l.connect(int32(len(args)), &argv[0])
	})
	runtime.KeepAlive(argv)
	if err != nil && conn == nil {
		return nil, err
	}
	if conn == nil {
		return nil, whyNoConnect(path, printed)
	}
	// Anything printed while connecting succeeded belongs to someone else.
	_, _ = os.Stderr.WriteString(printed)
	return conn, nil
}

// Path returns the absolute data directory of the engine.
func (db *DB) Path() string { return db.path }

// Close closes the connection; the engine stays loaded and a later Open may
// use any path once every DB is closed. Close is idempotent.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil
	}
	db.lib.closeConn(db.conn)
	db.conn = nil

	engine.mu.Lock()
	engine.conns--
	engine.mu.Unlock()
	return nil
}

// Exec runs statements that return nothing of interest (DDL, INSERT ...
// SELECT). Several statements separated by semicolons are allowed.
func (db *DB) Exec(ctx context.Context, query string) error {
	_, err := db.run(ctx, query, "Null")
	if err != nil {
		return fmt.Errorf("chdb exec: %w", err)
	}
	return nil
}

// ExecRows is Exec of one statement, returning the rows it wrote (an
// INSERT's).
func (db *DB) ExecRows(ctx context.Context, query string) (uint64, error) {
	var rows uint64
	_, err := db.runWith(ctx, query, "Null", func(res uintptr) { rows = db.lib.resultRowsWritten(res) })
	if err != nil {
		return 0, fmt.Errorf("chdb exec: %w", err)
	}
	return rows, nil
}

// Query runs query and returns its whole result in format ("CSV", "TSV",
// "JSONEachRow", "PrettyCompactMonoBlock", any ClickHouse output format). The
// returned slice is a copy owned by the caller.
func (db *DB) Query(ctx context.Context, query, format string) ([]byte, error) {
	out, err := db.run(ctx, query, format)
	if err != nil {
		return nil, fmt.Errorf("chdb query: %w", err)
	}
	return out, nil
}

// run executes one call of chdb_query_n and copies out its result.
//
// TODO(ctx): ctx is only checked before the call; a running statement cannot
// be cancelled. chdb_stream_query with chdb_stream_cancel_query between chunks
// would fix it for SELECTs.
func (db *DB) run(ctx context.Context, query, format string) ([]byte, error) {
	return db.runWith(ctx, query, format, nil)
}

// runWith is run, calling got, when not nil, with the result before it
// is copied and destroyed.
func (db *DB) runWith(ctx context.Context, query, format string, got func(res uintptr)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil, ErrClosed
	}
	res := db.lib.query(db.handle(),
		unsafe.StringData(query), uintptr(len(query)),
		unsafe.StringData(format), uintptr(len(format)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(format)
	if res == 0 {
		return nil, errors.New("engine returned no result")
	}
	defer db.lib.destroyResult(res)
	if msg := db.lib.resultError(res); msg != "" {
		return nil, engineError(msg)
	}
	if got != nil {
		got(res)
	}
	return db.lib.copyResult(res), nil
}

// handle dereferences the chdb_connection * that chdb_connect returned; the
// engine owns the memory and keeps it valid until chdb_close_conn.
func (db *DB) handle() uintptr {
	return *db.conn
}

// copyResult copies the result buffer into Go memory.
func (l *library) copyResult(res uintptr) []byte {
	n := l.resultLength(res)
	if n == 0 {
		return []byte{}
	}
	return append([]byte(nil), unsafe.Slice(l.resultBuffer(res), n)...)
}

// cString returns a NUL-terminated copy of s in Go memory.
func cString(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}
