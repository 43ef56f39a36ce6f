package schema_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/schema"
)

// makeRows returns n rows whose ID, name and answers follow seq, so that
// two batches hold different values in every kind of column.
func makeRows(n, seq int) []*schema.Row {
	frame := &packet.Frame{IPVersion: 4, Protocol: 17, SrcPort: 53, DstPort: 40000,
		Src: netip.MustParseAddr("192.0.2.53"), Dst: netip.MustParseAddr("198.51.100.7")}
	rows := make([]*schema.Row, n)
	for i := range n {
		name := []byte(fmt.Sprintf("host%d-%d.example", seq, i))
		msg := &dnsmsg.Message{ID: uint16(seq*1000 + i), QR: i%2 == 0, QDCount: 1,
			Questions: []dnsmsg.Question{{Name: name, Type: 1, Class: 1}},
			Answer:    []dnsmsg.RR{{Name: name, Type: 1, Class: 1, TTL: uint32(seq), Data: name}},
		}
		rows[i] = &schema.Row{Time: int64(seq), Sensor: "s", File: "f", Frame: uint64(i), Net: frame, DNS: msg}
	}
	return rows
}

// build appends rows to b and returns them as a batch.
func build(b *schema.Builder, rows []*schema.Row) arrow.RecordBatch {
	for _, r := range rows {
		b.Append(r)
	}
	return b.NewRecord()
}

// dump renders every value of rec, to compare batches whole.
func dump(rec arrow.RecordBatch) string {
	var s strings.Builder
	for _, c := range rec.Columns() {
		for i := range c.Len() {
			s.WriteString(c.ValueStr(i))
			s.WriteByte(',')
		}
		s.WriteByte('\n')
	}
	return s.String()
}

// TestBuilder_NewRecordReuse checks that a batch keeps its values while it
// is held, whatever the Builder builds meanwhile, and that the slices of
// released batches are reused rather than allocated again.
func TestBuilder_NewRecordReuse(t *testing.T) {
	const n = 4096
	first, other := makeRows(n, 1), makeRows(n, 2)
	b := schema.NewBuilder()
	held := build(b, first)
	want := dump(held)

	// Batches built and released while the first is held must not reuse
	// its slices.
	for range 3 {
		build(b, other).Release()
	}
	if got := dump(held); got != want {
		t.Fatal("a held batch changed while the builder built others")
	}
	held.Release()

	// A batch built in reused slices holds its own values.
	again := build(b, first)
	if got := dump(again); got != want {
		t.Error("a batch built in reused slices differs from the same rows built afresh")
	}
	again.Release()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rec := build(b, other)
	runtime.ReadMemStats(&after)
	size := recordBytes(rec)
	rec.Release()
	// The arrays and their headers allocate; the slices, most of the
	// batch's bytes, must not.
	if got := after.TotalAlloc - before.TotalAlloc; got > size/8 {
		t.Errorf("a batch of %d bytes allocated %d, want its slices reused", size, got)
	}
}

// recordBytes is the size of rec's buffers, children included.
func recordBytes(rec arrow.RecordBatch) uint64 {
	var n uint64
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += uint64(b.Len())
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
	}
	for _, c := range rec.Columns() {
		add(c.Data())
	}
	return n
}

// TestBuilder_SizeCountsExpandedText: a name compressed in the message is
// stored whole in every row and record that names it, and Size must count
// it so: a batch cut by size must not overflow Arrow's 32-bit offsets.
// A capture of 64 KiB responses whose 5,000 answers all point at one
// 245-byte name once grew one batch past 2 GiB.
func TestBuilder_SizeCountsExpandedText(t *testing.T) {
	rows := makeRows(1, 1)
	name := []byte(strings.Repeat("a", 245))
	answers := make([]dnsmsg.RR, 5000)
	for i := range answers {
		answers[i] = dnsmsg.RR{Name: name, Type: 5, Class: 1, Data: name}
	}
	rows[0].DNS.Answer = answers
	b := schema.NewBuilder()
	b.Append(rows[0])
	if min := 2 * len(answers) * len(name); b.Size() < min {
		t.Errorf("Size = %d after a row holding %d bytes of answer text", b.Size(), min)
	}
	b.NewRecord().Release()
	if b.Size() != 0 {
		t.Errorf("Size = %d after NewRecord, want 0", b.Size())
	}
}

