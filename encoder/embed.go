package encoder

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math/bits"
)

// DefaultEmbedBatch is the number of images an Embedder runs through the
// network at once, unless told otherwise.
const DefaultEmbedBatch = 64

// EmbedOptions configure an Embedder. The zero value is valid.
type EmbedOptions struct {
	// Batch is the largest number of images per run of the network; 0 means
	// DefaultEmbedBatch (a negative one panics). Larger batches make larger
	// matrix products (faster per image) and use more memory.
	Batch int
}

// Embedder turns images into L2-normalized embeddings with a model. It is
// safe for concurrent use: each call of Embed takes a network graph of its
// own (built on first use and kept for the next calls, all sharing the
// model's weights), so n goroutines embedding at once hold n graphs.
type Embedder struct {
	m     *Model
	batch int
}

// NewEmbedder returns an Embedder of m.
func (m *Model) NewEmbedder(opts EmbedOptions) *Embedder {
	if opts.Batch < 0 {
		panic("encoder: NewEmbedder with a negative batch")
	}
	return &Embedder{m: m, batch: cmp.Or(opts.Batch, DefaultEmbedBatch)}
}

// Dim returns the size of the embeddings.
func (e *Embedder) Dim() int { return e.m.info.Dim }

// Res, ID, String, Info, Checkpoint and Close are those of the model: an
// Embedder is its model's Encoder with another batch size.
func (e *Embedder) Res() int           { return e.m.Res() }
func (e *Embedder) ID() string         { return e.m.ID() }
func (e *Embedder) String() string     { return e.m.String() }
func (e *Embedder) Info() Info         { return e.m.Info() }
func (e *Embedder) Checkpoint() []byte { return e.m.bytes }
func (e *Embedder) Close() error       { return nil }

// Model returns the model the Embedder runs.
func (e *Embedder) Model() *Model { return e.m }

// Embed returns one embedding of e.Dim() unit-norm values per image, in
// order. Every image must be Res()×Res() pixels (an error names the first
// that is not). Any number of images may be given; they run through the
// network in batches. Embed stops early with ctx.Err() if ctx is cancelled.
func (e *Embedder) Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	res := e.m.info.Res
	dim := e.Dim()
	out := make([][]float32, len(images))
	flat := make([]float32, len(images)*dim)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	if e.m.info.Objective == Pixels {
		if err := checkImages(images, res); err != nil {
			return nil, err
		}
		pixels := make([]float32, res*res*3)
		for i, img := range images {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if err := toTensor(img, pixels, Unit); err != nil {
				return nil, err
			}
			poolPixels(pixels, res, e.m.info.Pool, out[i])
		}
		return out, nil
	}
	err := e.m.forward(ctx, images, e.batch, "embed", func(gr *graph, start, n int) {
		// The embedding tensor is reused by the next run: copy it out.
		emb := gr.embedding.Value().Data().([]float32)
		for i := range n {
			copy(out[start+i], emb[i*dim:(i+1)*dim])
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forward runs images (checked to be Res()×Res() pixels) through the
// network in runs of at most batch, calling read with each run's graph
// once it has run, the run's first image and its length; read copies what
// it keeps, since the graph's tensors serve the next run. what names the
// computation in errors.
func (m *Model) forward(ctx context.Context, images []*image.RGBA, batch int, what string, read func(gr *graph, start, n int)) error {
	if err := checkImages(images, m.info.Res); err != nil {
		return err
	}
	for start := 0; start < len(images); {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := chunk(len(images)-start, batch)
		if err := m.runOnce(images[start:start+n], what, func(gr *graph) { read(gr, start, n) }); err != nil {
			return err
		}
		start += n
	}
	return nil
}

// chunk returns the size of the next run for left images: a full batch, or
// else the largest power of two not above left, so that a few graph sizes
// serve every count.
func chunk(left, batch int) int {
	if left >= batch {
		return batch
	}
	return 1 << (bits.Len(uint(left)) - 1)
}

// runOnce runs len(images) images (a graph size) through an idle graph
// and calls read with it before giving it back.
func (m *Model) runOnce(images []*image.RGBA, what string, read func(gr *graph)) error {
	gr, err := m.takeGraph(len(images))
	if err != nil {
		return err
	}
	defer m.putGraph(len(images), gr)
	in := gr.input.Value().Data().([]float32)
	per := len(in) / len(images)
	for i, img := range images {
		if err := toTensor(img, in[i*per:(i+1)*per], m.info.Input); err != nil {
			return err
		}
	}
	if err := gr.run(); err != nil {
		return fmt.Errorf("encoder: %s: %w", what, err)
	}
	read(gr)
	return nil
}

// takeGraph returns an idle embedding graph of batch images, building one
// if there is none.
func (m *Model) takeGraph(batch int) (*graph, error) {
	m.mu.Lock()
	if free := m.graphs[batch]; len(free) > 0 {
		gr := free[len(free)-1]
		m.graphs[batch] = free[:len(free)-1]
		m.mu.Unlock()
		return gr, nil
	}
	m.mu.Unlock()
	return buildGraph(graphConfig{arch: m.info.Arch(), batch: batch}, m.w)
}

// putGraph makes gr idle again.
func (m *Model) putGraph(batch int, gr *graph) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.graphs == nil {
		m.graphs = map[int][]*graph{}
	}
	m.graphs[batch] = append(m.graphs[batch], gr)
}
