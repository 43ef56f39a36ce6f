package embedded

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/schema"
)

// viewsSQL checksums the views' tables as queries read them, aggregated
// again and without the groups that sum to 0 (see the README): their
// totals and the sum of a hash of every aggregate row.
const viewsSQL = `SELECT
	(SELECT sum(c) || ':' || toString(sum(cityHash64(name, type, data, f, l, c))) FROM (SELECT name, type, data,
		min(first_seen) AS f, max(last_seen) AS l, sum(count) AS c FROM passive_dns GROUP BY name, type, data
		HAVING c != 0)),
	(SELECT sum(m) || ':' || toString(sum(cityHash64(minute, sensor, qtype, rcode, transport, qr, m, b))) FROM
		(SELECT minute, sensor, qtype, rcode, transport, qr, sum(messages) AS m, sum(bytes) AS b
		FROM message_counts GROUP BY ALL HAVING m != 0 OR b != 0))`

// loadState is what a load left in a database, checksummed: its rows
// (clitest.ContentSQL), views (viewsSQL) and load records (clitest.LoadedSQL).
type loadState struct{ rows, views, files string }

func stateOf(t *testing.T, bin, db string) loadState {
	t.Helper()
	return loadState{clitest.Query(t, bin, db, clitest.ContentSQL()), clitest.Query(t, bin, db, viewsSQL), clitest.Query(t, bin, db, clitest.LoadedSQL)}
}

// check fails the test where db differs from want: rows, views and load
// records.
func (want loadState) check(t *testing.T, bin, db string) {
	t.Helper()
	got := stateOf(t, bin, db)
	if got.rows != want.rows {
		t.Errorf("rows after the rerun (count, checksum) = %q, want %q", got.rows, want.rows)
	}
	if got.views != want.views {
		t.Errorf("views after the rerun (passive dns, counts) = %q, want %q", got.views, want.views)
	}
	if got.files != want.files {
		t.Errorf("files loaded once, files recorded = %q, want %q", got.files, want.files)
	}
}

// crashCase is one moment at which the loader is killed.
type crashCase struct {
	name    string
	crashAt string  // PCAPLOAD_TEST_CRASH_AT; empty for none
	killAt  float64 // SIGKILL from the test at this share of a clean load's time; 0 for none
	preload bool    // load cleanly first
	force   bool    // the killed run is a --force load
	// interruptAt is PCAPLOAD_TEST_INTERRUPT_AT: the load is interrupted
	// (SIGINT) there instead of killed, and ends with the file failed.
	interruptAt string
}

// TestLoad_killedAndRerun kills the loader with SIGKILL at several moments
// and runs it again: the rows equal a clean load's, by count and content,
// so do the views', and every file has
// one load record. It does so twice: with each file
// loaded on its own, its inserts deduplicated by their tokens on the
// rerun, and with the two small files loaded as a group, whose rows the
// rerun deletes and loads again.
func TestLoad_killedAndRerun(t *testing.T) {
	testenv.RequireCHDB(t)
	// The package's longest test, 109 s with its modes one after the
	// other: each run waits on its own engine's start and inserts.
	t.Parallel()
	bin := chtest.Binary(t)
	caps := clitest.WriteCaptures(t, 12_000)
	modes := []struct {
		name, groupFiles, status string // status marks the files' rows before the first insert
	}{
		{"own inserts", "1", schema.StatusLoading},
		{"grouped", "2", schema.StatusGrouped},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", m.groupFiles)
			killedAndRerun(t, bin, caps, args, m.status)
		})
	}
}

