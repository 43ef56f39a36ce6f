package rotate

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pcapload/pcapload/ingest/capture"
)

// Rotator writes packets into rolling files. It is not safe for concurrent
// use, except Totals, which may be called from any goroutine.
type Rotator struct {
	cfg      Config
	cur      *outFile
	link     capture.LinkType
	seq      uint64 // sequence number of the last file opened
	relinks  int    // files started by a change of link type (pcap)
	boundary int64  // time, ns, at which the current file rotates; 0: none
	atOpen   uint64 // cumulative kernel drops already recorded in finished files
	read     uint64 // packets written since New, for statistics blocks without Stats
	hooks    sync.WaitGroup
	tot      totals
}

// totals are the running counters behind Totals.
type totals struct {
	packets, bytes, files, drops, deleted atomic.Uint64
}

// Totals are the counters of a Rotator since New.
type Totals struct {
	Packets uint64 // packets written
	Bytes   uint64 // captured bytes of those packets
	Files   uint64 // files finished
	Drops   uint64 // kernel drops recorded in finished files
	Deleted uint64 // files deleted by retention
}

// New returns a Rotator writing into cfg.Dir, after applying the retention
// limits to the files already there. Its sequence numbers continue after the
// highest one of cfg.Sensor found there; run Recover first so that .part
// files are finished.
func New(cfg Config) (*Rotator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	seq, err := lastSeq(cfg.Dir, cfg.Sensor)
	if err != nil {
		return nil, err
	}
	r := &Rotator{cfg: cfg, seq: seq}
	// A disk that filled while rotate was down should not wait for the
	// first close to be cleared.
	return r, r.enforce()
}

// lastSeq returns the highest sequence number of sensor's files in dir,
// finished or not, or 0.
func lastSeq(dir, sensor string) (uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("list capture directory: %w", err)
	}
	var last uint64
	for _, e := range ents {
		n, ok := parseName(strings.TrimSuffix(e.Name(), ".part"))
		if ok && n.sensor == sensor && n.seq > last {
			last = n.seq
		}
	}
	return last, nil
}

// WritePacket writes p, rotating first when a limit is reached. p.Data is
// not retained.
func (r *Rotator) WritePacket(p *capture.Packet) error {
	if r.cur != nil && r.due(p) {
		if err := r.Rotate(); err != nil {
			return err
		}
	}
	if r.cur == nil {
		if err := r.open(p); err != nil {
			return err
		}
	}
	if err := r.cur.write(p.LinkType, p.Timestamp, p.Data, p.OrigLen); err != nil {
		return fmt.Errorf("write %s: %w", r.cur.path, err)
	}
	r.read++
	r.tot.packets.Add(1)
	r.tot.bytes.Add(uint64(len(p.Data)))
	return nil
}

// due reports whether the current file must end before p.
func (r *Rotator) due(p *capture.Packet) bool {
	c := &r.cfg
	switch {
	case p.LinkType != r.link && c.Format == FormatPcap:
		// A pcap file has one link type; pcapng describes one interface
		// a link type (a two-interface pcapng read with -r was cut into
		// 300,000 files, one a packet). Said once it happens often: a
		// new user's 108,174 packets made 31,470 files without a word.
		if r.relinks++; r.relinks == relinkWarning {
			r.cfg.Logger.Warn("the link type changed often: a pcap file holds one, so each change "+
				"starts a new file; --format pcapng keeps them in one", slog.Int("files", r.relinks))
		}
		return true
	case c.MaxPackets > 0 && r.cur.side.Packets >= c.MaxPackets:
		return true
	case c.MaxBytes > 0 && r.cur.size() >= c.MaxBytes:
		return true
	}
	return r.boundary != 0 && r.clock(p.Timestamp) >= r.boundary
}

// relinkWarning is how many files a change of link type starts before
// rotate says so.
const relinkWarning = 100

// clock returns the time rotation follows: the wall clock when Config.Now
// is set, packet time otherwise.
func (r *Rotator) clock(ts int64) int64 {
	if r.cfg.Now != nil {
		return r.cfg.Now().UnixNano()
	}
	return ts
}

// open starts the next file with p as its first packet.
func (r *Rotator) open(p *capture.Packet) error {
	name := Name(r.cfg.Sensor, p.Timestamp, r.seq+1, r.cfg.Format, r.cfg.Compression)
	path := filepath.Join(r.cfg.Dir, name)
	f, err := createFile(path, path+".part", r.cfg.layout(), p.LinkType)
	if err != nil {
		return err
	}
	r.seq++
	r.cur, r.link = f, p.LinkType
	r.cur.side.Sensor = r.cfg.Sensor
	r.boundary = 0
	if every := r.cfg.Every.Nanoseconds(); every > 0 {
		t := r.clock(p.Timestamp)
		r.boundary = t - t%every + every
	}
	return nil
}

// kernelStats returns the cumulative received and dropped counters.
func (r *Rotator) kernelStats() (received, dropped uint64) {
	if r.cfg.Stats == nil {
		return r.read, 0
	}
	return r.cfg.Stats()
}

// Tick rotates when the wall clock has crossed the current file's time
// boundary, so that a quiet live capture still rotates on time. It does
// nothing without Config.Now.
func (r *Rotator) Tick() error {
	if r.cur == nil || r.boundary == 0 || r.cfg.Now == nil {
		return nil
	}
	if r.cfg.Now().UnixNano() < r.boundary {
		return nil
	}
	return r.Rotate()
}

// Rotate finishes the current file, if any; the next packet starts a new
// one. Retention then runs and the OnClose command starts.
func (r *Rotator) Rotate() error {
	if r.cur == nil {
		return nil
	}
	f := r.cur
	r.cur = nil
	received, dropped := r.kernelStats()
	ts := f.side.LastNS
	if r.cfg.Now != nil {
		ts = r.cfg.Now().UnixNano()
	}
	// Drops since the last file finished go to this one, those while no
	// file was open included, so the sidecars add up to the kernel's count.
	side, err := f.finish(ts, received, dropped, dropped-r.atOpen)
	r.atOpen = dropped
	if err != nil {
		return fmt.Errorf("finish %s: %w", f.path, err)
	}
	r.tot.files.Add(1)
	r.tot.drops.Add(side.Drops)
	r.cfg.Logger.Info("file finished", slog.String("file", f.path), slog.Uint64("packets", side.Packets),
		slog.Int64("bytes", side.Bytes), slog.Uint64("drops", side.Drops))
	r.runHook(f.path)
	return r.enforce()
}

// Close finishes the current file and waits for the OnClose commands.
func (r *Rotator) Close() error {
	err := r.Rotate()
	r.hooks.Wait()
	return err
}

// Abandon closes the current file without finishing it, as a crash would
// leave it; Recover finishes it at the next start. It is for errors that
// make finishing pointless.
func (r *Rotator) Abandon() {
	if r.cur != nil {
		r.cur.abandon()
		r.cur = nil
	}
	r.hooks.Wait()
}

// Totals returns the counters so far.
func (r *Rotator) Totals() Totals {
	return Totals{
		Packets: r.tot.packets.Load(),
		Bytes:   r.tot.bytes.Load(),
		Files:   r.tot.files.Load(),
		Drops:   r.tot.drops.Load(),
		Deleted: r.tot.deleted.Load(),
	}
}
