package rotate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// finished is a finished file of the sensor, as retention sees it.
type finished struct {
	path string
	seq  uint64
	size int64 // the file and its sidecar
}

// enforce deletes the oldest finished files of the sensor, with their
// sidecars, until KeepFiles, KeepBytes and MinFree hold. The newest file is
// always kept, and .part files are never touched.
func (r *Rotator) enforce() error {
	c := &r.cfg
	if c.KeepFiles == 0 && c.KeepBytes == 0 && c.MinFree == 0 {
		return nil
	}
	files, err := listFinished(c.Dir, c.Sensor)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	free, err := freeBytes(c.Dir)
	if err != nil {
		return err
	}
	for len(files) > 1 && r.overLimit(len(files), total, free) {
		if err := remove(files[0].path); err != nil {
			return err
		}
		r.tot.deleted.Add(1)
		c.Logger.Info("file deleted", slog.String("file", files[0].path), slog.Int64("bytes", files[0].size))
		total -= files[0].size
		free += files[0].size
		files = files[1:]
	}
	return nil
}

// overLimit reports whether n files of total bytes, with free bytes left on
// the file system, break a retention limit.
func (r *Rotator) overLimit(n int, total, free int64) bool {
	c := &r.cfg
	return (c.KeepFiles > 0 && n > c.KeepFiles) ||
		(c.KeepBytes > 0 && total > c.KeepBytes) ||
		(c.MinFree > 0 && free < c.MinFree)
}

// listFinished returns sensor's finished files in dir, oldest (lowest
// sequence number) first.
func listFinished(dir, sensor string) ([]finished, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list capture directory: %w", err)
	}
	var files []finished
	for _, e := range ents {
		n, ok := parseName(e.Name())
		if !ok || n.sensor != sensor || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		files = append(files, finished{path: p, seq: n.seq, size: fileSize(p) + fileSize(sidecarPath(p))})
	}
	slices.SortFunc(files, func(a, b finished) int { return cmp.Compare(a.seq, b.seq) })
	return files, nil
}

// fileSize returns the size of path, 0 when it is missing.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// remove deletes a finished file and then its sidecar, so that a crash in
// between leaves an orphan sidecar rather than a file without one.
func remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete old capture file: %w", err)
	}
	if err := os.Remove(sidecarPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete old sidecar: %w", err)
	}
	return nil
}

// freeBytes returns the bytes available to an unprivileged user on the
// file system of dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("stat file system: %w", err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}
