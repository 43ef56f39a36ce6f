package capture

import (
	"errors"
	"strconv"
)

// Sentinel errors wrapped by FormatError. Callers branch on them with
// errors.Is.
var (
	// ErrNotCapture means the stream starts with neither a capture file
	// magic nor a known compression magic.
	ErrNotCapture = errors.New("not a capture file")

	// ErrTruncated means the stream ended inside a header or record. Every
	// record before the cut was delivered.
	ErrTruncated = errors.New("truncated")

	// ErrCorrupt means a header or record holds impossible values (a
	// length out of bounds, an unknown interface, a damaged compressed
	// stream), so the rest of the stream cannot be trusted.
	ErrCorrupt = errors.New("corrupt")

	// ErrUnsupported means a well-formed file uses a format version this
	// package does not read.
	ErrUnsupported = errors.New("unsupported version")
)

// FormatError reports a damaged or unreadable capture stream.
type FormatError struct {
	// Offset is the byte offset, in the decompressed stream, of the header
	// or record where the problem was found.
	Offset int64

	// Frame is the frame number the damaged record would have had when it
	// is a packet record, and 0 when the problem lies in a file header or
	// in a block that carries no packet.
	Frame uint64

	// Err is the cause; it wraps one of the sentinel errors or an I/O error.
	Err error
}

// Error formats the error as "offset N: frame F: cause".
func (e *FormatError) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10) + ": "
	if e.Frame > 0 {
		s += "frame " + strconv.FormatUint(e.Frame, 10) + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FormatError) Unwrap() error { return e.Err }
