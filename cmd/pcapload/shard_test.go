package main

import (
	"fmt"
	"testing"

	"github.com/pcapload/pcapload/ingest"
)

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
