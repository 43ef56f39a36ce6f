package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/schema"
)

// native inserts through clickhouse-go's native protocol, converting each
// Arrow column to a Go slice for the columnar append.
type native struct {
	conn driver.Conn
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
	return &native{conn: conn}, nil
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

func (n *native) insert(ctx context.Context, table, token string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	if token != "" {
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": token}))
	}
	batch, err := n.conn.PrepareBatch(ctx, schema.InsertSQL(table, s))
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer batch.Abort()
	for _, rec := range recs {
		if err := appendRecord(batch, rec); err != nil {
			return err
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send insert: %w", err)
	}
	return nil
}

// appendRecord appends every column of rec to the batch's columns, which
// are in the schema's order.
func appendRecord(batch driver.Batch, rec arrow.RecordBatch) error {
	for i, col := range rec.Columns() {
		v, err := goColumn(col)
		if err != nil {
			return fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
		if err := batch.Column(i).Append(v); err != nil {
			return fmt.Errorf("append column %s: %w", rec.ColumnName(i), err)
		}
	}
	return nil
}

func (n *native) close() error { return n.conn.Close() }
