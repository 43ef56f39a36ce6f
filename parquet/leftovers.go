package parquet

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// staleTemp is how long a temporary file of a name must have gone
// unwritten before a commit of that name removes it: a killed export's.
// An export running beside, of the same capture into the same folder,
// leaves its files of days it has done unwritten until its end (see
// File.Finish): an hour is far longer than any capture takes.
const staleTemp = time.Hour

// Leftovers removes what earlier exports of a capture left in a partition
// folder: the temporary files of a killed export (.NAME.*.tmp and
// .NAME-N.*.tmp, unwritten for staleTemp), and NAME-N.parquet files that
// this export did not write again, as one cut into more files leaves.
//
// It lists each folder once, the first time it is asked about it, and
// keeps only the names of such files. Globbing the folder for every
// capture was a quarter of the CPU of exporting a thousand small captures
// into one folder, and grew with the square of their number. What another
// export adds to a folder after it is listed is left for a later run.
// It is safe for concurrent use.
type Leftovers struct {
	mu      sync.Mutex
	folders map[string]map[string][]string // folder -> NAME -> its files there
}

// Remove removes the leftovers of name in folder, keeping the paths in
// written.
func (l *Leftovers) Remove(folder, name string, written map[string]bool) {
	for _, f := range l.take(folder, name) {
		path := filepath.Join(folder, f)
		if strings.HasSuffix(f, ".tmp") {
			if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > staleTemp {
				os.Remove(path)
			}
		} else if !written[path] {
			os.Remove(path)
		}
	}
}

// take returns and forgets the files of name in folder, listing the
// folder first if it was not yet.
func (l *Leftovers) take(folder, name string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.folders == nil {
		l.folders = make(map[string]map[string][]string)
	}
	names, ok := l.folders[folder]
	if !ok {
		names = list(folder)
		l.folders[folder] = names
	}
	var files []string
	for _, f := range names[name] {
		if leftoverOf(f, name) {
			files = append(files, f)
		}
	}
	delete(names, name)
	return files
}

// list returns the folder's candidate leftovers by the name they would be
// of: the part of a temporary file's name before its random part, and the
// name of a NAME-N.parquet file, each also without a -N suffix.
func list(folder string) map[string][]string {
	names := make(map[string][]string)
	d, err := os.Open(folder)
	if err != nil {
		return names
	}
	defer d.Close()
	entries, _ := d.Readdirnames(-1)
	for _, e := range entries {
		var n string
		switch {
		case len(e) > len("..tmp") && e[0] == '.' && strings.HasSuffix(e, ".tmp"):
			inner := e[1 : len(e)-len(".tmp")] // NAME.RANDOM
			i := strings.LastIndexByte(inner, '.')
			if i < 0 {
				continue
			}
			n = inner[:i]
		case strings.HasSuffix(e, ".parquet") && strings.Contains(e, "-"):
			n = strings.TrimSuffix(e, ".parquet")
		default:
			continue
		}
		names[n] = append(names[n], e)
		if base, ok := cutNumber(n); ok {
			names[base] = append(names[base], e)
		}
	}
	return names
}

// leftoverOf reports whether the file f is a leftover of name: .NAME.*.tmp,
// .NAME-N.*.tmp or NAME-N.parquet.
func leftoverOf(f, name string) bool {
	if strings.HasSuffix(f, ".tmp") {
		inner := f[1 : len(f)-len(".tmp")]
		n := inner[:strings.LastIndexByte(inner, '.')]
		if n == name {
			return true
		}
		base, ok := cutNumber(n)
		return ok && base == name
	}
	base, ok := cutNumber(strings.TrimSuffix(f, ".parquet"))
	return ok && base == name
}

// cutNumber splits NAME-N into NAME, for a decimal N.
func cutNumber(s string) (string, bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 || i == len(s)-1 {
		return "", false
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s[:i], true
}
