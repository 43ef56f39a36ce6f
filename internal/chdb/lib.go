package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebitengine/purego"
)

// Version is the chDB release whose libchdb.so this package binds; it names
// the cache directory scripts/fetch-chdb.sh fills.
const Version = "26.7.3-stable.1"

// ErrNoLibrary reports that libchdb.so could not be loaded; run
// scripts/fetch-chdb.sh or set PCAPLOAD_CHDB_LIB.
var ErrNoLibrary = errors.New("chdb library not loaded")

// LibraryPath returns $PCAPLOAD_CHDB_LIB when set, else the cache path used by
// scripts/fetch-chdb.sh ($PCAPLOAD_CACHE or $XDG_CACHE_HOME/pcapload or
// ~/.cache/pcapload, then chdb/<Version>/libchdb.so).
//
// It reads the environment because the script and the library must agree on
// one location without every caller passing it around; callers with a flag
// should pass their value to Load instead.
func LibraryPath() string {
	if p := os.Getenv("PCAPLOAD_CHDB_LIB"); p != "" {
		return p
	}
	return filepath.Join(cacheDir(), "chdb", Version, "libchdb.so")
}

// cacheDir mirrors the cache lookup of scripts/fetch-chdb.sh.
func cacheDir() string {
	if p := os.Getenv("PCAPLOAD_CACHE"); p != "" {
		return p
	}
	if p := os.Getenv("XDG_CACHE_HOME"); p != "" {
		return filepath.Join(p, "pcapload")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "pcapload")
}

// library holds the C entry points of libchdb.so that this package uses; the
// signatures follow chdb.h of chDB 26.7. Handles are opaque pointers kept as
// uintptr because they point to C memory the Go collector must not track.
type library struct {
	setSignalHandlers func(enabled int32)
	connect           func(argc int32, argv **byte) *uintptr
	closeConn         func(conn *uintptr)
	query             func(conn uintptr, q *byte, qn uintptr, f *byte, fn uintptr) uintptr
	resultBuffer      func(res uintptr) *byte
	resultLength      func(res uintptr) uintptr
	resultError       func(res uintptr) string
	resultRowsWritten func(res uintptr) uint64
	destroyResult     func(res uintptr)
	streamInsert      func(conn uintptr, q *byte, qn uintptr, f *byte, fn uintptr) uintptr
	streamAppend      func(st uintptr, data *byte, n uintptr) int32
	streamDone        func(st uintptr) uintptr
	streamInsertError func(st uintptr) string
	destroyInsert     func(st uintptr)
}

var loaded struct {
	once sync.Once
	path string
	lib  *library
	err  error
}

// Load loads libchdb.so from path, once per process; later calls return the
// outcome of the first. Open calls it with LibraryPath when nothing is loaded.
func Load(path string) error {
	loaded.once.Do(func() {
		loaded.path = path
		loaded.lib, loaded.err = loadLibrary(path)
	})
	return loaded.err
}

// lib returns the loaded library, loading it from LibraryPath if needed.
func lib() (*library, error) {
	if err := Load(LibraryPath()); err != nil {
		return nil, err
	}
	return loaded.lib, nil
}

func loadLibrary(path string) (*library, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("load %s: %w: %w (run scripts/fetch-chdb.sh)", path, ErrNoLibrary, err)
	}
	// RTLD_LAZY: binding 566 MB of symbols eagerly costs time for nothing.
	h, err := purego.Dlopen(path, purego.RTLD_LAZY|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w: %w", path, ErrNoLibrary, err)
	}
	l := &library{}
	if err := l.bind(h); err != nil {
		return nil, fmt.Errorf("load %s: %w: %w", path, ErrNoLibrary, err)
	}
	// The engine's SIGSEGV and friends would replace the Go runtime's own
	// handlers, which turn nil dereferences into panics and drive preemption.
	l.setSignalHandlers(0)
	return l, nil
}

func (l *library) bind(h uintptr) error {
	syms := []struct {
		name string
		fn   any
	}{
		{"chdb_set_signal_handlers_enabled", &l.setSignalHandlers},
		{"chdb_connect", &l.connect},
		{"chdb_close_conn", &l.closeConn},
		{"chdb_query_n", &l.query},
		{"chdb_result_buffer", &l.resultBuffer},
		{"chdb_result_length", &l.resultLength},
		{"chdb_result_error", &l.resultError},
		{"chdb_result_rows_written", &l.resultRowsWritten},
		{"chdb_destroy_query_result", &l.destroyResult},
		{"chdb_stream_insert_n", &l.streamInsert},
		{"chdb_stream_append", &l.streamAppend},
		{"chdb_stream_done", &l.streamDone},
		{"chdb_stream_insert_error", &l.streamInsertError},
		{"chdb_destroy_insert_stream", &l.destroyInsert},
	}
	for _, s := range syms {
		sym, err := purego.Dlsym(h, s.name)
		if err != nil {
			return fmt.Errorf("bind %s: %w", s.name, err)
		}
		purego.RegisterFunc(s.fn, sym)
	}
	return nil
}
