package encoder

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"simsearch/encoder/internal/simd"
)

// adam is the Adam optimizer as PyTorch's torch.optim.Adam computes it, as
// a gorgonia Solver. It updates each parameter in one pass over its value,
// gradient and moments, where gorgonia's AdamSolver makes several passes
// and temporary copies per parameter per step.
type adam struct {
	lr, beta1, beta2, eps float64
	step                  int
	m, v                  map[G.Value][]float32
}

var _ G.Solver = (*adam)(nil)

func newAdam(lr float64) *adam {
	return &adam{lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, m: map[G.Value][]float32{}, v: map[G.Value][]float32{}}
}

// Step updates every parameter of model from its gradient.
func (a *adam) Step(model []G.ValueGrad) error {
	a.step++
	c1 := 1 - math.Pow(a.beta1, float64(a.step))
	c2 := 1 - math.Pow(a.beta2, float64(a.step))
	stepSize := float32(a.lr / c1)
	invSqrtC2 := float32(1 / math.Sqrt(c2))
	b1, b2, eps := float32(a.beta1), float32(a.beta2), float32(a.eps)
	for _, p := range model {
		value := p.Value()
		grad, err := p.Grad()
		if err != nil {
			return fmt.Errorf("encoder: adam: %w", err)
		}
		w, ok1 := value.Data().([]float32)
		g, ok2 := grad.Data().([]float32)
		if !ok1 || !ok2 || len(w) != len(g) {
			return fmt.Errorf("encoder: adam: parameter of %v with gradient of %v", value.Shape(), grad.Shape())
		}
		m, ok := a.m[value]
		if !ok {
			m = make([]float32, len(w))
			a.m[value] = m
			a.v[value] = make([]float32, len(w))
		}
		v := a.v[value]
		parallel(len(w), 1<<15, func(lo, hi int) {
			simd.AdamUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], b1, b2, eps, stepSize, invSqrtC2)
		})
	}
	return nil
}
