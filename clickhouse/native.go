package clickhouse

import (
	"context"
	"fmt"
	"io"

	chgo "github.com/ClickHouse/ch-go"
	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/pierrec/lz4/v4"

	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// native inserts through clickhouse-go's native protocol, converting each
// Arrow column to a Go slice for the columnar append.
type native struct {
	conn driver.Conn // statements and queries

	// Inserts go through ch-go (see block), on connections of their own.
	opt  chgo.Options
	pool chan *chgo.Client // idle insert connections
}

func newNative(t Target, opt Options) (*native, error) {
	method := ch.CompressionLZ4
	switch opt.Compression {
	case "lz4":
	case "zstd":
		method = ch.CompressionZSTD
	case "none":
		method = ch.CompressionNone
	default:
		return nil, fmt.Errorf("compression %q: want lz4, zstd or none", opt.Compression)
	}
	conn, err := ch.Open(&ch.Options{
		Addr:         []string{t.Addr},
		Auth:         ch.Auth{Database: t.Database, Username: t.User, Password: t.Password},
		Compression:  &ch.Compression{Method: method},
		DialTimeout:  min(dialTimeout, opt.Timeout),
		ReadTimeout:  opt.Timeout,
		MaxOpenConns: opt.Conns,
		MaxIdleConns: opt.Conns,
	})
	if err != nil {
		return nil, err
	}
	chMethod := map[string]chgo.Compression{"lz4": chgo.CompressionLZ4, "zstd": chgo.CompressionZSTD,
		"none": chgo.CompressionDisabled}[opt.Compression]
	return &native{
		conn: conn,
		opt: chgo.Options{
			Address: t.Addr, Database: t.Database, User: t.User, Password: t.Password,
			Compression: chMethod, DialTimeout: min(dialTimeout, opt.Timeout),
			// The server answers an insert once its parts and views are
			// written, which can take longer than ch-go's 3 s default.
			ReadTimeout: opt.Timeout,
			ClientName:  "pcapload",
		},
		pool: make(chan *chgo.Client, opt.Conns),
	}, nil
}

func (n *native) exec(ctx context.Context, query string) error {
	return n.conn.Exec(ctx, query)
}

func (n *native) query(ctx context.Context, query string) (string, error) {
	rows, err := n.conn.Query(ctx, query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out string
	if rows.Next() {
		if err := rows.Scan(&out); err != nil {
			return "", err
		}
	}
	return out, rows.Err()
}

// insert sends the batches src gives, until it gives nil, as one INSERT,
// native blocks cut from each batch, on a ch-go connection from the pool.
// A connection that failed is closed rather than returned.
func (n *native) insert(ctx context.Context, table, token string, s *arrow.Schema,
	src func() (arrow.RecordBatch, error)) error {
	blk, err := newBlock(s)
	if err != nil {
		return err
	}
	// Blocks of blockRows at most: ch-go encodes and compresses a whole
	// block in buffers it keeps per connection, so smaller blocks keep the
	// loader small; the server squashes them into the same parts.
	var rec arrow.RecordBatch // the batch being cut
	var cur arrow.RecordBatch // the slice the block points into
	defer func() {
		if cur != nil {
			cur.Release()
		}
	}()
	off := int64(0) // next row of rec to send
	var srcErr error
	next := func() bool {
		if cur != nil {
			cur.Release()
			cur = nil
		}
		for rec == nil || off >= rec.NumRows() {
			rec, srcErr = src()
			if rec == nil || srcErr != nil {
				return false
			}
			off = 0
		}
		end := min(off+blockRowsOf(rec), rec.NumRows())
		cur = rec.NewSlice(off, end)
		off = end
		return true
	}
	if !next() {
		return srcErr
	}
	if err := blk.fill(cur); err != nil {
		return err
	}
	q := chgo.Query{
		Body:  schema.InsertSQL(table, s) + " VALUES",
		Input: blk.input,
		OnInput: func(context.Context) error {
			if !next() {
				if srcErr != nil {
					return srcErr
				}
				// ch-go sends what the input holds with io.EOF, as
				// io.Reader does: leave it nothing.
				blk.input.Reset()
				return io.EOF
			}
			return blk.fill(cur)
		},
	}
	// As schema.InsertSettings says.
	q.Settings = []chgo.Setting{{Key: schema.MaxPartitionsSetting, Value: "0", Important: true}}
	if token != "" {
		q.Settings = append(q.Settings, chgo.Setting{Key: "insert_deduplication_token", Value: token, Important: true})
	}
	c, err := n.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect for insert: %w", err)
	}
	if err := c.Do(ctx, q); err != nil {
		c.Close()
		return fmt.Errorf("insert: %w", err)
	}
	n.idle(c)
	return nil
}

// blockRows is the most rows a native block carries, and blockBytes about
// the most Arrow bytes; blockRows is a variable for the tests, which cut
// batches into many blocks.
var blockRows int64 = 8192

const blockBytes = 2 << 20

// blockRowsOf is the rows of rec's blocks: blockRows, fewer when its rows
// are large (64 KiB messages with thousands of records make 200 KiB rows),
// at least one.
func blockRowsOf(rec arrow.RecordBatch) int64 {
	n := rec.NumRows()
	if n == 0 {
		return blockRows
	}
	perRow := max(load.RecordBytes(rec)/n, 1)
	return max(min(blockRows, blockBytes/perRow), 1)
}

// gatherer implements inserter: the native sink keeps an insert's batches
// as an Arrow IPC stream compressed with LZ4, and reads them back one at a
// time as it sends them (see body, the HTTP sink's).
//
// Held whole, as it first was, an insert's batches bounded native inserts
// at 16 MiB for memory, and the server spent three times the CPU it spends
// on the HTTP sink's 262,144-row inserts (BenchmarkSink). Compressed they
// take about a quarter of the room: inserts end at InsertRows as over HTTP.
// LZ4 rather than zstd: the loader compresses here and ch-go again on the
// wire, and LZ4 is the cheaper of the two.
func (n *native) gatherer(s *arrow.Schema) gatherer {
	return &packed{n: n, body: body{schema: s, encoding: "lz4"}}
}

// inflight implements inserter (see maxInflight).
func (n *native) inflight() int { return 1 }

// encoder implements inserter.
func (n *native) encoder() string { return encoderOf("native", "lz4") }

// packed is one native insert's batches, compressed.
type packed struct {
	n    *native
	body body
}

// add writes rec into the stream in slices of about packedBytes, so that
// reading the insert back decodes that much at a time rather than the
// worker's whole batch: two files' 22 MB batches read back held 60 MB of
// a native load's 335 MB peak.
func (p *packed) add(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	per := blockRowsOf(rec) * (packedBytes / blockBytes) // at least one row: see blockRowsOf
	if n <= per {
		return p.body.add(rec)
	}
	for off := int64(0); off < n; off += per {
		part := rec.NewSlice(off, min(off+per, n))
		err := p.body.add(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// packedBytes is about the most Arrow bytes of one message of a native
// insert's stream: a whole number of blocks (see blockRowsOf).
const packedBytes = 4 * blockBytes

func (p *packed) send(ctx context.Context, table, token string) error {
	if err := p.body.finish(); err != nil {
		return err
	}
	r, err := ipc.NewReader(lz4.NewReader(p.body.buf.reader()), ipc.WithSchema(p.body.schema))
	if err != nil {
		return fmt.Errorf("read back insert: %w", err)
	}
	defer r.Release()
	return p.n.insert(ctx, table, token, p.body.schema, func() (arrow.RecordBatch, error) {
		if r.Next() {
			return r.RecordBatch(), nil
		}
		if err := r.Err(); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read back insert: %w", err)
		}
		return nil, nil
	})
}

func (p *packed) reset() { p.body.reset() }

func (p *packed) held() int64 { return p.body.held() }

// dial returns an idle insert connection, or a new one.
func (n *native) dial(ctx context.Context) (*chgo.Client, error) {
	for {
		select {
		case c := <-n.pool:
			if !c.IsClosed() {
				return c, nil
			}
		default:
			return chgo.Dial(ctx, n.opt)
		}
	}
}

// idle keeps c for the next insert, or closes it when enough are kept.
func (n *native) idle(c *chgo.Client) {
	select {
	case n.pool <- c:
	default:
		c.Close()
	}
}

func (n *native) close() error {
	for {
		select {
		case c := <-n.pool:
			c.Close()
		default:
			return n.conn.Close()
		}
	}
}
