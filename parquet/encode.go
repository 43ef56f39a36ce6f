package parquet

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/zstd"
)

// storedPages is how many pages of a column are stored uncompressed after
// one that zstd barely shrank.
const storedPages = 16

// minCompress is the smallest page body zstd is tried on: below it the
// frame's own bytes eat what it could save, and a call costs as much as on
// kilobytes (a Huffman table built, a block started). Small captures make
// small row groups, and their flag and count columns pages of tens of
// bytes.
const minCompress = 64

// pageBytes is about how much plain data a page holds before it is cut.
var pageBytes = 1 << 20

// dictBytes is how large a chunk's dictionary of strings or addresses may
// grow, in plain bytes, before the chunk's next pages are written plain:
// values that do not repeat gain nothing from a dictionary, and one of a
// whole chunk was held twice (its table and its page) while the chunk was
// written. A zone transfer's 4,000 distinct addresses a message made
// dictionaries of 12 MB a batch, and a Parquet export of two such files
// peaked past 256 MiB. 1 MiB is Arrow's and parquet-mr's bound too; the
// dictionaries of a resolver's batch of 65,536 messages hold 0.1 to 0.4 MiB.
var dictBytes = 1 << 20

// encoder holds the scratch space of encoding one column chunk at a time.
// Encoders are pooled: their dictionaries' tables and page buffers are
// reused from batch to batch and from file to file.
type encoder struct {
	zw *zstd.Encoder

	// Dictionaries of the chunk being encoded.
	slot  [1 << 16]int32 // 1 + index of each uint16 value in small; 0 absent
	small []uint32
	addrs strDict // of 16-byte addresses
	strs  strDict

	plainRest bool // the chunk's dictionary is full: its next pages are plain

	idx      []uint32
	keyMap   []int64 // a keyed page's Arrow indices to dictionary entries; -1 unseen
	rep, def []byte  // list levels, one bit each
	levelCache
	plain, comp []byte
	pages       []byte // the chunk's data pages not yet handed on
	hdr         compact
	stats       minMax
}

var encoders = sync.Pool{New: func() any {
	// A page holds about pageBytes: a larger window than 2 MiB would only
	// take memory, 8 MiB an encoder at the default.
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(2<<20), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		panic(err) // constant options
	}
	return &encoder{zw: zw, addrs: newStrDict(), strs: newStrDict()}
}}

// chunkMeta is what the footer says of one column chunk.
type chunkMeta struct {
	values             int64
	uncompressed, size int64
	dictOffset         int64 // -1 without a dictionary
	dictEntries        int
	dataOffset         int64
	stats              minMax
}

// encodeChunk encodes ch as pages and hands them to put, which writes
// them at offset on: the dictionary page first, if any, then the data
// pages. The pages of a column without a dictionary, and of one whose
// dictionary filled, are handed on one by one as they are made, so that
// the encoder holds a page rather than a chunk: a batch's column of 64 KiB
// malformed messages, or of 600-byte queries' records, is tens of
// megabytes, held once more by every encoder. A dictionary's pages are
// held until its page is made, at the chunk's end or when it fills; they
// are its indices, a few bytes a value.
func (e *encoder) encodeChunk(c *column, ch *chunk, offset int64, put func([]byte) error) (m chunkMeta, err error) {
	m.dictOffset, m.dataOffset = -1, offset
	e.resetDict(c)
	e.sameLists(ch.lists)
	e.stats.set = false
	e.pages = e.pages[:0]
	e.plainRest = false
	for r0 := 0; r0 < ch.rows; {
		r1 := c.pageEnd(ch, r0)
		m.values += e.dataPage(c, ch, r0, r1, &m)
		r0 = r1
		if c.dict && !e.plainRest && c.kind != kindSmall && e.dictSize(c) > dictBytes {
			// Readers take a chunk's pages in any mix of dictionary
			// and plain encodings, as Arrow and parquet-mr write them
			// when their dictionaries fill. The plain pages are tried
			// with zstd afresh: distinct values' indices do not
			// compress, their text does.
			if err := e.putDict(c, offset, &m, put); err != nil {
				return m, err
			}
			e.plainRest, c.stored = true, 0
		}
		if !c.dict || e.plainRest {
			if err := put(e.pages); err != nil {
				return m, err
			}
			e.pages = e.pages[:0]
		}
	}
	if c.dict && !e.plainRest {
		if err := e.putDict(c, offset, &m, put); err != nil {
			return m, err
		}
	}
	if c.stats {
		m.stats = minMax{set: e.stats.set, min: append([]byte(nil), e.stats.min...),
			max: append([]byte(nil), e.stats.max...)}
	}
	return m, nil
}

