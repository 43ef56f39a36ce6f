package load_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/load"
)

// TestRun_hashAhead exports files to Parquet with their content hashes
// computed beside their decoding, and again with the hashes computed
// first: the exports, file for file and byte for byte, and the results
// must be the same. The files are the corpus, a capture hopping over 1,100
// days (a batch of another day sent on before a row is appended), the
// same cut short, a copy (left out as a duplicate), a file that is no
// capture and a directory (no hash at all).
func TestRun_hashAhead(t *testing.T) {
	dir := t.TempDir()
	hop := captest.Hopping(t, 1100, 2200)
	whole, err := os.ReadFile(hop)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"cut.pcap": whole[:len(whole)*2/3], "again.pcap": whole, "notes.txt": []byte("not a capture\n")}
	// Batches of this one are cut by bytes (DefaultBatchBytes) before rows.
	big := filepath.Join(dir, "big.pcap")
	if _, err := gen.WriteFile(big, gen.Config{Seed: 3, Messages: 70_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	bigData, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	// A copy of big, left out at its first batch with queries held, then
	// a file whose rows must be its own.
	files["big-again.pcap"] = bigData
	inputs := append(corpusInputs(t), ingest.Input{Path: hop}, ingest.Input{Path: big})
	for _, name := range []string{"big-again.pcap", "cut.pcap", "again.pcap", "notes.txt"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, ingest.Input{Path: p})
	}
	inputs = append(inputs, ingest.Input{Path: t.TempDir()})

	run := func(ahead bool) (string, *load.Result) {
		least := int64(1 << 62)
		if ahead {
			least = 1
		}
		defer load.SetHashAheadBytes(least)()
		out := filepath.Join(dir, fmt.Sprint("out-", ahead))
		n := load.HashedAhead()
		res := load.Run(context.Background(), inputs, []load.Sink{load.NewParquetSink(out)},
			load.Options{Workers: 1})
		if got, want := load.HashedAhead()-n, map[bool]int64{true: int64(len(inputs)), false: 0}[ahead]; got != want {
			t.Fatalf("ahead %v: %d files hashed beside their decoding, want %d", ahead, got, want)
		}
		return out, res
	}
	firstOut, first := run(false)
	aheadOut, ahead := run(true)

	for i := range inputs {
		a, b := first.Files[i], ahead.Files[i]
		if got, want := describe(b), describe(a); got != want {
			t.Errorf("%s:\nhashed beside: %s\nhashed first:  %s", inputs[i].Path, got, want)
		}
		if n := b.Rows["parquet:"+filepath.Join(dir, "out-true")]; b.Skipped == "" && n != b.Stats.Messages() {
			t.Errorf("%s: %d rows, %d messages", inputs[i].Path, n, b.Stats.Messages())
		}
	}
	n := load.HashedAhead()
	decoded := load.Decode(context.Background(), inputs, load.Options{Workers: 1})
	unset := load.SetHashAheadBytes(1)
	decodedAhead := load.Decode(context.Background(), inputs, load.Options{Workers: 1})
	unset()
	if got := load.HashedAhead() - n; got != int64(len(inputs)) {
		t.Errorf("decoding alone, %d files hashed beside their decoding, want %d", got, len(inputs))
	}
	for i := range inputs {
		if got, want := describe(decodedAhead.Files[i]), describe(decoded.Files[i]); got != want {
			t.Errorf("%s, decoded alone:\nhashed beside: %s\nhashed first:  %s", inputs[i].Path, got, want)
		}
	}

	want, got := tree(t, firstOut), tree(t, aheadOut)
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("export hashed beside decoding has %d files, hashed first %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s differs between the exports", name)
		}
	}
}

// describe sums up a file's result for comparison, the destination's
// name (its directory) left out.
func describe(f load.FileResult) string {
	var rows []uint64
	for _, n := range f.Rows {
		rows = append(rows, n)
	}
	return fmt.Sprintf("hash %q messages %d rows %v skipped %q err %v failed in %d", f.Stats.Hash,
		f.Stats.Messages(), rows, f.Skipped, f.Stats.Err, len(f.SinkErrs))
}

// tree reads every file under dir by its path relative to dir.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
