package load

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
