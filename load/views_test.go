package load_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// writeCapture generates a pcap of cfg into dir and returns its path.
func writeCapture(t testing.TB, dir, name string, cfg gen.Config) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, err := gen.WriteFile(path, cfg, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadEmbedded loads inputs into a new embedded database at path with
// small inserts, so that the views receive many partial aggregates.
func loadEmbedded(t *testing.T, path string, inputs []ingest.Input, retention int) {
	t.Helper()
	loadEmbeddedOpt(t, path, inputs, retention, load.Options{Workers: 2, BatchRows: 500})
}

func loadEmbeddedOpt(t *testing.T, path string, inputs []ingest.Input, retention int, opt load.Options) {
	t.Helper()
	ctx := context.Background()
	emb, err := load.OpenEmbedded(ctx, path, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := emb.SetRetention(ctx, retention); err != nil {
		t.Fatal(err)
	}
	emb.InsertRows = 2000
	res := load.Run(ctx, inputs, []load.Sink{emb}, opt)
	for _, f := range res.Files {
		if f.Failed() || f.Skipped != "" {
			t.Fatalf("%s: %v %v %s", f.Stats.Path, f.Stats.Err, f.SinkErrs, f.Skipped)
		}
	}
}

func queryText(t *testing.T, db *chdb.DB, q string) string {
	t.Helper()
	out, err := db.Query(context.Background(), q, "TSV")
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return string(out)
}

// TestViews_MatchDirect loads generated captures and holds the passive DNS
// and per-minute count views equal to the same aggregates computed
// directly from dns_messages, after a rerun that repeats inserts and
// after --force replaces a file's rows, one by one and in a group.
func TestViews_MatchDirect(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	inputs := []ingest.Input{
		{Path: writeCapture(t, dir, "a.pcap", gen.Config{Seed: 1, Messages: 20_000})},
		{Path: writeCapture(t, dir, "b.pcap", gen.Config{Seed: 2, Messages: 20_000, Rate: 100})},
	}
	path := filepath.Join(dir, "db")
	loadEmbedded(t, path, inputs, 0)

	// A rerun that the load records do not stop, as after a crash before
	// them: its inserts carry the same tokens and must reach no view.
	forgetLoads(t, path)
	loadEmbedded(t, path, inputs, 0)

	// Replaced rows are taken out of the views before they are deleted.
	loadEmbeddedOpt(t, path, inputs[:1], 0, load.Options{Workers: 1, BatchRows: 500, Force: true})
	loadEmbeddedOpt(t, path, inputs, 0, load.Options{Workers: 1, BatchRows: 700, Force: true, GroupFiles: 2})

	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	check := func(step string) {
		for _, tc := range viewQueries {
			t.Run(step+"/"+tc.name, func(t *testing.T) {
				got, want := queryText(t, db, tc.view), queryText(t, db, tc.direct)
				if len(want) < 1000 {
					t.Fatalf("direct query gives too little to compare: %q", want)
				}
				if got != want {
					t.Errorf("view differs from direct query:\n got  %.500s\n want %.500s", got, want)
				}
			})
		}
	}
	check("loads")

	// Views left short, as by a crash between an insert's part and its
	// views', are corrected exact.
	for _, q := range append([]string{"TRUNCATE TABLE message_counts",
		"ALTER TABLE passive_dns DELETE WHERE cityHash64(name) % 3 = 0 SETTINGS mutations_sync = 1"},
		schema.CorrectViewsSQL("default")...) {
		if err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	check("corrected")
	rows := queryText(t, db, "SELECT count() FROM dns_messages")
	if rows != "40000\n" {
		t.Errorf("dns_messages holds %q rows after the rerun, want 40000", rows)
	}
}

// viewQueries are each view read as queries read it, and the same
// aggregate computed from dns_messages.
var viewQueries = []struct{ name, view, direct string }{
	{"passive dns",
		`SELECT name, type, data, min(first_seen), max(last_seen), sum(count) AS c FROM passive_dns
		GROUP BY name, type, data HAVING c != 0 ORDER BY name, type, data`,
		`SELECT name, type, data, min(time), max(time), count() FROM dns_messages
		ARRAY JOIN answer_names AS name, answer_types AS type, answer_data AS data WHERE qr
		GROUP BY name, type, data ORDER BY name, type, data`},
	{"counts",
		`SELECT minute, sensor, qtype, rcode, transport, qr, sum(messages) AS m, sum(bytes) AS b FROM message_counts
		GROUP BY ALL HAVING m != 0 OR b != 0 ORDER BY ALL`,
		`SELECT toStartOfMinute(time) AS minute, sensor, qtype, rcode, transport, qr, count(), sum(size)
		FROM dns_messages GROUP BY ALL ORDER BY ALL`},
}

// viewsDiffer returns the names of the views of the database at path that
// differ from their direct aggregates.
func viewsDiffer(t *testing.T, path string) []string {
	t.Helper()
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var differ []string
	for _, tc := range viewQueries {
		if queryText(t, db, tc.view) != queryText(t, db, tc.direct) {
			differ = append(differ, tc.name)
		}
	}
	return differ
}

// TestEmbedded_correctsViews leaves the views of a database wrong, as a
// load killed inside an insert does, and loads: a run that finds a load
// unfinished when it opens, or replaces one that did not end loaded, ends
// by correcting them, and says so. While a load in the database is
// unfinished (a replacement cut short, here), it does not, and a later
// run owes the correction still; so does one after a run interrupted
// before its end. A forced reload of a load that ended loaded owes none.
// With a retention, it says why it does not correct.
func TestEmbedded_correctsViews(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	inputs := []ingest.Input{{Path: writeCapture(t, dir, "a.pcap", gen.Config{Seed: 5, Messages: 5000})}}
	path := filepath.Join(dir, "db")
	loadEmbedded(t, path, inputs, 0)
	exec := func(qs ...string) {
		db, err := chdb.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range qs {
			if err := db.Exec(context.Background(), q); err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
		}
	}
	// Rows without their counts, and counts without their rows.
	spoil := func() {
		exec("ALTER TABLE passive_dns DELETE WHERE cityHash64(name) % 3 = 0 SETTINGS mutations_sync = 1",
			"INSERT INTO message_counts SELECT minute, sensor, qtype, rcode, transport, qr, 7, 700 FROM message_counts LIMIT 3")
	}
	run := func(ctx context.Context, opt load.Options) *load.Result {
		emb, err := load.OpenEmbedded(context.Background(), path, "test")
		if err != nil {
			t.Fatal(err)
		}
		opt.Workers, opt.BatchRows = 1, 500
		return load.Run(ctx, inputs, []load.Sink{emb}, opt)
	}
	mark := func(hash, status string) string {
		return fmt.Sprintf(`INSERT INTO capture_files (file_hash, generation, path, sensor, status)
			VALUES (%s, 0, '/elsewhere/b.pcap', 'test', %s)`, schema.Quote(hash), schema.Quote(status))
	}
	corrected := func(res *load.Result) bool { return strings.Contains(res.Notes["db:"+path], "corrected") }

	spoil()
	exec(mark("00ff", schema.StatusReplacing))
	res := run(context.Background(), load.Options{Force: true})
	if d := viewsDiffer(t, path); len(d) != 2 || res.Notes != nil {
		t.Errorf("with a replacement unfinished: views that differ %v (want both), notes %v (want none)", d, res.Notes)
	}
	if paths := res.Unfinished["db:"+path]; !slices.Contains(paths, "/elsewhere/b.pcap") {
		t.Errorf("unfinished loads %v, want the replacement cut short", res.Unfinished)
	}

	// Once it ended, a run that loads nothing makes the correction owed.
	exec(mark("00ff", schema.StatusFailed))
	res = run(context.Background(), load.Options{})
	if d := viewsDiffer(t, path); len(d) != 0 || !corrected(res) {
		t.Errorf("after the replacement ended: views %v differ, notes %v", d, res.Notes)
	}

	// Corrected, nothing is owed; nor by a forced reload of a.pcap, whose
	// load ended loaded: its rows were counted whole.
	spoil()
	if res = run(context.Background(), load.Options{Force: true}); res.Notes != nil || len(viewsDiffer(t, path)) != 2 {
		t.Errorf("a forced reload of a finished load: notes %v, views that differ %v (want both: no correction)",
			res.Notes, viewsDiffer(t, path))
	}

	// A forced reload of a load that failed, interrupted after its
	// record, before its end: the next run makes the correction.
	exec(fmt.Sprintf(`INSERT INTO capture_files (file_hash, generation, path, sensor, status)
		SELECT file_hash, max(generation) + 1, any(path), 'test', %s FROM capture_files
		WHERE path = %s GROUP BY file_hash`, schema.Quote(schema.StatusFailed), schema.Quote(inputs[0].Path)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run(ctx, load.Options{Force: true, Checkpoint: func(step string, _ int) {
		if step == "recorded" {
			cancel()
		}
	}})
	if d := viewsDiffer(t, path); len(d) == 0 {
		t.Fatal("views already corrected by an interrupted run: the test spoils nothing")
	}
	res = run(context.Background(), load.Options{})
	if d := viewsDiffer(t, path); len(d) != 0 || !corrected(res) {
		t.Errorf("after an interrupted forced load: views %v differ, notes %v", d, res.Notes)
	}

	// With a retention, the views keep what dns_messages dropped: they
	// are left as they are, and the note says why.
	spoil()
	exec(schema.RetentionDDL("default", 30), mark("00fe", schema.StatusReplacing))
	run(context.Background(), load.Options{})
	exec(mark("00fe", schema.StatusFailed))
	res = run(context.Background(), load.Options{})
	if note := res.Notes["db:"+path]; len(viewsDiffer(t, path)) != 2 || !strings.Contains(note, "--retention") {
		t.Errorf("with a retention: views that differ %v (want both), note %q", viewsDiffer(t, path), note)
	}
	if res = run(context.Background(), load.Options{}); res.Notes != nil {
		t.Errorf("the run after: notes %v, want none (said once)", res.Notes)
	}
}

// forgetLoads deletes the load records of the database at path.
func forgetLoads(t *testing.T, path string) {
	t.Helper()
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), "TRUNCATE TABLE capture_files"); err != nil {
		t.Fatal(err)
	}
}
