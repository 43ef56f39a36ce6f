package clickhouse

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pierrec/lz4/v4"

	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
)

// slowInserter is an inserter whose inserts take a while; it counts the
// inserts in flight at once and the gatherers it made.
type slowInserter struct {
	mu             sync.Mutex
	sending, most  int
	made, inserted int
}

func (i *slowInserter) exec(context.Context, string) error            { return nil }
func (i *slowInserter) query(context.Context, string) (string, error) { return "", nil }
func (i *slowInserter) inflight() int                                 { return maxInflight }
func (i *slowInserter) close() error                                  { return nil }
func (i *slowInserter) encoder() string                               { return "none" }

func (i *slowInserter) gatherer(*arrow.Schema) gatherer {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.made++
	return &slowGatherer{ins: i}
}

type slowGatherer struct {
	ins  *slowInserter
	rows int64
}

func (g *slowGatherer) add(rec arrow.RecordBatch) error { g.rows += rec.NumRows(); return nil }
func (g *slowGatherer) reset()                          { g.rows = 0 }
func (g *slowGatherer) held() int64                     { return 0 }

func (g *slowGatherer) send(context.Context, string, string) error {
	i := g.ins
	i.mu.Lock()
	i.sending++
	i.most = max(i.most, i.sending)
	i.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	i.mu.Lock()
	i.sending--
	i.inserted++
	i.mu.Unlock()
	return nil
}

// int64Batch is a batch of n rows of one int64 column.
func int64Batch(n int) arrow.RecordBatch {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for k := range n {
		b.Append(int64(k))
	}
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, int64(n))
}

