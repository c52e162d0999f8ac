// Command interop writes what bench/check_checkpoint.py needs to check that
// PyTorch reads a simsearch checkpoint as simsearch does: a few images of a
// generator spec as raw float32 (N×H×W×3, values in [0, 1]) and their
// embeddings by the checkpoint (N×dim float32), little-endian.
//
//	go run ./bench/interop -model enc.safetensors -data shapes:n=32,res=32 -out /tmp/interop
//	/usr/bin/python3 bench/check_checkpoint.py enc.safetensors /tmp/interop
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"image"
	"log"
	"math"
	"os"

	"simsearch/dataset"
	"simsearch/encoder"
)

func main() {
	model := flag.String("model", "", "checkpoint file")
	data := flag.String("data", "shapes:n=32,seed=9,res=32", "generator spec of the images")
	out := flag.String("out", "interop", "prefix of the files to write (.images.f32, .embeddings.f32)")
	flag.Parse()
	log.SetFlags(0)
	m, err := encoder.Load(*model)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := dataset.ParseSpec(*data)
	if err != nil {
		log.Fatal(err)
	}
	if spec.Res != m.Res() {
		log.Fatalf("the spec is %d px, the model takes %d", spec.Res, m.Res())
	}
	images := make([]*image.RGBA, spec.N)
	var pixels []float32
	for i := range images {
		images[i] = spec.Image(i)
		for p := 0; p < len(images[i].Pix); p += 4 {
			for c := range 3 {
				pixels = append(pixels, float32(images[i].Pix[p+c])/255)
			}
		}
	}
	vecs, err := m.NewEmbedder(encoder.EmbedOptions{}).Embed(context.Background(), images)
	if err != nil {
		log.Fatal(err)
	}
	var flat []float32
	for _, v := range vecs {
		flat = append(flat, v...)
	}
	write(*out+".images.f32", pixels)
	write(*out+".embeddings.f32", flat)
	log.Printf("wrote %d images of %d px and their %d-dimensional embeddings to %s.*.f32", spec.N, spec.Res, m.Dim(), *out)
}

func write(path string, values []float32) {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