func killedAndRerun(t *testing.T, bin, caps string, args []string, status string) {
	clean := filepath.Join(t.TempDir(), "db")
	start := time.Now()
	clitest.LoadOK(t, bin, clean, caps, args)
	took := time.Since(start)
	want := stateOf(t, bin, clean)
	if want.files != "2,2\n" || strings.HasPrefix(want.rows, "0,") {
		t.Fatalf("clean load: rows %q, load records %q", want.rows, want.files)
	}
	marks := clitest.Query(t, bin, clean, "SELECT count() FROM capture_files WHERE status = "+schema.Quote(status))
	if marks != "2\n" {
		t.Fatalf("clean load: %s marks %q, want 2: the load took the other way", status, marks)
	}

	tests := []crashCase{
		{name: "right at start", killAt: 0.01},
		{name: "after the first insert", crashAt: "insert:1"},
		{name: "after the third insert", crashAt: "insert:3"},
		{name: "before the load record", crashAt: "record:0"},
		{name: "after the load record", crashAt: "recorded:0"},
		{name: "a third into the load", killAt: 0.33},
		{name: "two thirds into the load", killAt: 0.67},
		{name: "force before the delete", crashAt: "replace:0", preload: true, force: true},
		{name: "force after the views' uncount", crashAt: "uncounted:0", preload: true, force: true},
		{name: "force mid-load", crashAt: "insert:2", preload: true, force: true},
		{name: "interrupted after the third insert", interruptAt: "insert:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "db")
			if tt.preload {
				clitest.LoadOK(t, bin, db, caps, args)
			}
			killedLoad(t, bin, db, caps, args, tt, time.Duration(tt.killAt*float64(took)))
			clitest.LoadOK(t, bin, db, caps, args)
			// A kill at a random moment can fall inside an insert, between
			// the table's part and the views': the rerun completes the
			// views, or corrects them (EmbeddedSink.CheckViews).
			want.check(t, bin, db)
		})
	}
}