// putDict hands put the chunk's dictionary page, written at offset, then
// the data pages held.
func (e *encoder) putDict(c *column, offset int64, m *chunkMeta, put func([]byte) error) error {
	e.plain = e.dictValues(c)
	e.comp = e.zw.EncodeAll(e.plain, e.comp[:0])
	e.hdr.buf = e.hdr.buf[:0]
	e.hdr.begin()
	e.hdr.i32(1, pageDict)
	e.hdr.i32(2, int32(len(e.plain)))
	e.hdr.i32(3, int32(len(e.comp)))
	e.hdr.structField(7)
	e.hdr.i32(1, int32(e.dictLen(c)))
	e.hdr.i32(2, encPlain)
	e.hdr.end()
	e.hdr.end()
	size := len(e.hdr.buf) + len(e.comp)
	m.uncompressed += int64(len(e.hdr.buf) + len(e.plain))
	m.size += int64(size)
	m.dictOffset, m.dataOffset = offset, offset+int64(size)
	m.dictEntries = e.dictLen(c)
	if err := put(e.hdr.buf); err != nil {
		return err
	}
	if err := put(e.comp); err != nil {
		return err
	}
	err := put(e.pages)
	e.pages = e.pages[:0]
	return err
}

// dataPage appends the version 2 data page of rows [r0, r1) to e.pages and
// returns the number of values it holds, levels of empty lists included.
func (e *encoder) dataPage(c *column, ch *chunk, r0, r1 int, m *chunkMeta) int64 {
	n, nulls := r1-r0, 0
	levels := e.plain[:0]
	repLen, defLen := 0, 0
	if ch.lists != nil {
		var p *pageLevels
		if p = e.cached(r0, r1); p == nil {
			rep, def, k, empty := ch.levels(r0, r1, e.rep[:0], e.def[:0])
			e.rep, e.def = rep, def
			p = e.keep(r0, r1, k, empty)
			p.enc = appendBits(p.enc, rep, k)
			p.repLen = len(p.enc)
			p.enc = appendBits(p.enc, def, k)
		}
		n, nulls = p.n, p.nulls
		repLen, defLen = p.repLen, len(p.enc)-p.repLen
		// levels lives in e.plain; the values go after it.
		levels = append(levels, p.enc...)
	}
	v0, v1 := ch.values(r0, r1)
	enc := c.encoding()
	var vals []byte
	if c.dict && e.plainRest {
		enc = encPlain
		vals = e.plainValues(c, &ch.leaf, v0, v1, levels)
	} else if c.dict {
		vals = e.dictIndices(c, &ch.leaf, v0, v1, levels)
	} else {
		vals = e.plainValues(c, &ch.leaf, v0, v1, levels)
	}
	e.plain = vals
	body := vals[repLen+defLen:]
	compressed := c.stored == 0 && len(body) >= minCompress
	if compressed {
		e.comp = e.zw.EncodeAll(body, e.comp[:0])
		if len(e.comp) > len(body)*9/10 {
			// Random IDs and ports, addresses, bit-packed types: zstd
			// gains little and costs as much as on any data. Store the
			// next pages as they are (version 2 pages say so each), then
			// try again.
			c.stored = storedPages
		}
	} else {
		if c.stored > 0 {
			c.stored--
		}
		e.comp = append(e.comp[:0], body...)
	}

	e.hdr.buf = e.hdr.buf[:0]
	e.hdr.begin()
	e.hdr.i32(1, pageData2)
	e.hdr.i32(2, int32(len(vals)))
	e.hdr.i32(3, int32(repLen+defLen+len(e.comp)))
	e.hdr.structField(8)
	e.hdr.i32(1, int32(n))
	e.hdr.i32(2, int32(nulls))
	e.hdr.i32(3, int32(r1-r0))
	e.hdr.i32(4, enc)
	e.hdr.i32(5, int32(defLen))
	e.hdr.i32(6, int32(repLen))
	if !compressed {
		e.hdr.bool(7, false)
	}
	e.hdr.end()
	e.hdr.end()
	e.pages = append(e.pages, e.hdr.buf...)
	e.pages = append(e.pages, vals[:repLen+defLen]...)
	e.pages = append(e.pages, e.comp...)
	m.uncompressed += int64(len(e.hdr.buf) + len(vals))
	m.size += int64(len(e.hdr.buf) + repLen + defLen + len(e.comp))
	return int64(n)
}

