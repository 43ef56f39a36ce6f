package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/corpus"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// fingerprint prints the columns the round-trip tests compare, one line a
// row, the same way from every view of the data.
func fingerprint(time int64, file string, frame uint64, src [16]byte, sport, id uint16, qr bool,
	rcode uint16, qname string, qtype uint16, answers []string, malformed string, raw []byte) string {
	return fmt.Sprintf("%d|%s|%d|%s|%d|%d|%v|%d|%s|%d|%s|%s|%x", time, filepath.Base(file), frame,
		netip.AddrFrom16(src), sport, id, qr, rcode, qname, qtype, strings.Join(answers, ";"), malformed, raw)
}

// fingerprintSQL is fingerprint in ClickHouse SQL.
const fingerprintSQL = `concat(toString(toUnixTimestamp64Nano(time)), '|', basename(file), '|', toString(frame), '|',
	toString(src_addr), '|', toString(src_port), '|', toString(id), '|', if(qr, 'true', 'false'), '|',
	toString(rcode), '|', qname, '|', toString(qtype), '|', arrayStringConcat(answer_data, ';'), '|',
	malformed, '|', lower(hex(raw))) AS r`

// decoded is what the decoder makes of the inputs, without any sink.
func decoded(t *testing.T, inputs []ingest.Input) []string {
	d := ingest.NewDecoder(ingest.Config{})
	var out []string
	for _, in := range inputs {
		var st ingest.FileStats
		err := d.DecodeFile(in, &st, nil, func(r *schema.Row) error {
			var answers []string
			for _, rr := range r.DNS.Answer {
				answers = append(answers, string(rr.Data))
			}
			q := ""
			var qt uint16
			if len(r.DNS.Questions) > 0 {
				q, qt = string(r.DNS.Questions[0].Name), r.DNS.Questions[0].Type
			}
			var raw []byte
			if r.DNS.Malformed != "" {
				raw = r.Net.Payload
			}
			out = append(out, fingerprint(r.Time, r.File, r.Frame, r.Net.Src.As16(), r.Net.SrcPort, r.DNS.ID,
				r.DNS.QR, r.DNS.RCode, q, qt, answers, string(r.DNS.Malformed), raw))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// corpusInputs returns the corpus captures that decode without error.
func corpusInputs(t *testing.T) []ingest.Input {
	dir := corpus.Dir(t)
	var in []ingest.Input
	for _, rel := range corpus.Captures(t, dir) {
		in = append(in, ingest.Input{Path: filepath.Join(dir, rel)})
	}
	return in
}

func TestRun_ParquetRoundTrip(t *testing.T) {
	inputs := corpusInputs(t)
	want := decoded(t, inputs)
	out := t.TempDir()
	res := load.Run(context.Background(), inputs, []load.Sink{load.NewParquetSink(out)}, load.Options{Workers: 2, BatchRows: 100})
	for _, f := range res.Files {
		if f.Failed() {
			t.Fatalf("%s failed: %v %v", f.Stats.Path, f.Stats.Err, f.SinkErrs)
		}
	}
	got := readParquet(t, out)
	if !slices.Equal(got, want) {
		t.Fatalf("parquet holds %d rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
	tmp, _ := filepath.Glob(filepath.Join(out, "*", "*", ".*.tmp"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func readParquet(t *testing.T, dir string) []string {
	paths, err := filepath.Glob(filepath.Join(dir, "date=*", "sensor=*", "*.parquet"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no parquet files under %s (%v)", dir, err)
	}
	var out []string
	for _, p := range paths {
		pf, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tr := array.NewTableReader(tbl, 1000)
		for tr.Next() {
			out = append(out, recordRows(t, tr.RecordBatch())...)
		}
		tr.Release()
		tbl.Release()
		pf.Close()
	}
	slices.Sort(out)
	return out
}

func recordRows(t *testing.T, rec arrow.RecordBatch) []string {
	col := func(name string) arrow.Array {
		i := rec.Schema().FieldIndices(name)
		if len(i) != 1 {
			t.Fatalf("no column %s", name)
		}
		return rec.Column(i[0])
	}
	var out []string
	ans := col("answer_data").(*array.List)
	ansv := ans.ListValues().(*array.String)
	for i := 0; i < int(rec.NumRows()); i++ {
		var answers []string
		start, end := ans.ValueOffsets(i)
		for j := start; j < end; j++ {
			answers = append(answers, ansv.Value(int(j)))
		}
		out = append(out, fingerprint(
			int64(col("time").(*array.Timestamp).Value(i)), schema.Label(col("file"), i),
			col("frame").(*array.Uint64).Value(i), [16]byte(col("src_addr").(*array.FixedSizeBinary).Value(i)),
			col("src_port").(*array.Uint16).Value(i), col("id").(*array.Uint16).Value(i),
			col("qr").(*array.Boolean).Value(i), col("rcode").(*array.Uint16).Value(i),
			col("qname").(*array.String).Value(i), col("qtype").(*array.Uint16).Value(i), answers,
			schema.Label(col("malformed"), i), col("raw").(*array.Binary).Value(i)))
	}
	return out
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("\n got  %.300s\n want %.300s", got[i], want[i])
		}
	}
	return "(one is a prefix of the other)"
}

// TestRun_Embedded loads the corpus into the embedded database and a
// Parquet export in one pass, and reads both back through ClickHouse.
func TestRun_Embedded(t *testing.T) {
	testenv.RequireCHDB(t)
	inputs := corpusInputs(t)
	want := decoded(t, inputs)
	ctx := context.Background()
	dir := t.TempDir()
	dbPath, pqDir := filepath.Join(dir, "db"), filepath.Join(dir, "parquet")
	os.MkdirAll(pqDir, 0o755)

	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	res := load.Run(ctx, inputs, []load.Sink{emb, load.NewParquetSink(pqDir)}, load.Options{Workers: 2, BatchRows: 50})
	for _, f := range res.Files {
		if f.Failed() {
			t.Fatalf("%s failed: %v %v", f.Stats.Path, f.Stats.Err, f.SinkErrs)
		}
	}

	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM dns_messages")
	if !slices.Equal(got, want) {
		t.Fatalf("database holds %d rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}

	// Loading the Parquet export with ClickHouse's file() gives the same rows.
	for _, q := range []string{
		"CREATE TABLE from_parquet AS dns_messages",
		fmt.Sprintf("INSERT INTO from_parquet SELECT * FROM file('%s/*/*/*.parquet', Parquet)", pqDir),
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	fromFile := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM from_parquet")
	if !slices.Equal(fromFile, want) {
		t.Fatalf("file() reads %d rows, decoder made %d; first difference: %s", len(fromFile), len(want), firstDiff(fromFile, want))
	}

	// Every file has a load record whose counts match the decode.
	out, err := db.Query(ctx, "SELECT count(), sum(messages), sum(packets) FROM capture_files WHERE status = 'loaded'", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	var packets uint64
	for _, f := range res.Files {
		packets += f.Stats.Packets
	}
	if wantRec := fmt.Sprintf("%d,%d,%d\n", len(inputs), len(want), packets); string(out) != wantRec {
		t.Errorf("capture_files: %q, want %q", out, wantRec)
	}
}

func queryRows(t *testing.T, db *chdb.DB, q string) []string {
	out, err := db.Query(context.Background(), q, "JSONEachRow")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var v struct{ R string }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		rows = append(rows, v.R)
	}
	slices.Sort(rows)
	return rows
}

// oldFilesDDL is capture_files as versions before content hashes made it.
const oldFilesDDL = `CREATE TABLE default.capture_files (
    path String, sensor LowCardinality(String), format LowCardinality(String),
    compression LowCardinality(String), bytes UInt64, packets UInt64, messages UInt64,
    malformed UInt64, snapped UInt64, reasons Map(LowCardinality(String), UInt64),
    first_time DateTime64(9, 'UTC'), last_time DateTime64(9, 'UTC'),
    status LowCardinality(String), error String, loaded_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (path, loaded_at)`

// TestOpenEmbedded_upgrade opens a database made before content hashes:
// the tables gain their columns and settings, and loading is exactly once.
func TestOpenEmbedded_upgrade(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, line := range strings.Split(schema.DDL("default"), "\n") {
		if !strings.Contains(line, "`file_hash`") && !strings.HasPrefix(line, "SETTINGS") {
			old = append(old, line)
		}
	}
	for _, q := range []string{strings.Join(old, "\n"), oldFilesDDL} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	db.Close()

	in := []ingest.Input{{Path: "../testdata/resolver.pcap"}}
	for range 2 {
		emb, err := load.OpenEmbedded(ctx, path, "test")
		if err != nil {
			t.Fatal(err)
		}
		if res := load.Run(ctx, in, []load.Sink{emb}, load.Options{}); res.Files[0].Failed() {
			t.Fatalf("load: %v %v", res.Files[0].Stats.Err, res.Files[0].SinkErrs)
		}
	}
	if db, err = chdb.Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out, err := db.Query(ctx, "SELECT (SELECT count() FROM dns_messages WHERE file_hash != ''), "+
		"(SELECT count() FROM capture_files WHERE status = 'loaded' AND length(file_hash) = 64)", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if want := "1000,1\n"; string(out) != want {
		t.Errorf("rows with a hash, files loaded = %q, want %q", out, want)
	}
	// Its 1,000 rows make a compact part whatever the settings: the
	// setting itself is what the upgrade adds.
	out, err = db.Query(ctx, "SELECT engine_full LIKE '%min_rows_for_wide_part = 524288%' FROM system.tables "+
		"WHERE database = currentDatabase() AND name = 'dns_messages'", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "1\n" {
		t.Errorf("dns_messages upgraded without min_rows_for_wide_part (%q)", out)
	}
}

// checkCompact checks that the parts of dns_messages that inserts wrote
// are compact (see schema.DDL).
func checkCompact(t *testing.T, db *chdb.DB) {
	t.Helper()
	out, err := db.Query(context.Background(), "SELECT groupUniqArray(part_type) FROM system.parts "+
		"WHERE database = currentDatabase() AND table = 'dns_messages' AND active AND level = 0", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != `"['Compact']"` {
		t.Errorf("inserted parts are of type %s, want Compact", got)
	}
}

// TestOpenEmbedded_compactParts loads into a new database: each insert
// writes a compact part.
func TestOpenEmbedded_compactParts(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	capture := filepath.Join(dir, "a.pcap")
	if _, err := gen.WriteFile(capture, gen.Config{Seed: 6, Messages: 30_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	emb, err := load.OpenEmbedded(ctx, filepath.Join(dir, "db"), "test")
	if err != nil {
		t.Fatal(err)
	}
	if res := load.Run(ctx, []ingest.Input{{Path: capture}}, []load.Sink{emb}, load.Options{}); res.Files[0].Failed() {
		t.Fatalf("load: %v %v", res.Files[0].Stats.Err, res.Files[0].SinkErrs)
	}
	emb.Close()
	db, err := chdb.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkCompact(t, db)
}

// TestRun_cancelledBeforeStart: files a cancelled run never started end
// as interrupted (ingest.ErrCancelled), as the ones it stopped do, not
// failed with the context's error.
func TestRun_cancelledBeforeStart(t *testing.T) {
	dir := t.TempDir()
	var inputs []ingest.Input
	for i := range 12 {
		inputs = append(inputs, ingest.Input{Path: writeCapture(t, dir, fmt.Sprintf("f%d.pcap", i),
			gen.Config{Seed: int64(i + 1), Messages: 20})})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := load.Run(ctx, inputs, nil, load.Options{Workers: 1})
	for _, f := range res.Files {
		if !errors.Is(f.Stats.Err, ingest.ErrCancelled) {
			t.Errorf("%s: %v, want it interrupted", f.Stats.Path, f.Stats.Err)
		}
	}
}
