package ingest

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"1/1", Shard{1, 1}, true},
		{"2/3", Shard{2, 3}, true},
		{"3/3", Shard{3, 3}, true},
		{"0/3", Shard{}, false},
		{"4/3", Shard{}, false},
		{"1/0", Shard{}, false},
		{"-1/3", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
		{"", Shard{}, false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadShard) {
				t.Errorf("error %v is not ErrBadShard", err)
			}
		})
	}
}

// TestShard_Take checks that the shards of an archive are disjoint, cover
// it, are balanced within reason, and depend on the base name only.
func TestShard_Take(t *testing.T) {
	const files, n = 300, 3
	seen := make(map[string]int)
	for k := 1; k <= n; k++ {
		var in []Input
		for i := range files {
			in = append(in, Input{Path: filepath.Join("/archive", "a", fmt.Sprintf("dns-%04d.pcap.zst", i))})
		}
		got := Shard{K: k, N: n}.Take(in)
		if len(got) < files/n/2 || len(got) > 2*files/n {
			t.Errorf("shard %d/%d took %d of %d files", k, n, len(got), files)
		}
		for _, i := range got {
			seen[filepath.Base(i.Path)]++
			moved := filepath.Join("/elsewhere", filepath.Base(i.Path))
			if !(Shard{K: k, N: n}).Holds(moved) {
				t.Errorf("%s moved to %s left shard %d/%d", i.Path, moved, k, n)
			}
		}
	}
	if len(seen) != files {
		t.Errorf("shards took %d distinct files, want %d", len(seen), files)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s taken by %d shards, want 1", name, c)
		}
	}
	if got := (Shard{}).Take([]Input{{Path: "x"}, {Path: "y"}}); len(got) != 2 {
		t.Errorf("zero Shard took %d of 2 files", len(got))
	}
}
