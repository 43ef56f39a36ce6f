package ingest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync/atomic"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/ingest/tcpdns"
	"github.com/pcapload/pcapload/schema"
)

// DefaultPorts are the ports that carry DNS unless told otherwise: DNS,
// multicast DNS and LLMNR.
var DefaultPorts = []uint16{53, 5353, 5355}

// Config says how to decode.
type Config struct {
	Ports       []uint16  // DNS ports; DefaultPorts when empty
	Sensor      string    // stored in every row of a file whose Input names none
	Stdin       io.Reader // what the input "-" reads; os.Stdin when nil
	PairTimeout int64     // ns of packet time a query waits for its response; DefaultPairTimeout when 0

	// Done, when closed, stops decoding within a few hundred packets with
	// ErrCancelled, so that a signal ends a run promptly.
	Done <-chan struct{}

	// Windows, when not nil, is shared by the decoders of a load: a file
	// whose decompressor holds a large window waits there for others'
	// (capture.WindowGate).
	Windows *capture.WindowGate
}

// ErrCancelled reports a file whose decoding was stopped by Config.Done.
var ErrCancelled = errors.New("cancelled")

// FileStats accounts for one capture file: every packet read is counted
// under exactly one reason, so Reasons.Total() == Packets.
type FileStats struct {
	Path        string
	Hash        string // Input.Hash
	Sensor      string // stored in its rows: Input.Sensor, else Config.Sensor
	Format      string
	Compression string
	Bytes       int64 // bytes read from the file as stored (compressed)
	Packets     uint64
	Reasons     packet.Counts
	Malformed   uint64 // DNS messages that did not parse whole (still rows)
	Snapped     uint64 // DNS messages cut by the snaplen (still rows)
	Fragments   packet.FragmentStats
	TCP         tcpdns.Stats // stream reassembly; TCP.Messages are rows too
	Pairs       PairStats
	KernelDrops uint64 // packets the kernel dropped while rotate wrote the file, from its sidecar
	// SidecarSensor is the sensor rotate wrote the file for, from its
	// sidecar; empty without one.
	SidecarSensor string
	// UnsupportedLinks are the link types of the packets counted as
	// packet.LinkUnsupported, the first maxLinks of them, in file order.
	UnsupportedLinks []capture.LinkType

	tcpMessages uint64 // messages reassembled from TCP
	First       int64  // earliest packet time, ns since the epoch
	Last        int64  // latest packet time
	Err         error  // why the file failed, nil when it was read whole
}

// maxLinks bounds FileStats.UnsupportedLinks: a file has one link type
// per interface, and a message names a few.
const maxLinks = 4

func (s *FileStats) noteLink(l capture.LinkType) {
	if len(s.UnsupportedLinks) < maxLinks && !slices.Contains(s.UnsupportedLinks, l) {
		s.UnsupportedLinks = append(s.UnsupportedLinks, l)
	}
}

// Messages returns the number of DNS messages found: one row each. A UDP
// packet carries one; a TCP segment none, one or several.
func (s *FileStats) Messages() uint64 { return s.Reasons[packet.DNS] + s.tcpMessages }

// Decoder decodes capture files into rows. It reuses its buffers between
// files and is not safe for concurrent use: give each worker its own.
type Decoder struct {
	cfg   Config
	pd    *packet.Decoder
	pkt   capture.Packet
	frame packet.Frame
	msg   dnsmsg.Message
	row   schema.Row

	// TCP stream reassembly: emitTCP is bound once so that handing it to
	// the reassembler allocates nothing; tcpErr keeps its first error.
	tcp     *tcpdns.Reassembler
	emitTCP func([]byte)
	tcpErr  error

	// Pairing, and the row of a held query being emitted.
	pair  *pairer
	qmsg  dnsmsg.Message
	qrow  schema.Row
	fn    func(*schema.Row) error
	stats *FileStats

	window   int // the current file's decompression window (capture.File.Window)
	stateMax int // what StateBytes may reach in the current file (see stateMax)
}

// NewDecoder returns a Decoder for cfg.
func NewDecoder(cfg Config) *Decoder {
	ports := cfg.Ports
	if len(ports) == 0 {
		ports = DefaultPorts
	}
	d := &Decoder{cfg: cfg, pd: packet.NewDecoder(ports), pair: newPairer(cfg.PairTimeout),
		tcp: tcpdns.New(tcpdns.Config{MaxFlows: tcpFlows}), stateMax: stateMax}
	d.row.Net, d.row.DNS = &d.frame, &d.msg
	d.qrow.DNS = &d.qmsg
	d.emitTCP = d.tcpMessage
	return d
}

// Progress counts what all Decoders have read so far, for progress bars.
type Progress struct {
	Bytes   atomic.Int64
	Packets atomic.Uint64
}

