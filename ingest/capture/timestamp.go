package capture

import (
	"fmt"
	"math"
	"math/bits"
)

// tsConv converts the 64-bit timestamps of one pcapng interface to
// nanoseconds since the epoch, exactly: if_tsresol (RFC draft
// draft-ietf-opsawg-pcapng, section 4.2) is 10^-n when its top bit is clear
// and 2^-n when set, and if_tsoffset adds whole seconds.
//
// Sub-nanosecond resolutions are truncated toward zero. Results beyond the
// range of int64 nanoseconds (the year 2262) saturate rather than wrap.
type tsConv struct {
	mul    uint64 // power of 10: nanoseconds per unit, when the unit is >= 1 ns
	div    uint64 // power of 10: units per nanosecond, when the unit is < 1 ns
	shift  uint   // power of 2: fraction bits
	pow2   bool
	offset int64 // if_tsoffset in nanoseconds
}

// Resolution limits: 10^-19 is the finest power of ten a uint64 divisor
// holds, 2^-63 the finest power of two a uint64 timestamp can carry.
const (
	tsResolPow2Flag = 0x80
	maxTSResolPow10 = 19
	maxTSResolPow2  = 63
	defaultTSResol  = 6 // microseconds, when if_tsresol is absent
)

// newTSConv builds the conversion for an if_tsresol byte and an if_tsoffset
// in seconds.
func newTSConv(resol uint8, offsetSec int64) (tsConv, error) {
	c := tsConv{mul: 1, div: 1, offset: saturatingMul(offsetSec, nanosPerSecond)}
	n := uint(resol &^ tsResolPow2Flag)
	switch {
	case resol&tsResolPow2Flag != 0 && n <= maxTSResolPow2:
		c.pow2, c.shift = true, n
	case resol&tsResolPow2Flag != 0, n > maxTSResolPow10:
		return c, fmt.Errorf("if_tsresol %#x out of range", resol)
	case n <= 9:
		c.mul = pow10(9 - n)
	default:
		c.div = pow10(n - 9)
	}
	return c, nil
}

// ns converts a timestamp in interface units to nanoseconds since the epoch.
func (c *tsConv) ns(ts uint64) int64 {
	var hi, lo uint64
	switch {
	case c.pow2:
		// Whole seconds and fraction apart, so that the fraction's product
		// with 1e9 fits 128 bits before the shift.
		sec, frac := ts>>c.shift, ts&(1<<c.shift-1)
		fh, fl := bits.Mul64(frac, nanosPerSecond)
		hi, lo = bits.Mul64(sec, nanosPerSecond)
		lo, hi = addCarry(lo, hi, fh<<(64-c.shift)|fl>>c.shift)
	case c.div > 1:
		lo = ts / c.div
	default:
		hi, lo = bits.Mul64(ts, c.mul)
	}
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return saturatingAdd(int64(lo), c.offset)
}

func addCarry(lo, hi, x uint64) (uint64, uint64) {
	lo, carry := bits.Add64(lo, x, 0)
	return lo, hi + carry
}

func pow10(n uint) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

func saturatingMul(a, b int64) int64 {
	if a != 0 && (a*b)/a != b || a == math.MinInt64 && b == -1 {
		if (a < 0) != (b < 0) {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return a * b
}

func saturatingAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}