// TestBuilder_SizeBoundsArrowBytes: Size must not fall short of the Arrow
// bytes a batch holds, or a batch cut by size holds more than its bound;
// nor run far above them, or batches are cut before their rows.
// A 64 KiB response of 4,000 address records, each a two-byte pointer to
// the question's name, holds 21 bytes of text a record and 16 bytes of
// numbers and offsets: counted by its text alone, its batches held twice
// what their bound allowed, and a Parquet export of such responses peaked
// at 272 MiB on one file.
func TestBuilder_SizeBoundsArrowBytes(t *testing.T) {
	many := makeRows(4, 1)
	for _, r := range many {
		answers := make([]dnsmsg.RR, 4000)
		for i := range answers {
			answers[i] = dnsmsg.RR{Name: []byte("example.com"), Type: 1, Class: 1, TTL: 3600,
				Data: []byte(fmt.Sprintf("10.0.%d.%d", i>>8, i&0xff))}
		}
		r.DNS.Answer = answers
	}
	for name, rows := range map[string][]*schema.Row{"typical": makeRows(1000, 1), "many records": many} {
		b := schema.NewBuilder()
		for _, r := range rows {
			b.Append(r)
		}
		size := b.Size()
		rec := b.NewRecord()
		// Each array's offsets end once more a batch, not a row.
		if held := recordBytes(rec); uint64(size)+1024 < held || uint64(size) > held*5/4 {
			t.Errorf("%s: Size %d for a batch of %d Arrow bytes, want about as many", name, size, held)
		}
		rec.Release()
	}
}

// TestBuilder_labels checks the label columns' dictionaries: each batch
// holds its own distinct values once, in the order first seen, whether
// found by scanning or, past a few, by map; and SetFileHash rewrites the
// rows held, not those of the batch before.
func TestBuilder_labels(t *testing.T) {
	b := schema.NewBuilder()
	rows := makeRows(40, 1)
	for i, r := range rows {
		r.File = fmt.Sprintf("f%d", i%20) // 20 values: past the scan
		r.Sensor = []string{"a", "b"}[i%2]
		r.FileHash = "h"
	}
	rec := build(b, rows)
	defer rec.Release()
	col := func(rec arrow.RecordBatch, name string) arrow.Array {
		return rec.Column(rec.Schema().FieldIndices(name)[0])
	}
	for i, r := range rows {
		if got := schema.Label(col(rec, "file"), i); got != r.File {
			t.Fatalf("row %d: file %q, want %q", i, got, r.File)
		}
		if got := schema.Label(col(rec, "sensor"), i); got != r.Sensor {
			t.Fatalf("row %d: sensor %q, want %q", i, got, r.Sensor)
		}
	}
	for name, want := range map[string]int{"file": 20, "sensor": 2, "file_hash": 1, "transport": 1} {
		if n := col(rec, name).(*array.Dictionary).Dictionary().Len(); n != want {
			t.Errorf("%s: dictionary of %d values, want %d", name, n, want)
		}
	}

	// A label's value counts once a batch in its size, however many rows
	// carry it.
	short, long := schema.NewBuilder(), schema.NewBuilder()
	for _, r := range makeRows(50, 3) {
		short.Append(r)
		r.File = strings.Repeat("p", 1001)
		long.Append(r)
	}
	if d := long.Size() - short.Size(); d != 1000 {
		t.Errorf("a path 1000 bytes longer on 50 rows adds %d bytes to the batch's size, want 1000", d)
	}

	// The next batch starts a dictionary of its own.
	more := makeRows(3, 2)
	for _, r := range more {
		r.File, r.FileHash = "g", "stand-in"
	}
	b.Append(more[0])
	b.Append(more[1])
	b.SetFileHash("real")
	b.Append(more[2]) // carries stand-in: set after SetFileHash, it keeps it
	next := b.NewRecord()
	defer next.Release()
	got := []string{}
	for i := range 3 {
		got = append(got, schema.Label(col(next, "file"), i)+"/"+schema.Label(col(next, "file_hash"), i))
	}
	if want := "g/real g/real g/stand-in"; strings.Join(got, " ") != want {
		t.Errorf("second batch %v, want %s", got, want)
	}
	if d := col(next, "file").(*array.Dictionary).Dictionary(); d.Len() != 1 {
		t.Errorf("second batch's file dictionary holds %d values, want 1", d.Len())
	}
	// The first batch is intact.
	if got := schema.Label(col(rec, "file"), 39); got != "f19" {
		t.Errorf("first batch's last file %q after the second was built, want f19", got)
	}
}

