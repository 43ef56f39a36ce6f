package load_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
)

// fakeConn answers the Ledger's state query with state and keeps the
// statements it is given.
type fakeConn struct {
	state   string
	earlier string // the answer to Ledger.supersede's query
	execs   []string
	queries []string
}

func (c *fakeConn) Exec(_ context.Context, q string) error {
	c.execs = append(c.execs, q)
	return nil
}

func (c *fakeConn) QueryString(_ context.Context, q string) (string, error) {
	c.queries = append(c.queries, q)
	if strings.Contains(q, "splitByChar") {
		return c.earlier, nil
	}
	return c.state, nil
}

// steps names the statements run: records by status, and deletes.
func (c *fakeConn) steps() []string {
	var out []string
	for _, q := range c.execs {
		step := q
		if strings.HasPrefix(q, "DELETE FROM") {
			step = "delete"
		}
		if strings.Contains(q, "bitNot(count()) + 1") {
			step = "uncount"
		}
		for _, st := range []string{"replacing", "replaced", "superseded", "loading", "grouped", "loaded", "skipped", "failed"} {
			if strings.Contains(q, ", '"+st+"', ") {
				step = st
			}
		}
		out = append(out, step)
	}
	return out
}

// replaceSteps are the statements of a file's replacement: its mark, its
// rows taken out of the two views, deleted, and the replaced record.
var replaceSteps = []string{"replacing", "uncount", "uncount", "delete", "replaced"}

func TestLedger_Begin(t *testing.T) {
	const hash = "ab12"
	replaceThenLoad := append(slices.Clone(replaceSteps), "loading")
	tests := []struct {
		name      string
		hash      string
		state     string // generation and statuses of the latest one; after a ";", more fields
		force     bool
		wantGen   uint32
		wantErr   error
		wantSteps []string
	}{
		{"new file", hash, "", false, 0, nil, []string{"loading"}},
		{"standard input", "", "", false, 0, nil, nil},
		{"loaded", hash, "0 loading|loaded", false, 0, load.ErrLoaded, nil},
		{"cut short", hash, "0 loading;n1:0", false, 0, nil, []string{"loading"}},
		// Every run of a generation marks it again, so that a kill in
		// it shows (see unfinished).
		{"failed", hash, "0 loading|failed;n1:1", false, 0, nil, []string{"loading"}},
		{"failed, its rerun killed", hash, "0 loading|failed;n2:1", false, 0, nil, []string{"loading"}},
		{"failed twice", hash, "0 loading|failed;n2:2", false, 0, nil, []string{"loading"}},
		{"not a capture", hash, "0 loading|skipped;n1:1", false, 0, nil, nil},
		{"failed, older version", hash, "0 failed", false, 0, nil, []string{"loading"}},
		{"forced", hash, "0 loaded", true, 1, nil, replaceThenLoad},
		{"forced new file", hash, "", true, 1, nil, replaceThenLoad},
		{"replacement cut short", hash, "2 replacing", false, 2, nil, replaceThenLoad},
		// Not generation 3: the rows may be out of the views already,
		// under generation 2's tokens.
		{"forced after a replacement cut short", hash, "2 replacing", true, 2, nil, replaceThenLoad},
		{"replaced, load cut short", hash, "2 replacing|replaced|loading;n1:0", false, 2, nil, []string{"loading"}},
		{"replaced and loaded", hash, "2 replacing|replaced|loading|loaded", false, 0, load.ErrLoaded, nil},
		// The replaced record lost by an engine killed inside its insert
		// (a hostile run): the marks after it show the replacement ended.
		// Finished again, it deleted the rows and sent them under tokens
		// that dropped them.
		{"loaded, its replaced record lost", hash, "2 replacing|loading|loaded", false, 0, load.ErrLoaded, nil},
		{"load cut short, its replaced record lost", hash, "2 replacing|loading;n1:0", false, 2, nil, []string{"loading"}},
		{"group cut short", hash, "0 grouped", false, 1, nil, replaceThenLoad},
		{"skipped in a group", hash, "3 grouped|skipped", false, 3, nil, []string{"loading"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, more, _ := strings.Cut(tt.state, ";")
			if state != "" {
				state = tt.hash + " " + state + " 60000 " + more // marked a minute ago
			}
			c := &fakeConn{state: state}
			l := load.NewLedger(c, "default", "s1")
			g, err := l.Begin(context.Background(), load.File{Path: "a.pcap", Hash: tt.hash, Force: tt.force})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Begin error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && g != tt.wantGen {
				t.Errorf("generation = %d, want %d", g, tt.wantGen)
			}
			if got := c.steps(); !slices.Equal(got, tt.wantSteps) {
				t.Errorf("statements = %q, want %q", got, tt.wantSteps)
			}
		})
	}
}

