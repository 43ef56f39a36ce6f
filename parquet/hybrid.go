package parquet

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// appendHybrid appends vs in Parquet's RLE / bit-packing hybrid encoding
// with values of width bits: runs of eight or more equal values as RLE
// runs, the rest bit-packed in groups of eight. Levels and dictionary
// indices are written this way. A last bit-packed group is padded with
// zeros; readers stop at the page's value count.
func appendHybrid(dst []byte, vs []uint32, width int) []byte {
	n := len(vs)
	for i := 0; i < n; {
		if r := runLen(vs[i:]); r >= 8 {
			dst = binary.AppendUvarint(dst, uint64(r)<<1)
			dst = appendLE(dst, vs[i], (width+7)/8)
			i += r
			continue
		}
		// Bit-pack groups of eight until a run of eight begins a group.
		start := i
		for i < n && (i == start || runLen8(vs[i:]) < 8) {
			i += 8
		}
		end := min(i, n)
		groups := (end - start + 7) / 8
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		dst = appendPacked(dst, vs[start:end], groups*8, width)
		i = end
	}
	return dst
}

// runLen returns how many values at the start of vs equal the first.
func runLen(vs []uint32) int {
	r := 1
	for r < len(vs) && vs[r] == vs[0] {
		r++
	}
	return r
}

// runLen8 returns 8 when the first eight values of vs are equal, less
// otherwise: enough for appendHybrid to decide where a run begins.
func runLen8(vs []uint32) int {
	if len(vs) < 8 {
		return 0
	}
	return runLen(vs[:8])
}

func appendLE(dst []byte, v uint32, n int) []byte {
	for range n {
		dst = append(dst, byte(v))
		v >>= 8
	}
	return dst
}

// appendPacked bit-packs vs, padded with zeros to count values (a
// multiple of eight), least significant bit first, width bits each.
func appendPacked(dst []byte, vs []uint32, count, width int) []byte {
	var acc uint64
	var have int
	for i := range count {
		var v uint32
		if i < len(vs) {
			v = vs[i]
		}
		acc |= uint64(v) << have
		have += width
		if have >= 32 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
			acc >>= 32
			have -= 32
		}
	}
	for ; have > 0; have -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// bitWidth returns the bits needed for values up to maxValue.
func bitWidth(maxValue uint32) int { return bits.Len32(maxValue) }

// Delta encoding's layout: blocks of 128 deltas in 4 miniblocks of 32.
const (
	deltaBlock      = 128
	deltaMiniblocks = 4
	deltaMini       = deltaBlock / deltaMiniblocks
)

// appendDelta appends vs in the DELTA_BINARY_PACKED encoding: the first
// value, then per block of deltas their minimum and, per miniblock, the
// deltas less that minimum bit-packed at the miniblock's width. Times and
// frame numbers that grow slowly take a few bits a value instead of eight
// bytes, and zstd gets that much less to do. Deltas wrap as the encoding
// says they do.
func appendDelta(dst []byte, vs []int64) []byte {
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniblocks)
	dst = binary.AppendUvarint(dst, uint64(len(vs)))
	if len(vs) == 0 {
		return binary.AppendVarint(dst, 0)
	}
	dst = binary.AppendVarint(dst, vs[0])
	var deltas [deltaBlock]uint64
	for start := 1; start < len(vs); start += deltaBlock {
		n := min(deltaBlock, len(vs)-start)
		minDelta := int64(math.MaxInt64)
		for i := range n {
			d := vs[start+i] - vs[start+i-1]
			deltas[i] = uint64(d)
			minDelta = min(minDelta, d)
		}
		dst = binary.AppendVarint(dst, minDelta)
		var widths [deltaMiniblocks]int
		for m := range deltaMiniblocks {
			var or uint64
			for i := m * deltaMini; i < min((m+1)*deltaMini, n); i++ {
				deltas[i] -= uint64(minDelta)
				or |= deltas[i]
			}
			widths[m] = bits.Len64(or)
			dst = append(dst, byte(widths[m]))
		}
		for m := range (n + deltaMini - 1) / deltaMini {
			from, to := m*deltaMini, min((m+1)*deltaMini, n)
			dst = appendPacked64(dst, deltas[from:to], widths[m])
		}
	}
	return dst
}

// appendPacked64 bit-packs a miniblock of vs, padded with zeros to 32
// values, width bits each, least significant bit first.
func appendPacked64(dst []byte, vs []uint64, width int) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	var have int
	for i := range deltaMini {
		var v uint64
		if i < len(vs) {
			v = vs[i]
		}
		acc |= v << have
		if have+width >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			acc = v >> (64 - have) // 0 when have is 0: Go shifts by 64 give 0
			have += width - 64
		} else {
			have += width
		}
	}
	for ; have > 0; have -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}
