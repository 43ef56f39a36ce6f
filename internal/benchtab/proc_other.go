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
func procCPU(int) (float64, error)     { return 0, errNotLinux }
func procPeakRSS(int) (float64, error) { return 0, errNotLinux }
func resetPeakRSS(int) error           { return errNotLinux }
func cpuModel() string                 { return "" }
