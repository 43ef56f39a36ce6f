package rotate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Sidecar is the content of NAME.json, written next to each finished file
// NAME. The loader cross-checks its packet count against it.
type Sidecar struct {
	File        string   `json:"file"`                 // base name of the capture file
	Sensor      string   `json:"sensor"`               // Config.Sensor
	Packets     uint64   `json:"packets"`              // packets in the file
	Bytes       int64    `json:"bytes"`                // size of the file on disk
	PacketBytes uint64   `json:"packet_bytes"`         // captured bytes of all packets
	Drops       uint64   `json:"drops"`                // kernel drops while the file was open
	FirstNS     int64    `json:"first_ns"`             // time of the first packet, ns since the epoch
	LastNS      int64    `json:"last_ns"`              // time of the last packet
	LinkType    uint16   `json:"link_type"`            // LINKTYPE_ value of the first packet, and of every one unless LinkTypes
	LinkTypes   []uint16 `json:"link_types,omitempty"` // a pcapng file's interfaces' when they are of several
	Snaplen     uint32   `json:"snaplen"`
	Format      string   `json:"format"`      // pcapng or pcap
	Compression string   `json:"compression"` // zstd, gzip or none
	SHA256      string   `json:"sha256"`      // hex digest of the file's bytes
	Recovered   bool     `json:"recovered"`   // rewritten by Recover after a crash
}

// sidecarPath returns the sidecar path of the finished file path.
func sidecarPath(path string) string { return path + ".json" }

// maxSidecar bounds the sidecar ReadSidecar reads: rotate's are about 500
// bytes.
const maxSidecar = 64 << 10

// ReadSidecar reads the sidecar of the finished file path. It reads only
// a regular file, of up to maxSidecar bytes: a sidecar linked to
// /dev/zero took all memory, and a FIFO hung the load (a hostile run).
func ReadSidecar(path string) (Sidecar, error) {
	var s Sidecar
	name := sidecarPath(path)
	// Not blocking, so that opening a FIFO does not wait for a writer.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// A link to rotate's file: its sidecar is beside the file, and
		// the link's rows lost the sensor (a hostile run).
		if target, lerr := filepath.EvalSymlinks(path); lerr == nil && target != path {
			name = sidecarPath(target)
			f, err = os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		}
	}
	if errors.Is(err, syscall.ENAMETOOLONG) {
		// A capture's name of 251 bytes or more leaves no room for
		// ".json": no sidecar can have it (a hostile run failed the file).
		err = &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if err != nil {
		return s, fmt.Errorf("read sidecar: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return s, fmt.Errorf("read sidecar: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return s, fmt.Errorf("read sidecar %s: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSidecar+1))
	if err != nil {
		return s, fmt.Errorf("read sidecar: %w", err)
	}
	if len(b) > maxSidecar {
		return s, fmt.Errorf("read sidecar %s: over %d bytes: not one rotate wrote", name, maxSidecar)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode sidecar %s: %w", name, err)
	}
	if s.File == "" || s.Format == "" {
		// {} decoded as a sidecar of no packets.
		return s, fmt.Errorf("decode sidecar %s: no file name or format: not one rotate wrote", name)
	}
	return s, nil
}

// writeSidecar writes the sidecar of path durably: to NAME.json.part (which
// the loader skips), fsynced, then renamed. The caller fsyncs the directory.
func writeSidecar(path string, s Sidecar) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sidecar: %w", err)
	}
	final := sidecarPath(path)
	tmp := final + ".part"
	if err := writeFileSync(tmp, append(b, '\n')); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename sidecar: %w", err)
	}
	return nil
}

// writeFileSync writes b to a new file at path and fsyncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create sidecar: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write sidecar: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync sidecar: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close sidecar: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so that renames in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}
