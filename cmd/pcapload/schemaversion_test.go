package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/schema"
)

// v1FilesDDL is capture_files as schema version 1 made it, before content
// hashes.
const v1FilesDDL = `CREATE TABLE default.capture_files (
    path String, sensor LowCardinality(String), format LowCardinality(String),
    compression LowCardinality(String), bytes UInt64, packets UInt64, messages UInt64,
    malformed UInt64, snapped UInt64, reasons Map(LowCardinality(String), UInt64),
    first_time DateTime64(9, 'UTC'), last_time DateTime64(9, 'UTC'),
    status LowCardinality(String), error String, loaded_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (path, loaded_at)`

// v1MessagesDDL is dns_messages as schema version 1 made it: today's
// columns but file_hash and loaded_at, without the deduplication window.
func v1MessagesDDL() string {
	var old []string
	for _, line := range strings.Split(schema.DDL("default"), "\n") {
		if !strings.Contains(line, "`file_hash`") && !strings.Contains(line, "`loaded_at`") &&
			!strings.HasPrefix(line, "SETTINGS") {
			old = append(old, line)
		}
	}
	return strings.Join(old, "\n")
}

// createV1 makes a version 1 database at path.
func createV1(t *testing.T, path string) {
	t.Helper()
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{v1MessagesDDL(), v1FilesDDL} {
		if err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}

// TestSchema_applyMigrates applies the schema twice to a version 1
// database: it gains the columns, views and version of today, the second
// apply changes nothing, and loading then works with retention.
func TestSchema_applyMigrates(t *testing.T) {
	testenv.RequireCHDB(t)
	path := filepath.Join(t.TempDir(), "db")
	createV1(t, path)
	for range 2 {
		if code, _, stderr := runCmd(t, nil, "schema", "apply", "--db", path); code != 0 {
			t.Fatalf("schema apply: exit %d: %s", code, stderr)
		}
	}
	want := map[string]string{
		"SELECT groupArray(version) FROM schema_version": "[4]",
		namesSQL("columns", "table = 'dns_messages' AND name IN ('file_hash', 'loaded_at', 'qname_rev')"): "" +
			"['file_hash','loaded_at','qname_rev']",
		namesSQL("columns", "table = 'capture_files' AND name IN ('file_hash', 'generation')"): "" +
			"['file_hash','generation']",
		namesSQL("tables", "engine = 'MaterializedView'"): "['message_counts_mv','passive_dns_mv']",
	}
	checkQueries(t, path, want)

	code, _, stderr := runCmd(t, nil, "load", "--db", path, "--retention", "30", "../../testdata/resolver.pcap")
	if code != 0 {
		t.Fatalf("load: exit %d: %s", code, stderr)
	}
	checkQueries(t, path, map[string]string{
		"SELECT count() FROM dns_messages WHERE length(file_hash) = 64":                   "1000",
		"SELECT sum(messages) FROM message_counts":                                        "1000",
		"SELECT count() > 0 FROM passive_dns":                                             "1",
		"SELECT countIf(status = 'loaded' AND length(file_hash) = 64) FROM capture_files": "1",
		"SELECT position(engine_full, 'TTL loaded_at + toIntervalDay(30)') > 0 FROM system.tables " +
			"WHERE database = 'default' AND name = 'dns_messages'": "1",
	})
}

// namesSQL is the query of the sorted names in system.columns or
// system.tables of the default database that match where.
func namesSQL(system, where string) string {
	return "SELECT groupArray(name) FROM (SELECT name FROM system." + system +
		" WHERE database = 'default' AND " + where + " ORDER BY name)"
}

// checkQueries runs each query on the database at path and compares its
// one-value answer.
func checkQueries(t *testing.T, path string, want map[string]string) {
	t.Helper()
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for q, w := range want {
		out, err := db.Query(context.Background(), q, "TSVRaw")
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		if got := strings.TrimSpace(string(out)); got != w {
			t.Errorf("%s\n got  %s\n want %s", q, got, w)
		}
	}
}

// TestSchema_rebuildViews: views emptied, as a crash can leave them short,
// are filled again from dns_messages, in the embedded database and on a
// server.
func TestSchema_rebuildViews(t *testing.T) {
	testenv.RequireCHDB(t)
	path := filepath.Join(t.TempDir(), "db")
	if code, _, stderr := runCmd(t, nil, "load", "--db", path, "../../testdata/resolver.pcap"); code != 0 {
		t.Fatalf("load: exit %d: %s", code, stderr)
	}
	full := map[string]string{
		"SELECT sum(messages) FROM message_counts": "1000",
		"SELECT sum(count) = (SELECT count() FROM dns_messages ARRAY JOIN answer_names WHERE qr) " +
			"AND sum(count) > 0 FROM passive_dns": "1",
	}
	for _, q := range []string{"TRUNCATE TABLE message_counts", "TRUNCATE TABLE passive_dns"} {
		if code, _, stderr := runCmd(t, nil, "sql", "--db", path, q); code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, stderr)
		}
	}
	code, out, stderr := runCmd(t, nil, "schema", "rebuild-views", "--db", path)
	if code != 0 || !strings.Contains(out, "rebuilt") {
		t.Fatalf("rebuild-views: exit %d: %s%s", code, out, stderr)
	}
	checkQueries(t, path, full)

	// The rows of a load that began and did not end may be in
	// dns_messages and not in the views, and its rerun sends them again:
	// the views are not touched meanwhile.
	mark := "INSERT INTO capture_files (file_hash, generation, path, sensor, status) " +
		"VALUES ('00ff', 0, '/elsewhere/b.pcap', 'default', 'loading')"
	for _, q := range []string{mark, "TRUNCATE TABLE message_counts"} {
		if code, _, stderr := runCmd(t, nil, "sql", "--db", path, q); code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, stderr)
		}
	}
	code, _, stderr = runCmd(t, nil, "schema", "rebuild-views", "--db", path)
	if code == 0 || !strings.Contains(stderr, "/elsewhere/b.pcap") || !strings.Contains(stderr, "did not end") {
		t.Errorf("rebuild-views with a load unfinished: exit %d, %q; want a refusal naming it", code, stderr)
	}
	checkQueries(t, path, map[string]string{"SELECT count() FROM message_counts": "0"})
	if code, _, stderr := runCmd(t, nil, "sql", "--db", path, strings.Replace(mark, "'loading'", "'failed'", 1)); code != 0 {
		t.Fatalf("mark failed: exit %d: %s", code, stderr)
	}
	if code, out, stderr := runCmd(t, nil, "schema", "rebuild-views", "--db", path); code != 0 {
		t.Fatalf("rebuild-views once the load ended: exit %d: %s%s", code, out, stderr)
	}
	checkQueries(t, path, full)

	// A file whose load failed, loaded again after a rebuild, sends its
	// inserts again: the views, whose deduplication logs the rebuild kept,
	// drop them.
	failed := filepath.Join(t.TempDir(), "db")
	for _, args := range [][]string{
		{"load", "--db", failed, "../../testdata/resolver.pcap"},
		{"sql", "--db", failed, "ALTER TABLE capture_files UPDATE status = 'failed' WHERE status = 'loaded' " +
			"SETTINGS mutations_sync = 1"},
		{"schema", "rebuild-views", "--db", failed},
		{"load", "--db", failed, "../../testdata/resolver.pcap"},
	} {
		if code, _, stderr := runCmd(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	checkQueries(t, failed, full)

	// Without dns_messages to fill them from, the views are not emptied.
	if code, _, stderr := runCmd(t, nil, "sql", "--db", path, "DROP TABLE dns_messages"); code != 0 {
		t.Fatalf("drop: exit %d: %s", code, stderr)
	}
	if code, _, _ := runCmd(t, nil, "schema", "rebuild-views", "--db", path); code == 0 {
		t.Error("rebuild-views without dns_messages: exit 0")
	}
	checkQueries(t, path, map[string]string{"SELECT sum(messages) FROM message_counts": "1000"})

	srv := chtest.Start(t)
	dest := "http://" + srv.HTTP + "/rv"
	if code, _, stderr := clitest.RunBinary(t, srv.Bin, "load", "--to", dest, "../../testdata/resolver.pcap"); code != 0 {
		t.Fatalf("load into the server: exit %d: %s", code, stderr)
	}
	if code, _, stderr := clitest.RunBinary(t, srv.Bin, "sql", "--to", dest, "TRUNCATE TABLE rv.message_counts"); code != 0 {
		t.Fatalf("truncate: exit %d: %s", code, stderr)
	}
	if code, out, stderr := clitest.RunBinary(t, srv.Bin, "schema", "rebuild-views", "--to", dest); code != 0 {
		t.Fatalf("rebuild-views --to: exit %d: %s%s", code, out, stderr)
	}
	_, out, _ = clitest.RunBinary(t, srv.Bin, "sql", "--to", dest, "--format", "tsv", "SELECT sum(messages) FROM rv.message_counts")
	if !strings.HasSuffix(out, "\n1000\n") {
		t.Errorf("server's message_counts after the rebuild: %q, want 1000 messages", out)
	}

	// A report on a server database without the tables says so in a
	// line, where the server's exception quoted the whole query.
	code, _, stderr = clitest.RunBinary(t, srv.Bin, "report", "--to", "http://"+srv.HTTP+"/default")
	if code == 0 || !strings.Contains(stderr, "has no pcapload tables") || len(stderr) > 300 {
		t.Errorf("report on a database without the tables: exit %d, %q", code, stderr)
	}
}
