// Package corpus finds the shared corpus of real capture files and reads
// tshark's reference decode beside each one. It is for tests.
package corpus

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the corpus folder: $PCAPLOAD_CORPUS, or shared/corpus in the
// nearest parent folder that has one. Without it the test is skipped on a
// developer's machine and fails under CI=true.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("PCAPLOAD_CORPUS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "corpus")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("corpus not found: set PCAPLOAD_CORPUS or put shared/corpus beside the repo")
	}
	tb.Skip("corpus not found (set PCAPLOAD_CORPUS)")
	return ""
}

// Captures returns the corpus files that have a reference decode, relative
// to dir, in lexical order.
func Captures(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".tshark.csv") {
			rel, _ := filepath.Rel(dir, strings.TrimSuffix(p, ".tshark.csv"))
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// Frame is one row of a reference decode: one frame that carries DNS.
// Fields with several values (stacked VLAN tags, several messages in one
// TCP segment) keep them joined with "|", as tshark printed them.
type Frame map[string]string

// Reference reads the reference decode of capture file rel.
func Reference(tb testing.TB, dir, rel string) []Frame {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, rel+".tshark.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	if len(rows) == 0 {
		tb.Fatalf("%s: %v", rel, errors.New("empty reference decode"))
	}
	var out []Frame
	for _, r := range rows[1:] {
		fr := make(Frame, len(r))
		for i, v := range r {
			fr[rows[0][i]] = v
		}
		out = append(out, fr)
	}
	return out
}

// String prints a frame's key fields, for failure messages.
func (f Frame) String() string {
	return fmt.Sprintf("frame %s id %s qr %s qname %q",
		f["frame.number"], f["dns.id"], f["dns.flags.response"], f["dns.qry.name"])
}
