package server

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
)

// TestLoad_shard splits an archive between three loaders running at once
// into one server, each with --shard k/3: together they load every file
// once, and the server holds exactly the rows of one full load.
func TestLoad_shard(t *testing.T) {
	const files, n = 9, 1500
	srv := chtest.Start(t)
	caps := clitest.WriteArchive(t, files, n)
	want := clitest.CleanContent(t, srv.Bin, caps)

	dest := clitest.Destinations(srv)["native"]
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
		if r.err != nil || r.code != clitest.ExitOK {
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
	if got := clitest.ServerQuery(t, srv, clitest.ContentSQL()); got != want {
		t.Errorf("rows (count, checksum) = %q, want one full load's %q", got, want)
	}
	wantFiles := fmt.Sprintf("%d,%d\n", files, files)
	if got := clitest.ServerQuery(t, srv, clitest.LoadedSQL); got != wantFiles {
		t.Errorf("files loaded once, files recorded = %q, want %q", got, wantFiles)
	}
	q := "SELECT count(), uniqExact(file_hash) FROM capture_files WHERE status = 'loaded'"
	if got := clitest.ServerQuery(t, srv, q); got != wantFiles {
		t.Errorf("loaded records, distinct files = %q, want %q", got, wantFiles)
	}
}

// loadResult is the outcome of one loader process.
type loadResult struct {
	code           int
	stdout, stderr string
	err            error // the process could not run
}

func (r loadResult) sum(t *testing.T) clitest.Summary { return clitest.LoadJSON(t, r.stdout) }

// runLoad runs bin with args; unlike clitest.RunBinary it may run off the test's
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
