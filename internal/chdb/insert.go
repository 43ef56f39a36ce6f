package chdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	pcschema "github.com/pcapload/pcapload/schema"
)

// InsertArrow appends record batches to table (SQL text, e.g. "dns_messages"
// or "db.t", used verbatim). Columns are matched by name: the schema's field
// names must be columns of the table, and columns the schema lacks take their
// defaults. All batches must have schema and go in as one INSERT, so they form
// parts as one block stream does; an error leaves no partial insert only when
// the batches fit in one block (ClickHouse INSERTs are not transactional).
//
// The batches are serialised as an Arrow IPC stream and pushed through
// chdb_stream_insert with format ArrowStream, one append per batch, so memory
// stays at one serialised batch. See doc.go for the Arrow type each ClickHouse
// column needs.
func (db *DB) InsertArrow(ctx context.Context, table string, schema *arrow.Schema, recs ...arrow.RecordBatch) error {
	if err := db.insertArrow(ctx, table, schema, recs); err != nil {
		return fmt.Errorf("chdb insert into %s: %w", table, err)
	}
	return nil
}

// InsertArrowTaking is InsertArrow with an insert_deduplication_token (on
// a table with non_replicated_deduplication_window set, the same batches
// inserted again with the same token are dropped, block by block; an empty
// token inserts without one), taking the batches: it releases each one
// once the engine has copied it, before the engine has sorted and
// written the rows, which takes it three to five times as long. An insert
// in flight then holds the engine's copy only, not the Go batches as well
// (about 110 MiB for 262,144 rows). It releases them all, whatever it
// returns.
func (db *DB) InsertArrowTaking(ctx context.Context, table, token string, schema *arrow.Schema,
	recs []arrow.RecordBatch) error {
	defer func() {
		for i, r := range recs {
			if r != nil {
				r.Release()
				recs[i] = nil
			}
		}
	}()
	query := pcschema.InsertSQL(table, schema) + pcschema.InsertSettings(token)
	if err := db.insertArrowSQL(ctx, query, schema, recs, true); err != nil {
		return fmt.Errorf("chdb insert into %s: %w", table, err)
	}
	return nil
}

func (db *DB) insertArrow(ctx context.Context, table string, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	return db.insertArrowSQL(ctx, pcschema.InsertSQL(table, schema), schema, recs, false)
}

// insertArrowSQL runs query, an INSERT without its FORMAT, with recs as data.
// With take, it releases each batch once the engine has it, and sets it nil.
func (db *DB) insertArrowSQL(ctx context.Context, query string, schema *arrow.Schema, recs []arrow.RecordBatch, take bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return ErrClosed
	}
	st, err := db.beginInsert(query, "ArrowStream")
	if err != nil {
		return err
	}
	// Destroying an unfinished stream cancels the INSERT.
	defer db.lib.destroyInsert(st)

	if err := db.appendBatches(ctx, st, schema, recs, take); err != nil {
		return err
	}
	return db.finishInsert(st)
}

// beginInsert opens a streaming INSERT; the caller must destroyInsert it.
func (db *DB) beginInsert(query, format string) (uintptr, error) {
	st := db.lib.streamInsert(db.handle(),
		unsafe.StringData(query), uintptr(len(query)),
		unsafe.StringData(format), uintptr(len(format)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(format)
	if st == 0 {
		return 0, errors.New("engine returned no insert stream")
	}
	if msg := db.lib.streamInsertError(st); msg != "" {
		db.lib.destroyInsert(st)
		return 0, engineError(msg)
	}
	return st, nil
}

// appendBatches writes recs as one IPC stream, handing the engine the bytes of
// each batch as soon as they are encoded. With take, it releases each batch
// once handed over, and sets it nil.
func (db *DB) appendBatches(ctx context.Context, st uintptr, schema *arrow.Schema, recs []arrow.RecordBatch, take bool) error {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for i, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("encode batch %d: %w", i, err)
		}
		if err := db.appendChunk(st, &buf); err != nil {
			return fmt.Errorf("append batch %d: %w", i, err)
		}
		if take {
			rec.Release()
			recs[i] = nil
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("encode end of stream: %w", err)
	}
	return db.appendChunk(st, &buf)
}

// appendChunk passes the buffered bytes to the engine, which copies them, and
// empties the buffer for reuse.
func (db *DB) appendChunk(st uintptr, buf *bytes.Buffer) error {
	defer buf.Reset()
	if buf.Len() == 0 {
		return nil
	}
	b := buf.Bytes()
	ok := db.lib.streamAppend(st, &b[0], uintptr(len(b))) == 0
	runtime.KeepAlive(b)
	if !ok {
		return db.insertError(st)
	}
	return nil
}

// finishInsert commits the INSERT and reports the engine's verdict.
func (db *DB) finishInsert(st uintptr) error {
	res := db.lib.streamDone(st)
	if res == 0 {
		return db.insertError(st)
	}
	defer db.lib.destroyResult(res)
	if msg := db.lib.resultError(res); msg != "" {
		return engineError(msg)
	}
	return nil
}

func (db *DB) insertError(st uintptr) error {
	if msg := db.lib.streamInsertError(st); msg != "" {
		return engineError(msg)
	}
	return errors.New("insert stream failed without a message")
}
