package parquet

import (
	"encoding/binary"
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

// appendPacked bit-packs vs, padded with zeros to count values, least
// significant bit first, width bits each.
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
		for have >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			have -= 8
		}
	}
	if have > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// bitWidth returns the bits needed for values up to maxValue.
func bitWidth(maxValue uint32) int { return bits.Len32(maxValue) }
