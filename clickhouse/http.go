package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

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
	// A server that accepts and never answers hung a load for good.
	connect := dialTimeout
	if opt.Timeout > 0 {
		connect = min(connect, opt.Timeout)
	}
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = connect
	tr.ResponseHeaderTimeout = opt.Timeout
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

// gatherer implements inserter: the HTTP sink encodes each batch into the
// insert's body as it comes, compressed, and keeps only the body. A retry
// posts the same bytes again.
// inflight implements inserter.
func (h *httpInserter) inflight() int { return maxInflight }

// encoder implements inserter.
func (h *httpInserter) encoder() string { return encoderOf("HTTP", h.encoding) }

func (h *httpInserter) gatherer(s *arrow.Schema) gatherer {
	return &body{h: h, schema: s, encoding: h.encoding}
}

// body is one insert's Arrow IPC stream, compressed with encoding (the
// HTTP sink's Content-Encoding).
type body struct {
	h        *httpInserter // nil for a native insert's (see packed)
	schema   *arrow.Schema
	encoding string // "lz4", "zstd" or "" for none
	buf      chunks
	zw       io.WriteCloser // compressor into buf; nil without compression
	iw       *ipc.Writer    // nil until the first batch, and once finished
	done     bool           // the stream is complete in buf
}

func (b *body) add(rec arrow.RecordBatch) error {
	if b.done {
		return errors.New("insert body already sent")
	}
	if b.iw == nil {
		var w io.Writer = &b.buf
		switch b.encoding {
		case "lz4":
			// Without the frame's content checksum: computing it was a
			// tenth of the loader's CPU, and the transfer is TCP's to
			// check (TLS's with https), as it is for an uncompressed body.
			//
			// Blocks of 256 KiB, not the library's 4 MiB: LZ4 matches
			// within 64 KiB whatever the block, and each writer, and each
			// reader of a native insert's body, held two buffers of the
			// block's size, 32 MB of a native load of two files.
			zw := lz4.NewWriter(w)
			if err := zw.Apply(lz4.ChecksumOption(false), lz4.BlockSizeOption(lz4.Block256Kb)); err != nil {
				return err
			}
			b.zw = zw
		case "zstd":
			enc, err := zstdBody(w)
			if err != nil {
				return err
			}
			b.zw = enc
		}
		if b.zw != nil {
			w = b.zw
		}
		b.iw = ipc.NewWriter(w, ipc.WithSchema(b.schema))
	}
	if err := b.iw.Write(rec); err != nil {
		return fmt.Errorf("encode arrow: %w", err)
	}
	return nil
}

// finish ends the stream and the compression.
func (b *body) finish() error {
	if b.done || b.iw == nil {
		return nil
	}
	b.done = true
	if err := b.iw.Close(); err != nil {
		return fmt.Errorf("encode arrow: %w", err)
	}
	if b.zw == nil {
		return nil
	}
	err := b.zw.Close()
	if enc, ok := b.zw.(*zstd.Encoder); ok {
		// The body is complete: the encoder goes to the next insert
		// rather than stay, with its history, beside this one in flight.
		b.zw = nil
		zstdBodies.Put(enc)
	}
	return err
}

// zstdBodies keeps the zstd encoders of finished bodies for the next.
// Each held a history of twice its window: with the library's 4 MiB
// window, three encoders of a load into two servers and Parquet held 24
// MiB, a body's each until its insert ended (a hostile run at 256-262
// MiB). A window of 2 MiB compressed a million generated messages' Arrow
// stream to the same size, and two files of a resolver's traffic to 2.5%
// more; 1 MiB to 2% more than that.
var zstdBodies sync.Pool

// zstdBody returns an encoder into w, from zstdBodies or new.
func zstdBody(w io.Writer) (*zstd.Encoder, error) {
	if enc, ok := zstdBodies.Get().(*zstd.Encoder); ok {
		enc.Reset(w)
		return enc, nil
	}
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdBodyWindow))
}

// zstdBodyWindow is the window of a zstd body's encoder (see zstdBodies).
const zstdBodyWindow = 2 << 20

func (b *body) send(ctx context.Context, table, token string) error {
	if err := b.finish(); err != nil {
		return err
	}
	q := schema.InsertSQL(table, b.schema) + schema.InsertSettings(token)
	_, err := b.h.post(ctx, q+" FORMAT ArrowStream", b.buf.reader(), b.encoding)
	return err
}

func (b *body) held() int64 { return b.buf.size() }

func (b *body) reset() {
	_ = b.finish()
	b.buf.reset()
	b.zw, b.iw, b.done = nil, nil, false
}

// chunks is a byte buffer in pieces of chunkSize: unlike bytes.Buffer it
// never holds twice what it was given nor copies it to grow, which an
// uncompressed insert body of tens of MiB would.
type chunks struct {
	bufs [][]byte // full but the last; kept by reset for reuse
	n    int      // chunks in use
}

const chunkSize = 1 << 20

func (c *chunks) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		if c.n == 0 || len(c.bufs[c.n-1]) == chunkSize {
			if c.n == len(c.bufs) {
				c.bufs = append(c.bufs, make([]byte, 0, chunkSize))
			}
			c.n++
		}
		last := &c.bufs[c.n-1]
		k := copy((*last)[len(*last):chunkSize], p)
		*last = (*last)[:len(*last)+k]
		p = p[k:]
	}
	return written, nil
}

// reader reads what was written, from the start.
func (c *chunks) reader() io.Reader {
	rs := make([]io.Reader, c.n)
	for i, b := range c.bufs[:c.n] {
		rs[i] = bytes.NewReader(b)
	}
	return io.MultiReader(rs...)
}

