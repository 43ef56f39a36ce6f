package parquet_test

import (
	"testing"

	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// BenchmarkWrite encodes generated batches of 65,536 rows (the loader's
// default) into a Parquet file: the writer alone, without decoding.
func BenchmarkWrite(b *testing.B) {
	recs := records(b, 300_000, 65536)
	var rows, size int64
	for _, r := range recs {
		rows += r.NumRows()
		for _, c := range r.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					size += int64(buf.Len())
				}
			}
		}
	}
	dir := b.TempDir()
	b.SetBytes(size) // bytes of Arrow buffers encoded
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := parquet.Dir{Root: dir}.Create(parquet.Partition{Sensor: "s1"}, "out", schema.Arrow())
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := f.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
