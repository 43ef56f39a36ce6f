package server

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
)

// distributed turns a query of the local tables into one of their
// Distributed tables. A file's rows and records share a shard, so an IN
// subquery may run on each shard alone (distributed_product_mode local).
func distributed(q string) string {
	for _, table := range []string{"dns_messages", "capture_files"} {
		q = strings.ReplaceAll(q, "FROM "+table, "FROM "+table+clickhouse.DistributedSuffix)
	}
	return q + " SETTINGS distributed_product_mode = 'local'"
}

// TestLoad_cluster loads an archive into a cluster of two servers through
// one of them, with retention (set on every shard): every file lands whole on one shard, both shards hold
// files, loaded in a group each, the Distributed tables read back exactly the rows and load
// records of a load into one database from either server, and loading
// again through the other server and the HTTP interface adds nothing.
func TestLoad_cluster(t *testing.T) {
	const files = 8
	servers := chtest.StartCluster(t, 2)
	caps := clitest.WriteArchive(t, files, 1500)
	want := clitest.CleanContent(t, servers[0].Bin, caps)

	dest := "clickhouse://" + servers[0].TCP + "/default?cluster=" + chtest.ClusterName
	code, out, errOut := clitest.RunBinary(t, servers[0].Bin, "load", "--json", "--progress", "never", "--retention", "7",
		"--to", dest, caps)
	if code != clitest.ExitOK {
		t.Fatalf("load into the cluster: exit %d\n%s", code, errOut)
	}
	for i, srv := range servers {
		ttl := "SELECT toUInt64(position(engine_full, 'TTL loaded_at + toIntervalDay(7)') > 0), toUInt64(0) FROM system.tables " +
			"WHERE database = 'default' AND name = 'dns_messages'"
		if got := clitest.ServerQuery(t, srv, ttl); got != "1,0\n" {
			t.Errorf("shard %d: dns_messages has no 7-day retention: %q", i+1, got)
		}
	}
	wantRows, _, _ := strings.Cut(want, ",")
	if got := clitest.LoadJSON(t, out).Rows[dest]; strconv.FormatUint(got, 10) != wantRows {
		t.Errorf("load into the cluster wrote %d rows, want %s", got, wantRows)
	}
	wantFiles := fmt.Sprintf("%d,%d\n", files, files)
	check := func(step string) {
		t.Helper()
		for i, srv := range servers {
			if got := clitest.ServerQuery(t, srv, distributed(clitest.ContentSQL())); got != want {
				t.Errorf("%s: server %d: rows (count, checksum) = %q, want %q", step, i+1, got, want)
			}
			if got := clitest.ServerQuery(t, srv, distributed(clitest.LoadedSQL)); got != wantFiles {
				t.Errorf("%s: server %d: files loaded once, recorded = %q, want %q", step, i+1, got, wantFiles)
			}
		}
	}
	check("load")
	// Small files are loaded in a group per shard, not one by one.
	marks := distributed("SELECT countIf(status = 'grouped'), countIf(status = 'loading') FROM capture_files")
	if got := clitest.ServerQuery(t, servers[0], marks); got != fmt.Sprintf("%d,0\n", files) {
		t.Errorf("files marked grouped, loading = %q, want %d,0", got, files)
	}

	q := "SELECT countIf(shards != 1), count() FROM (SELECT file_hash, uniqExact(_shard_num) AS shards " +
		"FROM dns_messages" + clickhouse.DistributedSuffix + " GROUP BY file_hash)"
	if got := clitest.ServerQuery(t, servers[1], q); got != fmt.Sprintf("0,%d\n", files) {
		t.Errorf("files on more than one shard, files = %q, want 0,%d", got, files)
	}
	for i, srv := range servers {
		local := clitest.ServerQuery(t, srv, "SELECT count(), uniqExact(file_hash) FROM capture_files")
		if strings.HasPrefix(local, "0,") {
			t.Errorf("shard %d holds no file; the split should use both", i+1)
		}
	}

	again := "http://" + servers[1].HTTP + "/default?cluster=" + chtest.ClusterName
	code, out, errOut = clitest.RunBinary(t, servers[0].Bin, "load", "--json", "--progress", "never", "--to", again, caps)
	if code != clitest.ExitOK {
		t.Fatalf("load again: exit %d\n%s", code, errOut)
	}
	if got := clitest.LoadJSON(t, out).Rows[again]; got != 0 {
		t.Errorf("load again wrote %d rows, want 0", got)
	}
	check("load again")

	// The report of a cluster reads its Distributed tables: every shard's files.
	code, out, errOut = clitest.RunBinary(t, servers[0].Bin, "report", "--to", again)
	if code != clitest.ExitOK || !regexp.MustCompile(fmt.Sprintf(`loaded\s*│\s*%d\s*│`, files)).MatchString(out) {
		t.Errorf("report of the cluster: exit %d, want %d files loaded\n%s%s", code, files, out, errOut)
	}
}

// TestLoad_clusterShardDown loads an archive into a cluster of two whose
// second shard is down: the files of the first load, those of the second
// fail naming it, and a rerun once it is back completes the archive, its
// Distributed tables made then. With one shard down, every file failed.
func TestLoad_clusterShardDown(t *testing.T) {
	t.Parallel() // mostly waiting out the retries of the shard down
	const files = 8
	servers := chtest.StartCluster(t, 2)
	caps := clitest.WriteArchive(t, files, 1000)
	want := clitest.CleanContent(t, servers[0].Bin, caps)

	servers[1].Kill()
	dest := "clickhouse://" + servers[0].TCP + "/default?cluster=" + chtest.ClusterName
	args := []string{"load", "--json", "--progress", "never", "--to", dest, caps}
	code, out, errOut := clitest.RunBinary(t, servers[0].Bin, args...)
	s := clitest.LoadJSON(t, out)
	if code != clitest.ExitFailure || s.FilesLoaded == 0 || s.FilesFailed == 0 || !strings.Contains(errOut, servers[1].TCP) {
		t.Fatalf("load with shard 2 down: exit %d, %d loaded, %d failed; want 1 and both, shard 2 named\n%s",
			code, s.FilesLoaded, s.FilesFailed, errOut)
	}
	servers[1] = servers[1].Restart(t)
	if code, _, errOut := clitest.RunBinary(t, servers[0].Bin, args...); code != clitest.ExitOK {
		t.Fatalf("rerun with both shards: exit %d\n%s", code, errOut)
	}
	for i, srv := range servers {
		if got := clitest.ServerQuery(t, srv, distributed(clitest.ContentSQL())); got != want {
			t.Errorf("server %d: rows (count, checksum) = %q, want %q", i+1, got, want)
		}
		if got := clitest.ServerQuery(t, srv, distributed(clitest.LoadedSQL)); got != fmt.Sprintf("%d,%d\n", files, files) {
			t.Errorf("server %d: files loaded once, recorded = %q, want %d,%d", i+1, got, files, files)
		}
	}
}
