// Package clickhouse loads the Arrow batches of a load into a ClickHouse
// server: a Sink for load.Run that creates the tables on first use, inserts
// each capture file's rows and writes the file's load record on Commit.
//
// Two protocols are offered, named by the destination URL (see Parse):
//
//	clickhouse://[user[:pass]@]host:port/database   native protocol, ch-go and clickhouse-go/v2
//	http://[user[:pass]@]host:port/database         HTTP, INSERT ... FORMAT ArrowStream
//
// The native sink sends each Arrow batch as a native block through ch-go's
// column types, which take the Arrow buffers as they are (see block), with
// LZ4 by default. The HTTP sink posts the batches as an Arrow IPC stream,
// LZ4-compressed by default, which the server reads as it comes. Both are measured
// by BenchmarkSink, which runs the pcapload binary into `pcapload serve`
// on the same machine; the figures are in the README.
//
// Each file's batches are gathered into inserts bounded by rows and bytes
// (Options), one insert in flight while the next is gathered. A failed
// insert is sent again whole after a backoff, a few times
// (Options.Retries); then the file fails for this destination.
//
// Loads are exactly once, with load.Ledger: a file already loaded is left
// out, every insert carries a deduplication token of the file's hash and
// the insert's sequence number (retries and reruns send the same inserts,
// which the server drops), and the load record is written last.
//
// # Clusters
//
// A URL ending in ?cluster=NAME loads across the shards that the server's
// remote_servers names NAME (see `pcapload serve --config-file`). The
// schema's tables are created on every shard one by one, since the engine
// refuses ON CLUSTER without ZooKeeper ("Replicated DDL queries are
// disabled"), and over each MergeTree table T a Distributed table
// T_all (DistributedSuffix) on every shard, for queries. Each capture file
// goes whole, rows and load records, to the shard that cityHash64 of its
// hash picks, the key the Distributed tables shard by, and is loaded there
// by the single-server protocol: exactly once holds per shard, and so for
// the cluster. Shards are reached by the native protocol at the addresses
// remote_servers gives, with the URL's user, password and database.
//
// # Limitations
//
// A cluster has no replicas: only each shard's first replica is loaded
// (Replicated engines, whose deduplication window is
// replicated_deduplication_window, need ZooKeeper). Shards added later
// change where a file's hash points: a file loaded before is then not
// found by its hash and would be loaded again; asking every shard's load
// records would fix it. There is no schema migration beyond CREATE TABLE IF
// NOT EXISTS and the columns exactly-once loading added
// (schema.UpgradeDDL), and no materialized views.
package clickhouse
