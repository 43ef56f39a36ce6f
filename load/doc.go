// Package load runs a load: it shards capture files across workers, decodes
// each file once and feeds the same Arrow batches to every destination.
//
// A destination is a Sink. For each capture file a worker hashes the file
// (SHA-256 of its bytes as stored, its identity), asks every Sink to Begin a
// FileSink, writes the file's batches to all of them, and Commits each when
// the file is read. A Sink that already holds the file says ErrLoaded and is
// left out; a file every Sink holds is not decoded at all. When no Sink can
// hold a file already (Parquet, null), a large file is hashed beside its
// decoding instead, and the Sinks are begun at its first batch. A Sink that fails
// on a file fails that file for that Sink only; the other destinations and
// files go on, and the failure is in the Result.
//
// The ClickHouse destinations (EmbeddedSink here, clickhouse.Sink for
// servers) load exactly once through a Ledger; see its doc. The Parquet
// destination names its files after the hash, so a file loaded again
// replaces them.
//
// # Memory
//
// What a load holds does not grow with its input: a worker holds the batch
// it builds, bounded by rows and by bytes (DefaultBatchBytes), and each
// sink keeps a bounded number of batches (one being written to Parquet;
// inserts gathering and in flight to a server, held compressed and
// bounded by their rows, Arrow bytes and compressed bytes; one insert
// gathering for the embedded engine, bounded by its rows and insertBytes,
// and up to two being copied by the engine, which then lets them go). A
// Builder takes a batch's slices at its first row, not when the last
// batch is handed on, and reuses those of batches released, so
// that a large file allocates its batches once. With the Go runtime's
// memory limit set by the command, two workers loading Parquet or into a
// server peak near 220 MiB. The embedded engine's own memory is outside
// this bound.
//
// A worker's decoder holds, for the messages still to come, the queries
// waiting for their responses, the datagrams waiting for fragments and the
// TCP directions' buffers. Each has a bound of its own, and all three
// share one of 32 MiB (ingest.Decoder.StateBytes); the batch being built
// ends sooner as that state grows, and as the file's decompression window
// is larger (WindowBytes), so that the three stay within workerBytes, 40
// MiB, a batch at least 8 MiB; beside a large window the state's own bound
// shrinks too, to 8 MiB at least. Two files made to fill
// every bound at once (internal/hostile.AllAtOnce) peaked at 322 MiB to
// Parquet before, 185-196 MiB since; two zstd --long=26 files 260 MiB
// before, 211 MiB since.
//
// A load into a server cuts batches of Options.BatchBytes of 8 MiB
// (cmd/pcapload), since the server's sink holds, beside them, as many
// inserts in flight as it has connections and one gathering a file, each
// of up to 28 MiB compressed (16 MiB beside another destination): zone
// transfers into a server now peak at 187-225 MiB; into Parquet and a
// server at once at 304-353 MiB before batches were 8 MiB there and
// inserts bounded by their compressed bytes, and 152-201 MiB since.
//
// The inserts gathered also end sooner as the worker's decoder holds
// more (HoldingFileSink: its state and window when each batch ended,
// reckoned from the file alone and named in the cut): two files of
// internal/hostile.AllAtOnce (the state's bounds filled, then 64 KiB
// responses of random bytes) into a server peaked at 252-308 MiB with
// inserts of 28 MiB beside the full state, and 184-218 MiB since.
//
// Two files with 64 MiB windows (xz -9, zstd --long=26) into a server
// and Parquet peaked at 265-273 MiB, 307-312 MiB for AllAtOnce so
// compressed (a hostile run), though inserts ended at 4 MiB: the workers
// share a capture.WindowGate of 64 MiB (windowBudget), so that such files
// are read one at a time, at 200-202 MiB. Their rows do not depend on
// when they are read.
//
// AllAtOnce into two servers and Parquet at once peaked at 252-268 MiB (a
// hostile run), its live heap at 240-250 MiB, over the memory limit: its
// servers' bodies, gathering, in flight and spare, held 47 MB, and the
// zstd encoders of HTTP bodies 24 MB. A server's inserts beside a full
// decoder now end at a quarter of its share of the inserts' bound when
// that is less than 4 MiB (clickhouse.Options.heldBound), an emptied body
// keeps 2 MiB of its buffers, and a finished body lets its encoder go to
// the next: 238-244 MiB; and several servers share batches of 8 MiB
// (cmd/pcapload), since an insert ends at the first batch past its bound:
// 191-202 MiB.
//
// # Limitations
//
// Standard input, and a named pipe, have no hash: they are never
// recognised as loaded, and their inserts carry a token of their own load.
//
// An interrupted file (ingest.ErrCancelled) sends none of the rows gathered
// since its last insert (CancelFileSink), so that its rerun's inserts are
// those of a load that was not interrupted.
//
// Batches, and so the inserts and their tokens, are cut by Options.BatchRows
// and the sinks' insert size, and the rows hold the sensor, path and ports
// of the run. The file's loading mark records all of them (File.CutInto):
// a rerun that would cut or fill the rows otherwise replaces them instead
// of completing them, since its tokens would drop rows that differ.
package load