// DecodeFile reads in and calls fn with every DNS message. The Row passed
// to fn is reused: fn must copy what it keeps. An error from fn stops the
// file and is returned as is; a broken file returns an error naming the
// file and the byte offset, after fn has seen every message before the
// fault. prog may be nil.
func (d *Decoder) DecodeFile(in Input, st *FileStats, prog *Progress, fn func(*schema.Row) error) error {
	*st = FileStats{Path: in.Path, Hash: in.Hash, Sensor: cmp.Or(in.Sensor, d.cfg.Sensor)}
	r := d.cfg.Stdin
	if r == nil {
		r = os.Stdin
	}
	regular := false // reads never block: decompression may run ahead
	switch {
	case in.File != nil:
		r, regular = in.pinned(), true // Pin pins regular files only
	case in.Path != Stdin:
		f, err := os.Open(in.Path)
		if err != nil {
			return err // *PathError already names the file
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			regular = true
		}
	}
	cr := &countingReader{r: r, st: st, prog: prog}
	err := d.decode(cr, regular, st, prog, fn)
	var ce callbackError
	if errors.As(err, &ce) {
		return ce.err
	}
	if err != nil && st.Compression != "" && st.Compression != "none" {
		// Offsets count bytes of the decompressed stream; say so.
		err = fmt.Errorf("decompressed %s: %w", st.Compression, err)
	}
	if err == nil {
		// rotate's sidecar says how many packets it wrote; fewer or more
		// here means the file changed or lost data since.
		err = checkSidecar(in.Path, st)
	}
	if err != nil {
		name := in.Path
		if name == Stdin {
			name = "standard input" // "-: offset 0: ..." read as a typo
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// callbackError carries an error of the callback past the file's context.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func (d *Decoder) decode(r io.Reader, regular bool, st *FileStats, prog *Progress, fn func(*schema.Row) error) error {
	// Checked before a file too: a loader interrupted among small files
	// (a group of a thousand, each under 256 packets) went on to the end.
	if d.cancelled() {
		return ErrCancelled
	}
	cf, err := capture.OpenGated(r, regular, d.cfg.Windows, d.cfg.Done)
	if errors.Is(err, capture.ErrGateCancelled) {
		return ErrCancelled
	}
	if err != nil {
		return err
	}
	defer cf.Close()
	st.Format, st.Compression = cf.Format().String(), cf.Compression().String()
	d.window = cf.Window()
	d.stateMax = max(minStateMax, stateMax-d.window)
	path := dnsmsg.UTF8(st.Path) // the file column is text; a name need not be UTF-8
	d.row.Sensor, d.row.File, d.row.FileHash = st.Sensor, path, st.Hash
	d.qrow.Sensor, d.qrow.File, d.qrow.FileHash = st.Sensor, path, st.Hash
	d.fn, d.stats = fn, st
	defer func() {
		st.Fragments = d.pd.EndFile()
		st.TCP = d.tcp.Flush()
		// A file stopped by fn's error or a cancel keeps queries held;
		// the next file emitted them as its own (a hostile run: a copy
		// left out mid-file gave the next file 807 rows of it).
		d.pair.drop()
	}()
	if prog != nil {
		defer func() { prog.Packets.Add(st.Packets & progressEvery) }()
	}
	for {
		if err := cf.Next(&d.pkt); err != nil {
			// Queries still held are unanswered as far as this file
			// shows, even when it ends in a fault.
			if ferr := d.flushPending(); ferr != nil {
				return callbackError{ferr}
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		st.Packets++
		if st.Packets&progressEvery == 0 {
			if prog != nil {
				prog.Packets.Add(progressEvery + 1)
			}
			if d.cancelled() {
				return ErrCancelled
			}
		}
		if err := d.packet(st, fn); err != nil {
			return callbackError{err}
		}
		if d.StateBytes() > d.stateMax {
			if err := d.shed(); err != nil {
				return callbackError{err}
			}
		}
	}
}

// stateMax bounds what a decoder holds for the messages still to come,
// as StateBytes reckons it. The waiting queries, the unfinished datagrams
// and the TCP directions each have a bound of their own (16 MiB, 16 MiB,
// and 8,192 directions with 16 MiB of large buffers); a capture made to
// fill them all at once had a decoder hold about 100 MiB, and two files
// of it to Parquet peaked at 311 MiB. Past stateMax, the one of the three
// that holds most gives up its oldest, as its own bound would have it do.
//
// A file whose decompressor holds a large window (WindowBytes) gets less,
// down to minStateMax: a hostile run's such files, compressed with zstd
// --long=26, peaked at 275-283 MiB with the state at 32 MiB beside the 64
// MiB window. A resolver's decoder holds about 5 MiB.
const (
	stateMax    = 32 << 20
	minStateMax = 8 << 20
)

// StateBytes is what the decoder holds for the current file's messages
// still to come: the waiting queries' charges, the unfinished datagrams'
// sizes (see packet.Decoder.FragmentBytes) and the TCP directions' state
// and buffers (tcpdns.Reassembler.Held). It is
// reckoned from the file alone, never from the buffers earlier files left,
// so that what is decided on it comes out the same on a rerun: the loader
// ends batches sooner when it is large, so that a worker's batch and its
// decoder's state share one bound.
func (d *Decoder) StateBytes() int {
	return d.pair.charged + d.pd.FragmentBytes() + d.tcp.Held()
}

// WindowBytes is what the current file's decompressor holds for its
// window, as the file declares it at its start (capture.File.Window): up
// to 64 MiB for zstd --long or xz -9, a few MiB otherwise.
func (d *Decoder) WindowBytes() int { return d.window }

// shed gives up the oldest of what the largest of the three holds until
// the state is within the file's stateMax: a query is reported unanswered early
// (evicted), a datagram counted as never completed, a TCP direction
// evicted with what it held counted incomplete.
func (d *Decoder) shed() error {
	for d.StateBytes() > d.stateMax {
		q, f, t := d.pair.charged, d.pd.FragmentBytes(), d.tcp.Held()
		switch {
		case q >= f && q >= t:
			e, ok := d.pair.expired(-1)
			if !ok {
				return nil
			}
			d.stats.Pairs.Evicted++
			d.stats.Pairs.Unanswered++
			if err := d.decodeAndEmitHeld(e); err != nil {
				return err
			}
		case f >= t:
			if !d.pd.EvictFragment() {
				return nil
			}
		default:
			if !d.tcp.EvictOldest() {
				return nil
			}
		}
	}
	return nil
}

// packet decodes the current packet and accounts for it.
func (d *Decoder) packet(st *FileStats, _ func(*schema.Row) error) error {
	p := &d.pkt
	if st.Packets == 1 || p.Timestamp < st.First {
		st.First = p.Timestamp
	}
	if st.Packets == 1 || p.Timestamp > st.Last {
		st.Last = p.Timestamp
	}
	reason := d.pd.Decode(p.LinkType, p.Data, p.Timestamp, &d.frame)
	st.Reasons[reason]++
	if reason == packet.LinkUnsupported {
		st.noteLink(p.LinkType)
	}
	if reason == packet.TCP {
		return d.tcpSegment()
	}
	if reason != packet.DNS {
		return nil
	}
	d.msg.Unpack(d.frame.Payload)
	if d.msg.Malformed != "" {
		st.Malformed++
	}
	if d.frame.Snapped {
		st.Snapped++
	}
	return d.pairAndEmit(p.Timestamp, p.Frame)
}

// progressEvery+1 packets are counted in Progress at a time, and Config.Done
// looked at: an atomic add a packet was 3% of a Parquet export.
const progressEvery = 255

func (d *Decoder) cancelled() bool {
	select {
	case <-d.cfg.Done:
		return true
	default:
		return false
	}
}

// tcpFlows bounds the TCP directions followed at once. Each may buffer up
// to 128 KiB while a message is incomplete or out of order, and all of
// them together tcpdns.DefaultMaxTotal (16 MiB) beyond the 4 KiB a drained
// direction keeps: at most 48 MiB of buffers a decoder, and with the
// directions' own state about 64 MiB (a hostile run's 8,000 directions
// each holding part of a message). The decoder's shared bound, stateMax,
// evicts them sooner.
const tcpFlows = 8192

// tcpSegment hands a TCP segment on a DNS port to stream reassembly; every
// message it completes becomes a row timed by this packet.
func (d *Decoder) tcpSegment() error {
	f := &d.frame
	k := tcpdns.Key{Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort}
	d.tcp.Segment(k, d.pkt.Timestamp, f.TCPSeq, f.TCPFlags, f.Payload, d.emitTCP)
	err := d.tcpErr
	d.tcpErr = nil
	return err
}

func (d *Decoder) tcpMessage(msg []byte) {
	if d.tcpErr != nil {
		return
	}
	d.stats.tcpMessages++
	d.frame.Payload = msg
	d.msg.Unpack(msg)
	if d.msg.Malformed != "" {
		d.stats.Malformed++
	}
	d.tcpErr = d.pairAndEmit(d.pkt.Timestamp, d.pkt.Frame)
}

// countingReader counts the bytes read from the file as stored.
type countingReader struct {
	r    io.Reader
	st   *FileStats
	prog *Progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.st.Bytes += int64(n)
	if c.prog != nil {
		c.prog.Bytes.Add(int64(n))
	}
	return n, err
}
