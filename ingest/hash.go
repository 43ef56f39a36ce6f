package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
)

// HashFile returns the hex SHA-256 of the file's bytes as stored
// (compressed, when it is): the file's identity, the same whatever its
// name or folder. It is a pre-pass over the whole file before loading,
// so that a destination can be asked whether it already holds the file.
//
// TODO(exactly-once): a file changed between this pass and decoding is
// loaded under the old hash; hashing again while decoding and failing the
// file on a mismatch would catch it.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err // *PathError already names the file
	}
	defer f.Close()
	h := sha256.New()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	// Only Read is offered, so that the copy reads into buf: a file's
	// WriteTo reads 32 KiB at a time, four thousand reads for a 140 MB
	// capture.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var hashBufs = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}