// TestSink_insertsShareSlots loads two files side by side into a sink of
// two connections: each file alone may keep two inserts in flight, but
// together they keep two, and the gatherers they fill are no more than
// those two and one gathering a file. Each file kept two of its own
// before, six gatherers in all.
func TestSink_insertsShareSlots(t *testing.T) {
	ins := &slowInserter{}
	opt := Options{Conns: 2, InsertRows: 10}
	opt.defaults(Target{})
	s := newSink(Target{}, opt, ins)
	rec := int64Batch(10)
	defer rec.Release()

	const files, inserts = 2, 30
	var wg sync.WaitGroup
	for range files {
		wg.Go(func() {
			f := &fileSink{sink: s}
			for range inserts {
				if err := f.Write(parquet.Partition{}, rec); err != nil {
					t.Error(err)
					return
				}
			}
			if err := f.finish(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ins.inserted != files*inserts {
		t.Fatalf("%d inserts sent, want %d", ins.inserted, files*inserts)
	}
	if ins.most > opt.Conns {
		t.Errorf("%d inserts in flight at once, want %d at most", ins.most, opt.Conns)
	}
	if ins.made > opt.Conns+files {
		t.Errorf("%d gatherers made, want %d at most (the slots and one gathering a file)", ins.made, opt.Conns+files)
	}

	// Alone, a file keeps two in flight.
	ins.most = 0
	f := &fileSink{sink: s}
	for range inserts {
		if err := f.Write(parquet.Partition{}, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.finish(); err != nil {
		t.Fatal(err)
	}
	if ins.most != maxInflight {
		t.Errorf("a file alone kept %d inserts in flight, want %d", ins.most, maxInflight)
	}
}

// TestPacked_readBackInSlices: a native insert's stream holds a large
// batch in slices of about packedBytes, so that sending it decodes a slice
// at a time; it held the whole batch, 22 MB of a resolver's, before. The
// rows read back are the batch's, in order.
func TestPacked_readBackInSlices(t *testing.T) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	for k := range 100_000 {
		b.Append(strings.Repeat(string(rune('a'+k%26)), 300))
	}
	col := b.NewArray()
	b.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	rec := array.NewRecordBatch(s, []arrow.Array{col}, int64(col.Len()))
	col.Release()
	defer rec.Release()
	if load.RecordBytes(rec) < 2*packedBytes {
		t.Fatalf("the batch holds %d bytes, want more than two slices' %d", load.RecordBytes(rec), 2*packedBytes)
	}

	p := &packed{body: body{schema: s, encoding: "lz4"}}
	if err := p.add(rec); err != nil {
		t.Fatal(err)
	}
	if err := p.body.finish(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(lz4.NewReader(p.body.buf.reader()), ipc.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var off, slices int64
	for r.Next() {
		got := r.RecordBatch()
		if n := load.RecordBytes(got); n > packedBytes+packedBytes/8 {
			t.Errorf("slice %d holds %d bytes, want about %d at most", slices, n, packedBytes)
		}
		want := rec.NewSlice(off, off+got.NumRows())
		if !array.RecordEqual(got, want) {
			t.Errorf("slice %d (rows %d to %d) differs from the batch's rows", slices, off, off+got.NumRows())
		}
		want.Release()
		off += got.NumRows()
		slices++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if off != rec.NumRows() || slices < 2 {
		t.Errorf("read back %d rows in %d slices, want %d rows in several", off, slices, rec.NumRows())
	}
}

// TestBody_lz4Blocks: an LZ4 body's frame declares 256 KiB blocks, whose
// buffers its writer (and a native insert's reader) hold, not 4 MiB.
func TestBody_lz4Blocks(t *testing.T) {
	rec := int64Batch(1000)
	defer rec.Release()
	b := body{schema: rec.Schema(), encoding: "lz4"}
	if err := b.add(rec); err != nil {
		t.Fatal(err)
	}
	if err := b.finish(); err != nil {
		t.Fatal(err)
	}
	var frame bytes.Buffer
	if _, err := frame.ReadFrom(b.buf.reader()); err != nil {
		t.Fatal(err)
	}
	// Magic number, FLG, then BD: the block's maximum size in bits 6-4,
	// 5 for 256 KiB (7 for 4 MiB).
	head := frame.Bytes()
	if len(head) < 6 || !bytes.Equal(head[:4], []byte{0x04, 0x22, 0x4d, 0x18}) {
		t.Fatalf("not an LZ4 frame: % x", head[:min(len(head), 6)])
	}
	if size := head[5] >> 4 & 7; size != 5 {
		t.Errorf("frame blocks of size code %d, want 5 (256 KiB)", size)
	}
}

// keptInserter's inserts are LZ4 bodies as the HTTP sink's, kept rather
// than sent: it records the bytes each held.
type keptInserter struct {
	slowInserter
	schema *arrow.Schema // the batches'
	held   []int64
}

func (i *keptInserter) gatherer(*arrow.Schema) gatherer {
	return &keptBody{body: body{schema: i.schema, encoding: "lz4"}, ins: i}
}

type keptBody struct {
	body
	ins *keptInserter
}

func (k *keptBody) send(context.Context, string, string) error {
	if err := k.finish(); err != nil {
		return err
	}
	k.ins.mu.Lock()
	defer k.ins.mu.Unlock()
	k.ins.held = append(k.ins.held, k.buf.size())
	return nil
}

// TestSink_insertsEndAtHeldBytes: an insert ends once its compressed body
// holds InsertHeld, whatever its rows and Arrow bytes. Rows that compress
// little (zone transfers' 64 KiB responses: 70 MB of LZ4 an insert) made
// one insert of a whole file before.
func TestSink_insertsEndAtHeldBytes(t *testing.T) {
	const batch, batches, bound = 1000, 60, 1 << 20
	rnd := rand.New(rand.NewPCG(1, 2))
	b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	for range batch {
		v := make([]byte, 200)
		for k := range v {
			v[k] = byte(rnd.Uint32())
		}
		b.Append(v)
	}
	col := b.NewArray()
	b.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.BinaryTypes.Binary}}, nil)
	rec := array.NewRecordBatch(s, []arrow.Array{col}, batch)
	col.Release()
	defer rec.Release()

	ins := &keptInserter{schema: s}
	opt := Options{Conns: 1, InsertRows: 1 << 30, InsertBytes: 1 << 40, InsertHeld: bound}
	opt.defaults(Target{})
	f := &fileSink{sink: newSink(Target{}, opt, ins)}
	for range batches {
		if err := f.Write(parquet.Partition{}, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.finish(); err != nil {
		t.Fatal(err)
	}
	var all int64
	for _, n := range ins.held {
		all += n
	}
	// Each but the last ends at the first batch past the bound, with its
	// compressor's last block.
	most := bound + load.RecordBytes(rec) + 256<<10
	if len(ins.held) < int(all/most) || len(ins.held) < 2 {
		t.Fatalf("%d inserts of %d bytes in all, want one every %d bytes at most", len(ins.held), all, most)
	}
	for k, n := range ins.held[:len(ins.held)-1] {
		if n < bound || n > most {
			t.Errorf("insert %d held %d bytes, want %d to %d", k, n, bound, most)
		}
	}
}
