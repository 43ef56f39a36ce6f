package load

import "github.com/pcapload/pcapload/ingest"

// SetHashAheadBytes sets the smallest file hashed beside its decoding and
// returns a function restoring it.
func SetHashAheadBytes(n int64) func() {
	old := hashAheadBytes
	hashAheadBytes = n
	return func() { hashAheadBytes = old }
}

// HashedAhead returns the number of files hashed beside their decoding
// so far.
func HashedAhead() int64 { return aheadFiles.Load() }

// PinnedFile is the File a worker begins for in, pinned and hashed.
func PinnedFile(in ingest.Input) File { return File{Path: in.Path, Hash: in.Hash, in: in} }
