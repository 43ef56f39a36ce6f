package rotate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is the capture format of the files written.
type Format uint8

// Formats a Rotator writes.
const (
	FormatPcapng Format = iota // pcapng, nanosecond timestamps (default)
	FormatPcap                 // classic pcap, nanosecond magic
)

// String returns the file suffix of f without the dot.
func (f Format) String() string {
	if f == FormatPcap {
		return "pcap"
	}
	return "pcapng"
}

// ParseFormat parses "pcapng" or "pcap".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "pcapng":
		return FormatPcapng, nil
	case "pcap":
		return FormatPcap, nil
	}
	return 0, fmt.Errorf("unknown format %q (want pcapng or pcap)", s)
}

// Compression is the compression of the files written.
type Compression uint8

// Compressions a Rotator writes.
const (
	CompressZstd Compression = iota // zstd frames (default)
	CompressGzip                    // gzip members
	CompressNone
)

// String returns the compression's name as the flag takes it.
func (c Compression) String() string {
	switch c {
	case CompressGzip:
		return "gzip"
	case CompressNone:
		return "none"
	}
	return "zstd"
}

// suffix returns the file suffix of c, with its dot, or "".
func (c Compression) suffix() string {
	switch c {
	case CompressGzip:
		return ".gz"
	case CompressNone:
		return ""
	}
	return ".zst"
}

// ParseCompression parses "zstd", "gzip" or "none".
func ParseCompression(s string) (Compression, error) {
	for _, c := range []Compression{CompressZstd, CompressGzip, CompressNone} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown compression %q (want zstd, gzip or none)", s)
}

// timeLayout is the UTC basic ISO 8601 form file names carry.
const timeLayout = "20060102T150405Z"

// seqDigits is the width of the sequence number; wider numbers still sort
// after narrower ones because parseName compares them as numbers.
const seqDigits = 6

// Name returns the file name of the seq'th file of sensor, whose first packet
// is at start (ns since the epoch), e.g.
// SENSOR-20261102T080000Z-000001.pcapng.zst.
func Name(sensor string, start int64, seq uint64, f Format, c Compression) string {
	t := time.Unix(0, start).UTC().Format(timeLayout)
	return fmt.Sprintf("%s-%s-%0*d.%s%s", sensor, t, seqDigits, seq, f, c.suffix())
}

// fileName is a parsed finished file name.
type fileName struct {
	sensor string
	start  time.Time
	seq    uint64
	format Format
	comp   Compression
}

// parseName parses a name Name wrote; ok is false for anything else,
// sidecars and .part files included. The sensor may contain dashes and
// dots (a host's full name, a VLAN interface's eth1.100): the suffix is
// taken from the end.
func parseName(name string) (fileName, bool) {
	var n fileName
	base, ok := n.parseExt(name)
	if !ok {
		return n, false
	}
	i := strings.LastIndexByte(base, '-')
	if i < 0 {
		return n, false
	}
	seq, err := strconv.ParseUint(base[i+1:], 10, 64)
	if err != nil {
		return n, false
	}
	j := strings.LastIndexByte(base[:i], '-')
	if j < 1 {
		return n, false
	}
	t, err := time.Parse(timeLayout, base[j+1:i])
	// Name takes nanoseconds since the epoch: no other years come from it.
	if err != nil || t.Year() < 1970 || t.Year() > 2261 {
		return n, false
	}
	n.sensor, n.start, n.seq = base[:j], t, seq
	return n, true
}

// parseExt sets format and compression from the suffix of name, such as
// ".pcapng.zst", and returns name without it. No suffix ends another.
func (n *fileName) parseExt(name string) (string, bool) {
	for _, f := range []Format{FormatPcapng, FormatPcap} {
		for _, c := range []Compression{CompressZstd, CompressGzip, CompressNone} {
			if base, ok := strings.CutSuffix(name, "."+f.String()+c.suffix()); ok {
				n.format, n.comp = f, c
				return base, true
			}
		}
	}
	return "", false
}
