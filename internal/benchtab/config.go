package benchtab

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Stage is one way of running the loader.
type Stage string

// The stages, in the order a table lists them.
const (
	Null    Stage = "null"    // load --to null: decode only
	Parquet Stage = "parquet" // load --to parquet:DIR
	DB      Stage = "db"      // load --to db:DIR, the embedded engine
	Server  Stage = "server"  // load --to http://... into pcapload serve
	// DBParquet loads into the embedded engine and a Parquet export at
	// once, as make run does.
	DBParquet Stage = "db+parquet"
)

// AllStages are the stages Run measures when Config.Stages is empty.
var AllStages = []Stage{Null, Parquet, DB, Server, DBParquet}

// ParseStages parses a comma-separated list of stage names.
func ParseStages(s string) ([]Stage, error) {
	var stages []Stage
	for _, name := range strings.Split(s, ",") {
		st := Stage(strings.TrimSpace(name))
		switch st {
		case Null, Parquet, DB, Server, DBParquet:
			stages = append(stages, st)
		default:
			return nil, fmt.Errorf("unknown stage %q: want null, parquet, db, server or db+parquet", name)
		}
	}
	return stages, nil
}

// ParseSizes parses a comma-separated list of capture sizes in packets.
// Underscores may group digits, as in Go: 1_000_000. An empty list is
// none.
func ParseSizes(s string) ([]int, error) {
	var sizes []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if err != nil || n < 100 {
			return nil, fmt.Errorf("size %q: want a number of packets, 100 or more", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// Config says what to measure.
type Config struct {
	Bin     string   // the pcapload binary, built
	Tshark  string   // the tshark binary; empty to run without the yardstick
	Dir     string   // scratch directory for captures and outputs; must exist
	Command string   // the command line, printed in the table's header
	Sizes   []int    // capture sizes, in packets
	Stages  []Stage  // AllStages when empty
	Runs    int      // runs of each stage on each input but the folder, for medians (default 3)
	Env     []string // extra environment of the children, e.g. PCAPLOAD_CHDB_LIB=...

	// TsharkMax is the largest capture, in packets, that tshark runs on:
	// it exports about 40,000 messages/s and needs over 1 GB of memory at
	// 2,000,000 packets. Default 1,000,000.
	TsharkMax int

	// ZstdSize is the size, one of Sizes, of which a zstd-compressed copy
	// is measured too; 0 for the largest size of at most 1,000,000
	// packets, negative for none. The copy goes through the null and
	// parquet stages only, of those in Stages: what the input costs does
	// not depend on the destination, and decoding alone shows it
	// undiluted.
	ZstdSize int

	// ManyFiles small captures of ManyPackets packets each make the
	// folder that shows the peak memory over many files; ManyFiles < 0
	// for none. Defaults 1000 and 1000. ManyRuns is its number of runs,
	// default 1: peak memory varies little from run to run, and a run
	// into ClickHouse takes minutes (a round trip to the ledger per file).
	ManyFiles   int
	ManyPackets int
	ManyRuns    int

	// Log receives a line as each step starts and ends; nil for none.
	Log io.Writer
}

// withDefaults returns cfg with its zero fields set and checks it.
func (cfg Config) withDefaults() (Config, error) {
	c := cfg
	if c.Bin == "" || c.Dir == "" {
		return c, errors.New("config: Bin and Dir are required")
	}
	if len(c.Sizes) == 0 && c.ManyFiles < 0 {
		return c, errors.New("config: nothing to measure")
	}
	if len(c.Stages) == 0 {
		c.Stages = AllStages
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.TsharkMax == 0 {
		c.TsharkMax = 1_000_000
	}
	if c.ManyFiles == 0 {
		c.ManyFiles = 1000
	}
	if c.ManyPackets <= 0 {
		c.ManyPackets = 1000
	}
	if c.ManyRuns <= 0 {
		c.ManyRuns = 1
	}
	if c.ZstdSize == 0 {
		c.ZstdSize = -1
		for _, n := range c.Sizes {
			if n <= 1_000_000 && n > c.ZstdSize {
				c.ZstdSize = n
			}
		}
	}
	if c.ZstdSize > 0 && !slices.Contains(c.Sizes, c.ZstdSize) {
		return c, fmt.Errorf("config: zstd size %d is not one of the sizes", c.ZstdSize)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c, nil
}
