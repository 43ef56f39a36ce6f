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

// appendBits appends n one-bit values, a bitmap least significant bit
// first with zeros past n, in the RLE / bit-packing hybrid: whole bytes
// of all zeros or all ones, two or more in a row, as RLE runs, the rest as
// bit-packed groups, which a bitmap's bytes already are. This is
// appendHybrid for levels, a byte at a time instead of a value.
func appendBits(dst, bm []byte, n int) []byte {
	full, nb := n/8, (n+7)/8
	run := func(i int) int { // bytes in the run starting at whole byte i
		j := i + 1
		for j < full && bm[j] == bm[i] {
			j++
		}
		return j - i
	}
	for i := 0; i < nb; {
		if i < full && (bm[i] == 0 || bm[i] == 0xff) {
			if r := run(i); r >= 2 {
				dst = binary.AppendUvarint(dst, uint64(r*8)<<1)
				dst = append(dst, bm[i]&1)
				i += r
				continue
			}
		}
		start := i
		for i++; i < nb; i++ {
			if i < full && (bm[i] == 0 || bm[i] == 0xff) && run(i) >= 2 {
				break
			}
		}
		dst = binary.AppendUvarint(dst, uint64(i-start)<<1|1)
		dst = append(dst, bm[start:i]...)
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
	var tail [8]uint32
	whole := len(vs) &^ 7
	if whole < count {
		copy(tail[:], vs[whole:])
	}
	group := func(g int) []uint32 {
		if g+8 <= whole {
			return vs[g : g+8]
		}
		return tail[:]
	}
	switch {
	case width <= 8:
		// Eight values fit in a word; its low width bytes are the group.
		for g := 0; g < count; g += 8 {
			v := group(g)
			acc := uint64(v[0]) | uint64(v[1])<<width | uint64(v[2])<<(2*width) | uint64(v[3])<<(3*width) |
				uint64(v[4])<<(4*width) | uint64(v[5])<<(5*width) | uint64(v[6])<<(6*width) | uint64(v[7])<<(7*width)
			dst = binary.LittleEndian.AppendUint64(dst, acc)[:len(dst)+width]
		}
	case width == 16:
		for g := 0; g < count; g += 8 {
			for _, x := range group(g) {
				dst = binary.LittleEndian.AppendUint16(dst, uint16(x))
			}
		}
	default:
		var acc uint64
		var have int
		for g := 0; g < count; g += 8 {
			for _, x := range group(g) {
				acc |= uint64(x) << have
				have += width
				if have >= 32 {
					dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
					acc >>= 32
					have -= 32
				}
			}
		}
		for ; have > 0; have -= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
		}
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