// plainValues appends leaf values [v0, v1) in plain encoding to dst.
func (e *encoder) plainValues(c *column, v *leafView, v0, v1 int, dst []byte) []byte {
	switch c.kind {
	case kindBool:
		var acc byte
		for i := v0; i < v1; i++ {
			j := v.off + i
			bit := v.bits[j>>3] >> (j & 7) & 1
			acc |= bit << ((i - v0) & 7)
			if (i-v0)&7 == 7 {
				dst, acc = append(dst, acc), 0
			}
		}
		if (v1-v0)&7 != 0 {
			dst = append(dst, acc)
		}
	case kindU32:
		dst = append(dst, v.fixed[(v.off+v0)*4:(v.off+v1)*4]...)
	case kindSmall: // widened to INT32, once the dictionary was dropped
		for _, x := range e.widen(c, v, v0, v1) {
			dst = binary.LittleEndian.AppendUint32(dst, x)
		}
	case kindI64:
		raw := v.fixed[(v.off+v0)*8 : (v.off+v1)*8]
		vs := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(raw))), v1-v0)
		if c.delta {
			dst = appendDelta(dst, vs)
		} else {
			dst = append(dst, raw...)
		}
		if c.stats {
			e.stats.int64s(vs)
		}
	case kindAddr:
		raw := v.fixed[(v.off+v0)*16 : (v.off+v1)*16]
		dst = append(dst, raw...)
		if c.stats {
			for i := 0; i < len(raw); i += 16 {
				e.stats.bytes(raw[i : i+16])
			}
		}
	case kindBytes:
		o := v.offs[v.off:]
		for i := v0; i < v1; i++ {
			var s []byte
			if v.keys != nil {
				s = v.key(i)
			} else {
				s = v.data[o[i]:o[i+1]]
			}
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
			dst = append(dst, s...)
			if c.stats {
				e.stats.bytes(s)
			}
		}
	}
	return dst
}

func (e *encoder) resetDict(c *column) {
	if !c.dict {
		return
	}
	for _, v := range e.small {
		e.slot[v] = 0
	}
	e.small = e.small[:0]
	e.addrs.reset()
	e.strs.reset()
}

