package ingest

import (
	"math/rand/v2"
	"testing"
)

// TestPairIndex runs random puts, gets and deletes against a map. Keys'
// homes in the table (of 1,024 slots: at most 300 keys are held) are the
// last 40 slots and the first 20, so that probe runs are long, wrap around
// the table's end and are cut by deletes.
func TestPairIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var idx pairIndex
	model := map[uint64]int32{}
	key := func() uint64 { return uint64(rng.IntN(500))<<10 | uint64((984+rng.IntN(60))%1024) }
	for step := range 200_000 {
		k := key()
		switch op := rng.IntN(3); {
		case op == 0 && len(model) < 300:
			if _, held := model[k]; !held {
				v := int32(rng.IntN(1 << 20))
				idx.put(k, v)
				model[k] = v
			}
		case op == 1:
			idx.del(k)
			delete(model, k)
		default:
			got, ok := idx.get(k)
			want, wok := model[k]
			if ok != wok || got != want {
				t.Fatalf("step %d: get(%#x) = %d, %v; want %d, %v", step, k, got, ok, want, wok)
			}
		}
		if idx.len() != len(model) {
			t.Fatalf("step %d: %d keys held, want %d", step, idx.len(), len(model))
		}
	}
	for k, want := range model {
		if got, ok := idx.get(k); !ok || got != want {
			t.Fatalf("end: get(%#x) = %d, %v; want %d", k, got, ok, want)
		}
	}
}
