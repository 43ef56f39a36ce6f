package clickhouse

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
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
	const bound = 1 << 20
	rec := randomBatch(1000, 200)
	defer rec.Release()
	held := insertsHeld(t, rec, 60, Options{InsertHeld: bound}, 0)
	checkInsertsEnd(t, held, bound, rec)
}

// TestSink_insertsEndSoonerAsTheWorkerHolds: beside a decoder holding more
// than holdingSlack (load.HoldingFileSink), inserts end at InsertHeld less
// the excess, minInsertHeld at least, or a quarter of InsertHeld when that
// is less (several servers share one). Two files that filled the
// decoder's bounds and then the inserts peaked at 273-308 MiB into a
// server, and at 256-268 MiB into two servers and Parquet.
func TestSink_insertsEndSoonerAsTheWorkerHolds(t *testing.T) {
	const bound = 16 << 20
	rec := randomBatch(1000, 1000)
	defer rec.Release()
	for _, tt := range []struct {
		holding int
		want    int64
	}{
		{0, bound},
		{holdingSlack, bound},
		{holdingSlack + 5<<20, bound - 5<<20},
		{32 << 20, minInsertHeld},
		{200 << 20, minInsertHeld},
	} {
		t.Run(fmt.Sprint(tt.holding>>20, "MiB"), func(t *testing.T) {
			held := insertsHeld(t, rec, 30, Options{InsertHeld: bound}, tt.holding)
			checkInsertsEnd(t, held, tt.want, rec)
		})
	}
	t.Run("shared by two servers", func(t *testing.T) {
		held := insertsHeld(t, rec, 30, Options{InsertHeld: 8 << 20}, 32<<20)
		checkInsertsEnd(t, held, 2<<20, rec)
	})
	opt := Options{InsertHeld: 1 << 20}
	if got := opt.heldBound(64 << 20); got != 256<<10 {
		t.Errorf("InsertHeld of 1 MiB holding 64 MiB: inserts end at %d bytes, want a quarter of it", got)
	}
}

// randomBatch returns a batch of rows binary values of size random bytes:
// LZ4 leaves them as they are.
func randomBatch(rows, size int) arrow.RecordBatch {
	rnd := rand.New(rand.NewPCG(1, 2))
	b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	for range rows {
		v := make([]byte, size)
		for k := range v {
			v[k] = byte(rnd.Uint32())
		}
		b.Append(v)
	}
	col := b.NewArray()
	b.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.BinaryTypes.Binary}}, nil)
	rec := array.NewRecordBatch(s, []arrow.Array{col}, int64(rows))
	col.Release()
	return rec
}

// insertsHeld writes rec batches times into a file sink of opt over a
// keptInserter, the worker holding holding bytes, and returns the
// compressed bytes of each insert.
func insertsHeld(t *testing.T, rec arrow.RecordBatch, batches int, opt Options, holding int) []int64 {
	t.Helper()
	ins := &keptInserter{schema: rec.Schema()}
	opt.Conns, opt.InsertRows, opt.InsertBytes = 1, 1<<30, 1<<40
	opt.defaults(Target{})
	f := &fileSink{sink: newSink(Target{}, opt, ins)}
	for range batches {
		if err := f.WriteHolding(parquet.Partition{}, rec, holding); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.finish(); err != nil {
		t.Fatal(err)
	}
	return ins.held
}

// checkInsertsEnd checks that each insert but the last ended at the first
// batch past bound, with its compressor's last block. Inserts in flight
// side by side end in any order: held is sorted, the last the smallest.
func checkInsertsEnd(t *testing.T, held []int64, bound int64, rec arrow.RecordBatch) {
	t.Helper()
	var all int64
	for _, n := range held {
		all += n
	}
	most := bound + load.RecordBytes(rec) + 256<<10
	if len(held) < int(all/most) || len(held) < 2 {
		t.Fatalf("%d inserts of %d bytes in all, want one every %d bytes at most", len(held), all, most)
	}
	held = slices.Clone(held)
	slices.SortFunc(held, func(a, b int64) int { return cmp.Compare(b, a) })
	for _, n := range held[:len(held)-1] {
		if n < bound || n > most {
			t.Errorf("inserts held %d bytes, want %d to %d each but the last: %v", n, bound, most, held)
			return
		}
	}
}