// TestLoad_failedRerunKilled: a failed load run again and killed counts as
// unfinished, as a first run killed does; a killed load whose rerun
// replaced its rows and was interrupted does not. A kill inside one of its inserts
// may leave rows the views did not count, which the load's last rerun
// sends again and the views then count; a correction in between (a
// rebuild, or a load of other files that owes one) counted them first,
// twice in all (a hostile run: 10,000 rows). So rebuild-views refuses, and
// the completing rerun leaves rows and views as a clean load does.
func TestLoad_failedRerunKilled(t *testing.T) {
	// Each file on its own: a failed group is replaced, not run again.
	bin, caps, args, want := ownInserts(t)

	var db string
	for _, runs := range []struct {
		after       string
		first, then crashCase
		refused     bool
	}{
		{"a failed load's rerun was killed", crashCase{interruptAt: "insert:1"}, crashCase{crashAt: "insert:2"}, true},
		// Interrupted before it sent the insert cut again, the rerun's
		// failure left the gap (a hostile run) while the rerun completed
		// the killed load under its tokens. It now replaces the killed
		// load's rows in a generation of its own, whose run ended: the
		// views count that generation's rows, and a rebuild is safe.
		{"a killed load's rerun was interrupted", crashCase{crashAt: "insert:3"}, crashCase{interruptAt: "insert:1"}, false},
	} {
		db = filepath.Join(t.TempDir(), "db")
		killedLoad(t, bin, db, caps, args, runs.first, 0)
		killedLoad(t, bin, db, caps, args, runs.then, 0)
		rebuildViews(t, bin, db, runs.refused, "after "+runs.after)
		clitest.LoadOK(t, bin, db, caps, args)
		want.check(t, bin, db)
	}

	// Every run marked, each file's last run ended: none is unfinished;
	// nor is a file that fails whole on every run (named, and no capture).
	notCapture := filepath.Join(t.TempDir(), "notes.pcap")
	if err := os.WriteFile(notCapture, []byte("not a capture, though named like one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clitest.RunBinary(t, bin, append(append([]string{"load", "--db", db}, args...), notCapture)...)
	}
	rebuildViews(t, bin, db, false, "once every load ended")
}

// ownInserts writes the crash tests' captures and returns the binary,
// their directory, the load's arguments with each file in inserts of its
// own, and what a clean load of them leaves in an embedded database.
func ownInserts(t *testing.T) (bin, caps string, args []string, want loadState) {
	t.Helper()
	testenv.RequireCHDB(t)
	bin = chtest.Binary(t)
	caps = clitest.WriteCaptures(t, 12_000)
	args = append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1")
	clean := filepath.Join(t.TempDir(), "db")
	clitest.LoadOK(t, bin, clean, caps, args)
	return bin, caps, args, stateOf(t, bin, clean)
}

// rebuildViews runs schema rebuild-views on db and fails the test unless
// it succeeds (refused false) or refuses, naming a load that did not end
// (refused true); when says at which step.
func rebuildViews(t *testing.T, bin, db string, refused bool, when string) {
	t.Helper()
	code, out, errOut := clitest.RunBinary(t, bin, "schema", "rebuild-views", "--db", db)
	switch {
	case refused && (code == clitest.ExitOK || !strings.Contains(errOut, "did not end")):
		t.Errorf("rebuild-views %s: exit %d, %q; want a refusal", when, code, errOut)
	case !refused && code != clitest.ExitOK:
		t.Errorf("rebuild-views %s: exit %d: %s%s", when, code, out, errOut)
	}
}

// genCapture writes the capture of 40,000 messages the cut tests use and
// returns its path and bytes.
func genCapture(t *testing.T) (string, []byte) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src.pcap")
	if _, err := gen.WriteFile(src, gen.Config{Seed: 17, Messages: 40_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return src, whole
}

// killedLoad runs a load that tt kills, and checks that it was killed
// (a timed kill may come after a short load ended).
func killedLoad(t *testing.T, bin, db, caps string, loadArgs []string, tt crashCase, killAfter time.Duration) {
	t.Helper()
	args := append([]string{"load", "--db", db}, loadArgs...)
	if tt.force {
		args = append(args, "--force")
	}
	cmd := exec.Command(bin, append(args, caps)...)
	cmd.Env = append(os.Environ(), clitest.CrashEnv+"="+tt.crashAt, clitest.InterruptEnv+"="+tt.interruptAt)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if tt.interruptAt != "" {
		// Interrupted, the loader ends the files it was loading as
		// failed: what the destination holds of them must be what the
		// next run completes without duplicates.
		if err := cmd.Wait(); cmd.ProcessState.ExitCode() != clitest.ExitFailure || !strings.Contains(errOut.String(), "cancelled") {
			t.Fatalf("interrupted load: %v, want exit %d naming a cancelled file\n%s", err, clitest.ExitFailure, errOut.String())
		}
		return
	}
	if killAfter > 0 {
		time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	}
	err := cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
	case killAfter > 0 && err == nil:
		t.Logf("the load ended before the kill")
	default:
		t.Fatalf("load was not killed: %v\n%s", err, errOut.String())
	}
}

// TestLoad_interruptedParquet interrupts a Parquet export (SIGINT, as
// Ctrl-C) after a few batches: the files being exported fail and leave no
// Parquet file, complete or partial, under the folder; a run again
// exports them whole.
func TestLoad_interruptedParquet(t *testing.T) {
	bin := chtest.Binary(t)
	caps, out := clitest.WriteCaptures(t, 12_000), t.TempDir()
	args := []string{"load", "--json", "--progress", "never", "--workers", "2", "--batch-rows", "500", "--to", "parquet:" + out, caps}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), clitest.InterruptEnv+"=batch:3")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != clitest.ExitFailure || !strings.Contains(stderr.String(), "cancelled") {
		t.Fatalf("interrupted export: %v, want exit %d naming a cancelled file\n%s", err, clitest.ExitFailure, stderr.String())
	}
	s := clitest.LoadJSON(t, stdout.String())
	var left []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return err
	})
	if s.FilesLoaded != 0 || len(left) != 0 || s.Rows["parquet:"+out] != 0 {
		t.Errorf("interrupted export: %d files loaded, %d rows counted, files left %v; want none",
			s.FilesLoaded, s.Rows["parquet:"+out], left)
	}
	code, again, errOut := clitest.RunBinary(t, bin, args...)
	if s := clitest.LoadJSON(t, again); code != clitest.ExitOK || s.FilesLoaded != 2 || s.Rows["parquet:"+out] != 24_000 {
		t.Errorf("export again: exit %d, %d files, %d rows; want 2 files and 24000 rows\n%s", code, s.FilesLoaded,
			s.Rows["parquet:"+out], errOut)
	}
}

