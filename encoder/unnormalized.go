package encoder

import (
	"context"
	"fmt"
	"image"
	"math"
)

// outputStats describe the outputs of one contrastive step on
// unnormalized outputs: the mean L2 norm of f(x) over the batch's images
// and the largest |logit| f(x)·f(x⁺)/τ, what exp must take.
type outputStats struct {
	meanNorm, logitScale float64
}

// lossHeader is the loss CSV's header row.
func (t *trainer) lossHeader() string {
	if t.o.NoNormalize {
		return "step,epoch,loss,images_per_second,mean_output_norm,logit_scale\n"
	}
	return "step,epoch,loss,images_per_second\n"
}

// lossColumns are the loss CSV's extra columns of the last step.
func (t *trainer) lossColumns() string {
	if !t.o.NoNormalize {
		return ""
	}
	return fmt.Sprintf(",%.6g,%.6g", t.outputStats.meanNorm, t.outputStats.logitScale)
}

// measureOutputs sets t.outputStats from the step s just ran (with
// NoNormalize; otherwise the norms are 1 and it does nothing).
func (t *trainer) measureOutputs(s *stepGraphs) {
	if !t.o.NoNormalize {
		return
	}
	latent := t.arch.Latent
	var sum float64
	images := 0
	for _, gr := range s.lanes {
		features := gr.features.Value().Data().([]float32)
		for i := range len(features) / latent {
			var sq float64
			for _, v := range features[i*latent : (i+1)*latent] {
				sq += float64(v) * float64(v)
			}
			sum += math.Sqrt(sq)
			images++
		}
	}
	// Every contrastive lane holds the logits of the whole batch.
	var scale float64
	for _, z := range s.lanes[0].output.Value().Data().([]float32) {
		scale = max(scale, math.Abs(float64(z)))
	}
	t.outputStats = outputStats{meanNorm: sum / float64(images), logitScale: scale}
}

// nonFiniteUnnormalized is the error of a non-finite loss when the
// outputs were not normalized: the shortcut the seed describes.
func (t *trainer) nonFiniteUnnormalized(step, steps, epoch int, loss float64, last outputStats) error {
	return fmt.Errorf("%w: the loss became %v at step %d of %d (epoch %d): the outputs were not normalized (--no-normalize), "+
		"so training took the shortcut of scaling them up: the logits f(x)·f(x⁺)/τ grow with the squared norm, which drives InfoNCE toward 0 "+
		"and overflows exp (mean output norm %.4g, largest |logit| %.4g at the last finite step); train without --no-normalize, which divides every output by its L2 norm",
		ErrNonFiniteLoss, loss, step, steps, epoch, last.meanNorm, last.logitScale)
}

// OutputNorms returns the L2 norm of each image's output before its
// normalization: what an encoder trained with NoNormalize scaled up,
// and its embeddings (normalized) do not show. Images must be
// Res()×Res() pixels; the pixels baseline has no such outputs (an error
// wrapping ErrOptions).
func (m *Model) OutputNorms(ctx context.Context, images []*image.RGBA) ([]float64, error) {
	if m.info.Objective == Pixels {
		return nil, fmt.Errorf("%w: the pixels baseline has no network outputs", ErrOptions)
	}
	latent := m.info.Latent
	out := make([]float64, len(images))
	err := m.forward(ctx, images, DefaultEmbedBatch, "output norms", func(gr *graph, start, n int) {
		h := gr.features.Value().Data().([]float32)
		for i := range n {
			var sq float64
			for _, v := range h[i*latent : (i+1)*latent] {
				sq += float64(v) * float64(v)
			}
			out[start+i] = math.Sqrt(sq)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OutputNorms is that of the Embedder's model.
func (e *Embedder) OutputNorms(ctx context.Context, images []*image.RGBA) ([]float64, error) {
	return e.m.OutputNorms(ctx, images)
}

// firstStep is the loss and the mean output norm of a training's first
// step.
type firstStep struct{ loss, norm float64 }
