package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"simsearch/encoder"
)

// SeedSpread says how much the cells of one recipe move between seeds: the
// spaces of encoders trained alike (the same objective, augmentation,
// label, architecture, input scaling, data and schedule) from different
// seeds. A difference between two encoders smaller than the spread of one
// recipe's seeds may be noise.
type SeedSpread struct {
	// Recipe describes what the encoders share.
	Recipe string `json:"recipe"`
	// Spaces and Seeds are the spaces of the recipe and their encoders'
	// seeds, in the report's order.
	Spaces []string `json:"spaces"`
	Seeds  []uint64 `json:"seeds"`
	// Cells are the k-NN accuracies, then the intervention sensitivities,
	// measured in every space of the recipe.
	Cells []SpreadCell `json:"cells"`
}

// SpreadCell is one measurement over a recipe's seeds.
type SpreadCell struct {
	// Measure is "knn" (the k-NN accuracy of a label) or "sensitivity"
	// (the intervention sensitivity of a factor).
	Measure string `json:"measure"`
	Factor  string `json:"factor"`
	// Mean and Std are the mean and the sample standard deviation (n − 1)
	// over the seeds; Min and Max the extremes.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// recipeKey returns what encoders of one recipe share, and false for a
// space whose encoder has no seed that matters (the pixels baseline, an
// encoder command, precomputed vectors).
func recipeKey(info encoder.Info) (string, bool) {
	if info.Objective == "" || info.Objective == encoder.Pixels || info.Command != "" || info.Vectors != "" {
		return "", false
	}
	input := info.Input
	if input == "" {
		input = encoder.Unit
	}
	parts := []string{string(info.Objective)}
	add := func(name string, v any, ok bool) {
		if ok {
			parts = append(parts, fmt.Sprintf("%s %v", name, v))
		}
	}
	add("augmentation", info.Augmentation, info.Augmentation != "")
	add("label", info.Label, info.Label != "")
	add("τ", info.Tau, info.Tau != 0)
	parts = append(parts, info.Arch().String(), fmt.Sprintf("input %s", input))
	add("epochs", info.Epochs, info.Epochs != 0)
	add("batch", info.Batch, info.Batch != 0)
	add("lr", info.LearningRate, info.LearningRate != 0)
	add("data", info.Data, info.Data != "")
	return strings.Join(parts, ", "), true
}

// seedSpreads groups spaces by recipe and returns the spread of every
// recipe of at least two spaces with different seeds, in the order of
// their first space.
func seedSpreads(spaces []*SpaceReport) []SeedSpread {
	var keys []string
	groups := map[string][]*SpaceReport{}
	for _, sr := range spaces {
		key, ok := recipeKey(sr.Encoder)
		if !ok {
			continue
		}
		if _, seen := groups[key]; !seen {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], sr)
	}
	var out []SeedSpread
	for _, key := range keys {
		g := groups[key]
		spread := SeedSpread{Recipe: key}
		for _, sr := range g {
			spread.Spaces = append(spread.Spaces, sr.Name)
			spread.Seeds = append(spread.Seeds, sr.Encoder.Seed)
		}
		distinct := slices.Clone(spread.Seeds)
		slices.Sort(distinct)
		if len(slices.Compact(distinct)) < 2 {
			continue
		}
		for _, l := range g[0].KNN {
			spread.addCell("knn", l.Label, g, func(sr *SpaceReport) (float64, bool) {
				k, ok := sr.KNNOf(l.Label)
				return k.Accuracy, ok
			})
		}
		for _, iv := range g[0].Interventions {
			spread.addCell("sensitivity", iv.Factor, g, func(sr *SpaceReport) (float64, bool) {
				for _, j := range sr.Interventions {
					if j.Factor == iv.Factor {
						return j.Sensitivity, true
					}
				}
				return 0, false
			})
		}
		out = append(out, spread)
	}
	return out
}

// addCell adds the cell that value reads from every space of g, when every
// space has it.
func (s *SeedSpread) addCell(measure, factor string, g []*SpaceReport, value func(*SpaceReport) (float64, bool)) {
	values := make([]float64, 0, len(g))
	for _, sr := range g {
		v, ok := value(sr)
		if !ok || math.IsNaN(v) {
			return
		}
		values = append(values, v)
	}
	c := SpreadCell{Measure: measure, Factor: factor, Min: slices.Min(values), Max: slices.Max(values)}
	for _, v := range values {
		c.Mean += v
	}
	c.Mean /= float64(len(values))
	for _, v := range values {
		c.Std += (v - c.Mean) * (v - c.Mean)
	}
	c.Std = math.Sqrt(c.Std / float64(len(values)-1))
	s.Cells = append(s.Cells, c)
}
