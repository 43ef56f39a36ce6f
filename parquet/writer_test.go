package parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	return writeAs(t, schema.Arrow(), recs)
}

// writeAs is write with batches of schema s.
func writeAs(t testing.TB, s *arrow.Schema, recs []arrow.RecordBatch) string {
	t.Helper()
	dir := t.TempDir()
	f, err := parquet.Dir{Root: dir}.Create(parquet.Partition{Day: 20000, Sensor: "s1"}, "out", s)
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
	for _, tt := range []struct{ page, dict, msgs, batch int }{
		{300, 1 << 20, 6000, 2500},
		{1 << 20, 1 << 20, 6000, 2500},
		// Row groups with more IDs than a small dictionary holds: the
		// second one writes id and the ports plain.
		{1 << 20, 1 << 20, 40000, 15000},
		// Dictionaries that fill within a chunk: its next pages are
		// plain, and the statistics take their values too.
		{2000, 3000, 6000, 2500},
	} {
		t.Run(fmt.Sprintf("%d messages, %d a row group, pages of %d bytes, dictionaries of %d", tt.msgs, tt.batch, tt.page, tt.dict), func(t *testing.T) {
			defer parquet.SetPageBytes(tt.page)()
			defer parquet.SetDictBytes(tt.dict)()
			recs := records(t, tt.msgs, tt.batch)
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
				// Label columns come back as the strings they hold.
				g := got.Schema().Field(i)
				if d, ok := w.Type.(*arrow.DictionaryType); ok {
					w.Type = d.ValueType
				}
				if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) || g.Nullable != w.Nullable {
					t.Fatalf("field %d read back as %s, want %s", i, g, w)
				}
			}
			if got.NumRows() != want.NumRows() {
				t.Fatalf("%d rows read back, want %d", got.NumRows(), want.NumRows())
			}
			for i := range int(want.NumCols()) {
				if _, ok := want.Schema().Field(i).Type.(*arrow.DictionaryType); ok {
					if g, w := labels(got.Column(i).Data()), labels(want.Column(i).Data()); g != w {
						t.Errorf("column %s differs: %.80q, want %.80q", want.Schema().Field(i).Name, g, w)
					}
					continue
				}
				if !array.ChunkedEqual(got.Column(i).Data(), want.Column(i).Data()) {
					t.Errorf("column %s differs", want.Schema().Field(i).Name)
				}
			}
			checkStats(t, pf.MetaData(), recs)
			if tt.dict < 1<<20 {
				for _, name := range []string{"qname", "src_addr", "answer_data"} {
					if enc := pageEncodings(t, pf, 0, name); !enc["PLAIN"] || !enc["RLE_DICTIONARY"] {
						t.Errorf("%s: pages encoded %v, want dictionary pages and then plain ones", name, enc)
					}
				}
			}
			if tt.batch > 2*4096 { // more IDs in row group 0 than a small dictionary holds
				cc, err := pf.MetaData().RowGroup(1).ColumnChunk(schema.Arrow().FieldIndices("id")[0])
				if err != nil {
					t.Fatal(err)
				}
				if cc.HasDictionaryPage() {
					t.Errorf("id has a dictionary in row group 1 (%v), want it plain", cc.Encodings())
				}
			}
		})
	}
}

