package rotate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pcapload/pcapload/ingest/capture"
)

// Recovery says what Recover did with one .part file.
type Recovery struct {
	Path    string // the finished file, or the removed .part
	Action  string // "renamed", "rewritten" or "removed"
	Packets uint64 // packets in the finished file
	Cause   error  // why reading the .part stopped, nil at a clean end
}

// rewriteSuffix marks the file Recover writes a .part's good records into.
const rewriteSuffix = ".rec.part"

// Recover finishes every .part file of finished-file shape in cfg.Dir that
// a crash left (any sensor's), and removes leftover temporary files:
//   - a .part whose sidecar is there and matches its hash was complete and
//     is only renamed;
//   - any other is read with the capture readers until the first error, and
//     the good records are rewritten, in its own format and compression,
//     into the finished file, whose sidecar says Recovered;
//   - a .part without one whole packet is removed.
func Recover(cfg Config) ([]Recovery, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	parts, err := removeLeftovers(cfg.Dir)
	if err != nil {
		return nil, err
	}
	var out []Recovery
	for _, p := range parts {
		n, ok := parseName(filepath.Base(strings.TrimSuffix(p, ".part")))
		if !ok {
			continue
		}
		rec, err := recoverPart(strings.TrimSuffix(p, ".part"), n, cfg.FrameBytes)
		if err != nil {
			return out, fmt.Errorf("recover %s: %w", p, err)
		}
		cfg.Logger.Info("recovered", slog.String("file", rec.Path), slog.String("action", rec.Action),
			slog.Uint64("packets", rec.Packets))
		out = append(out, rec)
	}
	return out, syncDir(cfg.Dir)
}

// removeLeftovers removes the temporary files of an interrupted sidecar
// write or rewrite and returns the other .part files of dir.
func removeLeftovers(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list capture directory: %w", err)
	}
	var parts []string
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, rewriteSuffix), strings.HasSuffix(name, ".json.part"):
			if err := os.Remove(p); err != nil {
				return nil, fmt.Errorf("remove leftover: %w", err)
			}
		case strings.HasSuffix(name, ".part"):
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// recoverPart finishes path.part.
func recoverPart(path string, n fileName, frameBytes int) (Recovery, error) {
	part := path + ".part"
	if _, err := os.Stat(path); err == nil {
		// Renamed, then the process died before removing the original.
		return Recovery{Path: part, Action: "removed"}, os.Remove(part)
	}
	if s, err := ReadSidecar(path); err == nil && matches(part, s) {
		return Recovery{Path: path, Action: "renamed", Packets: s.Packets}, os.Rename(part, path)
	}
	return rewrite(path, n, frameBytes)
}

// matches reports whether the file at path has the size and hash s records.
func matches(path string, s Sidecar) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	return err == nil && size == s.Bytes && hex.EncodeToString(h.Sum(nil)) == s.SHA256
}

// rewrite copies the decodable records of path.part into path. A .part
// without one whole packet is removed: there is nothing to keep.
func rewrite(path string, n fileName, frameBytes int) (Recovery, error) {
	part := path + ".part"
	in, err := os.Open(part)
	if err != nil {
		return Recovery{}, fmt.Errorf("open: %w", err)
	}
	defer in.Close()
	r, err := capture.OpenFile(in)
	var p capture.Packet
	if err == nil {
		defer r.Close()
		err = r.Next(&p)
	}
	if err != nil {
		os.Remove(sidecarPath(path))
		return Recovery{Path: part, Action: "removed", Cause: err}, os.Remove(part)
	}

	ifc := r.Interfaces()[p.Interface]
	l := layout{format: n.format, comp: n.comp, snaplen: ifc.Snaplen, ifName: ifc.Name, frameBytes: frameBytes}
	out, err := createFile(path, path+rewriteSuffix, l, p.LinkType)
	if err != nil {
		return Recovery{}, err
	}
	if err := out.write(p.LinkType, p.Timestamp, p.Data, p.OrigLen); err != nil {
		out.abandon()
		return Recovery{}, err
	}
	cause, err := copyPackets(out, r)
	if err != nil {
		out.abandon()
		return Recovery{}, err
	}
	return finishRecovered(out, n, cause)
}

// copyPackets writes every packet of r into out until r's first error,
// which it returns as cause unless it is io.EOF.
func copyPackets(out *outFile, r capture.Reader) (cause, err error) {
	var p capture.Packet
	for {
		if rerr := r.Next(&p); rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil, nil
			}
			return rerr, nil
		}
		if err := out.write(p.LinkType, p.Timestamp, p.Data, p.OrigLen); err != nil {
			return nil, err
		}
	}
}

// finishRecovered publishes a rewritten file and removes its .part.
func finishRecovered(out *outFile, n fileName, cause error) (Recovery, error) {
	out.side.Sensor, out.side.Recovered = n.sensor, true
	side, err := out.finish(out.side.LastNS, out.side.Packets, 0, 0)
	if err != nil {
		return Recovery{}, err
	}
	if err := os.Remove(out.path + ".part"); err != nil {
		return Recovery{}, fmt.Errorf("remove recovered part: %w", err)
	}
	return Recovery{Path: out.path, Action: "rewritten", Packets: side.Packets, Cause: cause}, nil
}
