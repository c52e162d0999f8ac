package report

import (
	"context"
	"fmt"
	"image"
	"slices"

	"simsearch/encoder"
	"simsearch/index"
)

// ClassifierCheck measures the seed's claim that supervised cross-entropy
// is dual-encoder contrastive learning with f₁(x) = g(x) (the logits) and
// f₂(c) = e_c (one-hot): the classifier's prediction argmax_c g(x)[c] and
// the dual encoder's argmax_c g(x)ᵀe_c are the same, so are their
// accuracies. For a space trained as a dual encoder (learned class
// embeddings f₂(c)) the classifier accuracy is that of its class scores
// on re-embedded images, the dual-encoder accuracy that of the space's
// stored vectors against the class embeddings.
type ClassifierCheck struct {
	Objective string `json:"objective"`
	Label     string `json:"label"`
	// Items counts the validation items scored.
	Items int `json:"items"`
	// ClassifierAccuracy is the share of items whose highest class score
	// is their class; DualEncoderAccuracy the share whose nearest class
	// embedding (largest dot product) is.
	ClassifierAccuracy  float64 `json:"classifier_accuracy"`
	DualEncoderAccuracy float64 `json:"dual_encoder_accuracy"`
	// Agree counts the items on which the two predictions are the same
	// class.
	Agree  int     `json:"agree"`
	Chance float64 `json:"chance"`
}

// Equal reports whether the two views predicted the same class for every
// item.
func (c *ClassifierCheck) Equal() bool { return c.Agree == c.Items }

// classifier is an encoder with a classification head (encoder.Model and
// encoder.Embedder).
type classifier interface {
	ClassScores(ctx context.Context, images []*image.RGBA) ([][]float32, error)
	ClassEmbeddings() [][]float32
}

// maxClassifierItems bounds the validation items re-embedded for the
// check.
const maxClassifierItems = 2000

// measureClassifier makes the ClassifierCheck of a space whose encoder
// classifies a label the items carry; nil otherwise, or when no
// validation image can be read back.
func measureClassifier(ctx context.Context, st index.Store, space index.SpaceStore, items *itemLabels, opts Options) (*ClassifierCheck, error) {
	enc, err := encoderOf(space, opts)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	info := enc.Info()
	head, ok := enc.(classifier)
	l := slices.Index(items.labelNames, info.Label)
	if !ok || !info.Objective.Classifies() || l < 0 || withoutEncoder(enc) {
		return nil, nil
	}
	pool := slices.DeleteFunc(slices.Clone(items.val), func(id index.ItemID) bool { return !space.Has(id) || items.label(l, id) < 0 })
	ids, images, err := storedImages(st, pool, maxClassifierItems, opts.Seed, 0xc1a5, enc.Res())
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	scores, err := head.ClassScores(ctx, images)
	if err != nil {
		return nil, fmt.Errorf("class scores: %w", err)
	}
	c := &ClassifierCheck{Objective: string(info.Objective), Label: info.Label, Items: len(ids)}
	classes := info.Classes
	var trainLabels, valLabels []int
	for _, id := range items.train {
		trainLabels = append(trainLabels, items.label(l, id))
	}
	var vectors []float32 // the stored vectors of a dual encoder, flat
	embeddings := oneHots(classes)
	if info.Objective == encoder.DualEncoder {
		if vectors, err = space.Vectors(ctx, ids); err != nil {
			return nil, err
		}
		embeddings = head.ClassEmbeddings()
	}
	dim := space.Dim()
	classifierHits, dualHits := 0, 0
	for i, id := range ids {
		truth := items.label(l, id)
		valLabels = append(valLabels, truth)
		predicted := argmax(scores[i])
		// A dual encoder's stored vector against its class embeddings; a
		// classifier's logits against the one-hot vectors e_c.
		dual := nearestClass(scores[i], embeddings)
		if vectors != nil {
			dual = nearestClass(vectors[i*dim:(i+1)*dim], embeddings)
		}
		if predicted == truth {
			classifierHits++
		}
		if dual == truth {
			dualHits++
		}
		if predicted == dual {
			c.Agree++
		}
	}
	c.ClassifierAccuracy = float64(classifierHits) / float64(len(ids))
	c.DualEncoderAccuracy = float64(dualHits) / float64(len(ids))
	c.Chance = chanceLevel(trainLabels, valLabels)
	return c, nil
}

// argmax returns the index of the largest score (the first of ties).
func argmax(scores []float32) int {
	return slices.Index(scores, slices.Max(scores))
}

// nearestClass returns the class c whose embedding has the largest dot
// product with v (the first of ties).
func nearestClass(v []float32, embeddings [][]float32) int {
	dots := make([]float32, len(embeddings))
	for c, e := range embeddings {
		for j := range min(len(e), len(v)) {
			dots[c] += v[j] * e[j]
		}
	}
	return argmax(dots)
}

// oneHots returns the one-hot vectors e_c of n classes.
func oneHots(n int) [][]float32 {
	out := make([][]float32, n)
	for c := range out {
		out[c] = make([]float32, n)
		out[c][c] = 1
	}
	return out
}
