package export

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"simsearch/index"
)

var exportRows = flag.Int("export.rows", 1000000, "rows of BenchmarkExportWrite")

// memVectors serves vectors from memory, so that the benchmark measures
// the writing of an export, not the store's reading.
type memVectors struct {
	dim  int
	data []float32
}

func (m memVectors) Dim() int { return m.dim }
func (m memVectors) Vectors(_ context.Context, ids []index.ItemID) ([]float32, error) {
	first := int(ids[0])
	return m.data[first*m.dim : (first+len(ids))*m.dim], nil
}

// BenchmarkExportWrite writes -export.rows vectors of 128 dimensions as an
// .npy file, synced to disk (the export's atomic write), and reports MB/s
// of vectors written.
func BenchmarkExportWrite(b *testing.B) {
	const dim = 128
	n := *exportRows
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = float32(i%977) / 977
	}
	ids := make([]index.ItemID, n)
	for i := range ids {
		ids[i] = index.ItemID(i)
	}
	dir := b.TempDir()
	var rates []float64
	for b.Loop() {
		w := &writer{ctx: context.Background(), space: memVectors{dim, data}, ids: ids}
		path := filepath.Join(dir, "emb.npy")
		start := time.Now()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.rows(f, nil); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		rates = append(rates, float64(n*dim*4)/1e6/time.Since(start).Seconds())
	}
	b.ReportMetric(median(rates), "MB/s")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
