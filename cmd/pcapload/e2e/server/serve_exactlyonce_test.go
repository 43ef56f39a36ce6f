package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/hostile"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
)

// stoppedLoad starts a load into dest that stops itself after its second
// insert, runs between on the server meanwhile, continues the load and
// returns its exit code and stderr. flags go before the captures.
func stoppedLoad(t *testing.T, bin, dest, caps string, between func(), flags ...string) (int, string) {
	t.Helper()
	args := append([]string{"load", "--to", dest}, clitest.CrashLoadArgs...)
	cmd := exec.Command(bin, append(append(args, flags...), caps)...)
	cmd.Env = append(os.Environ(), clitest.StopEnv+"=insert:2")
	return clitest.RunStopped(t, cmd, between)
}

// TestServe_exactlyOnce loads into a server that crashes under the load:
// the loader retries, fails naming the file, and the next run completes
// it; a server restarted within the retries loses nothing; and loading
// again adds nothing while --force replaces. The rows always equal a clean
// load's, by count and content.
func TestServe_exactlyOnce(t *testing.T) {
	srv := chtest.Start(t)
	caps := clitest.WriteCaptures(t, 12_000)
	want := clitest.CleanContent(t, srv.Bin, caps)

	for _, proto := range []string{"native", "http"} {
		t.Run(proto, func(t *testing.T) {
			srv := chtest.Start(t)
			dest := clitest.Destinations(srv)[proto]
			check := func(step string) {
				t.Helper()
				if got := clitest.ServerQuery(t, srv, clitest.ContentSQL()); got != want {
					t.Errorf("%s: rows (count, checksum) = %q, want %q", step, got, want)
				}
				if got := clitest.ServerQuery(t, srv, clitest.LoadedSQL); got != "2,2\n" {
					t.Errorf("%s: files loaded once, files recorded = %q, want 2,2", step, got)
				}
			}

			code, errOut := stoppedLoad(t, srv.Bin, dest, caps, srv.Kill)
			// One file's line, or one for the files that failed alike.
			if named := regexp.MustCompile(`\.pcap\)?: ` + regexp.QuoteMeta(dest)); code != clitest.ExitFailure || !named.MatchString(errOut) {
				t.Fatalf("load into a killed server: exit %d, want 1 naming the file\n%s", code, errOut)
			}
			srv = srv.Restart(t)
			args := append([]string{"load", "--json", "--to", dest}, clitest.CrashLoadArgs...)
			if code, out, errOut := clitest.RunBinary(t, srv.Bin, append(args, caps)...); code != clitest.ExitOK {
				t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
			}
			check("rerun after the crash")

			// Forced, so that the load inserts into the loaded database.
			code, errOut = stoppedLoad(t, srv.Bin, dest, caps, func() { srv = srv.Restart(t) }, "--force")
			if code != clitest.ExitOK {
				t.Fatalf("load through a restart: exit %d, want 0 after retries\n%s", code, errOut)
			}
			check("load retried through a restart")

			for _, force := range []bool{false, true} {
				args := args
				if force {
					args = append(args, "--force")
				}
				code, out, errOut := clitest.RunBinary(t, srv.Bin, append(args, caps)...)
				if code != clitest.ExitOK {
					t.Fatalf("load again (force %v): exit %d\n%s", force, code, errOut)
				}
				if rows := clitest.LoadJSON(t, out).Rows[dest]; rows != map[bool]uint64{false: 0, true: 24_000}[force] {
					t.Errorf("load again (force %v) wrote %d rows", force, rows)
				}
				check(fmt.Sprintf("load again (force %v)", force))
			}
		})
	}
}

