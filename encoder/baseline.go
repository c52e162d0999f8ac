package encoder

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// DefaultPool is the side of the grid the pixels baseline averages images
// to: 8×8 cells of 3 colours, 192 values.
const DefaultPool = 8

// BaselineOptions choose an untrained baseline model. The zero value is
// the pixels baseline at 32 px.
type BaselineOptions struct {
	// Objective is Pixels (the default) or Random.
	Objective Objective
	// Res is the image resolution; 0 means 32.
	Res int
	// Width and Latent are the random network's architecture; 0 means 32
	// and 128.
	Width, Latent int
	// Pool is the side of the pixels baseline's grid; 0 means DefaultPool,
	// or Res if that is smaller. Res must be a multiple of it.
	Pool int
	// Seed draws the random network's weights.
	Seed uint64
}

// NewBaseline returns an untrained model: Pixels embeds an image as its
// average colours over a Pool×Pool grid, Random with a randomly
// initialized encoder (the initial weights training would start from with
// the same seed). Both embeddings are L2-normalized like every model's.
func NewBaseline(opts BaselineOptions) (*Model, error) {
	if opts.Objective == "" {
		opts.Objective = Pixels
	}
	if opts.Res == 0 {
		opts.Res = 32
	}
	switch opts.Objective {
	case Pixels:
		if opts.Pool == 0 {
			opts.Pool = min(DefaultPool, opts.Res)
		}
		info := Info{Objective: Pixels, Res: opts.Res, Pool: opts.Pool, Dim: 3 * opts.Pool * opts.Pool, Seed: opts.Seed}
		if err := info.check(); err != nil {
			return nil, fmt.Errorf("pixels baseline: %w: %w", ErrOptions, err)
		}
		return newModel(info, nil)
	case Random:
		arch := Arch{Res: opts.Res, Width: opts.Width, Latent: opts.Latent}
		if arch.Width == 0 {
			arch.Width = 32
		}
		if arch.Latent == 0 {
			arch.Latent = 128
		}
		if err := arch.Validate(); err != nil {
			return nil, fmt.Errorf("random baseline: %w: %w", ErrOptions, err)
		}
		w := newWeights(arch, Random, 0, tensor.Float32)
		w.init(initRand(opts.Seed))
		info := Info{Objective: Random, Res: arch.Res, Width: arch.Width, Latent: arch.Latent, Layers: arch.Layers(), Dim: arch.Latent, Seed: opts.Seed}
		return newModel(info, w)
	}
	return nil, fmt.Errorf("%w: %q is not a baseline (want pixels or random)", ErrOptions, opts.Objective)
}

// initRand is the random stream of a model's initial weights.
func initRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x696e6974)) }

// poolPixels writes the L2-normalized average colours of img's pool×pool
// cells into dst (3·pool² values, cell by cell, red-green-blue).
func poolPixels(src []float32, res, pool int, dst []float32) {
	cell := res / pool
	clear(dst)
	for y := range res {
		for x := range res {
			o := 3 * ((y/cell)*pool + x/cell)
			p := src[3*(y*res+x):]
			dst[o] += p[0]
			dst[o+1] += p[1]
			dst[o+2] += p[2]
		}
	}
	normalizeInPlace(dst)
}

// normalizeInPlace divides v by its Euclidean norm (at least normEpsilon).
func normalizeInPlace(v []float32) {
	norms := []float32{0}
	l2Normalize(v, v, norms, len(v))
}
