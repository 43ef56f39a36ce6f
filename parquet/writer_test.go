package parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// records decodes a generated capture of n messages into batches of at
// most batch rows.
func records(t testing.TB, n, batch int) []arrow.RecordBatch {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Seed: 7, Messages: n, Malformed: 0.01}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	dec := ingest.NewDecoder(ingest.Config{Sensor: "s1"})
	b := schema.NewBuilder()
	var recs []arrow.RecordBatch
	var st ingest.FileStats
	err := dec.DecodeFile(ingest.Input{Path: path}, &st, nil, func(r *schema.Row) error {
		b.Append(r)
		if b.Len() == batch {
			recs = append(recs, b.NewRecord())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() > 0 {
		recs = append(recs, b.NewRecord())
	}
	t.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return recs
}

func write(t testing.TB, recs []arrow.RecordBatch) string {
	t.Helper()
	dir := t.TempDir()
	f, err := parquet.Dir{Root: dir}.Create(parquet.Partition{Day: 20000, Sensor: "s1"}, "out", schema.Arrow())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := f.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, parquet.Partition{Day: 20000, Sensor: "s1"}.Path(), "out.parquet")
}

// TestWrite_readBack writes generated batches, with pages cut small so
// that every column chunk spans several, and reads them back with
// arrow-go's reader: every column of every row must come back equal, and
// the statistics must bound the values.
func TestWrite_readBack(t *testing.T) {
	for _, page := range []int{300, 1 << 20} {
		t.Run(fmt.Sprintf("pages of %d bytes", page), func(t *testing.T) {
			defer parquet.SetPageBytes(page)()
			recs := records(t, 6000, 2500)
			path := write(t, recs)

			pf, err := file.OpenParquetFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			if got, want := pf.NumRowGroups(), len(recs); got != want {
				t.Fatalf("%d row groups, want %d", got, want)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			want := array.NewTableFromRecords(schema.Arrow(), recs)
			defer want.Release()
			for i, w := range want.Schema().Fields() {
				// The reader adds field IDs as metadata; the rest must hold.
				g := got.Schema().Field(i)
				if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) || g.Nullable != w.Nullable {
					t.Fatalf("field %d read back as %s, want %s", i, g, w)
				}
			}
			if got.NumRows() != want.NumRows() {
				t.Fatalf("%d rows read back, want %d", got.NumRows(), want.NumRows())
			}
			for i := range int(want.NumCols()) {
				if !array.ChunkedEqual(got.Column(i).Data(), want.Column(i).Data()) {
					t.Errorf("column %s differs", want.Schema().Field(i).Name)
				}
			}
			checkStats(t, pf.MetaData(), recs)
		})
	}
}

// checkStats checks each row group's min and max of time and qname.
func checkStats(t *testing.T, md *metadata.FileMetaData, recs []arrow.RecordBatch) {
	t.Helper()
	idx := func(name string) int { return schema.Arrow().FieldIndices(name)[0] }
	for g, rec := range recs {
		rg := md.RowGroup(g)
		times := rec.Column(idx("time")).(*array.Timestamp)
		lo, hi := times.Value(0), times.Value(0)
		for _, v := range times.TimestampValues() {
			lo, hi = min(lo, v), max(hi, v)
		}
		cc, err := rg.ColumnChunk(idx("time"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := cc.Statistics()
		if err != nil || st == nil {
			t.Fatalf("row group %d: time has no statistics (%v)", g, err)
		}
		ts := st.(*metadata.Int64Statistics)
		if ts.Min() != int64(lo) || ts.Max() != int64(hi) {
			t.Errorf("row group %d: time statistics %d..%d, want %d..%d", g, ts.Min(), ts.Max(), lo, hi)
		}

		names := rec.Column(idx("qname")).(*array.String)
		nlo, nhi := names.Value(0), names.Value(0)
		for i := range names.Len() {
			nlo, nhi = min(nlo, names.Value(i)), max(nhi, names.Value(i))
		}
		cc, err = rg.ColumnChunk(idx("qname")) // one leaf per column: lists have one too
		if err != nil {
			t.Fatal(err)
		}
		st, err = cc.Statistics()
		if err != nil || st == nil {
			t.Fatalf("row group %d: qname has no statistics (%v)", g, err)
		}
		bs := st.(*metadata.ByteArrayStatistics)
		if !bytes.Equal(bs.Min(), []byte(nlo)) || !bytes.Equal(bs.Max(), []byte(nhi)) {
			t.Errorf("row group %d: qname statistics %q..%q, want %q..%q", g, bs.Min(), bs.Max(), nlo, nhi)
		}
	}
}

// TestWrite_clickhouse reads a written file with ClickHouse's file() and
// compares aggregates over every kind of column with the batches', and
// filtered counts that row-group statistics could wrongly prune.
func TestWrite_clickhouse(t *testing.T) {
	testenv.RequireCHDB(t)
	defer parquet.SetPageBytes(4096)()
	recs := records(t, 20000, 6000)
	path := write(t, recs)

	var frames, latency uint64
	var rows, ports, responses, answers, answerBytes, ttls, rawBytes, addrByte, tcp, edns int64
	var mid arrow.Timestamp
	var name string
	var after, named int64
	idx := func(name string) int { return schema.Arrow().FieldIndices(name)[0] }
	for i, rec := range recs {
		if i == len(recs)/2 {
			mid = rec.Column(idx("time")).(*array.Timestamp).Value(0)
			name = rec.Column(idx("qname")).(*array.String).Value(int(rec.NumRows()) / 2)
		}
	}
	for _, rec := range recs {
		rows += rec.NumRows()
		ts := rec.Column(idx("time")).(*array.Timestamp)
		qn := rec.Column(idx("qname")).(*array.String)
		ad := rec.Column(idx("answer_data")).(*array.List)
		adv := ad.ListValues().(*array.String)
		tl := rec.Column(idx("answer_ttls")).(*array.List).ListValues().(*array.Uint32)
		for i := range int(rec.NumRows()) {
			ports += int64(rec.Column(idx("src_port")).(*array.Uint16).Value(i))
			frames += rec.Column(idx("frame")).(*array.Uint64).Value(i)
			latency += uint64(rec.Column(idx("latency_ns")).(*array.Int64).Value(i))
			if rec.Column(idx("qr")).(*array.Boolean).Value(i) {
				responses++
			}
			if rec.Column(idx("edns")).(*array.Boolean).Value(i) {
				edns++
			}
			if rec.Column(idx("transport")).(*array.String).Value(i) == "tcp" {
				tcp++
			}
			rawBytes += int64(len(rec.Column(idx("raw")).(*array.Binary).Value(i)))
			addrByte += int64(rec.Column(idx("src_addr")).(*array.FixedSizeBinary).Value(i)[15])
			s, e := ad.ValueOffsets(i)
			answers += e - s
			for j := s; j < e; j++ {
				answerBytes += int64(len(adv.Value(int(j))))
			}
			if ts.Value(i) >= mid {
				after++
			}
			if qn.Value(i) == name {
				named++
			}
		}
		for _, v := range tl.Uint32Values() {
			ttls += int64(v)
		}
	}
	want := fmt.Sprintf("%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", rows, frames, latency, ports, responses, edns, tcp, rawBytes, addrByte,
		answers, answerBytes, ttls, after, named)

	db, err := chdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := fmt.Sprintf("file('%s', Parquet)", path)
	q := fmt.Sprintf(`SELECT count(), sum(frame), sum(toUInt64(latency_ns)), sum(src_port), countIf(qr), countIf(edns), countIf(transport = 'tcp'),
		sum(length(raw)), sum(reinterpretAsUInt8(substring(src_addr, 16, 1))),
		sum(length(answer_data)), sum(arraySum(x -> length(x), answer_data)), sum(arraySum(answer_ttls)),
		(SELECT count() FROM %[1]s WHERE toUnixTimestamp64Nano(time) >= %[2]d),
		(SELECT count() FROM %[1]s WHERE qname = '%[3]s')
		FROM %[1]s`, src, int64(mid), name)
	out, err := db.Query(context.Background(), q, "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("ClickHouse read %q, want %q", out, want)
	}
	if named == 0 || after == 0 || after == rows || answers == 0 || tcp == 0 || rawBytes == 0 {
		t.Errorf("the input exercises too little: %s", want)
	}
}
