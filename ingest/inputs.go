package ingest

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Stdin is the Input path that names standard input.
const Stdin = "-"

// Input is one capture file to load.
type Input struct {
	Path   string // as given or found; Stdin for standard input
	Size   int64  // bytes on disk, -1 when unknown
	Walked bool   // found by walking a directory or matching a pattern rather than named

	// Hash is the file's content hash (HashFile), stored in every row;
	// empty when not computed, as for standard input.
	Hash string

	// Sensor is the sensor its rows are stored under; Config.Sensor when
	// empty.
	Sensor string

	// File is the file opened by Pin, nil before it and for a pipe or a
	// device; its hash and its decoding then read its first Size bytes.
	File *os.File
}

// Pin opens in's file once, for its hash and its decoding both, and sets
// Size to its length now. Both then read the same bytes: those of the
// file opened, up to that length. Opened by name twice, a capture still
// being written had its rows read past the bytes hashed, and a file
// replaced by a rename in between had the other file's rows stored under
// the first one's hash. A named pipe or a device is not opened (nor
// hashed, see load), nor is standard input or a pinned file. The caller
// closes it with Unpin.
//
// TODO(exactly-once): bytes rewritten in place between the hash and the
// decoding, the length kept, are not seen (a file cut shorter is: see
// DecodeFile); hashing again while decoding and failing the file on a
// mismatch would catch them, for a second hash's CPU.
func (in *Input) Pin() error {
	if in.Path == Stdin || in.File != nil {
		return nil
	}
	fi, err := os.Stat(in.Path)
	if err != nil {
		return pathError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return pathError(err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return err
	}
	in.File, in.Size = f, fi.Size()
	return nil
}

// pathError says err of a file as the loader's other errors do, the file
// first: "x.pcap: no such file or directory", not "stat x.pcap: ...".
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) && strings.ContainsAny(pe.Path, `*?[`) {
			// A pattern the shell passed on as it was: it matched nothing.
			return noMatch(pe.Path)
		}
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// noMatch is the error of a pattern that matches no file; it is an
// fs.ErrNotExist.
type noMatch string

func (e noMatch) Error() string { return string(e) + ": no file matches the pattern" }
func (e noMatch) Unwrap() error { return fs.ErrNotExist }

// Unpin closes the file Pin opened.
func (in *Input) Unpin() {
	if in.File != nil {
		in.File.Close()
		in.File = nil
	}
}

// pinned returns a reader of the bytes of a pinned input.
func (in *Input) pinned() io.Reader {
	return &pinnedReader{r: io.NewSectionReader(in.File, 0, in.Size), size: in.Size}
}

// ErrUnread reports a pinned file whose bytes hashed could not all be
// read: it was cut shorter while it loaded, or a read failed. Its rows are
// not those of the bytes that name them, nor the same from one read to
// the next, so a destination takes them out again (see load.Ledger).
var ErrUnread = errors.New("not all the bytes hashed could be read")

// pinnedReader reads a pinned file's bytes, failing with ErrUnread where
// they end early: a clean end there, taken for the file's, made rows of a
// file cut while it loaded look whole.
type pinnedReader struct {
	r         *io.SectionReader
	off, size int64
}

func (p *pinnedReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.off += int64(n)
	switch {
	case err == io.EOF && p.off < p.size:
		err = fmt.Errorf("%w: the file was cut %d bytes short while it loaded", ErrUnread, p.size-p.off)
	case err != nil && err != io.EOF:
		err = fmt.Errorf("%w: %w", ErrUnread, err)
	}
	return n, err
}

// Skipped is a file Expand left out, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Expand turns command-line arguments into Inputs: a file as it is, a
// directory walked in lexical order, a glob pattern matched, "-" for
// standard input. Files still being written (*.part) are skipped, and so,
// inside directories, are rotate's sidecars (NAME.json next to NAME) and
// hidden files. A file found in a directory, or matched by a pattern, that
// turns out not to be a capture is skipped by the loader, not failed (see
// Input.Walked). An argument that names nothing, and a folder that cannot
// be read, are kept, to fail when they are opened; only a malformed glob
// pattern is an error.
func Expand(args []string) ([]Input, []Skipped, error) {
	var e expander
	for _, a := range args {
		if err := e.arg(a); err != nil {
			return nil, nil, err
		}
	}
	return e.inputs, e.skipped, nil
}

type expander struct {
	inputs  []Input
	skipped []Skipped
	seen    map[string]bool
	stdin   bool
}

func (e *expander) arg(a string) error {
	if a == Stdin {
		if e.stdin {
			return fmt.Errorf("standard input (-) given twice")
		}
		e.stdin = true
		e.inputs = append(e.inputs, Input{Path: Stdin, Size: -1})
		return nil
	}
	if _, err := os.Stat(a); err == nil {
		return e.path(a, false)
	}
	// A malformed pattern matches nothing: a missing zz[.pcap failed the
	// whole run where any other missing file fails alone.
	matches, _ := filepath.Glob(a)
	e.unreadableFolders(a)
	if len(matches) == 0 {
		// Kept as an input so that it fails alone, with the reason, and
		// the other inputs still load.
		e.inputs = append(e.inputs, Input{Path: a, Size: -1})
		return nil
	}
	for _, m := range matches {
		// A pattern's matches are found, as a folder's files are: one
		// that is no capture (the .csv beside dns_*) is left out, said.
		if err := e.path(m, true); err != nil {
			return err
		}
	}
	return nil
}