// TestLedger_BeginFailedAgain: the mark of each run of a failed load has a
// token of the run's, so that a retried mark is dropped and the next run's
// is not. It was the marks counted so far: an engine killed inside a mark's
// insert kept its token without the mark, so every later run's mark was
// dropped too, and a kill among them did not show (a hostile run).
func TestLedger_BeginFailedAgain(t *testing.T) {
	token := func(l *load.Ledger) string {
		t.Helper()
		c := &fakeConn{state: "ab12 0 loading|failed 60000 n1:1"}
		l.SetConn(c)
		if _, err := l.Begin(context.Background(), load.File{Path: "a.pcap", Hash: "ab12"}); err != nil {
			t.Fatal(err)
		}
		_, tok, ok := strings.Cut(strings.Join(c.execs, ""), "insert_deduplication_token = '")
		if len(c.execs) != 1 || !ok {
			t.Fatalf("statements %q, want one mark with a token", c.execs)
		}
		tok, _, _ = strings.Cut(tok, "'")
		if !strings.HasPrefix(tok, load.Token("ab12", 0, "loading")+":") {
			t.Errorf("mark token %q, want one of the file's generation", tok)
		}
		return tok
	}
	run := load.NewLedger(nil, "default", "s1")
	first, again, next := token(run), token(run), token(load.NewLedger(nil, "default", "s1"))
	if first != again {
		t.Errorf("one run marked with %q, then %q: a retry would not be dropped", first, again)
	}
	if first == next {
		t.Errorf("two runs marked with the same token %q", first)
	}
}

// TestLedger_BeginCut begins a file whose load was cut short: completed
// when the rerun cuts its rows into the same inserts, replaced when it
// cuts them otherwise or the mark does not say (an earlier version's).
func TestLedger_BeginCut(t *testing.T) {
	f := load.File{Path: "a.pcap", Hash: "ab12"}.CutInto(1500, 1<<20, "")
	same := load.File{Path: "b.pcap"}.CutInto(1500, 1<<20, "")
	other := load.File{Path: "b.pcap"}.CutInto(1000, 1<<20, "")
	replaceThenLoad := append(slices.Clone(replaceSteps), "loading")
	for _, tt := range []struct {
		name      string
		state     string
		wantGen   uint32
		wantSteps []string
	}{
		{"cut the same", "0 loading 60000 - n1:0 x" + load.CutHex(same), 0, []string{"loading"}},
		{"failed, cut the same", "0 loading|failed 60000 - n1:1 x" + load.CutHex(same), 0, []string{"loading"}},
		{"cut otherwise", "0 loading 60000 - x" + load.CutHex(other), 1, replaceThenLoad},
		{"replaced, then cut otherwise", "2 replacing|replaced|loading 60000 x" + load.CutHex(other), 3, replaceThenLoad},
		{"mark without a cut", "0 loading 60000 - x", 1, replaceThenLoad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConn{state: "ab12 " + tt.state}
			g, err := load.NewLedger(c, "default", "s1").Begin(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if g != tt.wantGen {
				t.Errorf("generation = %d, want %d", g, tt.wantGen)
			}
			if got := c.steps(); !slices.Equal(got, tt.wantSteps) {
				t.Errorf("statements = %q, want %q", got, tt.wantSteps)
			}
			if tt.wantSteps != nil && !strings.Contains(c.execs[len(c.execs)-1], ", 'loading', '"+load.CutOf(f)+"'") {
				t.Errorf("loading mark %s does not record the cut %q", c.execs[len(c.execs)-1], load.CutOf(f))
			}
		})
	}
}

