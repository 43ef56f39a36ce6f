// Command gencap writes a deterministic, realistic passive-DNS capture file
// with package gen: the same flags always give the same bytes.
//
//	gencap -o FILE [-n MESSAGES] [-seed N] [-format pcap|pcap-ns|pcapng]
//	       [-compress none|gzip|zstd] [-ipv6 S] [-vlan S] [-qinq S] [-tcp S]
//
// It prints a one-line summary on stderr. Exit status: 0 on success, 1 on
// failure, 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pcapload/pcapload/internal/gen"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run generates the capture the flags in args describe; "-o -" writes it to
// stdout, and the summary goes to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gen.Config
	out := fs.String("o", "", "output `file`, - for standard output")
	format := fs.String("format", "pcap", "capture format: pcap, pcap-ns or pcapng")
	compress := fs.String("compress", "none", "compression: none, gzip or zstd")
	fs.IntVar(&cfg.Messages, "n", 1000, "DNS `messages` to generate (queries and responses)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.Float64Var(&cfg.IPv6, "ipv6", 0, "share of IPv6 clients (0: default, negative: none)")
	fs.Float64Var(&cfg.VLAN, "vlan", 0, "share of clients behind one 802.1Q tag (0: default, <0: none)")
	fs.Float64Var(&cfg.QinQ, "qinq", 0, "share of clients behind two tags (0: default, <0: none)")
	fs.Float64Var(&cfg.TCP, "tcp", 0, "share of unicast transactions over TCP (0: default, <0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := gen.ParseFormat(*format)
	badCompress := *compress != "none" && *compress != "gzip" && *compress != "zstd"
	if *out == "" || fs.NArg() > 0 || err != nil || badCompress {
		fs.Usage()
		return errUsage
	}

	start := time.Now()
	st, err := write(*out, stdout, cfg, f, *compress)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "gencap: %s: %d packets, %d DNS messages (%d malformed, %d over TCP), "+
		"%d non-DNS in %v\n", *out, st.Packets, st.Messages, st.Malformed, st.TCP, st.NonDNS,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// write generates into path, or stdout for "-", through the named
// compressor.
func write(
	path string, stdout io.Writer, cfg gen.Config, f gen.Format, compress string,
) (gen.Stats, error) {
	var w io.WriteCloser = nopCloser{stdout}
	if path != "-" {
		file, err := os.Create(path)
		if err != nil {
			return gen.Stats{}, fmt.Errorf("create output: %w", err)
		}
		w = file
	}
	cw, err := gen.Compress(w, compress)
	if err != nil {
		w.Close()
		return gen.Stats{}, err
	}
	st, err := gen.Write(cw, cfg, f, nil)
	if cerr := cw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close compressor: %w", cerr)
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close output: %w", cerr)
	}
	return st, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
