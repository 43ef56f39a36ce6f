package clickhouse

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/zstd"
)

// TestBody_zstdEncoderGoesOn: a finished zstd body, kept until its insert
// ends, keeps its bytes and not its encoder, whose history of twice its
// window the next body takes; bodies made one after the other, each
// possibly with the encoder of the one before, read back as their batch.
func TestBody_zstdEncoderGoesOn(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for i := range 3 {
		rec := randomBatch(200, 100*(i+1))
		b := &body{schema: rec.Schema(), encoding: "zstd"}
		if err := b.add(rec); err != nil {
			t.Fatal(err)
		}
		if err := b.finish(); err != nil {
			t.Fatal(err)
		}
		if b.zw != nil {
			t.Fatalf("body %d keeps its encoder once finished", i)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(b.buf.reader()); err != nil {
			t.Fatal(err)
		}
		raw, err := dec.DecodeAll(buf.Bytes(), nil)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		r, err := ipc.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if !r.Next() || !array.RecordEqual(r.RecordBatch(), rec) {
			t.Errorf("body %d reads back otherwise than its batch (%v)", i, r.Err())
		}
		r.Release()
		rec.Release()
	}
}
