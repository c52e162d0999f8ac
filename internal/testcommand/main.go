// Command testcommand is an encoder command for tests: it speaks the
// encoder command protocol (see encoder.Command) and embeds images with
// simple features, or misbehaves on purpose. Tests build it with
// internal/commandtest; it is not installed.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"simsearch/internal/npy"
)

func main() {
	mode := flag.String("mode", "features", "features (colour and place of the shape), fixed (the same vectors whatever the images: the framing alone), or noise (features plus randomness)")
	dim := flag.Int("dim", 128, "dimension of fixed vectors")
	perturb := flag.Float64("perturb", 0, "added to the first feature: another encoder")
	dtype := flag.String("dtype", "<f4", "dtype of the answers")
	failAfter := flag.Int("fail-after", -1, "exit with status 3 after this many batches")
	hangAfter := flag.Int("hang-after", -1, "stop answering after this many batches")
	nanAfter := flag.Int("nan-after", -1, "answer NaN after this many batches")
	shortAfter := flag.Int("short-after", -1, "answer one vector too few after this many batches")
	chatty := flag.Bool("chatty", false, "print a line to stdout before the first answer")
	log := flag.Bool("log", false, "write a line to stderr per batch")
	flag.Parse()

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	if *chatty {
		fmt.Fprintln(out, "loading model ...")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var fixed []float32
	var pixels, answer []byte
	for batch := 0; ; batch++ {
		var lead [8]byte
		if _, err := io.ReadFull(in, lead[:]); err != nil {
			return // end of input: done
		}
		if batch == *failAfter {
			fmt.Fprintln(os.Stderr, "testcommand: boom")
			os.Exit(3)
		}
		if batch == *hangAfter {
			time.Sleep(time.Hour)
		}
		h, err := npy.ReadHeader(in)
		if err != nil || h.Descr != "|u1" || len(h.Shape) != 4 {
			fmt.Fprintln(os.Stderr, "testcommand: bad frame:", err, h)
			os.Exit(2)
		}
		n, res := h.Shape[0], h.Shape[1]
		pixels = grow(pixels, n*res*res*3)
		if _, err := io.ReadFull(in, pixels); err != nil {
			os.Exit(2)
		}
		var vectors []float32
		d := 8
		switch *mode {
		case "fixed":
			d = *dim
			if fixed == nil {
				fixed = make([]float32, d)
				for j := range fixed {
					fixed[j] = float32(j%7) + 1
				}
			}
			for range n {
				vectors = append(vectors, fixed...)
			}
		default:
			for i := range n {
				f := features(pixels[i*res*res*3:(i+1)*res*res*3], res)
				f[0] += float32(*perturb)
				if *mode == "noise" {
					f[0] += float32(rng.Float64())
				}
				vectors = append(vectors, f...)
			}
		}
		if batch == *nanAfter {
			vectors[0] = float32(math.NaN())
		}
		rows := n
		if batch == *shortAfter {
			rows--
			vectors = vectors[:rows*d]
		}
		answer = answer[:0]
		size := 4
		if *dtype == "<f8" {
			size = 8
		}
		answer = npy.AppendHeader(answer, *dtype, []int{rows, d})
		for _, v := range vectors {
			if size == 8 {
				answer = binary.LittleEndian.AppendUint64(answer, math.Float64bits(float64(v)))
			} else {
				answer = binary.LittleEndian.AppendUint32(answer, math.Float32bits(v))
			}
		}
		binary.Write(out, binary.LittleEndian, uint64(len(answer)))
		out.Write(answer)
		if err := out.Flush(); err != nil {
			return
		}
		if *log {
			fmt.Fprintf(os.Stderr, "testcommand: batch %d of %d images\n", batch+1, n)
		}
	}
}

// features describes an image by the colour and place of what is not
// black: mean red, green, blue and brightness of the lit pixels, the
// centroid, the lit area and a constant.
func features(pix []byte, res int) []float32 {
	var r, g, b, lit, cx, cy float64
	for y := range res {
		for x := range res {
			p := pix[(y*res+x)*3:]
			v := float64(p[0]) + float64(p[1]) + float64(p[2])
			if v < 30 {
				continue
			}
			lit++
			r += float64(p[0]) / 255
			g += float64(p[1]) / 255
			b += float64(p[2]) / 255
			cx += float64(x) / float64(res)
			cy += float64(y) / float64(res)
		}
	}
	if lit == 0 {
		return []float32{0, 0, 0, 0, 0, 0, 0, 1}
	}
	return []float32{float32(r / lit), float32(g / lit), float32(b / lit), float32((r + g + b) / lit / 3),
		float32(2 * (cx/lit - 0.5)), float32(2 * (cy/lit - 0.5)), float32(lit / float64(res*res)), 0.5}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