// TestServe_concurrentLoads starts two loads of the same small files into
// one server at once. They take turns (a lock per database on the
// machine): the rows equal a clean load's, and every file is loaded once.
// Grouped, without the turns, the second load took the first's groups for
// a crashed run's and loaded them again.
func TestServe_concurrentLoads(t *testing.T) {
	srv := chtest.Start(t)
	const files = 24
	caps := clitest.WriteArchive(t, files, 500)
	want := clitest.CleanContent(t, srv.Bin, caps)

	dest := clitest.Destinations(srv)["http"]
	args := append([]string{"load", "--to", dest, "--group-files", "4"}, clitest.CrashLoadArgs...)
	type outcome struct {
		code   int
		stderr string
	}
	done := make(chan outcome, 2)
	for range 2 {
		go func() {
			cmd := exec.Command(srv.Bin, append(args, caps)...)
			var errOut strings.Builder
			cmd.Stderr = &errOut
			_ = cmd.Run()
			done <- outcome{cmd.ProcessState.ExitCode(), errOut.String()}
		}()
	}
	waited := 0
	for range 2 {
		o := <-done
		if o.code != clitest.ExitOK {
			t.Fatalf("load: exit %d\n%s", o.code, o.stderr)
		}
		if strings.Contains(o.stderr, "waiting for it to end") {
			waited++
		}
	}
	if waited != 1 {
		t.Errorf("%d loads waited for the other, want 1", waited)
	}
	if got := clitest.ServerQuery(t, srv, clitest.ContentSQL()); got != want {
		t.Errorf("rows (count, checksum) = %q, want %q", got, want)
	}
	if got, wantFiles := clitest.ServerQuery(t, srv, clitest.LoadedSQL), fmt.Sprintf("%d,%d\n", files, files); got != wantFiles {
		t.Errorf("files loaded once, files recorded = %q, want %q", got, wantFiles)
	}
}

// TestServe_reloadGroup loads a group of 120 small files into a server by
// each protocol, then again: the second load adds no row and leaves every
// file out as loaded. The group's state is one answer of about 100 bytes a
// file; over HTTP it was cut at 4 KiB, and all but the first 45 files of
// a group were loaded twice.
func TestServe_reloadGroup(t *testing.T) {
	const files = 120
	srv := chtest.Start(t)
	caps := clitest.WriteArchive(t, files, 20)
	for proto, dest := range map[string]string{
		"native": "clickhouse://" + srv.TCP + "/reload_native",
		"http":   "http://" + srv.HTTP + "/reload_http",
	} {
		t.Run(proto, func(t *testing.T) {
			args := []string{"load", "--json", "--progress", "never", "--to", dest, caps}
			var rows [2]uint64
			for run := range rows {
				code, out, errOut := clitest.RunBinary(t, srv.Bin, args...)
				if code != clitest.ExitOK {
					t.Fatalf("load %d: exit %d\n%s", run+1, code, errOut)
				}
				sum := clitest.LoadJSON(t, out)
				rows[run] = sum.Rows[dest]
				if run == 1 && sum.FilesSkipped != files {
					t.Errorf("second load: %d files left out, want %d", sum.FilesSkipped, files)
				}
			}
			if rows[0] == 0 || rows[1] != 0 {
				t.Errorf("rows written: %d, then %d; want some, then none", rows[0], rows[1])
			}
		})
	}
}

// TestServe_restartRiddenOut kills the server mid-load and starts it
// again 2 s later: the load rides the restart out, loads every file, and
// the rows equal a clean load's. Its retries spanned 1.75 s, and a 2 s
// restart failed whole groups (a hostile run).
func TestServe_restartRiddenOut(t *testing.T) {
	srv := chtest.Start(t)
	caps := clitest.WriteCaptures(t, 12_000)
	want := clitest.CleanContent(t, srv.Bin, caps)

	dest := clitest.Destinations(srv)["http"]
	back := make(chan *chtest.Server, 1)
	code, errOut := stoppedLoad(t, srv.Bin, dest, caps, func() {
		srv.Kill()
		go func() {
			time.Sleep(2 * time.Second)
			back <- srv.Restart(t)
		}()
	})
	srv = <-back
	if code != clitest.ExitOK {
		t.Fatalf("load over a 2 s restart: exit %d, want 0\n%s", code, errOut)
	}
	if got := clitest.ServerQuery(t, srv, clitest.ContentSQL()); got != want {
		t.Errorf("rows (count, checksum) = %q, want %q", got, want)
	}
}

