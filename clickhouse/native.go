package clickhouse

import (
	"context"
	"fmt"
	"io"
	"time"

	chgo "github.com/ClickHouse/ch-go"
	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"

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
		DialTimeout:  5 * time.Second,
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
			Compression: chMethod, DialTimeout: 5 * time.Second,
			// The server answers an insert once its parts and views are
			// written, which can take longer than ch-go's 3 s default.
			ReadTimeout: 10 * time.Minute,
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

// insert sends recs as one INSERT, a native block per batch, on a ch-go
// connection from the pool. A connection that failed is closed rather
// than returned.
func (n *native) insert(ctx context.Context, table, token string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	blk, err := newBlock(s)
	if err != nil {
		return err
	}
	// Blocks of blockRows at most: ch-go encodes and compresses a whole
	// block in buffers it keeps per connection, so smaller blocks keep the
	// loader small; the server squashes them into the same parts.
	var cur arrow.RecordBatch // the slice the block points into
	defer func() {
		if cur != nil {
			cur.Release()
		}
	}()
	i, off := 0, int64(0) // next batch and row to send
	next := func() bool {
		if cur != nil {
			cur.Release()
			cur = nil
		}
		for i < len(recs) && off >= recs[i].NumRows() {
			i, off = i+1, 0
		}
		if i == len(recs) {
			return false
		}
		end := min(off+blockRowsOf(recs[i]), recs[i].NumRows())
		cur = recs[i].NewSlice(off, end)
		off = end
		return true
	}
	if !next() {
		return nil
	}
	if err := blk.fill(cur); err != nil {
		return err
	}
	q := chgo.Query{
		Body:  schema.InsertSQL(table, s) + " VALUES",
		Input: blk.input,
		OnInput: func(context.Context) error {
			if !next() {
				// ch-go sends what the input holds with io.EOF, as
				// io.Reader does: leave it nothing.
				blk.input.Reset()
				return io.EOF
			}
			return blk.fill(cur)
		},
	}
	if token != "" {
		q.Settings = []chgo.Setting{{Key: "insert_deduplication_token", Value: token, Important: true}}
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

// gatherer implements inserter: the native sink keeps the batches.
//
// TODO(speed): holding Arrow batches bounds native inserts at 16 MiB (see
// defaultInsertBytes), and the server spends three times the CPU it spends
// on the HTTP sink's 262,144-row inserts; holding the encoded, compressed
// blocks instead needs a way to send raw blocks, which ch-go lacks.
func (n *native) gatherer(s *arrow.Schema) gatherer { return &batches{n: n, schema: s} }

// batches is an insert's batches, retained until it is reset.
type batches struct {
	n      *native
	schema *arrow.Schema
	recs   []arrow.RecordBatch
}

func (b *batches) add(rec arrow.RecordBatch) error {
	rec.Retain()
	b.recs = append(b.recs, rec)
	return nil
}

func (b *batches) send(ctx context.Context, table, token string) error {
	return b.n.insert(ctx, table, token, b.schema, b.recs)
}

func (b *batches) reset() {
	for i, r := range b.recs {
		r.Release()
		b.recs[i] = nil
	}
	b.recs = b.recs[:0]
}

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
