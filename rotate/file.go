package rotate

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/pcapload/pcapload/ingest/capture"
)

// packetWriter is what PcapWriter and PcapngWriter have in common.
type packetWriter interface {
	WritePacket(ts int64, data []byte, origLen uint32) error
}

// layout says how files are written; it is the part of Config a file needs.
type layout struct {
	format       Format
	comp         Compression
	snaplen      uint32
	ifName       string
	frameBytes   int
	framePackets int
}

// outFile is the file being written, as NAME.part.
type outFile struct {
	path string // final path
	part string // path while being written: path.part, or another .part name
	f    *os.File
	out  *countWriter
	fr   framer
	bw   *bufio.Writer
	pw   packetWriter
	ng   *capture.PcapngWriter // nil for pcap

	snaplen uint32 // of the interfaces a pcapng file describes
	ifName  string

	side         Sidecar
	frameBytes   int // uncompressed bytes since the frame began
	framePackets int
	frameLimit   int
	packetLimit  int
}

// countWriter counts and hashes what reaches the file.
type countWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// createFile starts the file that will be path, as part, and writes the
// capture file header.
func createFile(path, part string, l layout, link capture.LinkType) (*outFile, error) {
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create capture file: %w", err)
	}
	o := &outFile{path: path, part: part, f: f, frameLimit: l.frameBytes, packetLimit: l.framePackets,
		snaplen: l.snaplen, ifName: l.ifName}
	o.out = &countWriter{w: f, h: sha256.New()}
	if o.fr, err = newFramer(o.out, l.comp); err != nil {
		f.Close()
		return nil, err
	}
	o.bw = bufio.NewWriterSize(o.fr, 64<<10)
	if err := o.writeHeader(l, link); err != nil {
		f.Close()
		return nil, err
	}
	o.side = Sidecar{
		File:        filepath.Base(path),
		LinkType:    uint16(link),
		Snaplen:     l.snaplen,
		Format:      l.format.String(),
		Compression: l.comp.String(),
	}
	return o, nil
}

// writeHeader writes the pcap file header or the pcapng SHB and IDB.
func (o *outFile) writeHeader(l layout, link capture.LinkType) error {
	if l.format == FormatPcap {
		pw, err := capture.NewPcapWriter(o.bw, link, l.snaplen, true)
		o.pw = pw
		return err
	}
	ng, err := capture.NewPcapngWriter(o.bw, link, l.snaplen, l.ifName)
	o.pw, o.ng = ng, ng
	return err
}

// write writes one packet of link type link and ends the frame when it is
// full. A pcapng file takes packets of any link type, each on an
// interface of its own; a pcap file only those of its header's.
func (o *outFile) write(link capture.LinkType, ts int64, data []byte, origLen uint32) error {
	if o.ng != nil {
		if err := o.ng.UseLink(link, o.snaplen, o.ifName); err != nil {
			return err
		}
	} else if uint16(link) != o.side.LinkType {
		return fmt.Errorf("write packet record: link type %d in a pcap file of link type %d", link, o.side.LinkType)
	}
	if err := o.pw.WritePacket(ts, data, origLen); err != nil {
		return err
	}
	if o.side.Packets == 0 {
		o.side.FirstNS = ts
	}
	o.side.Packets++
	o.side.PacketBytes += uint64(len(data))
	o.side.LastNS = ts

	// 32 bytes is the larger of the two record overheads, near enough.
	o.frameBytes += len(data) + 32
	o.framePackets++
	if o.frameBytes >= o.frameLimit || (o.packetLimit > 0 && o.framePackets >= o.packetLimit) {
		return o.endFrame()
	}
	return nil
}

// endFrame pushes everything buffered into a complete frame, written to the
// file (the page cache) but not fsynced: a killed process loses at most the
// frame in progress, a power cut what the kernel had not yet written.
// TODO(durability): fsync every N frames, as a flag, for power-loss bounds.
func (o *outFile) endFrame() error {
	o.frameBytes, o.framePackets = 0, 0
	if err := o.bw.Flush(); err != nil {
		return fmt.Errorf("flush capture file: %w", err)
	}
	return o.fr.EndFrame()
}

// size returns the bytes on disk so far, frames not yet ended excluded.
func (o *outFile) size() int64 { return o.out.n }

// finish writes the statistics block, makes the file durable, writes its
// sidecar and renames NAME.part to NAME. received and dropped are the
// cumulative kernel counters for the statistics block; drops is the part of
// them that fell while this file was open. It returns the sidecar.
func (o *outFile) finish(ts int64, received, dropped, drops uint64) (Sidecar, error) {
	if o.ng != nil {
		if err := o.ng.WriteStats(ts, received, dropped); err != nil {
			o.f.Close()
			return o.side, err
		}
	}
	if err := o.close(); err != nil {
		return o.side, err
	}
	if o.ng != nil && len(o.ng.Links()) > 1 {
		for _, l := range o.ng.Links() {
			o.side.LinkTypes = append(o.side.LinkTypes, uint16(l))
		}
	}
	o.side.Drops = drops
	o.side.Bytes = o.out.n
	o.side.SHA256 = hex.EncodeToString(o.out.h.Sum(nil))
	return o.side, publish(o.path, o.part, o.side)
}

// close ends the last frame and fsyncs and closes the .part file.
func (o *outFile) close() error {
	err := o.bw.Flush()
	if err == nil {
		err = o.fr.Close()
	}
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close capture file %s: %w", o.part, err)
	}
	return nil
}

// abandon closes the file without finishing it; Recover deals with it at
// the next start.
func (o *outFile) abandon() { o.f.Close() }

// publish writes the sidecar, renames part to path and fsyncs the
// directory. The sidecar goes first so that a finished file always has one;
// a crash between the two leaves a .part with a matching sidecar, which
// Recover only renames.
func publish(path, part string, s Sidecar) error {
	if err := writeSidecar(path, s); err != nil {
		return err
	}
	if err := os.Rename(part, path); err != nil {
		return fmt.Errorf("rename capture file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}
