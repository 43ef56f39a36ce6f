package rotate

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pcapload/pcapload/internal/sensorname"
)

// Config says where and how a Rotator writes. Dir and Sensor are required;
// every other zero field has the default documented on it.
type Config struct {
	Dir         string      // directory of the files; must exist
	Sensor      string      // first part of every name; may hold '-', not '.' or '/'
	Format      Format      // default pcapng
	Compression Compression // default zstd
	Snaplen     uint32      // snaplen written in the headers (default 65535)
	IfName      string      // pcapng if_name option; empty for none

	MaxBytes   int64         // rotate once a file has this many bytes on disk; 0: no limit
	MaxPackets uint64        // rotate after this many packets; 0: no limit
	Every      time.Duration // rotate at each multiple of Every since the epoch; 0: never

	// FrameBytes and FramePackets end a compressed frame after that many
	// uncompressed bytes (default 1 MiB) or packets (default 0, no limit).
	// Smaller frames lose less in a crash and compress worse; 1 MiB keeps
	// zstd within about 2% of one frame per file on DNS traffic.
	FrameBytes   int
	FramePackets int

	KeepFiles int   // keep at most this many finished files; 0: no limit
	KeepBytes int64 // keep at most this many bytes of finished files; 0: no limit
	MinFree   int64 // delete old files while the file system has less free; 0: no limit

	// OnClose is a command and its arguments, run with the finished file's
	// path appended, after the file and its sidecar are in place.
	OnClose []string

	// Stats returns the cumulative kernel counters of a live capture; nil
	// for a re-segmented file, whose statistics blocks then count the
	// packets read and no drops.
	Stats func() (received, dropped uint64)

	// Now is the wall clock for live capture: with it, time rotation
	// follows the clock (see Rotator.Tick) instead of packet time, and the
	// statistics block carries the time of close.
	Now func() time.Time

	Logger *slog.Logger // nil discards
}

// ErrConfig is wrapped by the errors of an invalid Config.
var ErrConfig = errors.New("invalid config")

// withDefaults checks cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	c := cfg
	if c.Dir == "" {
		return c, fmt.Errorf("no directory: %w", ErrConfig)
	}
	if c.Sensor == "" {
		return c, fmt.Errorf("no sensor name: %w", ErrConfig)
	}
	if err := sensorname.Check(c.Sensor); err != nil {
		return c, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	if n := len(Name(c.Sensor, 0, 0, FormatPcapng, CompressZstd) + ".json.part"); n > 255 {
		// Its files would fail to open, each name past the 255 bytes a
		// file name may have.
		return c, fmt.Errorf("sensor name of %d bytes: file names would have %d, past 255: %w",
			len(c.Sensor), n, ErrConfig)
	}
	if c.MaxBytes < 0 || c.Every < 0 || c.KeepFiles < 0 || c.KeepBytes < 0 || c.MinFree < 0 {
		return c, fmt.Errorf("negative limit: %w", ErrConfig)
	}
	if c.Snaplen == 0 {
		c.Snaplen = 65535
	}
	if c.FrameBytes <= 0 {
		c.FrameBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// layout returns the part of cfg each file needs.
func (cfg Config) layout() layout {
	return layout{
		format:       cfg.Format,
		comp:         cfg.Compression,
		snaplen:      cfg.Snaplen,
		ifName:       cfg.IfName,
		frameBytes:   cfg.FrameBytes,
		framePackets: cfg.FramePackets,
	}
}