// TestServe_killedGroupTakenOver kills a grouped load into a server after
// its first insert and runs it again with the default --takeover-after:
// the rerun waits for the marks of the killed load to age (by the
// server's clock) before it deletes and reloads its files, and the rows
// equal a clean load's.
func TestServe_killedGroupTakenOver(t *testing.T) {
	srv := chtest.Start(t)
	caps := clitest.WriteArchive(t, 6, 1000)
	want := clitest.CleanContent(t, srv.Bin, caps)

	dest := clitest.Destinations(srv)["http"]
	args := []string{"load", "--progress", "never", "--insert-rows", "1500", "--batch-rows", "500", "--to", dest, caps}
	cmd := exec.Command(srv.Bin, args...)
	cmd.Env = append(os.Environ(), clitest.CrashEnv+"=insert:1")
	if err := cmd.Run(); err == nil {
		t.Fatal("the load was not killed")
	}
	start := time.Now()
	code, out, errOut := clitest.RunBinary(t, srv.Bin, args...)
	if code != clitest.ExitOK {
		t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
	}
	if took := time.Since(start); took < load.DefaultTakeover/2 {
		t.Errorf("the rerun took %v: it did not wait for the killed load's marks to age", took)
	}
	// Said as the wait begins, not only in the summary after it.
	if !regexp.MustCompile(`pcapload: waiting \d+\.\d s before replacing the rows of .*\.pcap`).MatchString(errOut) {
		t.Errorf("the rerun did not say it waited:\n%s", errOut)
	}
	checkServed(t, srv, want, 6)
}

// TestServe_grownFileSupersedes loads a capture cut short, as while it is
// still being written, into a server, then the whole file at the same
// path: the server holds each message once, and the first load's record
// says it was superseded.
func TestServe_grownFileSupersedes(t *testing.T) {
	srv := chtest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "dns.pcap")
	st, err := gen.WriteFile(path, gen.Config{Seed: 31, Messages: 2000}, gen.Pcap)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for proto, dest := range map[string]string{
		"native": "clickhouse://" + srv.TCP + "/grown_native",
		"http":   "http://" + srv.HTTP + "/grown_http",
	} {
		t.Run(proto, func(t *testing.T) {
			db := dest[strings.LastIndex(dest, "/")+1:]
			if err := os.WriteFile(path, whole[:len(whole)/2+3], 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"load", "--progress", "never", "--to", dest, path}
			if code, _, errOut := clitest.RunBinary(t, srv.Bin, args...); code != clitest.ExitFailure || !strings.Contains(errOut, "truncated") {
				t.Fatalf("cut load: exit %d, want %d and the cut named\n%s", code, clitest.ExitFailure, errOut)
			}
			if err := os.WriteFile(path, whole, 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := clitest.RunBinary(t, srv.Bin, append([]string{"load", "--json"}, args[1:]...)...)
			if code != clitest.ExitOK {
				t.Fatalf("whole load: exit %d\n%s", code, errOut)
			}
			if sup := clitest.LoadJSON(t, out).PerFile[0].Superseded; len(sup) != 1 || !slices.Equal(sup[dest], []string{path}) ||
				!strings.Contains(errOut, path+": supersedes in "+dest+" its start") {
				t.Errorf("whole load says it superseded %v, and %q; want %s in %s", sup, errOut, path, dest)
			}
			got := clitest.ServerQuery(t, srv, "SELECT count(), uniqExact(file_hash) FROM "+db+".dns_messages")
			if want := fmt.Sprintf("%d,1\n", st.Messages); got != want {
				t.Errorf("rows, files = %q, want %q", got, want)
			}
			got = clitest.ServerQuery(t, srv, "SELECT countIf(status = 'superseded' AND startsWith(error, 'superseded by ')), "+
				"countIf(status = 'loaded') FROM "+db+".capture_files")
			if got != "1,1\n" {
				t.Errorf("superseded and loaded records = %q, want 1,1", got)
			}
		})
	}
}

// TestLoad_fewDescriptors loads a folder of many small captures into the
// embedded database under a low limit of open files: a group keeps its
// files open from their hash to their load, so groups are bounded by the
// limit, and every file loads.
func TestLoad_fewDescriptors(t *testing.T) {
	testenv.RequireCHDB(t)
	const files = 600
	caps := clitest.WriteArchive(t, files, 4)
	db := filepath.Join(t.TempDir(), "db")
	script := `ulimit -n 450 && exec "$0" load --json --progress never --workers 2 --db "$1" "$2"`
	code, out, errOut := clitest.RunBinary(t, "sh", "-c", script, chtest.Binary(t), db, caps)
	if code != clitest.ExitOK {
		t.Fatalf("load under 450 open files: exit %d\n%.2000s", code, errOut)
	}
	if sum := clitest.LoadJSON(t, out); sum.Files != files || sum.FilesFailed != 0 {
		t.Errorf("loaded %d files, %d failed; want %d, none", sum.Files, sum.FilesFailed, files)
	}
}

