// Package chdb runs the embedded ClickHouse engine of chDB (libchdb.so from
// the npm package @chdb/lib-linux-x64-gnu, version Version) inside the Go
// process and loads Arrow record batches into it.
//
// The library is loaded at run time with purego, lazily on the first Open (or
// explicitly with Load), so binaries build with CGO_ENABLED=0 and nothing
// needs the 566 MB library until a database is opened. LibraryPath says where
// scripts/fetch-chdb.sh puts it.
//
// The main type is DB, one connection to the engine: Exec and Query run SQL
// through chdb_query_n, InsertArrow streams Arrow IPC through
// chdb_stream_insert with format ArrowStream. Engine exceptions come back as
// *Error wrapped with a short context.
//
// # Arrow types for ClickHouse columns
//
// Verified by TestDB_InsertArrow_types and _dictionaries; columns are matched by field name.
//
//	UInt8/16/32/64, Int8..64   uint8..64, int8..64 of the same width
//	Float64                    float64
//	Bool                       boolean
//	String                     utf8 (or binary)
//	LowCardinality(String)     utf8, or dictionary<int32, utf8>, which may
//	                           change from batch to batch of one stream
//	Nullable(String)           utf8 with nulls
//	FixedString(N)             fixed_size_binary(N)
//	Array(String)              list<utf8>
//	IPv6                       fixed_size_binary(16), IPv4 as ::ffff:a.b.c.d
//	IPv4                       uint32 holding the address as a number
//	DateTime64(9, 'UTC')       timestamp[ns, tz=UTC]
//	DateTime('UTC')            uint32 seconds since the epoch
//	Date                       date32
//
// # Inserting
//
// Measured on the 2-core development machine, 1,000,000 rows of a 50-column
// table (20 UInt16, 8 Bool, 3 UInt32, 10 String, 4 Array(String), 4 IPv6,
// one DateTime64(9)), 514 MB as Arrow IPC, MergeTree ORDER BY the timestamp:
// InsertArrow takes 1.4-1.8 s end to end (about 600,000-700,000 rows/s) with
// batches of 16k-128k rows; much smaller batches cost more. Of that, encoding
// IPC in Go is about 0.2-0.3 s, the engine parses ArrowStream in about 0.3 s
// and writes MergeTree parts in about 0.6 s. Writing a temporary file and
// running INSERT ... SELECT FROM file(path, 'ArrowStream') is 10-25% faster
// inside the engine but loses that and more to writing 514 MB to disk, so the
// stream is used. Two connections inserting at once are not faster on two
// cores.
//
// # Limitations
//
// One engine per process, on one data path at a time: Open on a second path
// fails with ErrOtherPath until every DB on the first is closed, after which
// it works. A path held by another process fails with ErrLocked. Several DBs
// on the same path are independent connections and may run statements in
// parallel; one DB runs one statement at a time.
//
// A statement cannot be cancelled once it runs: ctx is checked before each
// statement and between inserted batches only.
//
// chdb_connect reports failure on stderr rather than in a return value, so
// Open points file descriptor 2 at a temporary file for the duration of that
// call; other output written to stderr meanwhile is replayed afterwards.
//
// The engine's native and HTTP listeners (SYSTEM START LISTEN through
// query_stable_v2) are not part of this package.
package chdb