// unreadableFolders keeps as inputs, to fail alone, the folders a
// pattern's last element is matched in that cannot be read: Glob passes
// over them without a word, and their captures were left out silently
// (a hostile run, as user nobody, of archive/*/*.pcap).
func (e *expander) unreadableFolders(pattern string) {
	dir := filepath.Dir(pattern)
	if !strings.ContainsAny(dir, `*?[\`) {
		return
	}
	dirs, _ := filepath.Glob(dir)
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		if f, err := os.Open(d); err != nil {
			e.file(d, -1, false)
		} else {
			f.Close()
		}
	}
}

func (e *expander) path(p string, matched bool) error {
	fi, err := os.Stat(p)
	if err != nil {
		// A dangling link, a link loop: the input fails alone when it is
		// opened, as a missing file does.
		e.file(p, -1, false)
		return nil
	}
	if !fi.IsDir() {
		if matched && !fi.Mode().IsRegular() {
			// A pattern's FIFO hung the load, where a folder's is
			// skipped (a hostile run); one named is read, as <(zcat x).
			e.skipped = append(e.skipped, Skipped{Path: p, Reason: "not a regular file"})
			return nil
		}
		e.file(p, fi.Size(), matched)
		return nil
	}
	root := p
	if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		// A folder named through a link is walked: WalkDir does not
		// follow a root that is one, and a nightly load of /data/pcap,
		// a link to the archive, loaded nothing and exited 0 (a new
		// user's run).
		root = p + string(filepath.Separator)
	}
	return filepath.WalkDir(root, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			// A folder that cannot be read (a permission) fails alone,
			// when the loader opens it, and the others still load: a
			// nightly load of an archive must not stop at one.
			e.file(q, -1, false)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if q != p && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || isSidecar(q) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// A link to a file is loaded as the file; one to a folder is
			// not followed (links can loop), nor one to a file still being
			// written, and both are said.
			target, err := filepath.EvalSymlinks(q)
			if err == nil {
				info, err = os.Stat(target)
			}
			why := ""
			switch {
			case err != nil:
				why = "a link to nothing"
			case info.IsDir():
				why = "a link to a folder, not followed"
			case strings.HasSuffix(target, ".part"):
				why = "a link to a file still being written (.part)"
			}
			if why != "" {
				e.skipped = append(e.skipped, Skipped{Path: q, Reason: why})
				return nil
			}
		}
		if !info.Mode().IsRegular() {
			// FIFOs or devices would block.
			e.skipped = append(e.skipped, Skipped{Path: q, Reason: "not a regular file"})
			return nil
		}
		e.file(q, info.Size(), true)
		return nil
	})
}

func (e *expander) file(p string, size int64, walked bool) {
	if strings.HasSuffix(p, ".part") {
		e.skipped = append(e.skipped, Skipped{Path: p, Reason: "still being written (.part)"})
		return
	}
	if e.seen == nil {
		e.seen = make(map[string]bool)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	if e.seen[abs] {
		return
	}
	e.seen[abs] = true
	e.inputs = append(e.inputs, Input{Path: p, Size: size, Walked: walked})
}

// isSidecar reports whether p is rotate's NAME.json beside a capture NAME
// (or NAME.part).
func isSidecar(p string) bool {
	base, ok := strings.CutSuffix(p, ".json")
	if !ok {
		return false
	}
	for _, q := range []string{base, base + ".part"} {
		if _, err := os.Stat(q); err == nil {
			return true
		}
	}
	return false
}

// SortBySize orders inputs largest first, so that the biggest files start
// early and workers finish together.
func SortBySize(in []Input) {
	sort.SliceStable(in, func(i, j int) bool { return in[i].Size > in[j].Size })
}

// Shard is one machine's share of an archive: K of N, K counted from 1.
// The zero Shard takes every file.
//
// A file belongs to shard 1 + FNV-1a(base name) mod N. The base name is
// the key because it is the same wherever the archive is mounted and
// costs no read, so N loaders over one archive agree on the split with no
// coordinator; rotate names its files by time, which spreads them evenly.
// Two copies of one capture under different base names can fall to two
// shards; the destinations' load records still leave the second out when
// the loaders run one after the other.
type Shard struct {
	K, N int
}

// ErrBadShard reports a --shard value ParseShard cannot use.
var ErrBadShard = errors.New("bad shard")

// ParseShard parses "K/N" with 1 <= K <= N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	kv, kerr := strconv.Atoi(k)
	nv, nerr := strconv.Atoi(n)
	if !ok || kerr != nil || nerr != nil || nv < 1 || kv < 1 || kv > nv {
		return Shard{}, fmt.Errorf("%w %q: want K/N with 1 <= K <= N", ErrBadShard, s)
	}
	return Shard{K: kv, N: nv}, nil
}

// String returns "K/N", or "all" for the zero Shard.
func (s Shard) String() string {
	if s.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Holds reports whether the file at path belongs to the shard.
func (s Shard) Holds(path string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(filepath.Base(path)))
	return int(h.Sum64()%uint64(s.N)) == s.K-1
}

// Take returns the inputs that belong to the shard, in their order. It
// reuses in's storage.
func (s Shard) Take(in []Input) []Input {
	out := in[:0]
	for _, i := range in {
		if s.Holds(i.Path) {
			out = append(out, i)
		}
	}
	return out
}
