package gen

import (
	"testing"
)

// BenchmarkWrite measures generation of 100,000 messages in each format;
// the bytes per second are those of the capture written.
func BenchmarkWrite(b *testing.B) {
	for _, f := range formats {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var w countWriter
				st, err := Write(&w, Config{Seed: 1, Messages: 100000}, f, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(w.n)
				b.ReportMetric(float64(st.Messages), "messages/op")
			}
		})
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	return len(b), nil
}
