package main

import (
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
)

// TestSummary_alreadyLoaded: with two destinations, a file one of them
// already held is loaded into the other; the summary counts it loaded and
// says how many files each destination already held.
func TestSummary_alreadyLoaded(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap"}, Rows: map[string]uint64{"db:x": 0, "parquet:p": 10},
			Loaded: []string{"db:x"}},
		{Stats: ingest.FileStats{Path: "b.pcap"}, Rows: map[string]uint64{"db:x": 5, "parquet:p": 5}},
	}}
	s := summarize(res, nil, nil)
	if s.FilesLoaded != 2 || s.AlreadyLoaded["db:x"] != 1 || len(s.AlreadyLoaded) != 1 {
		t.Errorf("loaded %d, already loaded %v; want 2 and db:x 1", s.FilesLoaded, s.AlreadyLoaded)
	}
	var b strings.Builder
	s.writeText(&b)
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.HasSuffix(first, "2 loaded, 0 failed, 0 skipped; of them already loaded in db:x 1") {
		t.Errorf("files line %q does not say db:x already held one", first)
	}
}