// TestServe_restartLostAPart: a server killed inside an insert's commit
// may keep the insert's token without its rows (load.Ledger.CheckKept).
// The test makes that state for sure, killing the server and deleting the
// table's newest part, whose tokens its log holds, as such a kill would
// have left it: after a load killed after its third insert, for a rerun
// to complete; and while a grouped load is stopped, for its own retried
// and later inserts to complete. Either run finds rows missing and fails
// the file, saying so; the next run loads the rows afresh, and they
// equal a clean load's.
func TestServe_restartLostAPart(t *testing.T) {
	srv := chtest.Start(t)
	caps := clitest.WriteCaptures(t, 12_000)
	want := clitest.CleanContent(t, srv.Bin, caps)

	for _, tt := range []struct {
		name, groupFiles string
		killed           bool // the load is killed; else stopped while the part is lost
	}{
		{"a rerun completes a killed load", "1", true},
		{"a grouped load goes on", "2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := chtest.Start(t)
			dest := clitest.Destinations(srv)["http"]
			flags := []string{"--group-files", tt.groupFiles}
			args := append(append(append([]string{"load", "--to", dest}, clitest.CrashLoadArgs...), flags...), caps)
			loseAPart := func() { srv = loseNewestPart(t, srv, "dns_messages") }
			var code int
			var errOut string
			if tt.killed {
				cmd := exec.Command(srv.Bin, args...)
				cmd.Env = append(os.Environ(), clitest.CrashEnv+"=insert:3")
				if err := cmd.Run(); err == nil {
					t.Fatal("the load was not killed")
				}
				loseAPart()
				code, _, errOut = clitest.RunBinary(t, srv.Bin, args...)
			} else {
				code, errOut = stoppedLoad(t, srv.Bin, dest, caps, loseAPart, flags...)
			}
			if code != clitest.ExitFailure || !strings.Contains(errOut, "token without its rows") {
				t.Fatalf("load after the part was lost: exit %d, want 1 saying rows were lost\n%s", code, errOut)
			}
			if code, out, errOut := clitest.RunBinary(t, srv.Bin, args...); code != clitest.ExitOK {
				t.Fatalf("next load: exit %d\n%s%s", code, out, errOut)
			}
			checkServed(t, srv, want, 2)
		})
	}
}

// loseNewestPart kills srv, deletes the newest part of table in its
// default database, as a server killed inside that part's commit leaves
// it (its token kept, the part never renamed in), and starts it again.
func loseNewestPart(t *testing.T, srv *chtest.Server, table string) *chtest.Server {
	t.Helper()
	var part string
	q := "SELECT path FROM system.parts WHERE database = 'default' AND table = '" + table + "' AND active " +
		"ORDER BY max_block_number DESC LIMIT 1"
	if err := srv.Conn(t).QueryRow(context.Background(), q).Scan(&part); err != nil {
		t.Fatalf("newest part of %s: %v", table, err)
	}
	srv.Kill()
	if err := os.RemoveAll(part); err != nil {
		t.Fatal(err)
	}
	return srv.Restart(t)
}

// TestServe_restartLostARecord: a server killed inside the insert of a
// file's loaded record may keep the record's token without the record.
// The next run completes the file again, and its record, under a token of
// its own run, is kept: the run after finds the file loaded. The record's
// token was the file's: every rerun loaded the file again and recorded
// nothing (a hostile run).
func TestServe_restartLostARecord(t *testing.T) {
	srv := chtest.Start(t)
	caps := filepath.Join(clitest.WriteCaptures(t, 6000), "a.pcap")
	want := clitest.CleanContent(t, srv.Bin, caps)
	dest := clitest.Destinations(srv)["http"]
	args := append(append([]string{"load", "--json", "--to", dest}, clitest.CrashLoadArgs...), caps)

	cmd := exec.Command(srv.Bin, args...)
	cmd.Env = append(os.Environ(), clitest.StopEnv+"=recorded:0")
	if code, errOut := clitest.RunStopped(t, cmd, func() { srv = loseNewestPart(t, srv, "capture_files") }); code != clitest.ExitOK {
		t.Fatalf("first load: exit %d\n%s", code, errOut)
	}
	for run, wantRows := range []uint64{6000, 0} {
		code, out, errOut := clitest.RunBinary(t, srv.Bin, args...)
		if code != clitest.ExitOK {
			t.Fatalf("rerun %d: exit %d\n%s%s", run+1, code, out, errOut)
		}
		if rows := clitest.LoadJSON(t, out).Rows[dest]; rows != wantRows {
			t.Errorf("rerun %d wrote %d rows, want %d", run+1, rows, wantRows)
		}
	}
	checkServed(t, srv, want, 1)
}

