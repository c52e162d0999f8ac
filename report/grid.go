package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"simsearch/dataset"
	"simsearch/index"
)

// FactorGrid says whether the stored items of a space form a factor grid
// (every combination of some categorical labels, each combination one
// image, as in dSprites), from which interventions are drawn without a
// generator: for each factor, groups of items equal in every other label.
type FactorGrid struct {
	// Labels are the categorical labels every item carries, with at
	// least two classes among them: the grid's factors.
	Labels []string `json:"labels"`
	// Items is the number of ordinary items of the space; Combinations the
	// distinct combinations of the labels among them, out of Possible
	// (the product of the labels' class counts): Coverage.
	Items        int     `json:"items"`
	Combinations int     `json:"combinations"`
	Possible     float64 `json:"possible"`
	Coverage     float64 `json:"coverage"`
	// ItemsPerCombination is Items / Combinations: 1 in a grid, where the
	// labels determine the image.
	ItemsPerCombination float64 `json:"items_per_combination"`
	// Available tells whether interventions were drawn from the grid;
	// Reason says why not.
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	// Notes name the factors that got no intervention, and why.
	Notes []string `json:"notes,omitempty"`
}

// Thresholds of a factor grid: a grid covers at least minGridCoverage of
// its combinations (unless its labels are a factorial dataset's own, such
// as a sample of dSprites), and holds at most maxItemsPerCombination
// items per combination (otherwise the labels do not determine the
// image, and items equal in all labels but one differ in more than it).
const (
	minGridCoverage        = 0.5
	maxItemsPerCombination = 2
)

// gridSalt keeps the grid's random streams apart from the others.
const gridSalt = 0x9e1d

// gridItems are the members of a space's factor grid.
type gridItems struct {
	ids    []index.ItemID
	keys   []uint64 // mixed-radix combination of each member
	labels []int    // label columns of the grid's factors
	radix  []uint64 // classes of each factor
	place  []uint64 // the factor's place value in a key
}

// findGrid looks for a factor grid in the ordinary items of space.
func findGrid(space index.SpaceStore, items *itemLabels) (*FactorGrid, *gridItems) {
	g := &FactorGrid{}
	var ids []index.ItemID
	for _, id := range space.Items() {
		if int(id) < len(items.probe) && !items.probe[id] {
			ids = append(ids, id)
		}
	}
	g.Items = len(ids)
	gi := &gridItems{ids: ids}
	allGrid := true
	var partial []string
	for l, name := range items.labelNames {
		if info, ok := items.schema.Label(name); ok && info.Kind == index.Continuous {
			continue
		}
		known, distinct := 0, map[int32]bool{}
		for _, id := range ids {
			if v := items.labels[l][id]; v >= 0 {
				known++
				distinct[v] = true
			}
		}
		switch {
		case known == 0 || len(distinct) < 2:
			continue
		case known < len(ids):
			partial = append(partial, name)
			continue
		}
		info, _ := items.schema.Label(name)
		allGrid = allGrid && info.Grid
		g.Labels = append(g.Labels, name)
		gi.labels = append(gi.labels, l)
		gi.radix = append(gi.radix, uint64(items.classes(l)))
	}
	if len(partial) > 0 {
		g.Notes = append(g.Notes, fmt.Sprintf("%s: not carried by every item, so not a factor of the grid", strings.Join(partial, ", ")))
	}
	if len(g.Labels) < 2 {
		g.Reason = fmt.Sprintf("interventions from stored items need a factor grid: two or more categorical labels that every item carries, each combination one image (as in dSprites); these items carry %d such label(s)%s", len(g.Labels), listOf(g.Labels))
		return g, nil
	}
	possible := 1.0
	place := uint64(1)
	for _, r := range gi.radix {
		gi.place = append(gi.place, place)
		possible *= float64(r)
		place *= r
	}
	g.Possible = possible
	if possible > 1<<62 {
		g.Reason = fmt.Sprintf("the labels %s have %.3g combinations, too many to be a grid", strings.Join(g.Labels, ", "), possible)
		return g, nil
	}
	combos := make(map[uint64]int32, len(ids))
	gi.keys = make([]uint64, len(ids))
	for i, id := range ids {
		var key uint64
		for j, l := range gi.labels {
			key += uint64(items.labels[l][id]) * gi.place[j]
		}
		gi.keys[i] = key
		combos[key]++
	}
	g.Combinations = len(combos)
	g.Coverage = float64(len(combos)) / possible
	g.ItemsPerCombination = float64(len(ids)) / float64(len(combos))
	switch {
	case g.ItemsPerCombination > maxItemsPerCombination:
		g.Reason = fmt.Sprintf("the labels %s do not determine the image: %.1f items share each combination on average, so items equal in every label but one differ in more than that label", strings.Join(g.Labels, ", "), g.ItemsPerCombination)
		return g, nil
	case !allGrid && g.Coverage < minGridCoverage:
		g.Reason = fmt.Sprintf("the items cover %.1f%% of the %.0f combinations of %s, too few for a factor grid (at least %.0f%%)", 100*g.Coverage, possible, strings.Join(g.Labels, ", "), 100*minGridCoverage)
		return g, nil
	}
	g.Available = true
	return g, gi
}

