package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_Help: -h prints a command's help once, on stdout, and exits 0;
// a flag mistake prints no help at all, only its line on stderr.
func TestRun_Help(t *testing.T) {
	for _, args := range [][]string{
		{"load", "-h"},
		{"load", "--help"},
		{"sql", "-h"},
		{"report", "-h"},
		{"serve", "-h"},
		{"schema", "apply", "-h"},
		{"schema", "print", "-h"},
		{"schema", "-h"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, nil, args...)
			if code != exitOK || stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if n := strings.Count(stdout, "Usage: pcapload "); n != 1 {
				t.Errorf("help printed %d times, want once:\n%s", n, stdout)
			}
		})
	}
	t.Run("mistake", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, nil, "load", "--no-such-flag", "x")
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 2 {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, the mistake and a hint",
				code, stdout, stderr)
		}
	})
}

// TestRun_schemaPrint: print shows every statement apply runs, the version
// record included, and takes no destination.
func TestRun_schemaPrint(t *testing.T) {
	code, stdout, _ := runCmd(t, nil, "schema", "print")
	for _, want := range []string{"dns_messages", "capture_files", "passive_dns_mv", "schema_version"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("schema print has no %s", want)
		}
	}
	if code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	if code, _, _ := runCmd(t, nil, "schema", "print", "--to", "clickhouse://127.0.0.1:9000/x"); code != exitUsage {
		t.Errorf("schema print --to: exit %d, want %d", code, exitUsage)
	}
}

// TestRun_version: version, --version and -version print the version.
func TestRun_version(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, out, errOut := runCmd(t, nil, arg)
		if code != exitOK || out != "pcapload "+version+"\n" {
			t.Errorf("%s: exit %d, output %q %q; want 0 and the version", arg, code, out, errOut)
		}
	}
}

// TestUsage_pointsAtHelp: a usage error of a command points at that
// command's help, one without a command at the general help.
func TestUsage_pointsAtHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "--batch-rows", "-1", "x.pcap"}, "Try 'pcapload load -h'.\n"},
		{[]string{"report", "--bogus"}, "Try 'pcapload report -h'.\n"},
		{[]string{"frobnicate"}, "Try 'pcapload help'.\n"},
	} {
		code, _, errOut := runCmd(t, nil, tc.args...)
		if code != exitUsage || !strings.HasSuffix(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d ending %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestUsage_flagsBeforeCommand: flags given before a command were taken
// for a load's, and the command and its arguments for files.
func TestUsage_flagsBeforeCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd(t, nil, "--db", filepath.Join(dir, "db"), "sql", "SELECT 1")
	if code != exitUsage || !strings.Contains(errOut, "sql is a command: its flags go after it") {
		t.Errorf("exit %d, stdout %q, stderr %q; want %d saying where the flags go", code, out, errOut, exitUsage)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); err == nil {
		t.Errorf("the database was made")
	}
}

// TestUsage_ignoredFlags: flags that a load's destinations would ignore
// are refused, before any destination is opened.
func TestUsage_ignoredFlags(t *testing.T) {
	dir := t.TempDir()
	db, other, pq := filepath.Join(dir, "db"), filepath.Join(dir, "other"), "parquet:"+filepath.Join(dir, "pq")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", db, "--to", "db:" + other}, "--to db:PATH names its own"},
		{[]string{"--db", db, "--to", "null"}, "no destination is one"},
		{[]string{"--db", db, "--to", pq}, "no destination is one"},
		{[]string{"--to", "db:" + db, "--to", "db:" + other}, "2 embedded databases"},
		{[]string{"--to", "db", "--to", "db:" + other}, "2 embedded databases"},
		{[]string{"--retention", "7", "--to", pq}, "--retention applies to databases"},
	} {
		args := append(append([]string{"load", "--progress", "never"}, tc.args...), "../../testdata/resolver.pcap")
		code, _, errOut := runCmd(t, nil, args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d saying %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("destinations were made: %v", entries)
	}
}
