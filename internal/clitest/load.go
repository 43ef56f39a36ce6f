package clitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What the tests rely on of the built pcapload: its exit codes, as the
// README gives them, and the hooks by which a test stops it at a moment
// of its load (cmd/pcapload/load.go).
const (
	ExitOK      = 0
	ExitFailure = 1

	CrashEnv     = "PCAPLOAD_TEST_CRASH_AT"
	StopEnv      = "PCAPLOAD_TEST_STOP_AT"
	InterruptEnv = "PCAPLOAD_TEST_INTERRUPT_AT"
)

// Summary is what the tests of the built binary read of load --json's
// summary: they read it as a user's script would, not through the
// command's own type.
type Summary struct {
	Files        int               `json:"files"`
	FilesLoaded  int               `json:"files_loaded"`
	FilesFailed  int               `json:"files_failed"`
	FilesSkipped int               `json:"files_skipped"`
	Interrupted  int               `json:"files_interrupted"`
	Rows         map[string]uint64 `json:"rows"`
	Notes        []string          `json:"notes"`
	PerFile      []struct {
		Path       string              `json:"path"`
		Superseded map[string][]string `json:"superseded"`
		Replaced   map[string]string   `json:"replaced"`
	} `json:"per_file"`
}

// LoadJSON parses load --json's output.
func LoadJSON(t testing.TB, out string) Summary {
	t.Helper()
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	return s
}

// CrashLoadArgs cut the generated captures into many batches and inserts,
// so that a crash can land between any two of them. A rerun takes a
// killed load's files over at once: the loader is gone with its inserts
// (the embedded engine runs in it; a killed server takes its own), and
// the wait for a mark to age is load.TestLedger_takeover's.
var CrashLoadArgs = []string{"--progress", "never", "--workers", "2", "--batch-rows", "500", "--insert-rows", "1500",
	"--takeover-after", "0s"}

// LoadOK loads caps into db and fails the test unless the load succeeds.
func LoadOK(t testing.TB, bin, db, caps string, loadArgs []string) {
	t.Helper()
	args := append([]string{"load", "--db", db}, loadArgs...)
	if code, out, errOut := RunBinary(t, bin, append(args, caps)...); code != ExitOK {
		t.Fatalf("load: exit %d\n%s%s", code, out, errOut)
	}
}

// CleanContent loads caps into a new embedded database with
// CrashLoadArgs and returns its rows' count and checksum (ContentSQL):
// what a load anywhere else must end with.
func CleanContent(t testing.TB, bin, caps string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	LoadOK(t, bin, db, caps, CrashLoadArgs)
	return Query(t, bin, db, ContentSQL())
}

// RunStopped runs cmd, a load that stops itself (StopEnv), runs between
// meanwhile, continues it and returns its exit code and stderr.
func RunStopped(t testing.TB, cmd *exec.Cmd, between func()) (int, string) {
	t.Helper()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		errOut.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "stopping the loader") {
			break
		}
	}
	if !strings.Contains(errOut.String(), "stopping the loader") {
		_ = cmd.Wait()
		t.Fatalf("the load never reached the step it stops at:\n%s", errOut.String())
	}
	// The loader says so before it stops: a SIGCONT sent between the two
	// was lost, and the loader stopped for good.
	waitStopped(t, cmd.Process.Pid)
	between()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("continue the loader: %v\n%s", err, errOut.String())
	}
	rest, _ := io.ReadAll(pipe)
	errOut.Write(rest)
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode(), errOut.String()
}

// waitStopped waits until the process pid is stopped (state T).
func waitStopped(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		// pid (comm) state ...: the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'T' {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d did not stop", pid)
}
