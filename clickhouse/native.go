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
	if len(recs) == 0 {
		return nil
	}
	blk, err := newBlock(s)
	if err != nil {
		return err
	}
	if err := blk.fill(recs[0]); err != nil {
		return err
	}
	next := 1
	q := chgo.Query{
		Body:  schema.InsertSQL(table, s) + " VALUES",
		Input: blk.input,
		OnInput: func(context.Context) error {
			if next == len(recs) {
				// ch-go sends what the input holds with io.EOF, as
				// io.Reader does: leave it nothing.
				blk.input.Reset()
				return io.EOF
			}
			next++
			return blk.fill(recs[next-1])
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
