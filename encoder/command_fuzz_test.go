package encoder

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"simsearch/internal/npy"
)

// FuzzReadVectorFrame checks that any bytes on a command's stdout give
// vectors of the asked shape, all finite and of unit or zero length, or an
// error: never a panic.
func FuzzReadVectorFrame(f *testing.F) {
	frame := func(descr string, rows, cols int) []byte {
		b := npy.AppendHeader(nil, descr, []int{rows, cols})
		for i := range rows * cols {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)-1.5))
		}
		return append(binary.LittleEndian.AppendUint64(nil, uint64(len(b))), b...)
	}
	f.Add(frame("<f4", 2, 3), 2)
	f.Add(frame("<f4", 1, 8), 1)
	f.Add([]byte("hello world, not a frame"), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 1 || n > 64 {
			return
		}
		v, err := readVectorFrame(bufio.NewReader(bytes.NewReader(b)), n, 0)
		if err != nil {
			return
		}
		if len(v) != n {
			t.Fatalf("%d vectors for %d images", len(v), n)
		}
		for _, row := range v {
			var s float64
			for _, x := range row {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatal("a value that is not finite")
				}
				s += float64(x) * float64(x)
			}
			if s != 0 && math.Abs(s-1) > 1e-4 {
				t.Fatalf("a vector of squared norm %v", s)
			}
		}
	})
}

// FuzzOpenCommand checks that any stored bytes give an encoder command or
// an error, never a panic.
func FuzzOpenCommand(f *testing.F) {
	s := commandSpec{Format: commandFormat, FormatVersion: CommandFormatVersion, Command: "x", Res: 8, Dim: 2,
		Fingerprint: fingerprint{Images: "i", Digest: "d", Tolerance: 0.01, Vectors: make([][]float32, FingerprintImages)}}
	for i := range s.Fingerprint.Vectors {
		s.Fingerprint.Vectors[i] = []float32{1, 0}
	}
	f.Add(s.encode())
	f.Add([]byte(`{"format":"simsearch-precomputed-vectors","format_version":1,"dim":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := OpenCommand(b, CommandOptions{}); err == nil {
			_ = c.ID()
			_ = c.Info()
		}
		if p, err := OpenPrecomputed(b); err == nil {
			_ = p.ID()
		}
	})
}
