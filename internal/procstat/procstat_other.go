//go:build !linux

package procstat

import (
	"errors"
	"time"
)

var errNotLinux = errors.New("process figures need Linux's /proc")

// CPU is not known outside Linux.
func CPU(int) (time.Duration, error) { return 0, errNotLinux }

// PeakRSS is not known outside Linux.
func PeakRSS(int) (int64, error) { return 0, errNotLinux }
