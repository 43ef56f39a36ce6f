package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/pcapload/pcapload/ingest/capture"
)

// HashInput returns the content hash of in: of the bytes Pin fixed when
// in is pinned, else of the file at its path (HashFileUntil).
func HashInput(in Input, done <-chan struct{}) (string, error) {
	if in.File == nil {
		return HashFileUntil(in.Path, done)
	}
	return hashReader(in.Path, in.pinned(), done)
}

// HashFile returns the hex SHA-256 of the file's bytes as stored
// (compressed, when it is): the file's identity, the same whatever its
// name or folder. It is a pre-pass over the whole file before loading,
// so that a destination can be asked whether it already holds the file;
// a loader hashes a pinned Input instead (HashInput, Input.Pin), so that
// the bytes hashed are the bytes decoded.
func HashFile(path string) (string, error) { return HashFileUntil(path, nil) }

// HashFileUntil is HashFile stopped, with ErrCancelled, when done is
// closed: a loader hashing a large file beside its decoding stops both
// on an interrupt.
func HashFileUntil(path string, done <-chan struct{}) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err // *PathError already names the file
	}
	defer f.Close()
	return hashReader(path, f, done)
}

// hashReader returns the hex SHA-256 of what r reads, until done is
// closed; path names the file in errors.
func hashReader(path string, r io.Reader, done <-chan struct{}) (string, error) {
	h := sha256.New()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	// Only Read is offered, so that the copy reads into buf: a file's
	// WriteTo reads 32 KiB at a time, four thousand reads for a 140 MB
	// capture.
	if _, err := io.CopyBuffer(h, doneReader{r, done}, *buf); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashPrefix returns the hex SHA-256 of the first n bytes of in, as
// HashFile would of a file that held only them: of the bytes Pin fixed
// when in is pinned, else of the file at its path; ok is false when there
// are fewer. A destination compares it with the hash of a file it loaded
// cut short, to know the file grew from it (see load.Ledger).
func HashPrefix(in Input, n int64) (hash string, ok bool, err error) {
	var r io.Reader
	if in.File != nil {
		if n > in.Size {
			return "", false, nil
		}
		r = io.NewSectionReader(in.File, 0, n)
	} else {
		f, err := os.Open(in.Path)
		if err != nil {
			return "", false, err
		}
		defer f.Close()
		r = io.LimitReader(f, n)
	}
	h := sha256.New()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	got, err := io.CopyBuffer(h, r, *buf)
	if err != nil {
		return "", false, fmt.Errorf("hash %s: %w", in.Path, err)
	}
	if got < n {
		return "", false, nil
	}
	return hex.EncodeToString(h.Sum(nil)), true, nil
}

// doneReader reads r until done is closed.
type doneReader struct {
	r    io.Reader
	done <-chan struct{}
}

func (d doneReader) Read(p []byte) (int, error) {
	select {
	case <-d.done:
		return 0, ErrCancelled
	default:
		return d.r.Read(p)
	}
}

var hashBufs = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}

// NotCapture reports whether the file at path is no capture at all: it
// starts with the magic of neither a capture format nor a compressed stream
// whose content starts with one. Only the first bytes are read: a folder's
// README or checksum list is told apart before it is hashed, or a database
// asked about it. A file that cannot be opened is not said to be one; its
// load reports why.
func NotCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	c, err := capture.OpenFile(f)
	if err != nil {
		return errors.Is(err, capture.ErrNotCapture)
	}
	c.Close()
	return false
}
