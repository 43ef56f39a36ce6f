package parquet

import "hash/maphash"

// strDict is a column chunk's dictionary of byte strings: the strings back
// to back in an arena, found again through an open-addressing table of
// entry numbers. It is written by hand rather than with a Go map because
// the dictionaries were the writer's largest cost after zstd (a map lookup
// per name, answer and address text, 13% of an export's CPU): the table
// keeps each entry's hash, so a probe compares bytes only on a likely hit
// and growing rehashes nothing, and a chunk's reset clears only the slots
// its entries took.
type strDict struct {
	seed  maphash.Seed
	slots []int32  // 1 + entry number; 0 empty; a power of two long
	hash  []uint64 // each entry's hash
	pos   []int32  // each entry's slot
	arena []byte   // the entries, back to back
	offs  []int32  // where each entry starts in arena, and where the last ends
}

func newStrDict() strDict {
	return strDict{seed: maphash.MakeSeed(), slots: make([]int32, 1<<10), offs: []int32{0}}
}

// len returns the number of entries.
func (d *strDict) len() int { return len(d.offs) - 1 }

// entry returns entry k.
func (d *strDict) entry(k int) []byte { return d.arena[d.offs[k]:d.offs[k+1]] }

// reset empties the dictionary, keeping its room.
func (d *strDict) reset() {
	for _, p := range d.pos {
		d.slots[p] = 0
	}
	d.hash, d.pos, d.arena, d.offs = d.hash[:0], d.pos[:0], d.arena[:0], d.offs[:1]
}

// index returns the entry number of s, adding it when new.
func (d *strDict) index(s []byte) uint32 {
	h := maphash.Bytes(d.seed, s)
	mask := len(d.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := d.slots[i]
		if e == 0 {
			return d.add(s, h, i)
		}
		if k := e - 1; d.hash[k] == h && string(d.entry(int(k))) == string(s) {
			return uint32(k)
		}
	}
}

// add makes s, of hash h, the next entry, in the empty slot i.
func (d *strDict) add(s []byte, h uint64, i int) uint32 {
	k := int32(d.len())
	d.arena = append(d.arena, s...)
	d.offs = append(d.offs, int32(len(d.arena)))
	d.hash = append(d.hash, h)
	d.pos = append(d.pos, int32(i))
	d.slots[i] = k + 1
	if 2*len(d.pos) > len(d.slots) {
		d.grow()
	}
	return uint32(k)
}

// grow doubles the table, placing the entries by their kept hashes.
func (d *strDict) grow() {
	d.slots = make([]int32, 2*len(d.slots))
	mask := len(d.slots) - 1
	for k, h := range d.hash {
		i := int(h) & mask
		for d.slots[i] != 0 {
			i = (i + 1) & mask
		}
		d.slots[i], d.pos[k] = int32(k+1), int32(i)
	}
}
