//go:build !linux

package benchtab

import (
	"errors"
	"os"
	"syscall"
)

var errNotLinux = errors.New("the server's figures need Linux's /proc")

func childAttr() *syscall.SysProcAttr  { return nil }
func peakRSS(*os.ProcessState) float64 { return 0 }
func resetPeakRSS(int) error           { return errNotLinux }
func cpuModel() string                 { return "" }
