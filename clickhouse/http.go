package clickhouse

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/pcapload/pcapload/schema"
)

// httpInserter posts statements to ClickHouse's HTTP interface; inserts
// carry their batches as an Arrow IPC stream, which the server parses
// itself.
type httpInserter struct {
	endpoint string // http://host:port/?database=...
	t        Target
	encoding string // Content-Encoding of insert bodies, "" for none
	client   *http.Client
}

func newHTTP(t Target, opt Options) (*httpInserter, error) {
	enc := ""
	switch opt.Compression {
	case "lz4", "zstd":
		enc = opt.Compression
	case "none":
	default:
		return nil, fmt.Errorf("compression %q: want lz4, zstd or none", opt.Compression)
	}
	scheme := "http"
	if t.TLS {
		scheme = "https"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = opt.Conns
	return &httpInserter{
		endpoint: scheme + "://" + t.Addr + "/?database=" + url.QueryEscape(t.Database),
		t:        t,
		encoding: enc,
		client:   &http.Client{Transport: tr},
	}, nil
}

func (h *httpInserter) exec(ctx context.Context, query string) error {
	_, err := h.post(ctx, "", strings.NewReader(query), "")
	return err
}

func (h *httpInserter) query(ctx context.Context, query string) (string, error) {
	out, err := h.post(ctx, "", strings.NewReader(query+" FORMAT TSVRaw"), "")
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(out, "\n")
	return line, nil
}

// insert streams the IPC encoding through a pipe, so memory stays at one
// encoded batch whatever the insert's size.
func (h *httpInserter) insert(ctx context.Context, table, token string, s *arrow.Schema,
	recs []arrow.RecordBatch) error {
	q := schema.InsertSQL(table, s)
	if token != "" {
		q += " SETTINGS insert_deduplication_token = " + schema.Quote(token)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(h.encode(pw, s, recs)) }()
	_, err := h.post(ctx, q+" FORMAT ArrowStream", pr, h.encoding)
	pr.Close()
	return err
}

// encode writes recs as an Arrow IPC stream to w, compressed with the
// Content-Encoding chosen.
func (h *httpInserter) encode(w io.Writer, s *arrow.Schema, recs []arrow.RecordBatch) error {
	var zw io.WriteCloser
	switch h.encoding {
	case "lz4":
		zw = lz4.NewWriter(w)
	case "zstd":
		enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return err
		}
		zw = enc
	}
	if zw != nil {
		w = zw
	}
	iw := ipc.NewWriter(w, ipc.WithSchema(s))
	for _, rec := range recs {
		if err := iw.Write(rec); err != nil {
			return fmt.Errorf("encode arrow: %w", err)
		}
	}
	if err := iw.Close(); err != nil {
		return fmt.Errorf("encode arrow: %w", err)
	}
	if zw != nil {
		return zw.Close()
	}
	return nil
}

// post sends body to the server, with query in the URL when not empty
// (then the body is the insert's data), and returns the first 4 KiB of the
// answer, or the server's exception as the error.
func (h *httpInserter) post(ctx context.Context, query string, body io.Reader, encoding string) (string, error) {
	u := h.endpoint
	if query != "" {
		u += "&query=" + url.QueryEscape(query)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return "", err
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	if h.t.User != "" {
		req.SetBasicAuth(h.t.User, h.t.Password)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", &ServerError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	return string(msg), nil
}

func (h *httpInserter) close() error {
	h.client.CloseIdleConnections()
	return nil
}

// ServerError is an error the HTTP interface answered with.
type ServerError struct {
	Status  int    // HTTP status code
	Message string // the server's exception text
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}
