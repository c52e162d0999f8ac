package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"simsearch/dataset"
	"simsearch/index"
)

// itemLabels holds the labels, factors and split of every item of a store,
// by item id, so that neighbours can be scored without reading records.
// The labels and factors are those the items carry: the colored shapes'
// (shape, color, location, size; hue, radius, ...) or any others.
type itemLabels struct {
	// labelNames are the categorical labels found on ordinary items, the
	// colored shapes' first in their order, then the others by name;
	// labels[l][id] is label labelNames[l] of item id, or −1 when unknown.
	labelNames []string
	labels     [][]int32
	// factorNames are the continuous factors found on ordinary items, in
	// the same order; factors[f][id] is factor factorNames[f] of item id,
	// or NaN when unknown.
	factorNames []string
	factors     [][]float64
	// probe[id] is set for probe items; items added after loading are
	// probes too (only Prepare adds items, and only probes).
	probe []bool
	train []index.ItemID
	val   []index.ItemID
	// schema names the classes of the labels that are not the colored
	// shapes' own.
	schema index.LabelSchema
}

func loadItemLabels(ctx context.Context, db index.Store) (*itemLabels, error) {
	n := db.Len()
	l := &itemLabels{probe: make([]bool, n)}
	labelIndex, factorIndex := map[string]int{}, map[string]int{}
	column := func(names *[]string, index map[string]int, name string) int {
		if c, ok := index[name]; ok {
			return c
		}
		index[name] = len(*names)
		*names = append(*names, name)
		return index[name]
	}
	err := db.ForEachItem(ctx, func(it index.Item) error {
		if int(it.ID) >= n {
			return nil
		}
		if it.SetID != 0 {
			l.probe[it.ID] = true
			return nil
		}
		for name, v := range it.Labels {
			c := column(&l.labelNames, labelIndex, name)
			if c == len(l.labels) {
				l.labels = append(l.labels, filled(n, int32(-1)))
			}
			l.labels[c][it.ID] = int32(v)
		}
		for name, v := range it.Factors {
			c := column(&l.factorNames, factorIndex, name)
			if c == len(l.factors) {
				l.factors = append(l.factors, filled(n, math.NaN()))
			}
			l.factors[c][it.ID] = v
		}
		switch it.Split {
		case index.SplitTrain:
			l.train = append(l.train, it.ID)
		case index.SplitVal:
			l.val = append(l.val, it.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read item labels: %w", err)
	}
	if l.schema, err = db.LabelSchema(); err != nil {
		return nil, err
	}
	// The labels of the schema first, in its order (a labels file's
	// columns, an npz's factors), then the colored shapes'.
	var first []string
	for _, info := range l.schema.Labels {
		first = append(first, info.Name)
	}
	l.labelNames, l.labels = sortColumns(l.labelNames, l.labels, append(first, dataset.LabelNames...))
	l.factorNames, l.factors = sortColumns(l.factorNames, l.factors, append(first, dataset.FactorNames...))
	return l, nil
}

// className names class c of label i: a class name of the schema, a
// shape's name, or the number.
func (l *itemLabels) className(i, c int) string {
	name := l.labelNames[i]
	if info, ok := l.schema.Label(name); ok && c >= 0 && c < len(info.Classes) {
		return info.Classes[c]
	}
	if name == "shape" && c >= 0 && c < dataset.LabelClasses("shape") {
		return dataset.Shape(c).String()
	}
	return strconv.Itoa(c)
}

// filled returns n copies of v.
func filled[T any](n int, v T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// sortColumns orders named columns: the names of first in their order,
// then the others by name.
func sortColumns[T any](names []string, columns [][]T, first []string) ([]string, [][]T) {
	rank := func(name string) int {
		if i := slices.Index(first, name); i >= 0 {
			return i
		}
		return len(first)
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if ra, rb := rank(names[a]), rank(names[b]); ra != rb {
			return ra - rb
		}
		return strings.Compare(names[a], names[b])
	})
	sortedNames := make([]string, len(names))
	sortedColumns := make([][]T, len(names))
	for i, o := range order {
		sortedNames[i], sortedColumns[i] = names[o], columns[o]
	}
	return sortedNames, sortedColumns
}

// ordinary counts the ids that are not probe items.
func (l *itemLabels) ordinary(ids []index.ItemID) int {
	n := 0
	for _, id := range ids {
		if int(id) < len(l.probe) && !l.probe[id] {
			n++
		}
	}
	return n
}

// label returns label l of item id, or −1.
func (l *itemLabels) label(i int, id index.ItemID) int {
	if int(id) >= len(l.labels[i]) {
		return -1
	}
	return int(l.labels[i][id])
}

// factor returns factor f of item id, or NaN.
func (l *itemLabels) factor(f int, id index.ItemID) float64 {
	if int(id) >= len(l.factors[f]) {
		return math.NaN()
	}
	return l.factors[f][id]
}

// classes returns the number of classes of label l: the colored shapes'
// count for their labels, else one more than the largest class seen.
func (l *itemLabels) classes(i int) int {
	if info, ok := l.schema.Label(l.labelNames[i]); ok {
		return len(info.Classes)
	}
	if c := dataset.LabelClasses(l.labelNames[i]); c > 0 {
		return c
	}
	largest := int32(-1)
	for _, v := range l.labels[i] {
		largest = max(largest, v)
	}
	return int(largest) + 1
}

// figureDiff is the difference between a figure from the index and the
// same figure by brute force.
type figureDiff struct {
	figure string
	diff   float64
}

// knnResult is the outcome of the k-NN measurement of a space.
type knnResult struct {
	accuracies   []LabelAccuracy
	regression   []FactorRegression
	trust        Trust
	exactDiffs   []figureDiff
	queryVectors [][]float32
	grid         []GridQuery
}

// knnChunk is the number of queries between two progress reports.
const knnChunk = 2048

// maxSampleVectors is how many validation vectors feed uniformity and the
// collapse check.
const maxSampleVectors = 2000

// measureKNN lets every validation item of the space (or a sample of
// opts.Queries) query its k nearest training items, and scores each label's
// majority vote.
func measureKNN(ctx context.Context, space index.SpaceStore, items *itemLabels, opts Options, progress func(string, int, int)) (knnResult, error) {
	var res knnResult
	has := func(id index.ItemID) bool { return space.Has(id) }
	queries := slices.DeleteFunc(slices.Clone(items.val), func(id index.ItemID) bool { return !has(id) })
	train := slices.DeleteFunc(slices.Clone(items.train), func(id index.ItemID) bool { return !has(id) })
	if len(queries) == 0 || len(train) == 0 {
		return res, nil
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9ee5))
	rng.Shuffle(len(queries), func(i, j int) { queries[i], queries[j] = queries[j], queries[i] })
	if opts.Queries > 0 && len(queries) > opts.Queries {
		queries = queries[:opts.Queries]
	}
	search := index.SearchOptions{K: opts.K, Ef: opts.Ef, Method: opts.Method, Filter: index.Filter{Splits: []string{index.SplitTrain}}}

	approx := make([][]index.Result, 0, len(queries))
	for start := 0; start < len(queries); start += knnChunk {
		progress("k-NN", start, len(queries))
		batch, err := space.SearchItems(ctx, queries[start:min(start+knnChunk, len(queries))], search)
		if err != nil {
			return res, fmt.Errorf("k-NN queries: %w", err)
		}
		approx = append(approx, batch...)
	}
	progress("k-NN", len(queries), len(queries))
	res.accuracies = scoreKNN(items, queries, train, approx, opts.K)
	res.regression = scoreRegression(items, queries, train, approx, opts.K)

	// Trust: the index against exact search on (a sample of) the queries.
	checked := len(queries)
	if !opts.Exact {
		checked = min(checked, maxTrustQueries)
	}
	exactSearch := search
	exactSearch.Method = index.Exact
	exact, err := space.SearchItems(ctx, queries[:checked], exactSearch)
	if err != nil {
		return res, fmt.Errorf("exact k-NN queries: %w", err)
	}
	res.trust.Queries, res.trust.K = checked, opts.K
	res.trust.Recall, res.trust.MinRecall = index.Recall(approx[:checked], exact)
	if opts.Exact {
		for i, a := range scoreKNN(items, queries, train, exact, opts.K) {
			b := res.accuracies[i]
			res.exactDiffs = append(res.exactDiffs,
				figureDiff{"k-NN accuracy of " + a.Label, math.Abs(a.Accuracy - b.Accuracy)},
				figureDiff{"1-NN accuracy of " + a.Label, math.Abs(a.Accuracy1 - b.Accuracy1)})
		}
	}

	if !opts.NoGrid {
		for i := range min(opts.GridQueries, len(queries)) {
			res.grid = append(res.grid, GridQuery{Query: queries[i], Neighbours: approx[i]})
		}
	}
	for _, id := range queries[:min(len(queries), maxSampleVectors)] {
		v, err := space.Vector(id)
		if err != nil {
			return res, err
		}
		res.queryVectors = append(res.queryVectors, v)
	}
	return res, nil
}

// scoreKNN tallies the votes of the neighbours of queries for every label
// that some query has.
func scoreKNN(items *itemLabels, queries, train []index.ItemID, neighbours [][]index.Result, k int) []LabelAccuracy {
	var out []LabelAccuracy
	votes := make([]int, 0, k)
	for l, name := range items.labelNames {
		var tally knnTally
		classes := items.classes(l)
		tally.keepConfusion(classes)
		queryLabels := make([]int, len(queries))
		for q, id := range queries {
			queryLabels[q] = items.label(l, id)
			votes = votes[:0]
			for _, r := range neighbours[q] {
				votes = append(votes, items.label(l, r.ID))
			}
			tally.record(queryLabels[q], votes)
		}
		if tally.queries == 0 {
			continue
		}
		trainLabels := make([]int, len(train))
		for i, id := range train {
			trainLabels[i] = items.label(l, id)
		}
		a := tally.accuracy(name, classes, k, chanceLevel(trainLabels, queryLabels))
		for i := range a.PerClass {
			a.PerClass[i].Name = items.className(l, a.PerClass[i].Class)
		}
		if info, ok := items.schema.Label(name); ok && info.Kind == index.Continuous {
			a.Kind = "continuous"
		}
		out = append(out, a)
	}
	return out
}

// groupMeasure is the geometry of one probe group in one space.
type groupMeasure struct {
	vectors  [][]float32
	sets     [][]int
	geometry SetGeometry
	// exact holds the brute-force margins and geometry (with Exact).
	exact           *SetGeometry
	marginAgreement int
}

// marginTolerance is how close an index margin must be to the exact one to
// count as the same.
const marginTolerance = 1e-5

// measureGroup reads the vectors of a probe group and measures its sets:
// diameters exactly, margins from index queries restricted to the group.
func measureGroup(ctx context.Context, space index.SpaceStore, group *probeGroup, opts Options, rng *rand.Rand) (groupMeasure, error) {
	var m groupMeasure
	var ids []index.ItemID
	setOf := map[index.ItemID]int{}
	largest := 0
	for s, set := range group.sets {
		var members []int
		for _, id := range set {
			v, err := space.Vector(id)
			if err != nil {
				return m, fmt.Errorf("probe %s: %w", group.name, err)
			}
			members = append(members, len(m.vectors))
			m.vectors = append(m.vectors, v)
			ids = append(ids, id)
			setOf[id] = s
		}
		m.sets = append(m.sets, members)
		largest = max(largest, len(set))
	}
	// The k = largest nearest members of the group always include one of
	// another set: the query's own set has at most largest − 1 others.
	results, err := space.SearchItems(ctx, ids, index.SearchOptions{
		K: largest, Ef: opts.Ef, Method: opts.Method, Filter: index.Filter{Group: group.name},
	})
	if err != nil {
		return m, fmt.Errorf("margin queries of %s: %w", group.name, err)
	}
	margins := make([]float64, len(m.sets))
	for i := range margins {
		margins[i] = math.Inf(1)
	}
	for q, id := range ids {
		own := setOf[id]
		for _, r := range results[q] {
			if setOf[r.ID] != own {
				margins[own] = min(margins[own], float64(r.Distance))
				break
			}
		}
	}
	m.geometry = MeasureSets(m.vectors, m.sets, margins, rng)
	if opts.Exact {
		exact := ExactMargins(m.vectors, m.sets)
		g := MeasureSets(m.vectors, m.sets, exact, rng)
		m.exact = &g
		for i := range exact {
			if math.Abs(exact[i]-margins[i]) <= marginTolerance {
				m.marginAgreement++
			}
		}
	}
	return m, nil
}

// exactDiffs compares the index-based figures of a group with brute force.
func (m groupMeasure) exactDiffs(name string) []figureDiff {
	if m.exact == nil {
		return nil
	}
	return []figureDiff{
		{"mean margin of " + name, math.Abs(mean(m.exact.Margins) - mean(m.geometry.Margins))},
		{"separated share of " + name, math.Abs(m.exact.SeparatedShare() - m.geometry.SeparatedShare())},
	}
}

// maxPlotDistances caps the distances of each kind sampled per group.
const maxPlotDistances = 5000

// distribution describes the group's within-set and between-set distances
// by their percentiles.
func (m groupMeasure) distribution(name string) DistanceDistribution {
	rng := rand.New(rand.NewPCG(uint64(len(m.vectors)), 0x91e7))
	var within, between []float64
	for _, set := range m.sets {
		for a := range set {
			for b := a + 1; b < len(set); b++ {
				within = append(within, Distance(m.vectors[set[a]], m.vectors[set[b]]))
			}
		}
	}
	if len(within) > maxPlotDistances {
		rng.Shuffle(len(within), func(i, j int) { within[i], within[j] = within[j], within[i] })
		within = within[:maxPlotDistances]
	}
	if len(m.sets) >= 2 {
		for len(between) < maxPlotDistances {
			a, b := rng.IntN(len(m.sets)), rng.IntN(len(m.sets))
			if a == b {
				continue
			}
			sa, sb := m.sets[a], m.sets[b]
			between = append(between, Distance(m.vectors[sa[rng.IntN(len(sa))]], m.vectors[sb[rng.IntN(len(sb))]]))
		}
	}
	return DistanceDistribution{Group: name, Within: percentiles(within), Between: percentiles(between)}
}

// percentiles returns the 0th to 100th percentiles of values (nearest
// rank), or nil for none.
func percentiles(values []float64) []float64 {
	if len(values) == 0 {
		return nil
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	out := make([]float64, 101)
	for q := range out {
		out[q] = sorted[min(len(sorted)-1, q*len(sorted)/100)]
	}
	return out
}
