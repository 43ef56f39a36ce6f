package main

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pcapload/pcapload/rotate"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
		check func(t *testing.T, o *options)
	}{
		{"neither source", []string{"-w", "d"}, true, nil},
		{"both sources", []string{"-r", "f", "-i", "eth0", "-w", "d"}, true, nil},
		{"no directory", []string{"-r", "f"}, true, nil},
		{"bad format", []string{"-r", "f", "-w", "d", "--format", "erf"}, true, nil},
		{"bad compression", []string{"-r", "f", "-w", "d", "--compress", "xz"}, true, nil},
		{"bad size", []string{"-r", "f", "-w", "d", "--max-bytes", "12X"}, true, nil},
		{"negative size", []string{"-r", "f", "-w", "d", "--keep-bytes", "-1"}, true, nil},
		{"extra argument", []string{"-r", "f", "-w", "d", "x"}, true, nil},
		{"defaults", []string{"-r", "-", "-w", "d"}, false, func(t *testing.T, o *options) {
			c := o.cfg
			if c.Format != rotate.FormatPcapng || c.Compression != rotate.CompressZstd ||
				c.Snaplen != 65535 || c.FrameBytes != 1<<20 || c.MaxBytes != 0 || c.Every != 0 ||
				o.live.Fanout != 1 {
				t.Fatalf("config %+v", c)
			}
		}},
		{"sizes and hook", []string{
			"-i", "eth0", "-w", "d", "--max-bytes", "100M", "--keep-bytes", "2G",
			"--min-free", "512k", "--ring-size", "32M", "--every", "5m", "--on-close", "gzip -t",
			"--fanout", "4", "--format", "pcap", "--compress", "none", "--frame-bytes", "256k",
		}, false, func(t *testing.T, o *options) {
			c := o.cfg
			if c.MaxBytes != 100<<20 || c.FrameBytes != 256<<10 || c.KeepBytes != 2<<30 || c.MinFree != 512<<10 ||
				o.live.RingBytes != 32<<20 || c.Every != 5*time.Minute ||
				len(c.OnClose) != 2 || c.OnClose[1] != "-t" || o.live.Fanout != 4 ||
				c.Format != rotate.FormatPcap || c.Compression != rotate.CompressNone ||
				c.IfName != "eth0" {
				t.Fatalf("options %+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			var ue *usageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Fatalf("usage error = %v (%v), want %v", got, err, tt.usage)
			}
			if err != nil && !tt.usage {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{usagef("bad"), exitUsage},
		{errors.New("disk full"), exitFailure},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err, io.Discard); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
