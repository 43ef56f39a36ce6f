package main

import (
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
