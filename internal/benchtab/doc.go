// Package benchtab measures the pcapload command end to end, as a user
// runs it, and prints the figures of the speed targets (issue #6) as a
// markdown table; `make bench` runs it through cmd/benchtable.
//
// Run generates captures with the generator's default realistic mix
// (internal/gen), sized in packets, plus a zstd copy of one of them and a
// folder of many small files. It then runs the built binary as a child
// process once per stage and run: `load --to null` (decode only),
// `--to parquet:DIR`, `--to db:DIR` (the embedded engine) and
// `--to http://...` into a `pcapload serve` on loopback (up for that
// stage's runs only), with a fresh output, database directory or server
// database each run; a compressed copy's runs alternate with its plain
// file's. tshark, the yardstick, exports the DNS fields of the same files
// in the same run.
//
// Every figure is taken from the outside: wall time around the child,
// CPU time and peak resident memory from the child's rusage, the server's
// from /proc. Every run's --json summary must account for exactly the
// messages generated, or Run fails: a fast wrong loader measures nothing.
//
// # Limitations
//
// Linux only: the server's figures come from /proc. The server stage's
// CPU time is the server's from the start of the load to the loader's
// exit; merges the server runs later are not counted. Timings on a shared
// machine are noisy; medians of several runs (Config.Runs) damp that, no
// more.
package benchtab
