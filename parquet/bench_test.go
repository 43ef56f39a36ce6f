package parquet_test

import "testing"

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
	b.SetBytes(size) // bytes of Arrow buffers encoded
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		write(b, recs)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