// size is the bytes written.
func (c *chunks) size() int64 {
	if c.n == 0 {
		return 0
	}
	return int64((c.n-1)*chunkSize + len(c.bufs[c.n-1]))
}

// reset empties c for another insert. It keeps keptChunks of its chunks
// at most: an emptied body waits, spare, for the next insert of any file,
// and one that kept every chunk held its largest insert's bytes meanwhile.
func (c *chunks) reset() {
	clear(c.bufs[min(keptChunks, len(c.bufs)):])
	c.bufs = c.bufs[:min(keptChunks, len(c.bufs))]
	for i := range c.bufs {
		c.bufs[i] = c.bufs[i][:0]
	}
	c.n = 0
}

// keptChunks is how many chunks an emptied body keeps. A load into two
// servers and Parquet at once of two files made to fill the decoder's
// bounds (hostile.AllAtOnce) kept 47 MB of bodies, in flight, gathering
// and spare, 24 MB of them over HTTP with zstd, with inserts of 8 MiB at
// most.
const keptChunks = 2

// encoderOf names a body's encoding with the modules that write it, as
// inserter.encoder does: Arrow IPC, compressed by encoding ("" for none),
// on this architecture (the compressors have code of their own for
// some), sent by protocol. The protocol is part of it: a native insert
// slices its batches otherwise, so that it is cut otherwise by its
// compressed bytes, and the server makes other blocks of it under the
// same token (a hostile run: a killed native load rerun over HTTP stored
// 1,316 rows of 900, and 1,800 the other way).
func encoderOf(protocol, encoding string) string {
	name := protocol + ": Arrow IPC (" + moduleVersion("github.com/apache/arrow-go/v18") + ")"
	switch encoding {
	case "lz4":
		name += " in LZ4 (" + moduleVersion("github.com/pierrec/lz4/v4") + ")"
	case "zstd":
		// The window decides the compressed sizes, and so where inserts
		// end: a load killed with 4 MiB windows and finished with 2 MiB
		// ones named the same cut, completed the file from its tokens and
		// stored duplicates (a hostile run).
		name += fmt.Sprintf(" in zstd with a window of %d (%s)", zstdBodyWindow, moduleVersion("github.com/klauspost/compress"))
	}
	return name + " on " + runtime.GOARCH
}

// moduleVersion returns path and the version of it built into the program,
// or path alone when the program holds no such record.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return path
	}
	for _, d := range info.Deps {
		if d.Path == path {
			if d.Replace != nil {
				d = d.Replace
			}
			return d.Path + " " + d.Version
		}
	}
	return path
}

// post sends body to the server, with query in the URL when not empty
// (then the body is the insert's data), and returns the first 4 KiB of the
// answer, or the server's exception as the error.
func (h *httpInserter) post(ctx context.Context, query string, body io.Reader, encoding string) (string, error) {
	params := ""
	if query != "" {
		params = "&query=" + url.QueryEscape(query)
	}
	resp, err := h.do(ctx, params, body, encoding)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// The whole answer, bounded: it is a query's one String value, which
	// the ledger makes of a group's states (about 100 bytes a file). Cut
	// short at 4 KiB, as answers once were, a group of 256 files read
	// the states of its first 45 only and loaded the others again.
	msg, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	if len(msg) > maxAnswer {
		return "", fmt.Errorf("answer longer than %d bytes", maxAnswer)
	}
	return string(msg), nil
}

// maxAnswer bounds the answer post reads.
const maxAnswer = 16 << 20

// do posts body with the URL parameters params (each after an &) and
// returns the answer of a statement that succeeded.
func (h *httpInserter) do(ctx context.Context, params string, body io.Reader, encoding string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.endpoint+params, body)
	if err != nil {
		return nil, err
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	if h.t.User != "" {
		req.SetBasicAuth(h.t.User, h.t.Password)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL carries the query, an insert's names every column:
			// the error names the server instead, to stay one short line.
			ue.URL = h.endpoint
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &ServerError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	return resp, nil
}

// Query runs query on the server of rawURL, an http(s) one, and copies its
// answer in format (a ClickHouse output format) to w as it comes. The
// server holds the answer until the query ends, so that a query that fails
// part-way fails rather than printing half of it. The server must first
// answer a SELECT 1 within dialTimeout: a query may take as long as it
// takes, but a server that accepted and never answered held sql and
// report for good (a hostile run).
func Query(ctx context.Context, rawURL, query, format string, w io.Writer) error {
	t, err := Parse(rawURL)
	if err != nil {
		return err
	}
	if t.Protocol != HTTP {
		return fmt.Errorf("%s: queries go to a server's HTTP interface: give its http:// or https:// URL", t)
	}
	h, err := newHTTP(t, Options{Compression: "none", Conns: 1})
	if err != nil {
		return err
	}
	defer h.close()
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	_, err = h.query(pctx, "SELECT 1")
	var answer *ServerError
	var op *net.OpError
	switch {
	case errors.As(err, &answer):
		return fmt.Errorf("%s: %w", t, err) // an unknown database, a wrong password
	case errors.As(err, &op) && op.Op == "dial":
		// Refused at once, or no route: no wait to speak of (a new
		// user read "no answer in 10s" after 8 ms).
		return fmt.Errorf("%s: cannot connect: %w", t, err)
	case err != nil:
		return fmt.Errorf("%s: no answer to SELECT 1 in %s: %w", t, dialTimeout, err)
	}
	resp, err := h.do(ctx, "&wait_end_of_query=1&default_format="+url.QueryEscape(format), strings.NewReader(query), "")
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("%s: read answer: %w", t, err)
	}
	return nil
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

// Error is one line: the server's exception text spans several (a
// cluster's names each shard's), which error lines printed escaped.
func (e *ServerError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, strings.Join(strings.Fields(e.Message), " "))
}
