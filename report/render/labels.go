package render

import (
	"fmt"
	"strings"

	"simsearch/report"
)

// columns are the factors of the comparison tables: those of every
// space's verdicts, in order of first appearance (the colored shapes'
// factors, for a report on them).
func columns(r *report.Report) []string {
	var names []string
	seen := map[string]bool{}
	for _, sr := range r.Spaces {
		for _, v := range sr.Verdicts {
			if !seen[v.Factor] {
				seen[v.Factor] = true
				names = append(names, v.Factor)
			}
		}
	}
	if len(names) == 0 {
		return factorNames()
	}
	return names
}

// maxPerClassShown is the most classes whose accuracy the Markdown lists
// for one label; report.json has them all.
const maxPerClassShown = 12

// writeKNNDetails writes the per-class accuracies and the k-NN regression
// of continuous factors.
func writeKNNDetails(b *strings.Builder, sr *report.SpaceReport) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	var lines []string
	for _, a := range sr.KNN {
		if len(a.PerClass) == 0 {
			continue
		}
		parts := make([]string, 0, min(len(a.PerClass), maxPerClassShown))
		for i, c := range a.PerClass {
			if i == maxPerClassShown {
				parts = append(parts, fmt.Sprintf("… %d more in report.json", len(a.PerClass)-maxPerClassShown))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %.2f", c.Name, c.Accuracy))
		}
		kind := ""
		if a.Kind == "continuous" {
			kind = " (quantile bins)"
		}
		lines = append(lines, fmt.Sprintf("- %s%s: %s", a.Label, kind, strings.Join(parts, ", ")))
	}
	if len(lines) > 0 {
		p("k-NN accuracy per class (the confusion tables are in report.json):\n\n%s\n\n", strings.Join(lines, "\n"))
	}
	if len(sr.Regression) > 0 {
		p("k-NN regression of the continuous factors: the mean of the %d neighbours' values against the query's, and always predicting the training mean (relative error 1: the neighbours know no more than the mean; 0: exact).\n\n", sr.Regression[0].K)
		p("| factor | queries | RMSE | RMSE of the mean | relative error | R² |\n|---|---|---|---|---|---|\n")
		for _, g := range sr.Regression {
			p("| %s | %d | %.4g | %.4g | %.3f | %.3f |\n", g.Factor, g.Queries, g.RMSE, g.MeanRMSE, g.Relative, g.R2)
		}
		p("\n")
	}
}

// writeGridIntro says where the interventions of a space measured on its
// own labels come from, or why it has none.
func writeGridIntro(b *strings.Builder, g *report.FactorGrid) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if !g.Available {
		p("Not available for this data: %s. The verdicts rest on the k-NN accuracies alone.\n\n", g.Reason)
	} else {
		p("Drawn from the stored items, which form a factor grid of %s: %d items cover %d of the %.0f combinations (%.1f%%, %.2f items each). Each set is a group of items equal in every label but the factor. Sensitivity = mean distance within a set / mean distance between sets: 0 when the factor is ignored; margins are exact.\n\n",
			strings.Join(g.Labels, ", "), g.Items, g.Combinations, g.Possible, 100*g.Coverage, g.ItemsPerCombination)
	}
	for _, n := range g.Notes {
		p("- %s\n", n)
	}
	if len(g.Notes) > 0 {
		p("\n")
	}
}

// ownLabels reports whether every space was measured on labels of its
// own (not the colored shapes').
func ownLabels(r *report.Report) bool {
	for _, sr := range r.Spaces {
		if sr.FactorGrid == nil {
			return false
		}
	}
	return len(r.Spaces) > 0
}

// anyInterventions reports whether some space has interventions.
func anyInterventions(r *report.Report) bool {
	for _, sr := range r.Spaces {
		if len(sr.Interventions) > 0 {
			return true
		}
	}
	return false
}
