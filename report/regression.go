package report

import (
	"math"
	"slices"

	"simsearch/dataset"
	"simsearch/index"
)

// FactorRegression is how well the k nearest training items of a
// validation item predict one of its continuous factors: the mean of
// their values against the query's own, compared with always predicting
// the training mean.
type FactorRegression struct {
	Factor  string `json:"factor"`
	K       int    `json:"k"`
	Queries int    `json:"queries"`
	// RMSE is the root mean squared error of the neighbours' mean;
	// MeanRMSE that of the training items' mean (the baseline).
	RMSE     float64 `json:"rmse"`
	MeanRMSE float64 `json:"mean_rmse"`
	// Relative is RMSE / MeanRMSE (1: no better than the mean; 0:
	// exact), and R2 is 1 − Relative².
	Relative float64 `json:"relative_error"`
	R2       float64 `json:"r2"`
}

// regressionFactors returns the factors to regress: every continuous
// factor the items carry but the colored shapes' shape, which is a class
// stored as a number.
func regressionFactors(items *itemLabels) []int {
	var out []int
	for f, name := range items.factorNames {
		if _, ok := items.schema.Label(name); !ok && dataset.LabelClasses(name) > 0 {
			continue
		}
		out = append(out, f)
	}
	return out
}

// scoreRegression measures, for every factor to regress, the k-NN
// regression of the queries' values from their neighbours'.
func scoreRegression(items *itemLabels, queries, train []index.ItemID, neighbours [][]index.Result, k int) []FactorRegression {
	var out []FactorRegression
	for _, f := range regressionFactors(items) {
		var sum float64
		n := 0
		for _, id := range train {
			if v := items.factor(f, id); !math.IsNaN(v) {
				sum += v
				n++
			}
		}
		if n == 0 {
			continue
		}
		trainMean := sum / float64(n)
		var se, seMean float64
		queried := 0
		for q, id := range queries {
			truth := items.factor(f, id)
			if math.IsNaN(truth) {
				continue
			}
			var s float64
			m := 0
			for _, r := range neighbours[q] {
				if v := items.factor(f, r.ID); !math.IsNaN(v) {
					s += v
					m++
				}
			}
			predicted := trainMean
			if m > 0 {
				predicted = s / float64(m)
			}
			se += (predicted - truth) * (predicted - truth)
			seMean += (trainMean - truth) * (trainMean - truth)
			queried++
		}
		if queried == 0 {
			continue
		}
		r := FactorRegression{Factor: items.factorNames[f], K: k, Queries: queried,
			RMSE: math.Sqrt(se / float64(queried)), MeanRMSE: math.Sqrt(seMean / float64(queried))}
		if r.MeanRMSE > 0 {
			r.Relative = r.RMSE / r.MeanRMSE
			r.R2 = 1 - r.Relative*r.Relative
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}
