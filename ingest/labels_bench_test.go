package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/internal/imagetest"
)

// BenchmarkLabelledFolder measures what a labels file costs: each
// iteration ingests the same 2,048 PNG files (32 px) into a new file as a
// plain folder, then as a labelled folder (a class and a continuous
// column), back to back, with the untrained default network. overhead-%
// is the median of the iterations' ratios of labelled to plain time.
func BenchmarkLabelledFolder(b *testing.B) {
	const n, res = 2048, 32
	spec := dataset.Spec{N: n, Seed: 1, Res: res}
	dir := filepath.Join(b.TempDir(), "plain")
	var csv strings.Builder
	csv.WriteString("file,shape,radius\n")
	for i := range n {
		name := fmt.Sprintf("%05d.png", i)
		writeFile(b, filepath.Join(dir, name), imagetest.PNG(b, spec.Image(i)))
		f := spec.Factors(i)
		fmt.Fprintf(&csv, "%s,%s,%.4f\n", name, f.Shape, f.Radius)
	}
	labels := filepath.Join(b.TempDir(), "labels.csv")
	writeFile(b, labels, []byte(csv.String()))
	model, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Random, Res: res, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ingestOnce := func(labelsFile string) float64 {
		file, err := index.Open(filepath.Join(b.TempDir(), "bench.db"), index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		db := index.FileStore(file)
		defer db.Close()
		if _, _, err := openSpace(context.Background(), db, "bench", model); err != nil {
			b.Fatal(err)
		}
		sum, err := Run(context.Background(), db, Options{Source: dir, Labels: labelsFile, Space: "bench", Encoder: model})
		if err != nil || sum.AddedVectors != n {
			b.Fatalf("%+v, %v", sum, err)
		}
		return sum.Seconds
	}
	ingestOnce("") // warm the page cache and the encoder
	var plain, labelled, ratios []float64
	for b.Loop() {
		p := ingestOnce("")
		l := ingestOnce(labels)
		plain, labelled, ratios = append(plain, p), append(labelled, l), append(ratios, l/p)
	}
	b.ReportMetric(n/median(plain), "plain-images/s")
	b.ReportMetric(n/median(labelled), "labelled-images/s")
	b.ReportMetric(100*(median(ratios)-1), "overhead-%")
}

var npzImages = flag.Int("npz.images", 100000, "images of BenchmarkNpzIngest")

// BenchmarkNpzIngest ingests an npz of -npz.images distinct 64×64 masks
// (deflated, as dSprites is) with the pixels baseline, sampling the Go
// heap every 20 ms: stream-peak-heap-MB is the largest heap while the
// images stream (it must not grow with their number), peak-heap-MB the
// largest including the HNSW graph built after them (which grows with the
// vectors).
func BenchmarkNpzIngest(b *testing.B) {
	path := writeBenchNpz(b, *npzImages)
	model, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Pixels, Res: 64, Pool: 8})
	if err != nil {
		b.Fatal(err)
	}
	var rates, peaks, totals []float64
	for b.Loop() {
		file, err := index.Open(filepath.Join(b.TempDir(), "bench.db"), index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		db := index.FileStore(file)
		// peak is the heap's peak while the images stream (until the
		// last batch is stored); total counts the graph build after it.
		var peak, total atomic.Uint64
		var streamed atomic.Bool
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			for {
				metrics.Read(sample)
				v := sample[0].Value.Uint64()
				if !streamed.Load() && v > peak.Load() {
					peak.Store(v)
				}
				if v > total.Load() {
					total.Store(v)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		progress := func(p Progress) {
			if p.Total > 0 && p.Done == p.Total {
				streamed.Store(true)
			}
		}
		sum, err := Run(context.Background(), db, Options{Source: path, Space: "bench", Encoder: model, Progress: progress})
		close(stop)
		<-done
		db.Close()
		if err != nil || sum.AddedVectors == 0 {
			b.Fatalf("%+v, %v", sum, err)
		}
		rates = append(rates, float64(sum.Images)/sum.Seconds)
		peaks = append(peaks, float64(peak.Load())/1e6)
		totals = append(totals, float64(total.Load())/1e6)
	}
	b.ReportMetric(median(rates), "images/s")
	b.ReportMetric(median(peaks), "stream-peak-heap-MB")
	b.ReportMetric(median(totals), "peak-heap-MB")
}

// writeBenchNpz writes n 64×64 masks (a square at a place given by the
// index) in the dSprites layout, deflated.
func writeBenchNpz(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.npz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	member := func(name string, header []byte) *bufio.Writer {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		bw.Write(header)
		return bw
	}
	w := member("imgs.npy", npyHeaderForTest("|u1", n, 64, 64))
	img := make([]byte, 64*64)
	for i := range n {
		clear(img)
		x, y, side := i%48, (i/48)%48, 4+(i/2304)%12
		for r := y; r < min(64, y+side); r++ {
			for c := x; c < min(64, x+side); c++ {
				img[r*64+c] = 1
			}
		}
		for bit := range 20 { // the index in the last row: every image differs
			img[63*64+bit] = byte(i >> bit & 1)
		}
		w.Write(img)
	}
	w.Flush()
	w = member("latents_classes.npy", npyHeaderForTest("<i8", n, 3))
	for i := range n {
		for _, v := range []int{i % 48, (i / 48) % 48, (i / 2304) % 12} {
			w.Write(binary.LittleEndian.AppendUint64(nil, uint64(v)))
		}
	}
	w.Flush()
	if err := z.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// npyHeaderForTest is an npy 1.0 header (package export writes the same;
// ingest does not import it).
func npyHeaderForTest(dtype string, shape ...int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, strings.Join(dims, ", "))
	pad := (64 - (10+len(dict)+1)%64) % 64
	h := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(h[8:], uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n')
}
