package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/testenv"
)

// TestLoad_stdinPipe runs the loader at the end of a pipe, into the
// embedded database: once given files while the pipe carries other bytes,
// once reading a capture from the pipe ("-") beside files, and once with
// standard input /dev/null.
// The engine in the process took the pipe for data of its queries, and
// every load failed.
func TestLoad_stdinPipe(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	capture, err := os.ReadFile(resolverPcap)
	if err != nil {
		t.Fatal(err)
	}
	// Twenty files, and a collection after every allocation: the file of
	// descriptor 0, once left for the collector, was closed by its
	// finalizer a few files in, and the engine opened a file on 0.
	archive := clitest.WriteArchive(t, 20, 100)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		files       int
	}{
		{"pipe beside files", "x\n", []string{archive}, 20},
		{"capture from the pipe", string(capture), []string{"-", archive}, 21},
		{"no pipe", "", []string{archive}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "db")
			cmd := exec.Command(bin, append([]string{"load", "--json", "--db", db}, tc.args...)...)
			cmd.Env = append(os.Environ(), "GOGC=1")
			if tc.stdin != "" {
				cmd.Stdin = strings.NewReader(tc.stdin)
			}
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("load: %v\n%s", err, errOut.String())
			}
			s := loadJSON(t, out.String())
			if s.FilesLoaded != tc.files || s.FilesFailed != 0 || s.Rows["db:"+db] != s.Messages || s.Messages == 0 {
				t.Errorf("%d files loaded, %d failed, rows %v of %d messages; want %d loaded and every message",
					s.FilesLoaded, s.FilesFailed, s.Rows, s.Messages, tc.files)
			}
		})
	}
}

// TestLoad_stdinTwice loads one capture from standard input twice into
// the embedded database: standard input is never recognised, so its rows
// are stored twice, as the summaries say. Without a token its inserts
// were dropped the second time by the engine's deduplication of equal
// bytes, and the summary still counted them.
func TestLoad_stdinTwice(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	capture, err := os.ReadFile(resolverPcap)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "db")
	var written uint64
	for range 2 {
		cmd := exec.Command(bin, "load", "--json", "--db", db, "-")
		cmd.Stdin = strings.NewReader(string(capture))
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("load: %v\n%s", err, errOut.String())
		}
		written += loadJSON(t, out.String()).Rows["db:"+db]
	}
	if got := clitest.Query(t, bin, db, "SELECT count() FROM dns_messages"); got != fmt.Sprintf("%d\n", written) || written == 0 {
		t.Errorf("database holds %q rows, the two loads wrote %d", got, written)
	}
}
