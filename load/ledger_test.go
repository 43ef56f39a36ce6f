package load_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
)

// fakeConn answers the Ledger's state query with state and keeps the
// statements it is given.
type fakeConn struct {
	state string
	execs []string
}

func (c *fakeConn) Exec(_ context.Context, q string) error {
	c.execs = append(c.execs, q)
	return nil
}

func (c *fakeConn) QueryString(context.Context, string) (string, error) { return c.state, nil }

// steps names the statements run: records by status, and deletes.
func (c *fakeConn) steps() []string {
	var out []string
	for _, q := range c.execs {
		switch {
		case strings.HasPrefix(q, "DELETE FROM"):
			out = append(out, "delete")
		case strings.Contains(q, "'replacing'"):
			out = append(out, "replacing")
		case strings.Contains(q, "'replaced'"):
			out = append(out, "replaced")
		default:
			out = append(out, q)
		}
	}
	return out
}

func TestLedger_Begin(t *testing.T) {
	const hash = "ab12"
	tests := []struct {
		name      string
		hash      string
		state     string // generation, loaded, replaced
		force     bool
		wantGen   uint32
		wantErr   error
		wantSteps []string
	}{
		{"new file", hash, "", false, 0, nil, nil},
		{"standard input", "", "", false, 0, nil, nil},
		{"loaded", hash, "0 1 0", false, 0, load.ErrLoaded, nil},
		{"failed", hash, "0 0 0", false, 0, nil, nil},
		{"forced", hash, "0 1 0", true, 1, nil, []string{"replacing", "delete", "replaced"}},
		{"forced new file", hash, "", true, 1, nil, []string{"replacing", "delete", "replaced"}},
		{"replacement cut short", hash, "2 0 0", false, 2, nil, []string{"replacing", "delete", "replaced"}},
		{"replaced, load cut short", hash, "2 0 1", false, 2, nil, nil},
		{"replaced and loaded", hash, "2 1 1", false, 0, load.ErrLoaded, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConn{state: tt.state}
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

func TestLedger_Commit(t *testing.T) {
	tests := []struct {
		name      string
		hash      string
		err       error
		wantToken string // in the record's insert; empty for none
	}{
		{"loaded", "ab12", nil, "'pcapload:ab12:3:loaded'"},
		{"failed", "ab12", errors.New("truncated"), ""},
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
