package clickhouse

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Protocol is how a Sink talks to the server.
type Protocol int

// The protocols of Target.
const (
	Native Protocol = iota // ClickHouse's native TCP protocol
	HTTP                   // ClickHouse's HTTP interface
)

// Target is a parsed destination URL.
type Target struct {
	Protocol Protocol
	Addr     string // host:port
	TLS      bool   // https
	User     string // empty for the server's default user
	Password string
	Database string // "default" when the URL names none
}

// ErrBadURL reports a destination URL Parse cannot use.
var ErrBadURL = errors.New("bad ClickHouse URL")

// Parse parses clickhouse://[user[:pass]@]host:port/database and
// http(s)://[user[:pass]@]host:port/database. The port is required: the
// native and HTTP defaults differ and guessing wrong fails late.
func Parse(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	var t Target
	switch u.Scheme {
	case "clickhouse":
		t.Protocol = Native
	case "http", "https":
		t.Protocol, t.TLS = HTTP, u.Scheme == "https"
	default:
		return Target{}, fmt.Errorf("%w: %s: want clickhouse://, http:// or https://", ErrBadURL, raw)
	}
	if u.Port() == "" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("%w: %s: want host:port", ErrBadURL, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, fmt.Errorf("%w: %s: no query or fragment expected", ErrBadURL, raw)
	}
	t.Addr = u.Host
	t.User = u.User.Username()
	t.Password, _ = u.User.Password()
	t.Database = strings.Trim(u.Path, "/")
	if t.Database == "" {
		t.Database = "default"
	}
	if strings.Contains(t.Database, "/") {
		return Target{}, fmt.Errorf("%w: %s: want one database name", ErrBadURL, raw)
	}
	return t, nil
}

// String returns the target as a URL without its password.
func (t Target) String() string {
	scheme := "clickhouse"
	if t.Protocol == HTTP {
		scheme = "http"
		if t.TLS {
			scheme = "https"
		}
	}
	user := ""
	if t.User != "" {
		user = t.User + "@"
	}
	return scheme + "://" + user + t.Addr + "/" + t.Database
}
