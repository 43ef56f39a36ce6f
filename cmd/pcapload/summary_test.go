package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/tcpdns"
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

// TestSummary_failedIn: a file that failed in one destination counts no
// rows there; the rows line and a note say so, rather than a bare 0 where
// inserts sent before the failure are stored.
func TestSummary_failedIn(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap", Hash: "ab12"}, Rows: map[string]uint64{"http://s/db": 0, "parquet:p": 10},
			SinkErrs: map[string]error{"http://s/db": errors.New("insert: connection refused")}},
		{Stats: ingest.FileStats{Path: "b.pcap", Hash: "cd34"}, Rows: map[string]uint64{"http://s/db": 5, "parquet:p": 5}},
	}}
	s := summarize(res, nil, nil)
	if s.FilesFailed != 1 || s.FailedIn["http://s/db"] != 1 || len(s.FailedIn) != 1 {
		t.Errorf("failed %d, by destination %v; want 1 and http://s/db 1", s.FilesFailed, s.FailedIn)
	}
	var b strings.Builder
	s.writeText(&b)
	if !strings.Contains(b.String(), "http://s/db 5, parquet:p 15; files failed in http://s/db 1\n") {
		t.Errorf("rows line does not say a file failed in http://s/db:\n%s", b.String())
	}
	if n := strings.Join(s.Notes, "\n"); !strings.Contains(n, "http://s/db: rows count none of the 1 files that failed there") {
		t.Errorf("notes do not explain the failed file's rows: %q", n)
	}
}

// TestSummary_failedStdin: standard input that failed in a database has
// no hash to be completed by: the note says its rows stay, and that a load
// of the same capture again stores them twice, not to load it again (a
// new user did, and had 800,000 rows of 400,000).
func TestSummary_failedStdin(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "-"}, Rows: map[string]uint64{"http://s/db": 0},
			SinkErrs: map[string]error{"http://s/db": errors.New("commit: the server restarted during the load")}},
	}}
	n := strings.Join(summarize(res, nil, nil).Notes, "\n")
	if !strings.Contains(n, "stay under file '-'") || strings.Contains(n, "load them again to complete them") {
		t.Errorf("notes on standard input failed in a database: %q", n)
	}
}

// TestSummary_failedInParquet: a file that failed in a Parquet export has
// nothing of it written there, and the note does not say otherwise.
func TestSummary_failedInParquet(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap"}, Rows: map[string]uint64{"parquet:p": 0},
			SinkErrs: map[string]error{"parquet:p": errors.New("write: no space left on device")}},
	}}
	n := strings.Join(summarize(res, nil, nil).Notes, "\n")
	if !strings.Contains(n, "parquet:p: rows count none of the 1 files that failed there; an export writes no file") ||
		strings.Contains(n, "may be stored") {
		t.Errorf("notes on a file failed in an export: %q", n)
	}
}

// TestSummary_failedAsBegun: files that failed in a destination before
// any of their rows was sent (a server not reached) are not said to have
// rows stored there.
func TestSummary_failedAsBegun(t *testing.T) {
	refused := errors.New("connection refused")
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap"}, SinkErrs: map[string]error{"http://s/db": &load.SinkError{Step: "begin", Err: refused}}},
		{Stats: ingest.FileStats{Path: "b.pcap"}, SinkErrs: map[string]error{"http://s/db": &load.SinkError{Step: "begin", Err: refused}}},
		{Stats: ingest.FileStats{Path: "c.pcap"}, SinkErrs: map[string]error{"http://t/db": &load.SinkError{Step: "begin", Err: refused},
			"http://u/db": &load.SinkError{Step: "write", Err: refused}}},
	}}
	n := strings.Join(summarize(res, nil, nil).Notes, "\n")
	for _, want := range []string{
		"http://s/db: rows count none of the 2 files that failed there; it failed as they began, and none of their rows was sent",
		"http://t/db: rows count none of the 1 files that failed there; it failed as they began",
		"http://u/db: rows count none of the 1 files that failed there; rows sent before the failure may be stored",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("notes do not say %q:\n%s", want, n)
		}
	}
}

// TestSummary_errorLines: files that failed alike (a server down) make one
// line naming some of them; the JSON keeps each file's.
func TestSummary_errorLines(t *testing.T) {
	refused := &load.SinkError{Step: "begin", Err: errors.New("connection refused")}
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap", Err: errors.New("a.pcap: offset 0: not a capture file")}},
		{Stats: ingest.FileStats{Path: "b.pcap"}, SinkErrs: map[string]error{"http://s/db": refused}},
		{Stats: ingest.FileStats{Path: "c.pcap"}, SinkErrs: map[string]error{"http://s/db": refused}},
		{Stats: ingest.FileStats{Path: "d.pcap"}, SinkErrs: map[string]error{"http://s/db": refused}},
		{Stats: ingest.FileStats{Path: "e.pcap"}, SinkErrs: map[string]error{"http://s/db": refused}},
	}, CloseErr: map[string]error{"http://s/db": errors.New("begin: connection refused")}}
	s := summarize(res, nil, nil)
	got := s.errorLines()
	want := []string{
		"a.pcap: offset 0: not a capture file",
		"4 files (b.pcap, c.pcap, d.pcap and 1 more): http://s/db: begin: connection refused",
		"http://s/db: begin: connection refused",
	}
	if !slices.Equal(got, want) {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(s.Errors) != 6 {
		t.Errorf("%d errors in the JSON, want every file's and the destination's (6)", len(s.Errors))
	}
}

