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
	Cluster  string // the cluster (remote_servers) to load across; empty for one server
	// Compression is the wire compression the URL asks for: lz4, zstd or
	// none; empty leaves it to Options.
	Compression string
}

// ErrBadURL reports a destination URL Parse cannot use.
var ErrBadURL = errors.New("bad ClickHouse URL")

// Parse parses clickhouse://[user[:pass]@]host:port/database and
// http(s)://[user[:pass]@]host:port/database, each optionally followed by
// ?cluster=NAME and &compression=lz4|zstd|none. The port is required: the native and HTTP defaults differ
// and guessing wrong fails late.
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
	if err := t.parseQuery(u); err != nil {
		return Target{}, fmt.Errorf("%w: %s: %w", ErrBadURL, raw, err)
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
	switch strings.ToLower(t.Database) {
	case "system", "information_schema":
		return Target{}, fmt.Errorf("%w: %s: %s is the server's own database", ErrBadURL, raw, t.Database)
	}
	return t, nil
}

// parseQuery takes the parameters a URL may have: cluster and compression.
func (t *Target) parseQuery(u *url.URL) error {
	if u.Fragment != "" {
		return errors.New("no fragment expected")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return err
	}
	const want = "want at most cluster=NAME and compression=lz4|zstd|none"
	for k, v := range q {
		if len(v) != 1 || v[0] == "" {
			return fmt.Errorf("%s: %s", k, want)
		}
		switch k {
		case "cluster":
			t.Cluster = v[0]
		case "compression":
			switch v[0] {
			case "lz4", "zstd", "none":
				t.Compression = v[0]
			default:
				return fmt.Errorf("compression %q: %s", v[0], want)
			}
		default:
			return fmt.Errorf("unknown parameter %q: %s", k, want)
		}
	}
	return nil
}

// String returns the target as a URL without its password.
func (t Target) String() string { return t.format(false) }

// url returns the target as a URL Parse reads back, password included.
func (t Target) url() string { return t.format(true) }

func (t Target) format(password bool) string {
	u := url.URL{Scheme: "clickhouse", Host: t.Addr, Path: "/" + t.Database}
	if t.Protocol == HTTP {
		u.Scheme = "http"
		if t.TLS {
			u.Scheme = "https"
		}
	}
	switch {
	case t.User != "" && password && t.Password != "":
		u.User = url.UserPassword(t.User, t.Password)
	case t.User != "":
		u.User = url.User(t.User)
	}
	q := url.Values{}
	if t.Cluster != "" {
		q.Set("cluster", t.Cluster)
	}
	if t.Compression != "" {
		q.Set("compression", t.Compression)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