// TestLoad_killedWhileSuperseding loads two captures cut short, then kills
// the load of the whole ones after it took the first cut load's rows out
// of the views, before it deleted them, and loads the whole files again
// one at a time: rows and views equal a clean load's of the whole files,
// the views' rows taken out once.
func TestLoad_killedWhileSuperseding(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	whole := clitest.WriteCaptures(t, 6000)
	args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "2")
	clean := filepath.Join(t.TempDir(), "db")
	clitest.LoadOK(t, bin, clean, whole, args)
	want, wantViews := clitest.Query(t, bin, clean, clitest.ContentSQL("file")), clitest.Query(t, bin, clean, viewsSQL)

	caps := t.TempDir()
	for _, name := range []string{"a.pcap", "b.pcap"} {
		b, err := os.ReadFile(filepath.Join(whole, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(caps, name), b[:len(b)/2+11], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	if code, _, errOut := clitest.RunBinary(t, bin, append(append([]string{"load", "--db", db}, args...), caps)...); code != clitest.ExitFailure {
		t.Fatalf("load of the cut captures: exit %d, want %d\n%s", code, clitest.ExitFailure, errOut)
	}
	for _, name := range []string{"a.pcap", "b.pcap"} {
		b, err := os.ReadFile(filepath.Join(whole, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(caps, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	killedLoad(t, bin, db, caps, args, crashCase{name: "superseding", crashAt: "uncounted:0"}, 0)
	for _, name := range []string{"a.pcap", "b.pcap"} {
		clitest.LoadOK(t, bin, db, filepath.Join(caps, name), args)
	}
	if got := clitest.Query(t, bin, db, clitest.ContentSQL("file")); got != want {
		t.Errorf("rows (count, checksum) = %q, want %q", got, want)
	}
	if got := clitest.Query(t, bin, db, viewsSQL); got != wantViews {
		t.Errorf("views (passive dns, counts) = %q, want %q", got, wantViews)
	}
	// The cut copies' loads ended, superseded: none is unfinished, or
	// no correction of the views would ever run again (a hostile run).
	rebuildViews(t, bin, db, false, "once the cut copies were superseded")
}

// TestLoad_cutThenKilled cuts a capture in place while it loads, one by
// one, and kills the loader as it records the file failed, before its
// rows can be taken out; then the capture is put back whole and loaded
// again: rows and views equal a clean load's. The cut load's last rows,
// short of the bytes hashed, were sent before, and the rerun's inserts of
// the same tokens left both.
func TestLoad_cutThenKilled(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	src, whole := genCapture(t)
	args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1")
	clean := filepath.Join(t.TempDir(), "db")
	clitest.LoadOK(t, bin, clean, src, args)
	want, wantViews := clitest.Query(t, bin, clean, clitest.ContentSQL("file")), clitest.Query(t, bin, clean, viewsSQL)

	path := filepath.Join(t.TempDir(), "dns.pcap")
	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(bin, append(append([]string{"load", "--db", db}, args...), path)...)
	cmd.Env = append(os.Environ(), clitest.StopEnv+"=batch:3", clitest.CrashEnv+"=record:0")
	_, errOut := clitest.RunStopped(t, cmd, func() {
		if err := os.Truncate(path, int64(len(whole))*4/10); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.Contains(errOut, "killing the loader") {
		t.Fatalf("the load was not killed as it recorded the cut file:\n%s", errOut)
	}

	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	clitest.LoadOK(t, bin, db, path, args)
	if got := clitest.Query(t, bin, db, clitest.ContentSQL("file")); got != want {
		t.Errorf("rows (count, checksum) = %q, want %q", got, want)
	}
	if got := clitest.Query(t, bin, db, viewsSQL); got != wantViews {
		t.Errorf("views (passive dns, counts) = %q, want %q", got, wantViews)
	}
}

// TestLoad_cutWhileLoadingEnds: a capture cut while it loads has its rows
// taken out, and its load, replaced, has ended: the path may never hold
// those bytes again, and a load counted unfinished for good would block
// every correction of the views (a hostile run: copytruncate).
func TestLoad_cutWhileLoadingEnds(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	path := filepath.Join(t.TempDir(), "dns.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Seed: 17, Messages: 40_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1")
	db := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(bin, append(append([]string{"load", "--db", db}, args...), path)...)
	cmd.Env = append(os.Environ(), clitest.StopEnv+"=batch:3")
	code, errOut := clitest.RunStopped(t, cmd, func() {
		if err := os.Truncate(path, fi.Size()*4/10); err != nil {
			t.Fatal(err)
		}
	})
	if code != clitest.ExitFailure || !strings.Contains(errOut, "cut") {
		t.Fatalf("load of a capture cut while it loaded: exit %d, want %d naming the cut\n%s", code, clitest.ExitFailure, errOut)
	}
	if got := clitest.Query(t, bin, db, "SELECT count() FROM dns_messages"); got != "0\n" {
		t.Errorf("rows of the cut load left: %q", got)
	}
	rebuildViews(t, bin, db, false, "after the cut load was taken out")
}

// TestLoad_supersededReloadKilled: a cut copy superseded by its whole file,
// whose load then failed, loads again in the superseded generation when it
// comes back; killed there, its load is unfinished, so no correction of
// the views may count what the kill left (a hostile run).
func TestLoad_supersededReloadKilled(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	_, whole := genCapture(t)
	cut := whole[:len(whole)*6/10+7]
	args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1")
	path := filepath.Join(t.TempDir(), "x.pcap")
	db := filepath.Join(t.TempDir(), "db")
	put := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(cut)
	if code, _, errOut := clitest.RunBinary(t, bin, append(append([]string{"load", "--db", db}, args...), path)...); code != clitest.ExitFailure {
		t.Fatalf("load of the cut copy: exit %d, want %d\n%s", code, clitest.ExitFailure, errOut)
	}
	put(whole)
	killedLoad(t, bin, db, path, args, crashCase{interruptAt: "insert:1"}, 0)
	put(cut)
	killedLoad(t, bin, db, path, args, crashCase{crashAt: "insert:3"}, 0)
	rebuildViews(t, bin, db, true, "after the superseded copy's reload was killed")
}

// TestLoad_rerunCutOtherwise kills a load after its third insert and runs
// it again with other batch or insert sizes, whose inserts the first run's
// tokens do not match: the rerun replaces the files' rows (a generation
// more) instead of completing them, and they equal a clean load's.
func TestLoad_rerunCutOtherwise(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	caps := clitest.WriteCaptures(t, 12_000)
	first := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1", "--sensor", "a")
	for _, tt := range []struct{ name, flag, value string }{
		{"more rows an insert", "--insert-rows", "2000"},
		{"fewer rows a batch", "--batch-rows", "400"},
		// The same inserts, other rows: the tokens would drop the
		// rerun's where the first run's are.
		{"another sensor", "--sensor", "b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			again := slices.Clone(first)
			again[slices.Index(again, tt.flag)+1] = tt.value
			clean := filepath.Join(t.TempDir(), "clean")
			clitest.LoadOK(t, bin, clean, caps, again)
			want := stateOf(t, bin, clean)

			db := filepath.Join(t.TempDir(), "db")
			killedLoad(t, bin, db, caps, first, crashCase{crashAt: "insert:3"}, 0)
			code, out, errOut := clitest.RunBinary(t, bin, append(append([]string{"load", "--json", "--db", db}, again...), caps)...)
			if code != clitest.ExitOK {
				t.Fatalf("rerun: exit %d\n%s", code, errOut)
			}
			// It says so: in a note, and for each file replaced.
			s, replaced := clitest.LoadJSON(t, out), 0
			for _, f := range s.PerFile {
				if strings.Contains(f.Replaced["db:"+db], "other inserts") {
					replaced++
				}
			}
			if notes := strings.Join(s.Notes, "\n"); replaced == 0 || !strings.Contains(notes, "replaced the rows of") {
				t.Errorf("rerun replaced %d files by its summary; notes %q", replaced, notes)
			}
			want.check(t, bin, db)
			// The files the kill cut short were replaced; their marks say
			// how the rerun cut them.
			got := clitest.Query(t, bin, db, "SELECT (SELECT max(generation) FROM capture_files), "+
				"(SELECT count() FROM (SELECT anyIf(error, generation = 0 AND status = 'loading') AS e0, "+
				"anyIf(error, generation = 1 AND status = 'loading') AS e1 FROM capture_files GROUP BY file_hash "+
				"HAVING countIf(generation = 1) > 0) WHERE e1 != e0 AND e1 != '') = "+
				"(SELECT uniqExactIf(file_hash, generation = 1) FROM capture_files)")
			if got != "1,1\n" {
				t.Errorf("latest generation, every replaced file marked with the rerun's cut = %q, want \"1,1\"", got)
			}
		})
	}
}

// TestLoad_interruptedGroup interrupts a load of many small files, each
// shorter than the decoder's check for an interrupt within a file, loaded
// as one group: the files not yet decoded fail as cancelled rather than
// load on, and a run again loads every file once.
func TestLoad_interruptedGroup(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	caps := t.TempDir()
	for i := range 40 {
		cfg := gen.Config{Seed: int64(i + 1), Messages: 100}
		if _, err := gen.WriteFile(filepath.Join(caps, fmt.Sprintf("c%02d.pcap", i)), cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--progress", "never", "--workers", "1", "--batch-rows", "50", "--takeover-after", "0s"}
	clean := filepath.Join(t.TempDir(), "db")
	clitest.LoadOK(t, bin, clean, caps, args)
	want := stateOf(t, bin, clean)

	db := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(bin, append([]string{"load", "--json", "--db", db}, append(args, caps)...)...)
	cmd.Env = append(os.Environ(), clitest.InterruptEnv+"=batch:2")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != clitest.ExitFailure || !strings.Contains(stderr.String(), "cancelled") {
		t.Fatalf("interrupted load: %v, want exit %d naming a cancelled file\n%s", err, clitest.ExitFailure, stderr.String())
	}
	s := clitest.LoadJSON(t, stdout.String())
	if s.FilesLoaded >= 20 { // the signal lands a few small files after the batch
		t.Errorf("interrupted at its second batch, the load went on to load %d files of 40", s.FilesLoaded)
	}
	if s.Interrupted != 40-s.FilesLoaded || !strings.Contains(strings.Join(s.Notes, "\n"), "interrupted: rows count none") {
		t.Errorf("%d files said interrupted of %d not loaded; notes %q", s.Interrupted, 40-s.FilesLoaded, s.Notes)
	}
	clitest.LoadOK(t, bin, db, caps, args)
	want.check(t, bin, db)
}

// TestLoad_killedEngineLostAPart: the embedded engine records an insert's
// token in its deduplication log, then renames the insert's part into the
// table (MergeTreeSink::commitPart). A loader killed in between, with the
// engine in its process, leaves the token without the part: sent again
// under that token, the rows would be dropped (seen once, a kill a third
// into the load: 1,500 rows lost). The test makes that state for sure:
// it kills the load after its third insert and deletes the table's
// newest part, whose tokens the log holds, as a kill inside the commit
// would have left it. The rerun does not trust a killed run's tokens: it
// replaces the file's rows, and they equal a clean load's.
func TestLoad_killedEngineLostAPart(t *testing.T) {
	bin, caps, args, want := ownInserts(t)

	db := filepath.Join(t.TempDir(), "db")
	killedLoad(t, bin, db, caps, args, crashCase{crashAt: "insert:3"}, 0)
	dropNewestPart(t, bin, db, "dns_messages")
	clitest.LoadOK(t, bin, db, caps, args)
	want.check(t, bin, db)
}

// dropNewestPart deletes the newest part of table in the embedded
// database db, as an engine killed inside that part's commit leaves it.
func dropNewestPart(t *testing.T, bin, db, table string) {
	t.Helper()
	part := strings.Trim(strings.TrimSpace(clitest.Query(t, bin, db, "SELECT path FROM system.parts WHERE database = 'default' "+
		"AND table = '"+table+"' AND active ORDER BY max_block_number DESC LIMIT 1")), `"`)
	if part == "" || !strings.HasPrefix(part, db) {
		t.Fatalf("newest part of %s: %q, want a directory in %s", table, part, db)
	}
	if err := os.RemoveAll(part); err != nil {
		t.Fatal(err)
	}
}

// TestLoad_killedEngineLostAMark: a load killed inside the insert of its
// loading mark may leave the mark's token without the mark. The next
// run's mark carries a token of its own, so a kill of that run shows, and
// the run after replaces the file's rows. The marks' tokens were the
// file's: the second mark was dropped, the kill hid, and the third run
// completed the file under tokens the killed engine kept without their
// rows (a hostile run: 1,500 rows of 20,000 lost).
func TestLoad_killedEngineLostAMark(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	caps := filepath.Join(clitest.WriteCaptures(t, 12_000), "a.pcap")
	args := append(slices.Clone(clitest.CrashLoadArgs), "--group-files", "1")
	clean := filepath.Join(t.TempDir(), "db")
	clitest.LoadOK(t, bin, clean, caps, args)
	want := stateOf(t, bin, clean)

	db := filepath.Join(t.TempDir(), "db")
	killedLoad(t, bin, db, caps, args, crashCase{crashAt: "batch:1"}, 0)
	dropNewestPart(t, bin, db, "capture_files")
	killedLoad(t, bin, db, caps, args, crashCase{crashAt: "insert:3"}, 0)
	dropNewestPart(t, bin, db, "dns_messages")
	clitest.LoadOK(t, bin, db, caps, args)
	want.check(t, bin, db)
}
