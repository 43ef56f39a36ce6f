package chdb

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestDB_InsertArrow_dictionaries inserts dictionary-encoded columns, as the
// label columns are sent, into LowCardinality and String columns, in one
// stream whose batches each carry a dictionary of their own: the engine
// must read each batch through its own, not the first one's.
func TestDB_InsertArrow_dictionaries(t *testing.T) {
	db := openTemp(t)
	mustExec(t, db, "CREATE TABLE d (lc LowCardinality(String), s String, n UInt32) ENGINE = MergeTree ORDER BY n")
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	sch := arrow.NewSchema([]arrow.Field{{Name: "lc", Type: dt}, {Name: "s", Type: dt},
		{Name: "n", Type: arrow.PrimitiveTypes.Uint32}}, nil)
	batch := func(n0 uint32, dict []string, idx []int32) arrow.RecordBatch {
		ib := array.NewInt32Builder(memory.DefaultAllocator)
		defer ib.Release()
		ib.AppendValues(idx, nil)
		sb := array.NewStringBuilder(memory.DefaultAllocator)
		defer sb.Release()
		sb.AppendValues(dict, nil)
		keys, vals := ib.NewArray(), sb.NewArray()
		defer keys.Release()
		defer vals.Release()
		d := array.NewDictionaryArray(dt, keys, vals)
		defer d.Release()
		nb := array.NewUint32Builder(memory.DefaultAllocator)
		defer nb.Release()
		for i := range idx {
			nb.Append(n0 + uint32(i))
		}
		n := nb.NewArray()
		defer n.Release()
		return array.NewRecordBatch(sch, []arrow.Array{d, d, n}, int64(len(idx)))
	}
	recs := []arrow.RecordBatch{
		batch(0, []string{"a", "b"}, []int32{0, 1, 1}),
		batch(10, []string{"c", "d", "e"}, []int32{2, 0, 1}),
		batch(20, []string{"b", "a"}, []int32{0, 1}), // the first batch's values, indexed otherwise
	}
	defer releaseAll(recs)
	if err := db.InsertArrow(context.Background(), "d", sch, recs...); err != nil {
		t.Fatal(err)
	}
	got := mustQuery(t, db, "SELECT arrayStringConcat(groupArray(concat(toString(n), lc, s)), ' ') FROM (SELECT * FROM d ORDER BY n)", "TSVRaw")
	if want := "0aa 1bb 2bb 10ee 11cc 12dd 20bb 21aa\n"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
}