func listOf(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// measureGrid draws, for each factor of the grid, up to opts.Bases groups
// of items equal in every other label, up to opts.Variants members each
// with distinct values of the factor, and measures them; margins are
// exact. Factors with fewer than two such groups get a note.
func measureGrid(ctx context.Context, space index.SpaceStore, g *FactorGrid, gi *gridItems, opts Options, rng *rand.Rand, progress func(string, int, int)) ([]Intervention, []DistanceDistribution, error) {
	var out []Intervention
	var dists []DistanceDistribution
	for j, name := range g.Labels {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		progress("interventions", j, len(g.Labels))
		digit := func(key uint64) uint64 { return key / gi.place[j] % gi.radix[j] }
		groups := map[uint64][]int{}
		for i, key := range gi.keys {
			k := key - digit(key)*gi.place[j]
			groups[k] = append(groups[k], i)
		}
		var usable []uint64
		for k, members := range groups {
			first := digit(gi.keys[members[0]])
			if slices.ContainsFunc(members, func(i int) bool { return digit(gi.keys[i]) != first }) {
				usable = append(usable, k)
			}
		}
		if len(usable) < 2 {
			g.Notes = append(g.Notes, fmt.Sprintf("%s: %d group(s) of items equal in every other label, too few for an intervention", name, len(usable)))
			continue
		}
		slices.Sort(usable)
		pick := rand.New(rand.NewPCG(opts.Seed^gridSalt, uint64(j)))
		pick.Shuffle(len(usable), func(a, b int) { usable[a], usable[b] = usable[b], usable[a] })
		usable = usable[:min(len(usable), opts.Bases)]
		var vectors [][]float32
		var sets [][]int
		for _, k := range usable {
			members := slices.Clone(groups[k])
			pick.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
			seen := map[uint64]bool{}
			var set []int
			for _, i := range members {
				if d := digit(gi.keys[i]); !seen[d] && len(set) < opts.Variants {
					seen[d] = true
					v, err := space.Vector(gi.ids[i])
					if err != nil {
						return nil, nil, err
					}
					set = append(set, len(vectors))
					vectors = append(vectors, v)
				}
			}
			sets = append(sets, set)
		}
		geometry := MeasureSets(vectors, sets, ExactMargins(vectors, sets), rng)
		out = append(out, Intervention{Factor: name, Source: "stored grid", Groups: newGroups(geometry)})
		dists = append(dists, groupMeasure{vectors: vectors, sets: sets}.distribution(name))
	}
	progress("interventions", len(g.Labels), len(g.Labels))
	return out, dists, nil
}

// coloredShapes reports whether the labels the ordinary items of space
// carry are the colored shapes' own (or none): such a space is measured
// with generated probes.
func (l *itemLabels) coloredShapes(space index.SpaceStore) bool {
	ids := space.Items()
	for i, name := range l.labelNames {
		if slices.Contains(dataset.LabelNames, name) {
			continue
		}
		for _, id := range ids {
			if int(id) < len(l.labels[i]) && !l.probe[id] && l.labels[i][id] >= 0 {
				return false
			}
		}
	}
	return true
}

// judgeLabels gives the verdicts of a space measured on its own labels:
// one per label, from its k-NN score and, where the grid gave one, its
// intervention sensitivity.
func judgeLabels(sr *SpaceReport, t Thresholds) []FactorVerdict {
	var out []FactorVerdict
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		v := FactorVerdict{Factor: name, NoIntervention: true}
		sensitivity := math.NaN()
		for _, iv := range sr.Interventions {
			if iv.Factor == name {
				v.Sensitivity, v.NoIntervention = iv.Sensitivity, false
				sensitivity = iv.Sensitivity
			}
		}
		for _, a := range sr.KNN {
			if a.Label == name && a.Queries > 0 {
				score := a.Normalized
				v.Score = &score
			}
		}
		v.Verdict = t.Judge(sensitivity, scoreOf(v.Score), v.Score != nil)
		out = append(out, v)
	}
	for _, a := range sr.KNN {
		add(a.Label)
	}
	for _, iv := range sr.Interventions {
		add(iv.Factor)
	}
	return out
}