// TestServe_restartDuringStandardInput: standard input has no hash, so its
// rows cannot be counted apart from other loads': a load from it fails
// when the server restarted while it was sent, whose retried insert may
// have been dropped under a token the server kept without its rows. It
// ended as loaded, 1,500 rows short, before.
func TestServe_restartDuringStandardInput(t *testing.T) {
	srv := chtest.Start(t)
	caps := filepath.Join(clitest.WriteCaptures(t, 6000), "a.pcap")
	in, err := os.Open(caps)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dest := clitest.Destinations(srv)["http"]
	cmd := exec.Command(srv.Bin, append(append([]string{"load", "--to", dest}, clitest.CrashLoadArgs...), "-")...)
	cmd.Stdin = in
	cmd.Env = append(os.Environ(), clitest.StopEnv+"=insert:2")
	code, errOut := clitest.RunStopped(t, cmd, func() { srv = loseNewestPart(t, srv, "dns_messages") })
	if code != clitest.ExitFailure || !strings.Contains(errOut, "the server restarted during the load") {
		t.Fatalf("load of standard input over a restart: exit %d, want 1 saying so\n%s", code, errOut)
	}
}

// checkServed fails the test where the rows srv holds differ from want
// (contentSQL's count and checksum), or where its files, files of them,
// are not each loaded once.
func checkServed(t *testing.T, srv *chtest.Server, want string, files int) {
	t.Helper()
	if got := clitest.ServerQuery(t, srv, clitest.ContentSQL()); got != want {
		t.Errorf("rows (count, checksum) = %q, want %q", got, want)
	}
	if got, once := clitest.ServerQuery(t, srv, clitest.LoadedSQL), fmt.Sprintf("%d,%d\n", files, files); got != once {
		t.Errorf("files loaded once, files recorded = %q, want %q", got, once)
	}
}

// TestServe_rerunOverTheOtherProtocol: a load killed after its first
// insert, run again over the server's other protocol, replaces the rows
// rather than completes them. Native and HTTP inserts of large rows are
// cut otherwise by their compressed bytes, and are parts of other blocks
// under the same tokens: the rerun stored a file's rows twice, or part
// of them (a hostile run: 1,316 and 1,800 rows of 900), and exited 0.
func TestServe_rerunOverTheOtherProtocol(t *testing.T) {
	caps := t.TempDir()
	for i := range 2 {
		zone := hostile.Bounds{Seed: uint64(i + 1), ZoneTransfers: 400}
		if err := hostile.Write(filepath.Join(caps, fmt.Sprintf("zone%d.pcap", i)), zone); err != nil {
			t.Fatal(err)
		}
	}
	want := clitest.CleanContent(t, chtest.Binary(t), caps)
	for _, first := range []string{"native", "http"} {
		t.Run("first "+first, func(t *testing.T) {
			t.Parallel() // a server each, mostly waiting for it
			srv := chtest.Start(t)
			dests := clitest.Destinations(srv)
			then := map[string]string{"native": "http", "http": "native"}[first]
			load := func(dest string) []string {
				return []string{"load", "--progress", "never", "--takeover-after", "0s", "--workers", "1", "--to", dest, caps}
			}
			cmd := exec.Command(srv.Bin, load(dests[first])...)
			cmd.Env = append(os.Environ(), clitest.CrashEnv+"=insert:1")
			if err := cmd.Run(); err == nil {
				t.Fatal("the load was not killed")
			}
			if code, out, errOut := clitest.RunBinary(t, srv.Bin, load(dests[then])...); code != clitest.ExitOK {
				t.Fatalf("rerun over %s: exit %d\n%s%s", then, code, out, errOut)
			}
			checkServed(t, srv, want, 2)
		})
	}
}