// TestLedger_BeginGroup begins files in every state at once: the loaded
// one is left out, every file whose earlier rows a group's tokens would
// not drop is replaced, in one delete, and the group is marked in one
// insert.
func TestLedger_BeginGroup(t *testing.T) {
	files := []struct {
		hash, state string // state: generation and statuses, "" for no record
		wantGen     uint32
		wantLoaded  bool
		wantReplace bool
	}{
		{"aa", "", 0, false, false},
		{"bb", "0 loading|loaded", 0, true, false},
		{"cc", "0 loading", 1, false, true}, // its own inserts, cut short
		{"dd", "4 grouped", 5, false, true},
		{"ee", "1 replacing|replaced", 1, false, false},
		{"ff", "1 replacing", 1, false, true}, // finished in its own generation
		{"11", "2 grouped|failed", 3, false, true},
		{"22", "2 grouped|skipped", 2, false, false},
	}
	var in []load.File
	var state []string
	for _, f := range files {
		in = append(in, load.File{Path: f.hash + ".pcap", Hash: f.hash})
		if f.state != "" {
			state = append(state, f.hash+" "+f.state+" 60000")
		}
	}
	c := &fakeConn{state: strings.Join(state, ",")}
	g, loaded, err := load.NewLedger(c, "default", "s1").BeginGroup(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var wantDelete []string
	k := 0
	for i, f := range files {
		if loaded[i] != f.wantLoaded {
			t.Errorf("%s: loaded = %v, want %v", f.hash, loaded[i], f.wantLoaded)
		}
		if f.wantLoaded {
			continue
		}
		if k >= len(g.Files) || g.Files[k].Hash != f.hash || g.Generations[k] != f.wantGen {
			t.Fatalf("group %v generations %v: want %s in generation %d at %d", g.Files, g.Generations, f.hash, f.wantGen, k)
		}
		k++
		if f.wantReplace {
			wantDelete = append(wantDelete, "'"+f.hash+"'")
		}
	}
	// One insert a view for all the files replaced, then one delete.
	want := []string{"replacing", "uncount", "uncount", "delete", "replaced", "grouped"}
	if got := c.steps(); !slices.Equal(got, want) {
		t.Fatalf("statements = %q, want %q", got, want)
	}
	hashes := "IN (" + strings.Join(wantDelete, ", ") + ")"
	for _, q := range c.execs[1:4] {
		if !strings.Contains(q, hashes) {
			t.Errorf("statement %q, want the rows of %v", q, wantDelete)
		}
	}
	// Every file of the group is marked but 22, recorded as no capture.
	marks := c.execs[len(want)-1]
	if n := strings.Count(marks, "'grouped'"); n != len(g.Files)-1 || strings.Contains(marks, "'22'") {
		t.Errorf("%d grouped marks (22 among them: %v), want %d", n, strings.Contains(marks, "'22'"), len(g.Files)-1)
	}
	if !strings.HasPrefix(g.Token, "pcapload:group:") {
		t.Errorf("group token %q", g.Token)
	}
}

// TestLedger_takeover: a run waits until the mark of an unfinished load it
// takes over is old enough for a killed loader's last insert to have
// landed, then deletes the rows; an old mark is taken over at once.
func TestLedger_takeover(t *testing.T) {
	tests := []struct {
		name       string
		state      string
		minWait    time.Duration
		maxWait    time.Duration
		wantDelete bool
		force      bool
	}{
		{"group marked 100 ms ago", "ab 0 grouped 100", 250 * time.Millisecond, 2 * time.Second, true, false},
		{"group marked a minute ago", "ab 0 grouped 60000", 0, 200 * time.Millisecond, true, false},
		{"own inserts marked 100 ms ago", "ab 0 loading 100", 0, 200 * time.Millisecond, false, false},
		{"group failed 100 ms ago", "ab 0 grouped|failed 100", 0, 200 * time.Millisecond, true, false},
		// Forced, a killed load's last insert may land after the delete
		// all the same.
		{"forced, marked 100 ms ago", "ab 0 loading 100", 250 * time.Millisecond, 2 * time.Second, true, true},
		{"forced, loaded", "ab 0 loading|loaded 100", 0, 200 * time.Millisecond, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConn{state: tt.state}
			l := load.NewLedger(c, "default", "s1")
			l.SetTakeover(400 * time.Millisecond)
			start := time.Now()
			// One by one, a file left by a group is replaced; one left by
			// its own inserts goes on with their tokens, waiting for nothing.
			if _, err := l.Begin(context.Background(), load.File{Path: "a.pcap", Hash: "ab", Force: tt.force}); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if took < tt.minWait || took > tt.maxWait {
				t.Errorf("Begin took %v, want %v to %v", took, tt.minWait, tt.maxWait)
			}
			if steps := c.steps(); slices.Contains(steps, "delete") != tt.wantDelete {
				t.Errorf("statements %q, want a delete: %v", steps, tt.wantDelete)
			}
		})
	}
}

func TestLedger_Commit(t *testing.T) {
	tests := []struct {
		name      string
		hash      string
		err       error
		wantToken string // in the record's insert; empty for none
	}{
		// Tokens of the run's (see TestLedger_BeginFailedAgain).
		{"loaded", "ab12", nil, "'pcapload:ab12:3:loaded:"},
		{"failed", "ab12", errors.New("truncated"), "'pcapload:ab12:3:failed:"},
		{"standard input", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConn{}
			st := &ingest.FileStats{Path: "a.pcap", Hash: tt.hash, Err: tt.err}
			f := load.File{Path: "a.pcap", Hash: tt.hash}
			if err := load.NewLedger(c, "default", "s1").Commit(context.Background(), f, 3, st); err != nil {
				t.Fatal(err)
			}
			if len(c.execs) != 1 {
				t.Fatalf("%d statements, want 1", len(c.execs))
			}
			q := c.execs[0]
			hasToken := strings.Contains(q, "insert_deduplication_token")
			if hasToken != (tt.wantToken != "") || !strings.Contains(q, tt.wantToken) {
				t.Errorf("record insert %q, want token %q", q, tt.wantToken)
			}
		})
	}
}

