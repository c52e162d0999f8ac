// Package vectortest makes the vectors that the index's tests and
// benchmarks search: seeded, clustered unit vectors of a low intrinsic
// dimension, like the embeddings of images made from a few factors.
package vectortest

import (
	"math"
	"math/rand/v2"
)

// Latent returns n unit vectors of dimension dim that lie near a
// latent space of dimension latent: clusters centres in the latent space,
// points around them, mapped by a fixed random linear map into dim
// dimensions, plus a little isotropic noise, then normalized. Embeddings
// of images made from a few factors look like this: clustered, with a low
// intrinsic dimension.
func Latent(seed uint64, n, dim, latent, clusters int, spread float64) []float32 {
	mapRng := rand.New(rand.NewPCG(0x1a7e, uint64(dim*1000+latent)))
	proj := make([]float64, dim*latent)
	for i := range proj {
		proj[i] = mapRng.NormFloat64() / math.Sqrt(float64(latent))
	}
	centreRng := rand.New(rand.NewPCG(0xce7, uint64(clusters)))
	centres := make([]float64, clusters*latent)
	for i := range centres {
		centres[i] = centreRng.NormFloat64()
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]float32, n*dim)
	z := make([]float64, latent)
	v := make([]float64, dim)
	for i := range n {
		c := rng.IntN(clusters)
		for j := range latent {
			z[j] = centres[c*latent+j] + spread*rng.NormFloat64()
		}
		var norm float64
		for j := range dim {
			x := 0.05 * rng.NormFloat64()
			for l := range latent {
				x += proj[j*latent+l] * z[l]
			}
			v[j] = x
			norm += x * x
		}
		norm = math.Sqrt(norm)
		for j := range dim {
			out[i*dim+j] = float32(v[j] / norm)
		}
	}
	return out
}
