// Package sensorname holds the rule sensor names follow. rotate writes a
// sensor into its file names and sidecars, and pcapload takes it from
// there into rows and Parquet partition folders, so both refuse the same
// names: a name rotate took and pcapload refused was loaded as "default".
package sensorname

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Max is the longest sensor name: "sensor=" and it must fit the 255 bytes
// a file name may have (a 300-byte name failed every file of a Parquet
// export after its decoding).
const Max = 255 - len("sensor=")

// Check says why name cannot be a sensor's. Readers of Hive-style folders
// take a column's value from its folder (ClickHouse does by default), and
// neither ClickHouse nor DuckDB undoes escaping, so a name is written
// unescaped and one that would need escaping is refused: not UTF-8,
// beginning with a dot (rotate's files would be hidden, and loads pass
// over hidden files), or holding a control character or one of / \ = %.
// The empty name is the callers' to refuse: pcapload's library writes it
// as the folder "sensor=", rotate needs one to name its files.
func Check(name string) error {
	bad := strings.HasPrefix(name, ".") || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || strings.ContainsRune(`/\=%`, r) })
	if bad {
		return fmt.Errorf("sensor name %q: it names files and Parquet partition folders, so it must be "+
			"UTF-8 without control characters or / \\ = %%, and not begin with a dot", name)
	}
	if len(name) > Max {
		return fmt.Errorf("sensor name of %d bytes: it names files and Parquet partition folders, "+
			"so it may have %d at most", len(name), Max)
	}
	return nil
}
