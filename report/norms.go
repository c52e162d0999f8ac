package report

import (
	"context"
	"fmt"
	"image"
	"slices"

	"simsearch/encoder"
	"simsearch/index"
)

// NormDistribution describes the norms of a space's encoder outputs before
// their normalization, measured for contrastive encoders: for one trained
// on unnormalized outputs (encoder.Info.Unnormalized) they show how far
// training scaled them up, which the index's normalized vectors, and so
// cosine (and Euclidean on the sphere) neighbours, cannot show; for a
// normalized one they are the reference.
type NormDistribution struct {
	// Items counts the validation images re-embedded.
	Items int     `json:"items"`
	Mean  float64 `json:"mean"`
	// Percentiles are the 0th, 5th, 25th, 50th, 75th, 95th and 100th.
	Percentiles []float64 `json:"percentiles"`
	// Unnormalized is set when the encoder was trained on unnormalized
	// outputs; Warning then says what the norms mean for the space's
	// neighbours.
	Unnormalized bool   `json:"unnormalized"`
	Warning      string `json:"warning,omitempty"`
}

// normPercentiles are the percentiles NormDistribution keeps.
var normPercentiles = []int{0, 5, 25, 50, 75, 95, 100}

// outputNormer is an encoder that can tell its outputs' norms
// (encoder.Model and encoder.Embedder).
type outputNormer interface {
	OutputNorms(ctx context.Context, images []*image.RGBA) ([]float64, error)
}

// measureNorms returns the norm distribution of a space whose encoder is
// contrastive; nil for any other space.
func measureNorms(ctx context.Context, st index.Store, space index.SpaceStore, items *itemLabels, opts Options) (*NormDistribution, error) {
	enc, err := encoderOf(space, opts)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	normer, ok := enc.(outputNormer)
	if !ok || enc.Info().Objective != encoder.Contrastive {
		return nil, nil
	}
	pool := slices.DeleteFunc(slices.Clone(items.val), func(id index.ItemID) bool { return !space.Has(id) })
	if len(pool) == 0 {
		pool = slices.DeleteFunc(slices.Clone(items.train), func(id index.ItemID) bool { return !space.Has(id) })
	}
	_, images, err := storedImages(st, pool, maxClassifierItems, opts.Seed, 0x9042, enc.Res())
	if err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, nil
	}
	norms, err := normer.OutputNorms(ctx, images)
	if err != nil {
		return nil, err
	}
	all := percentiles(norms)
	d := &NormDistribution{Items: len(norms), Mean: mean(norms), Unnormalized: enc.Info().Unnormalized}
	for _, q := range normPercentiles {
		d.Percentiles = append(d.Percentiles, all[q])
	}
	if !d.Unnormalized {
		return d, nil
	}
	d.Warning = fmt.Sprintf("the encoder was trained on unnormalized outputs: their norms run from %.3g to %.3g (median %.3g), "+
		"where a normalized encoder's are all 1; the space holds them normalized, so its cosine neighbours hide how far training scaled them "+
		"(the shortcut that drives InfoNCE toward 0 without learning anything more)", all[0], all[100], all[50])
	return d, nil
}