// pageEncodings returns the encodings of the data pages of column name in
// row group g, by name.
func pageEncodings(t *testing.T, pf *file.Reader, g int, name string) map[string]bool {
	t.Helper()
	pr, err := pf.RowGroup(g).GetColumnPageReader(schema.Arrow().FieldIndices(name)[0])
	if err != nil {
		t.Fatal(err)
	}
	enc := map[string]bool{}
	for pr.Next() {
		if p := pr.Page(); p.Type().String() == "DATA_PAGE_V2" {
			enc[p.Encoding().String()] = true
		}
	}
	if err := pr.Err(); err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestWrite_labelsAsStrings writes the label columns as the batches hold
// them, Arrow dictionaries, and as plain strings: the files must be the
// same to the byte, dictionaries, page cuts, runs and schema alike, with
// pages cut small so that labels change within and across them.
func TestWrite_labelsAsStrings(t *testing.T) {
	for _, page := range []int{300, 1 << 20} {
		defer parquet.SetPageBytes(page)()
		recs := records(t, 6000, 2500)
		fields := schema.Arrow().Fields()
		for i, f := range fields {
			if d, ok := f.Type.(*arrow.DictionaryType); ok {
				fields[i].Type = d.ValueType
			}
		}
		plain := arrow.NewSchema(fields, nil)
		var strs []arrow.RecordBatch
		for _, rec := range recs {
			cols := make([]arrow.Array, rec.NumCols())
			for i, c := range rec.Columns() {
				if _, ok := c.DataType().(*arrow.DictionaryType); !ok {
					c.Retain()
					cols[i] = c
					continue
				}
				b := array.NewStringBuilder(memory.DefaultAllocator)
				for j := range c.Len() {
					b.Append(schema.Label(c, j))
				}
				cols[i] = b.NewArray()
				b.Release()
			}
			strs = append(strs, array.NewRecordBatch(plain, cols, rec.NumRows()))
			for _, c := range cols {
				c.Release()
			}
		}
		labeled, err := os.ReadFile(write(t, recs))
		if err != nil {
			t.Fatal(err)
		}
		asStrings, err := os.ReadFile(writeAs(t, plain, strs))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range strs {
			r.Release()
		}
		if !bytes.Equal(labeled, asStrings) {
			t.Errorf("pages of %d bytes: dictionary columns wrote %d bytes, the same as strings %d, not the same",
				page, len(labeled), len(asStrings))
		}
	}
}

// labels returns the values of a label column, read back as strings or
// built as a dictionary, one a line.
func labels(c *arrow.Chunked) string {
	var b strings.Builder
	for _, a := range c.Chunks() {
		for i := range a.Len() {
			if s, ok := a.(*array.String); ok {
				b.WriteString(s.Value(i))
			} else {
				b.WriteString(schema.Label(a, i))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
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

// sums are aggregates over every kind of column, and counts under filters
// that row-group statistics could wrongly prune, computed from the batches
// and asked of other Parquet readers.
type sums struct {
	mid  arrow.Timestamp // a time in the middle row group
	name string          // a qname of the middle row group

	rows, frames, latency, ports, responses, edns, tcp, rawBytes, addrs int64
	answers, answerBytes, ttls, after, named                            int64
}

func (s sums) String() string {
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", s.rows, s.frames, s.latency, s.ports,
		s.responses, s.edns, s.tcp, s.rawBytes, s.addrs, s.answers, s.answerBytes, s.ttls, s.after, s.named)
}

func sumsOf(t *testing.T, recs []arrow.RecordBatch) sums {
	var s sums
	idx := func(name string) int { return schema.Arrow().FieldIndices(name)[0] }
	mid := recs[len(recs)/2]
	s.mid = mid.Column(idx("time")).(*array.Timestamp).Value(0)
	s.name = mid.Column(idx("qname")).(*array.String).Value(int(mid.NumRows()) / 2)
	addrs := map[string]bool{}
	for _, rec := range recs {
		s.rows += rec.NumRows()
		ts := rec.Column(idx("time")).(*array.Timestamp)
		qn := rec.Column(idx("qname")).(*array.String)
		ad := rec.Column(idx("answer_data")).(*array.List)
		adv := ad.ListValues().(*array.String)
		for _, v := range rec.Column(idx("answer_ttls")).(*array.List).ListValues().(*array.Uint32).Uint32Values() {
			s.ttls += int64(v)
		}
		for i := range int(rec.NumRows()) {
			s.frames += int64(rec.Column(idx("frame")).(*array.Uint64).Value(i))
			s.latency += rec.Column(idx("latency_ns")).(*array.Int64).Value(i)
			s.ports += int64(rec.Column(idx("src_port")).(*array.Uint16).Value(i))
			if rec.Column(idx("qr")).(*array.Boolean).Value(i) {
				s.responses++
			}
			if rec.Column(idx("edns")).(*array.Boolean).Value(i) {
				s.edns++
			}
			if schema.Label(rec.Column(idx("transport")), i) == "tcp" {
				s.tcp++
			}
			s.rawBytes += int64(len(rec.Column(idx("raw")).(*array.Binary).Value(i)))
			addrs[string(rec.Column(idx("src_addr")).(*array.FixedSizeBinary).Value(i))] = true
			b, e := ad.ValueOffsets(i)
			s.answers += e - b
			for j := b; j < e; j++ {
				s.answerBytes += int64(len(adv.Value(int(j))))
			}
			if ts.Value(i) >= s.mid {
				s.after++
			}
			if qn.Value(i) == s.name {
				s.named++
			}
		}
	}
	s.addrs = int64(len(addrs))
	if s.named == 0 || s.after == 0 || s.after == s.rows || s.answers == 0 || s.tcp == 0 || s.rawBytes == 0 {
		t.Fatalf("the input exercises too little: %s", s)
	}
	return s
}

// TestWrite_clickhouse reads a written file with ClickHouse's file(). Its
// dictionaries fill within chunks, whose next pages are plain.
func TestWrite_clickhouse(t *testing.T) {
	testenv.RequireCHDB(t)
	defer parquet.SetPageBytes(4096)()
	defer parquet.SetDictBytes(16384)()
	recs := records(t, 20000, 6000)
	path := write(t, recs)
	want := sumsOf(t, recs)

	db, err := chdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := fmt.Sprintf("file('%s', Parquet)", path)
	q := fmt.Sprintf(`SELECT count(), sum(frame), sum(latency_ns), sum(src_port), countIf(qr), countIf(edns),
		countIf(transport = 'tcp'), sum(length(raw)), uniqExact(src_addr),
		sum(length(answer_data)), sum(arraySum(x -> length(x), answer_data)), sum(arraySum(answer_ttls)),
		(SELECT count() FROM %[1]s WHERE toUnixTimestamp64Nano(time) >= %[2]d),
		(SELECT count() FROM %[1]s WHERE qname = '%[3]s')
		FROM %[1]s`, src, int64(want.mid), want.name)
	out, err := db.Query(context.Background(), q, "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != want.String() {
		t.Errorf("ClickHouse read %s, want %s", got, want)
	}
}

// TestWrite_duckdb reads a written file with DuckDB (for Node.js, which
// make test installs with scripts/fetch-duckdb.sh): a third reader, apart
// from arrow-go and ClickHouse, for the data scientists' tools. Its
// dictionaries fill within chunks too.
func TestWrite_duckdb(t *testing.T) {
	dir := os.Getenv("PCAPLOAD_DUCKDB")
	if dir == "" {
		testenv.Missing(t, "DuckDB for Node.js: PCAPLOAD_DUCKDB, which make test sets")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node, to run DuckDB: "+err.Error())
	}
	defer parquet.SetPageBytes(4096)()
	defer parquet.SetDictBytes(16384)()
	recs := records(t, 20000, 6000)
	path := write(t, recs)
	want := sumsOf(t, recs)

	q := fmt.Sprintf(`SELECT count(*), sum(frame), sum(latency_ns), sum(src_port), count_if(qr), count_if(edns),
		count_if(transport = 'tcp'), sum(octet_length(raw)), count(DISTINCT src_addr),
		sum(len(answer_data)), sum(coalesce(list_sum(list_transform(answer_data, x -> strlen(x))), 0)),
		sum(coalesce(list_sum(answer_ttls), 0)),
		(SELECT count(*) FROM p WHERE epoch_ns(time) >= %d),
		(SELECT count(*) FROM p WHERE qname = '%s')
		FROM p`, int64(want.mid), want.name)
	script := `const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
	const db = await DuckDBInstance.create(':memory:');
	const c = await db.connect();
	await c.run("CREATE VIEW p AS SELECT * FROM read_parquet('" + process.argv[1] + "')");
	const r = await c.runAndReadAll(process.argv[2]);
	console.log(r.getRows()[0].map(String).join(','));
})().catch(e => { console.error(e.message); process.exit(1); });`
	cmd := exec.Command(node, "-e", script, path, q)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != want.String() {
		t.Errorf("DuckDB read %s, want %s", got, want)
	}
}

// TestPartition_sensor: a sensor name is the folder's value as it is, and
// one that Hive-style readers would read back changed (sensorname.Check)
// makes no file.
func TestPartition_sensor(t *testing.T) {
	for _, name := range []string{"default", "ns1 eth0", "résolveur-2", "a:b", "x.y_z", strings.Repeat("s", 248)} {
		if got := (parquet.Partition{Sensor: name}).Path(); got != "date=1970-01-01/sensor="+name {
			t.Errorf("Path of %q = %q", name, got)
		}
	}
	for _, name := range []string{".", "..", "a/b", `a\b`, "a=b", "50%", "nl\nx", "\xff", strings.Repeat("s", 249)} {
		if _, err := (parquet.Dir{Root: t.TempDir()}).Create(parquet.Partition{Sensor: name}, "x", schema.Arrow()); err == nil {
			t.Errorf("Create with sensor %q = nil error", name)
		}
	}
}

// TestWrite_tinyPages writes a row group of a few rows, whose pages are
// too small for zstd to shrink and are stored as they are, then a large
// one: its pages are compressed again.
func TestWrite_tinyPages(t *testing.T) {
	tiny, large := records(t, 5, 5), records(t, 3000, 3000)
	path := write(t, []arrow.RecordBatch{tiny[0], large[0]})
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	col := schema.Arrow().FieldIndices("latency_ns")[0]
	for g, wantCompressed := range []bool{false, true} {
		cc, err := pf.MetaData().RowGroup(g).ColumnChunk(col)
		if err != nil {
			t.Fatal(err)
		}
		size, plain := cc.TotalCompressedSize(), cc.TotalUncompressedSize()
		if compressed := size < plain*9/10; compressed != wantCompressed {
			t.Errorf("row group %d (%d rows): latency_ns %d bytes of %d; compressed %v, want %v",
				g, pf.MetaData().RowGroup(g).NumRows(), size, plain, compressed, wantCompressed)
		}
	}
}

// TestLeftovers removes what earlier exports of a name left in a folder:
// its temporary files, of NAME and of NAME-N, unwritten for long, and its
// NAME-N files not written again. It keeps fresh temporary files (an
// export beside, waiting for its end, see File.Finish), what was written,
// and other names' files. A folder is listed once: what appears in it
// later is left for another run.
func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // kept?
		".out.1.tmp": false, ".out-3.2.tmp": false, ".out-4.3.tmp": true, ".outer.4.tmp": true,
		".out.444.tmp": true, "out.parquet": true, "out-1.parquet": true, "out-2.parquet": false,
		"outer-1.parquet": true, ".other.5.tmp": false, "other-1.parquet": false,
		".tmp": true, "..tmp": true, ".tmp.tmp": true, "-1.parquet": true, // odd names, of no export
	}
	fresh := map[string]bool{".out-4.3.tmp": true, ".out.444.tmp": true}
	for name := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("PAR1"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !fresh[name] {
			at := time.Now().Add(-2 * time.Hour)
			os.Chtimes(path, at, at)
		}
	}
	var l parquet.Leftovers
	written := map[string]bool{filepath.Join(dir, "out.parquet"): true, filepath.Join(dir, "out-1.parquet"): true}
	l.Remove(dir, "out", written)
	// Made after the folder was listed: left alone by this Leftovers.
	late := filepath.Join(dir, "other-2.parquet")
	if err := os.WriteFile(late, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l.Remove(dir, "other", nil)
	for name, kept := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != kept {
			t.Errorf("%s: present %v, want %v", name, err == nil, kept)
		}
	}
	if _, err := os.Stat(late); err != nil {
		t.Errorf("%s, made after the folder was listed, removed", late)
	}
}

// TestFinish_holdsNothing finishes 400 files without publishing them, as
// an export of a capture hopping between days does until its end: what
// they hold together must be small, not their write buffers and footers.
func TestFinish_holdsNothing(t *testing.T) {
	rec := records(t, 5, 5)[0]
	dir, s := parquet.Dir{Root: t.TempDir()}, rec.Schema()
	writeAs(t, s, []arrow.RecordBatch{rec}) // the encoders and the schema's footer value, once
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var files []*parquet.File
	for i := range 400 {
		f, err := dir.Create(parquet.Partition{Day: int64(i), Sensor: "s1"}, "out", s)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := f.Finish(); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 400*4096 {
		t.Errorf("400 finished files hold %d bytes", held)
	}
	for _, f := range files {
		if err := f.Publish(); err != nil {
			t.Fatal(err)
		}
	}
}
