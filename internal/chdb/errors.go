package chdb

import (
	"regexp"
	"strconv"
	"strings"
)

// Error is an exception raised by the engine. Callers branch on Code (the
// ClickHouse error code, e.g. 60 UNKNOWN_TABLE) with errors.As.
type Error struct {
	Code    int    // ClickHouse error code; 0 when the text carries none
	Name    string // symbolic name such as "UNKNOWN_TABLE"; "" when absent
	Message string // the engine's text, whitespace-trimmed
}

// Error returns the engine's text.
func (e *Error) Error() string { return e.Message }

// exceptionRe matches "Code: 60. DB::Exception: ... (UNKNOWN_TABLE)", the
// shape of every ClickHouse exception message.
var exceptionRe = regexp.MustCompile(`^Code: (\d+)\. (?s:.*)\(([A-Z0-9_]+)\)(?: \(version [^)]*\))?$`)

// engineError parses an exception message into an Error.
func engineError(msg string) *Error {
	msg = strings.TrimSpace(msg)
	e := &Error{Message: msg}
	if m := exceptionRe.FindStringSubmatch(msg); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
		e.Name = m[2]
	}
	return e
}
