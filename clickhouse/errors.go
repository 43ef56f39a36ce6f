package clickhouse

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"syscall"

	chgo "github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// permanentCodes are ClickHouse's error codes for answers that sending the
// same statement again cannot change: the statement, the schema, the data
// or the credentials are wrong. Everything else (memory and part limits,
// timeouts, a server going away) is worth the retries.
var permanentCodes = map[int]bool{
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	36:  true, // BAD_ARGUMENTS
	43:  true, // ILLEGAL_TYPE_OF_ARGUMENT
	44:  true, // ILLEGAL_COLUMN
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	62:  true, // SYNTAX_ERROR
	81:  true, // UNKNOWN_DATABASE
	115: true, // UNKNOWN_SETTING
	117: true, // INCORRECT_DATA
	164: true, // READONLY
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	194: true, // REQUIRED_PASSWORD
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// permanent reports whether err is a server's answer with one of
// permanentCodes, or an HTTP answer of a client error that names no
// ClickHouse code: not ClickHouse's HTTP interface (its native port says
// so in a 400; a new user's load retried it four times a file).
func permanent(err error) bool {
	code, ok := serverCode(err)
	if ok {
		return permanentCodes[code]
	}
	var answer *ServerError
	return errors.As(err, &answer) && answer.Status >= 400 && answer.Status < 500 &&
		answer.Status != 408 && answer.Status != 429
}

// unknownSetting reports whether err is a server's refusal of a setting
// it does not have (UNKNOWN_SETTING), as older servers answer newer
// settings.
func unknownSetting(err error) bool {
	code, ok := serverCode(err)
	return ok && code == 115
}

// codeText finds the code in an exception's text: "Code: 62. DB::Exception: ...".
var codeText = regexp.MustCompile(`\bCode: (\d+)\.`)

// serverCode returns the ClickHouse error code err carries, from either
// client library or from the HTTP interface's answer.
func serverCode(err error) (int, bool) {
	var native *proto.Exception
	if errors.As(err, &native) {
		return int(native.Code), true
	}
	var low *chgo.Exception
	if errors.As(err, &low) {
		return int(low.Code), true
	}
	var answer *ServerError
	if errors.As(err, &answer) {
		if m := codeText.FindStringSubmatch(answer.Message); m != nil {
			code, err := strconv.Atoi(m[1])
			return code, err == nil
		}
	}
	return 0, false
}

// unreachable reports whether err is a failure to reach the server or to
// get its answer at all: a connection refused, a host with no route, a
// dial or an answer that timed out (a server that accepts and never
// answers), a connection reset or closed before the answer ended, a
// proxy's word that the server behind it is away (502, 503, 504), or one
// already counted down. A server restarting resets connections and
// closes them: counted as reached, every file of a thousand spent its
// retries on one (a hostile run).
func unreachable(err error) bool {
	var op *net.OpError
	var ne net.Error
	var answer *ServerError
	return errors.Is(err, errDown) || errors.As(err, &op) && op.Op == "dial" ||
		errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &answer) && answer.Status >= 502 && answer.Status <= 504
}