// TestBuilder_addresses checks the 16 bytes stored for each kind of
// address: IPv4 mapped into IPv6, IPv6 as it is and without its zone, and
// none (a row of no IP packet) as zeros, also over bytes a batch before
// left in a reused slice.
func TestBuilder_addresses(t *testing.T) {
	addrs := []string{"192.0.2.1", "2001:db8::53", "fe80::1%eth0", "::ffff:198.51.100.7", "", "::"}
	b := schema.NewBuilder()
	for range 2 {
		var rows []*schema.Row
		for _, s := range addrs {
			var a netip.Addr
			if s != "" {
				a = netip.MustParseAddr(s)
			}
			r := makeRows(1, 0)[0]
			f := *r.Net
			f.Src, f.Dst = a, netip.MustParseAddr("2001:db8::ffff:ffff")
			r.Net = &f
			rows = append(rows, r)
		}
		rec := build(b, rows)
		src := rec.Column(rec.Schema().FieldIndices("src_addr")[0]).(*array.FixedSizeBinary)
		for i, s := range addrs {
			var want [16]byte
			if s != "" {
				want = netip.MustParseAddr(s).As16()
			}
			if got := src.Value(i); string(got) != string(want[:]) {
				t.Errorf("%q stored as %x, want %x", s, got, want)
			}
		}
		rec.Release()
		slices.Reverse(addrs) // other bytes under each row the second time
	}
}

// TestBuilder_smallerBatchesLetGo: when batches get smaller (the loader
// ends them sooner while its decoder holds much), the slices of the large
// ones are let go rather than kept for every batch after; but batches
// alternating large and small keep them.
func TestBuilder_smallerBatchesLetGo(t *testing.T) {
	b := schema.NewBuilder()
	large := build(b, makeRows(32768, 1))
	size := recordBytes(large)
	large.Release()

	smalls, larges := make([][]*schema.Row, 4), make([][]*schema.Row, 4)
	for i := range 4 {
		smalls[i], larges[i] = makeRows(64, 10+i), makeRows(32768, 20+i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 4 {
		build(b, smalls[i]).Release()
		build(b, larges[i]).Release()
	}
	runtime.ReadMemStats(&after)
	// Each batch allocates its arrays (an eighth of it at most, see
	// TestBuilder_NewRecordReuse); grown again, the large ones' slices
	// were their size each time.
	if got := after.TotalAlloc - before.TotalAlloc; got > size {
		t.Errorf("4 large batches among small ones allocated %d bytes; one is %d", got, size)
	}

	for i := range 3 {
		build(b, makeRows(64, 2+i)).Release()
	}
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	if kept := int64(with.HeapAlloc) - int64(without.HeapAlloc); kept > int64(size)/4 {
		t.Errorf("after small batches the builder keeps %d bytes; the large batch was %d", kept, size)
	}
}
