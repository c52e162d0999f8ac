package encoder

import (
	"context"
	"fmt"
	"image"

	G "gorgonia.org/gorgonia"
)

// frozenParams are the parameters an objective keeps at their initial
// zero: the dual encoder's head bias, so that its logits are the pure
// dot products f₁(x)·f₂(c) of a dual encoder.
func frozenParams(objective Objective) map[string]bool {
	if objective == DualEncoder {
		return map[string]bool{"head.bias": true}
	}
	return nil
}

// zeroFrozen sets the parameters objective keeps frozen to 0.
func (w *weights) zeroFrozen(objective Objective) {
	for name := range frozenParams(objective) {
		if p := w.byName[name]; p != nil {
			clear(p.value.Data().([]float32))
		}
	}
}

// trainable returns the parameter nodes of gr that training updates.
func trainable(gr *graph, objective Objective) G.Nodes {
	frozen := frozenParams(objective)
	var out G.Nodes
	for _, n := range gr.params {
		if !frozen[n.Name()] {
			out = append(out, n)
		}
	}
	return out
}

// ClassScores returns, for a model that classifies one factor label
// (Info().Objective.Classifies()), one score per class and image: for a
// supervised model the logits g(x) = W·h(x) + b of its head on the
// encoder's features h(x) (before their normalization), for a dual
// encoder f₁(x)·f₂(c), its normalized embedding against each class
// embedding. The predicted class is the highest score. Images must be
// Res()×Res() pixels. It returns an error wrapping ErrOptions for a model
// that does not classify.
func (m *Model) ClassScores(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	if !m.info.Objective.Classifies() {
		return nil, fmt.Errorf("%w: a %s model has no class scores", ErrOptions, m.info.Objective)
	}
	weight, bias := m.w.byName["head.weight"], m.w.byName["head.bias"]
	if weight == nil || bias == nil {
		return nil, fmt.Errorf("%w: the %s model has no head", ErrOptions, m.info.Objective)
	}
	latent, classes := m.info.Latent, m.info.Classes
	w, b := weight.value.Data().([]float32), bias.value.Data().([]float32)
	out := make([][]float32, len(images))
	err := m.forward(ctx, images, DefaultEmbedBatch, "class scores", func(gr *graph, start, n int) {
		source := gr.features
		if m.info.Objective == DualEncoder {
			source = gr.embedding
		}
		h := source.Value().Data().([]float32)
		for i := range n {
			x := h[i*latent : (i+1)*latent]
			scores := make([]float32, classes)
			for c := range classes {
				s := b[c]
				for j, v := range w[c*latent : (c+1)*latent] {
					s += v * x[j]
				}
				scores[c] = s
			}
			out[start+i] = scores
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ClassEmbeddings returns a dual encoder's class embeddings f₂(c), one
// row per class (nil for another objective). The rows are the model's own
// memory: do not modify them.
func (m *Model) ClassEmbeddings() [][]float32 {
	weight := m.w.byName["head.weight"]
	if m.info.Objective != DualEncoder || weight == nil {
		return nil
	}
	w, latent := weight.value.Data().([]float32), m.info.Latent
	out := make([][]float32, m.info.Classes)
	for c := range out {
		out[c] = w[c*latent : (c+1)*latent : (c+1)*latent]
	}
	return out
}

// ClassScores and ClassEmbeddings are those of the Embedder's model.
func (e *Embedder) ClassScores(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	return e.m.ClassScores(ctx, images)
}
func (e *Embedder) ClassEmbeddings() [][]float32 { return e.m.ClassEmbeddings() }
