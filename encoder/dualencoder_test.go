package encoder

import (
	"context"
	"math"
	"testing"
)

// TestClassScores checks the class scores of both classifying objectives
// against the embeddings: a supervised head sees the features before
// their normalization, so its scores less the bias are ‖h(x)‖ times the
// head applied to the embedding (one positive factor per image); a dual
// encoder's are the embedding against its class embeddings, with a bias
// that training left at 0.
func TestClassScores(t *testing.T) {
	ctx := context.Background()
	for _, objective := range []Objective{Supervised, DualEncoder} {
		t.Run(string(objective), func(t *testing.T) {
			opts := tinyOptions(t, objective)
			opts.Epochs = 2
			m, err := Train(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			images := opts.Data.Images[:20]
			scores, err := m.ClassScores(ctx, images)
			if err != nil {
				t.Fatal(err)
			}
			embeddings, err := m.Embed(ctx, images)
			if err != nil {
				t.Fatal(err)
			}
			w := m.w.byName["head.weight"].value.Data().([]float32)
			b := m.w.byName["head.bias"].value.Data().([]float32)
			classes, latent := m.Info().Classes, m.Info().Latent
			if objective == DualEncoder {
				for c, v := range b {
					if v != 0 {
						t.Fatalf("dual-encoder bias of class %d is %v after training, want 0", c, v)
					}
				}
			}
			for i, e := range embeddings {
				scale := math.NaN()
				for c := range classes {
					var dot float64
					for j := range latent {
						dot += float64(w[c*latent+j]) * float64(e[j])
					}
					ratio := (float64(scores[i][c]) - float64(b[c])) / dot
					if objective == DualEncoder && math.Abs(ratio-1) > 1e-3 {
						t.Fatalf("image %d class %d: score %v, embedding·f₂(c) %v", i, c, scores[i][c], dot)
					}
					if math.IsNaN(scale) {
						scale = ratio
					}
					if !(ratio > 0) || math.Abs(ratio-scale) > 1e-3*scale {
						t.Fatalf("image %d class %d: (score − bias) / head(embedding) = %v, other classes %v", i, c, ratio, scale)
					}
				}
			}
		})
	}
	if _, err := tinyModel(t, Contrastive).ClassScores(ctx, nil); err == nil {
		t.Error("a contrastive model gave class scores")
	}
}