// dictIndices looks up leaf values [v0, v1) in the chunk's dictionary,
// adding the new ones, and appends their indices as a dictionary-encoded
// page body (bit width, then the hybrid encoding) to dst.
func (e *encoder) dictIndices(c *column, v *leafView, v0, v1 int, dst []byte) []byte {
	switch c.kind {
	case kindSmall:
		idx := e.widen(c, v, v0, v1)
		for i, x := range idx {
			idx[i] = e.smallIndex(x)
		}
	case kindAddr:
		e.idx = e.idx[:0]
		for i := v0; i < v1; i++ {
			e.idx = append(e.idx, e.addrs.index(v.fixed[(v.off+i)*16:(v.off+i+1)*16]))
		}
	case kindBytes:
		if v.keys != nil {
			return e.keyIndices(c, v, v0, v1, dst)
		}
		if s, ok := oneValue(v, v0, v1); ok {
			// The hybrid encoding's run, as appendHybrid writes it.
			k := e.strs.index(s)
			width := max(bitWidth(uint32(max(e.dictLen(c)-1, 0))), 1)
			dst = append(dst, byte(width))
			dst = binary.AppendUvarint(dst, uint64(v1-v0)<<1)
			return appendLE(dst, k, (width+7)/8)
		}
		e.idx = e.idx[:0]
		o := v.offs[v.off:]
		var prev []byte
		var prevK uint32
		for i := v0; i < v1; i++ {
			s := v.data[o[i]:o[i+1]]
			if prev != nil && string(s) == string(prev) {
				e.idx = append(e.idx, prevK)
				continue
			}
			prev, prevK = s, e.strs.index(s)
			e.idx = append(e.idx, prevK)
		}
	}
	width := max(bitWidth(uint32(max(e.dictLen(c)-1, 0))), 1)
	dst = append(dst, byte(width))
	return appendHybrid(dst, e.idx, width)
}

// keyIndices is dictIndices of a keyed view: each Arrow index is looked
// up once a page, and the rows take what it became. The pages come out as
// those of the same values as plain strings would: the same dictionary, in
// the same order, and one run for a page of one value.
func (e *encoder) keyIndices(c *column, v *leafView, v0, v1 int, dst []byte) []byte {
	keys := v.keys[v0:v1]
	if len(keys) >= 8 && !slices.ContainsFunc(keys, func(k int32) bool { return k != keys[0] }) {
		k := e.strs.index(v.key(v0))
		width := max(bitWidth(uint32(max(e.dictLen(c)-1, 0))), 1)
		dst = append(dst, byte(width))
		dst = binary.AppendUvarint(dst, uint64(v1-v0)<<1)
		return appendLE(dst, k, (width+7)/8)
	}
	entries := len(v.offs) - 1
	e.keyMap = slices.Grow(e.keyMap[:0], entries)[:entries]
	for i := range e.keyMap {
		e.keyMap[i] = -1
	}
	e.idx = e.idx[:0]
	for i, k := range keys {
		if e.keyMap[k] < 0 {
			e.keyMap[k] = int64(e.strs.index(v.key(v0 + i)))
		}
		e.idx = append(e.idx, uint32(e.keyMap[k]))
	}
	width := max(bitWidth(uint32(max(e.dictLen(c)-1, 0))), 1)
	dst = append(dst, byte(width))
	return appendHybrid(dst, e.idx, width)
}

// oneValue returns the value when values [v0, v1) of a byte-string leaf,
// eight or more, are one value repeated, as a file's sensor, path and hash
// are in its batches. Their lengths are all the same, and their bytes equal
// to themselves shifted by one value: one comparison of the whole page
// instead of one a row.
func oneValue(v *leafView, v0, v1 int) ([]byte, bool) {
	if v1-v0 < 8 {
		return nil, false
	}
	o := v.offs[v.off:]
	l := o[v0+1] - o[v0]
	for i := v0 + 1; i < v1; i++ {
		if o[i+1]-o[i] != l {
			return nil, false
		}
	}
	d := v.data[o[v0]:o[v1]]
	if !bytes.Equal(d[l:], d[:len(d)-int(l)]) {
		return nil, false
	}
	return d[:l], true
}