// TestSummary_skippedBytes: stream bytes dropped where no message boundary
// was known are said, per file and in all; the messages lost so were said
// nowhere.
func TestSummary_skippedBytes(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap", TCP: tcpdns.Stats{SkippedBytes: 40}}},
		{Stats: ingest.FileStats{Path: "b.pcap", TCP: tcpdns.Stats{SkippedBytes: 2}}},
	}}
	s := summarize(res, nil, nil)
	if s.Reassembly.TCP.Skipped != 42 || s.PerFile[0].Reassembly.TCP.Skipped != 40 {
		t.Errorf("skipped bytes %d in all, %d in a.pcap; want 42 and 40", s.Reassembly.TCP.Skipped, s.PerFile[0].Reassembly.TCP.Skipped)
	}
	var b strings.Builder
	s.writeText(&b)
	if !strings.Contains(b.String(), "bytes skipped 42") {
		t.Errorf("summary does not say the bytes skipped:\n%s", b.String())
	}
}

// TestSummary_evicted: queries reported unanswered early, past the bound
// on what the waiting queries take, are summed over files and said apart
// from the unanswered, in text and JSON; without any, nothing is said.
func TestSummary_evicted(t *testing.T) {
	file := func(path string, unanswered, evicted uint64) load.FileResult {
		st := ingest.FileStats{Path: path}
		st.Pairs.Unanswered, st.Pairs.Evicted = unanswered, evicted
		return load.FileResult{Stats: st}
	}
	s := summarize(&load.Result{Files: []load.FileResult{file("a.pcap", 300, 200), file("b.pcap", 50, 40)}}, nil, nil)
	var b strings.Builder
	s.writeText(&b)
	if !strings.Contains(b.String(), "unanswered queries 350, unsolicited responses 0; evicted 240 (") {
		t.Errorf("pairs line does not say 240 were evicted:\n%s", b.String())
	}
	if s.Reassembly.Pairs.Evicted != 240 {
		t.Errorf("summary holds %d evicted, want 240", s.Reassembly.Pairs.Evicted)
	}
	s = summarize(&load.Result{Files: []load.FileResult{file("a.pcap", 3, 0)}}, nil, nil)
	b.Reset()
	s.writeText(&b)
	if strings.Contains(b.String(), "evicted") {
		t.Errorf("pairs line speaks of evicted queries when none were:\n%s", b.String())
	}
}

// TestSummary_perFileStatus: --json lists every file under per_file with
// what became of it, skipped files among them with the reason; a file
// every destination already held was in the notes alone.
func TestSummary_perFileStatus(t *testing.T) {
	res := &load.Result{Files: []load.FileResult{
		{Stats: ingest.FileStats{Path: "a.pcap"}, Rows: map[string]uint64{"db:x": 5}},
		{Stats: ingest.FileStats{Path: "b.pcap", Err: errors.New("b.pcap: truncated at byte 40")}},
		{Stats: ingest.FileStats{Path: "c.pcap", Err: ingest.ErrCancelled}},
		{Stats: ingest.FileStats{Path: "d.pcap"}, Loaded: []string{"db:x"}, Skipped: "already loaded"},
	}}
	s := summarize(res, []ingest.Skipped{{Path: "e.pcap.part", Reason: "still being written"}}, nil)
	type entry struct{ path, status, skipped string }
	var got []entry
	for _, f := range s.PerFile {
		got = append(got, entry{f.Path, f.Status, f.Skipped})
		if f.Rows == nil || f.Reasons == nil {
			t.Errorf("%s: rows %v, reasons %v; want maps, if empty", f.Path, f.Rows, f.Reasons)
		}
	}
	want := []entry{
		{"a.pcap", "loaded", ""}, {"b.pcap", "failed", ""}, {"c.pcap", "interrupted", ""},
		{"d.pcap", "skipped", "already loaded"}, {"e.pcap.part", "skipped", "still being written"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("per_file %v, want %v", got, want)
	}
	if s.Files != 3 || s.FilesLoaded != 1 || s.FilesFailed != 2 || s.FilesSkipped != 2 {
		t.Errorf("files %d: loaded %d, failed %d, skipped %d; want 3: 1, 2, and 2 skipped",
			s.Files, s.FilesLoaded, s.FilesFailed, s.FilesSkipped)
	}
	// The text says how many of the failed were interrupted.
	var b strings.Builder
	s.writeText(&b)
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.HasSuffix(first, "1 loaded, 2 failed (1 interrupted), 2 skipped") {
		t.Errorf("files line %q, want the interrupted file counted", first)
	}
}
