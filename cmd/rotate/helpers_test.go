package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/rotate"
)

// pkt is a packet kept past Next.
type pkt = captest.Packet

// finished returns the finished capture files in dir in sequence order.
func finished(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".json") {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(seqOf(a), seqOf(b)) })
	return out
}

// seqOf returns the sequence part of a file name Name wrote.
func seqOf(path string) string {
	base, _, _ := strings.Cut(filepath.Base(path), ".")
	return base[strings.LastIndexByte(base, '-')+1:]
}

// runCmd runs the command line in-process.
func runCmd(tb testing.TB, stdin []byte, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	e := env{stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errOut}
	err = run(context.Background(), args, e)
	return out.String(), errOut.String(), err
}

// sidecars reads the sidecar of each file.
func sidecars(tb testing.TB, files []string) []rotate.Sidecar {
	tb.Helper()
	var out []rotate.Sidecar
	for _, f := range files {
		s, err := rotate.ReadSidecar(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
