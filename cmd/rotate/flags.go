package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pcapload/pcapload/rotate"
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// options are the parsed command line.
type options struct {
	read, iface string
	cfg         rotate.Config
	live        rotate.LiveConfig
	format      string
	compress    string
	onClose     string
	noFilter    bool
	statsEvery  time.Duration
	logJSON     bool
	showVersion bool
}

// byteSize is a flag holding a byte count, written plainly or with a k, M,
// G or T suffix (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	if i := strings.IndexAny(s, "kKmMgGtT"); i >= 0 && i == len(s)-1 {
		mult = 1 << (10 * (1 + strings.IndexByte("kmgt", strings.ToLower(s[i:])[0])))
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return errors.New("want a byte count such as 1048576 or 100M")
	}
	*b = byteSize(n * mult)
	return nil
}

// parseFlags parses args into options.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := o.flagSet(stderr)
	var maxBytes, keepBytes, minFree, ring byteSize
	frameBytes := byteSize(1 << 20)
	fs.Var(&frameBytes, "frame-bytes", "compressed frame size, uncompressed, such as 1M")
	fs.Var(&maxBytes, "max-bytes", "rotate at this size on disk")
	fs.Var(&keepBytes, "keep-bytes", "keep at most this many bytes of files")
	fs.Var(&minFree, "min-free", "delete old files while less is free (0: no limit)")
	fs.Var(&ring, "ring-size", "live: ring buffer per socket, a multiple of 1M (default 64M)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	o.cfg.MaxBytes, o.cfg.KeepBytes = int64(maxBytes), int64(keepBytes)
	o.cfg.MinFree = int64(minFree)
	o.live.RingBytes = int(ring)
	o.cfg.FrameBytes = int(min(int64(frameBytes), math.MaxInt32))
	return o, o.check()
}

// flagSet declares every flag but the byte sizes.
func (o *options) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.read, "r", "", "re-segment this capture file, - for stdin")
	fs.StringVar(&o.iface, "i", "", "capture live on this interface")
	fs.StringVar(&o.cfg.Dir, "w", "", "write the files into this directory (required)")
	fs.StringVar(&o.cfg.Sensor, "sensor", hostname(), "sensor name, first part of each file name")
	fs.StringVar(&o.format, "format", "pcapng", "pcapng or pcap")
	fs.StringVar(&o.compress, "compress", "zstd", "zstd, gzip or none")
	fs.Uint64Var(&o.cfg.MaxPackets, "max-packets", 0, "rotate after this many packets")
	fs.DurationVar(&o.cfg.Every, "every", 0, "rotate at each multiple of this, e.g. 5m")
	fs.IntVar(&o.cfg.FramePackets, "frame-packets", 0, "packets per compressed frame (0: no limit)")
	fs.IntVar(&o.cfg.KeepFiles, "keep-files", 0, "keep at most this many files")
	fs.StringVar(&o.onClose, "on-close", "", "run this command on each finished file")
	fs.IntVar(&o.live.Snaplen, "snaplen", 65535, "bytes kept of each packet")
	fs.IntVar(&o.live.Fanout, "fanout", 1, "live: capture threads in a PACKET_FANOUT group")
	fs.BoolVar(&o.live.Promisc, "promisc", false, "live: promiscuous mode")
	fs.BoolVar(&o.noFilter, "no-filter", false, "live: keep every packet, not only DNS")
	fs.DurationVar(&o.statsEvery, "stats-every", time.Minute, "log statistics this often (0: at exit)")
	fs.BoolVar(&o.logJSON, "log-json", false, "log JSON lines instead of text")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	return fs
}

// check validates the combination of flags and fills the typed fields.
func (o *options) check() error {
	if o.showVersion {
		return nil
	}
	if (o.read == "") == (o.iface == "") {
		return usagef("give exactly one of -r FILE and -i IFACE")
	}
	if o.cfg.Dir == "" {
		return usagef("-w DIR is required")
	}
	var err error
	if o.cfg.Format, err = rotate.ParseFormat(o.format); err != nil {
		return usagef("--format: %v", err)
	}
	if o.cfg.Compression, err = rotate.ParseCompression(o.compress); err != nil {
		return usagef("--compress: %v", err)
	}
	o.cfg.OnClose = strings.Fields(o.onClose)
	o.cfg.Snaplen = uint32(o.live.Snaplen)
	o.cfg.IfName = o.iface
	if o.noFilter {
		o.live.Filter = []bpf.RawInstruction{}
	}
	o.live.Interface = o.iface
	return nil
}

// hostname is the default sensor name: the short host name, or "sensor".
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "sensor"
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}
