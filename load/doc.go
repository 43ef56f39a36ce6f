// Package load runs a load: it shards capture files across workers, decodes
// each file once and feeds the same Arrow batches to every destination.
//
// A destination is a Sink. For each capture file a worker asks every Sink to
// Begin a FileSink, writes the file's batches to all of them, and Commits
// each when the file is read. A Sink that fails on a file fails that file
// for that Sink only; the other destinations and files go on, and the
// failure is in the Result.
package load
