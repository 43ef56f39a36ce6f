package ingest

// pairIndex finds a held query's slab slot by its key. The keys are
// 64-bit hashes already, so the table indexes by their low bits, with
// linear probing and deletion by shifting back (no tombstones, so a table
// that held many queries once stays quick). It is written by hand rather
// than with a Go map because every query is put, found and deleted once:
// those map operations were 3% of a Parquet export's CPU.
type pairIndex struct {
	keys  []uint64
	slots []int32 // slab slot + 1; 0 empty
	n     int
}

const pairIndexMin = 1 << 10

// len returns the number of keys held.
func (t *pairIndex) len() int { return t.n }

// find returns where k is, or the empty slot where it would go.
func (t *pairIndex) find(k uint64) int {
	mask := len(t.slots) - 1
	i := int(k) & mask
	for t.slots[i] != 0 && t.keys[i] != k {
		i = (i + 1) & mask
	}
	return i
}

// get returns the slot held under k.
func (t *pairIndex) get(k uint64) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	i := t.find(k)
	if t.slots[i] == 0 {
		return 0, false
	}
	return t.slots[i] - 1, true
}

// put holds slot under k, which the table does not hold.
func (t *pairIndex) put(k uint64, slot int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	i := t.find(k)
	t.keys[i], t.slots[i] = k, slot+1
	t.n++
}

// del drops k, if held, moving back the keys after it that probed past it.
func (t *pairIndex) del(k uint64) {
	if t.n == 0 {
		return
	}
	i := t.find(k)
	if t.slots[i] == 0 {
		return
	}
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		// The key at j stays when its home lies cyclically in (i, j].
		h := int(t.keys[j]) & mask
		if (i < j && i < h && h <= j) || (i > j && (i < h || h <= j)) {
			continue
		}
		t.keys[i], t.slots[i] = t.keys[j], t.slots[j]
		i = j
	}
	t.slots[i] = 0
	t.n--
}

// grow doubles the table (or makes the first).
func (t *pairIndex) grow() {
	keys, slots := t.keys, t.slots
	size := max(2*len(slots), pairIndexMin)
	t.keys, t.slots = make([]uint64, size), make([]int32, size)
	for i, s := range slots {
		if s != 0 {
			j := t.find(keys[i])
			t.keys[j], t.slots[j] = keys[i], s
		}
	}
}