// TestLedger_Skip records a file begun on its own and found no capture: a
// skipped record of its generation, with a token of the run's; nothing in
// a later run that finds it recorded so, nor for standard input.
func TestLedger_Skip(t *testing.T) {
	c := &fakeConn{}
	l := load.NewLedger(c, "default", "s1")
	if err := l.Skip(context.Background(), load.File{Path: "README.md", Hash: "ab12"}, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.steps(); !slices.Equal(got, []string{"skipped"}) {
		t.Fatalf("statements %q, want one skipped record", got)
	}
	if q := c.execs[0]; !strings.Contains(q, "'pcapload:ab12:2:skipped:") {
		t.Errorf("record insert %q, want a token of pcapload:ab12:2:skipped and the run", q)
	}

	later := &fakeConn{state: "ab12 2 loading|skipped 60000 n1:1"}
	l = load.NewLedger(later, "default", "s1")
	f := load.File{Path: "README.md", Hash: "ab12"}
	if g, err := l.Begin(context.Background(), f); err != nil || g != 2 {
		t.Fatalf("Begin = %d, %v; want generation 2", g, err)
	}
	if err := l.Skip(context.Background(), f, 2); err != nil || len(later.execs) != 0 {
		t.Errorf("a later run: %v, statements %q; want none", err, later.execs)
	}
	c.execs = nil
	if err := l.Skip(context.Background(), load.File{Path: "-"}, 0); err != nil || len(c.execs) != 0 {
		t.Errorf("standard input: %v, %d statements; want none", err, len(c.execs))
	}
}

// TestLedger_supersedePinned begins a file that grew from an earlier load
// and was then replaced by a rename: the earlier load is superseded by the
// bytes pinned when the file was opened, not by what the path holds now.
func TestLedger_supersedePinned(t *testing.T) {
	dir := t.TempDir()
	whole := []byte(strings.Repeat("0123456789", 1000))
	path := filepath.Join(dir, "dns.pcap")
	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	cut := sha256.Sum256(whole[:4000])
	in := ingest.Input{Path: path, Hash: "77ee"}
	if err := in.Pin(); err != nil {
		t.Fatal(err)
	}
	defer in.Unpin()
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte(strings.Repeat("x", 20000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	c := &fakeConn{earlier: fmt.Sprintf("%x 4000 1 %x", cut, "old/dns.pcap")}
	if _, err := load.NewLedger(c, "default", "s1").Begin(context.Background(), load.PinnedFile(in)); err != nil {
		t.Fatal(err)
	}
	want := []string{"replacing", "uncount", "uncount", "delete", "superseded", "loading"}
	if got := c.steps(); !slices.Equal(got, want) {
		t.Errorf("statements = %q, want %q", got, want)
	}
	if !strings.Contains(c.execs[4], "old/dns.pcap") || !strings.Contains(c.execs[4], "superseded by 77ee") {
		t.Errorf("superseded record %q, want the earlier path and the new hash", c.execs[4])
	}
}

// TestLedger_manyFiles begins a group of 1,500 files of long paths: every
// query stays well under the 256 KiB a server parses, and names every
// file once.
func TestLedger_manyFiles(t *testing.T) {
	dir := t.TempDir()
	var files []load.File
	for i := range 1500 {
		path := filepath.Join(dir, strings.Repeat("p", 200), fmt.Sprintf("f%d.pcap", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, load.File{Path: path, Hash: fmt.Sprintf("%064x", i)})
	}
	c := &fakeConn{}
	if _, _, err := load.NewLedger(c, "default", "s1").BeginGroup(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	named := make(map[string]int)
	for _, q := range c.queries {
		if len(q) > 128<<10 {
			t.Errorf("a query of %d bytes", len(q))
		}
		for _, f := range files {
			if strings.Contains(q, "'"+f.Hash+"'") {
				named[f.Hash]++
			}
		}
	}
	for _, f := range files {
		if named[f.Hash] != 2 { // its state, and its earlier loads
			t.Fatalf("%s named in %d queries, want 2", f.Path, named[f.Hash])
		}
	}
}