// widen returns a UInt8 or UInt16 leaf's values [v0, v1) as uint32s, in
// e.idx.
func (e *encoder) widen(c *column, v *leafView, v0, v1 int) []uint32 {
	idx := slices.Grow(e.idx[:0], v1-v0)[:v1-v0]
	e.idx = idx
	if c.leaf.ID() == arrow.UINT16 {
		vs := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(v.fixed))), len(v.fixed)/2)[v.off:]
		for i, x := range vs[v0:v1] {
			idx[i] = uint32(x)
		}
		return idx
	}
	for i, x := range v.fixed[v.off+v0 : v.off+v1] {
		idx[i] = uint32(x)
	}
	return idx
}

func (e *encoder) smallIndex(x uint32) uint32 {
	k := e.slot[x]
	if k == 0 {
		e.small = append(e.small, x)
		k = int32(len(e.small))
		e.slot[x] = k
	}
	return uint32(k - 1)
}

// dictSize returns the plain bytes of a string or address dictionary.
func (e *encoder) dictSize(c *column) int {
	if c.kind == kindAddr {
		return 16 * e.addrs.len()
	}
	return len(e.strs.arena) + 4*e.strs.len()
}

func (e *encoder) dictLen(c *column) int {
	switch c.kind {
	case kindSmall:
		return len(e.small)
	case kindAddr:
		return e.addrs.len()
	}
	return e.strs.len()
}

// dictValues returns the dictionary page's values in plain encoding, and
// takes the chunk's statistics from them.
func (e *encoder) dictValues(c *column) []byte {
	dst := e.plain[:0]
	switch c.kind {
	case kindSmall:
		for _, x := range e.small {
			dst = binary.LittleEndian.AppendUint32(dst, x)
		}
	case kindAddr:
		dst = append(dst, e.addrs.arena...)
		if c.stats {
			for i := range e.addrs.len() {
				e.stats.bytes(e.addrs.entry(i))
			}
		}
	case kindBytes:
		for i := range e.strs.len() {
			s := e.strs.entry(i)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
			dst = append(dst, s...)
			if c.stats {
				e.stats.bytes(s)
			}
		}
	}
	return dst
}

// levelCache keeps the encoded levels of the last list column's pages. The
// columns of one section (answer names, types, classes, TTLs and data) are
// lists of the same lengths, written one after the other: their levels are
// the same, and encoding them once a section instead of once a column
// spared most of what levels cost.
type levelCache struct {
	lists []int32 // the offsets the pages below are of
	pages []pageLevels
	used  int
}

// pageLevels is a page's repetition and definition levels, encoded.
type pageLevels struct {
	r0, r1   int
	n, nulls int // levels, and empty lists
	repLen   int // bytes of enc that are the repetition levels
	enc      []byte
}

// sameLists empties the cache unless lists (a chunk's offsets, nil when
// not a list) holds the offsets it was filled for.
func (c *levelCache) sameLists(lists []int32) {
	if lists == nil {
		return
	}
	if len(lists) == len(c.lists) && len(lists) > 0 && lists[0] == c.lists[0] &&
		bytes.Equal(asBytes(lists), asBytes(c.lists)) {
		c.lists = lists
		return
	}
	c.lists, c.used = lists, 0
}

// forget empties the cache; a Write starts with it, as the last batch's
// offsets may be a slice the builder is filling again.
func (c *levelCache) forget() { c.lists, c.used = nil, 0 }

func asBytes(v []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

// cached returns the levels of rows [r0, r1), nil when not cached.
func (c *levelCache) cached(r0, r1 int) *pageLevels {
	for i := range c.pages[:c.used] {
		if p := &c.pages[i]; p.r0 == r0 && p.r1 == r1 {
			return p
		}
	}
	return nil
}

// keep returns an entry for rows [r0, r1), its enc empty for the caller
// to fill.
func (c *levelCache) keep(r0, r1, n, nulls int) *pageLevels {
	if c.used == len(c.pages) {
		c.pages = append(c.pages, pageLevels{})
	}
	p := &c.pages[c.used]
	c.used++
	p.r0, p.r1, p.n, p.nulls, p.repLen, p.enc = r0, r1, n, nulls, 0, p.enc[:0]
	return p
}
