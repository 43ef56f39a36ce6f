package load

import (
	"encoding/hex"
	"strings"

	"github.com/pcapload/pcapload/ingest"
)

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

// CutOf returns the cut f is marked with (File.CutInto).
func CutOf(f File) string { return f.cut }

// CutHex is the cut of f as the Ledger's state query gives it.
func CutHex(f File) string { return strings.ToUpper(hex.EncodeToString([]byte(f.cut))) }

// SetConn makes l run its statements on c.
func (l *Ledger) SetConn(c Conn) { l.conn = c }
