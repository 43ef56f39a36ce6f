package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/gen"
)

// writeArchive generates files captures of n messages each, every one
// different, into a new directory, as rotate would name them.
func writeArchive(t *testing.T, files, n int) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := range files {
		at := start.Add(time.Duration(i) * time.Minute)
		cfg := gen.Config{Seed: int64(100 + i), Messages: n, Start: at.UnixNano()}
		if _, err := gen.WriteFile(filepath.Join(dir, at.Format("dns-20060102-1504.pcap")), cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoad_shard splits an archive between three loaders running at once
// into one server, each with --shard k/3: together they load every file
// once, and the server holds exactly the rows of one full load.
func TestLoad_shard(t *testing.T) {
	const files, n = 9, 1500
	srv := chtest.Start(t)
	caps := writeArchive(t, files, n)
	want := cleanContent(t, srv.Bin, caps)

	dest := destinations(srv)["native"]
	took := make([]loadResult, 3)
	var wg sync.WaitGroup
	for k := range took {
		wg.Go(func() {
			took[k] = runLoad(srv.Bin, "load", "--json", "--progress", "never", "--workers", "1",
				"--shard", fmt.Sprintf("%d/3", k+1), "--to", dest, caps)
		})
	}
	wg.Wait()

	seen := make(map[string]int)
	for k, r := range took {
		if r.err != nil || r.code != exitOK {
			t.Fatalf("shard %d/3: exit %d, %v\n%s", k+1, r.code, r.err, r.stderr)
		}
		if len(r.sum(t).PerFile) == 0 {
			t.Errorf("shard %d/3 loaded no file; the generated names spread 4, 4, 1", k+1)
		}
		wantNote := fmt.Sprintf("shard %d/3: %d of %d files", k+1, len(r.sum(t).PerFile), files)
		if !strings.Contains(r.stderr, wantNote) {
			t.Errorf("shard %d/3 stderr lacks %q:\n%s", k+1, wantNote, r.stderr)
		}
		for _, f := range r.sum(t).PerFile {
			seen[filepath.Base(f.Path)]++
		}
	}
	if len(seen) != files {
		t.Errorf("the shards loaded %d distinct files, want %d", len(seen), files)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s loaded by %d shards, want 1", name, c)
		}
	}
	if got := serverQuery(t, srv, contentSQL()); got != want {
		t.Errorf("rows (count, checksum) = %q, want one full load's %q", got, want)
	}
	wantFiles := fmt.Sprintf("%d,%d\n", files, files)
	if got := serverQuery(t, srv, loadedSQL); got != wantFiles {
		t.Errorf("files loaded once, files recorded = %q, want %q", got, wantFiles)
	}
	q := "SELECT count(), uniqExact(file_hash) FROM capture_files WHERE status = 'loaded'"
	if got := serverQuery(t, srv, q); got != wantFiles {
		t.Errorf("loaded records, distinct files = %q, want %q", got, wantFiles)
	}
}

// loadResult is the outcome of one loader process.
type loadResult struct {
	code           int
	stdout, stderr string
	err            error // the process could not run
}

func (r loadResult) sum(t *testing.T) summary { return loadJSON(t, r.stdout) }

// runLoad runs bin with args; unlike runBinary it may run off the test's
// goroutine.
func runLoad(bin string, args ...string) loadResult {
	var out, errOut strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := loadResult{code: -1, stdout: out.String(), stderr: errOut.String(), err: err}
	if _, ok := err.(*exec.ExitError); ok || err == nil {
		r.code, r.err = cmd.ProcessState.ExitCode(), nil
	}
	return r
}

func TestRun_shardUsage(t *testing.T) {
	for _, shard := range []string{"0/3", "4/3", "1/0", "2", "x/y"} {
		t.Run(shard, func(t *testing.T) {
			code, _, stderr := runCmd(t, nil, "load", "--shard", shard, "../../testdata/resolver.pcap")
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, stderr)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		code, _, stderr := runCmd(t, nil, "load", "--shard", "1/2", "-")
		if code != exitUsage {
			t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, stderr)
		}
	})
}

// TestRun_shardEmpty checks that a shard with no file of the inputs is a
// load of nothing, not an error: the other machines have the files.
func TestRun_shardEmpty(t *testing.T) {
	var empty string
	for k := 1; k <= 3; k++ {
		if !(ingest.Shard{K: k, N: 3}).Holds("resolver.pcap") {
			empty = fmt.Sprintf("%d/3", k)
			break
		}
	}
	dir := t.TempDir()
	code, out, stderr := runCmd(t, nil, "load", "--json", "--progress", "never", "--shard", empty,
		"--to", "parquet:"+dir, "../../testdata/resolver.pcap")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	if s := loadJSON(t, out); s.Files != 0 || s.Messages != 0 {
		t.Errorf("shard %s loaded %d files, %d messages; want none", empty, s.Files, s.Messages)
	}
}
