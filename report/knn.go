package report

// LabelAccuracy is how well the k nearest training items of a validation
// item predict one of its labels.
type LabelAccuracy struct {
	Label   string `json:"label"`
	Classes int    `json:"classes"`
	K       int    `json:"k"`
	Queries int    `json:"queries"`
	// Accuracy is the share of queries whose majority vote among the k
	// nearest training items is the query's own label; Accuracy1 uses the
	// single nearest item.
	Accuracy  float64 `json:"accuracy"`
	Accuracy1 float64 `json:"accuracy_1nn"`
	// Chance is the accuracy of always answering the most frequent training
	// label (the majority-class rate).
	Chance float64 `json:"chance"`
	// Normalized is (Accuracy − Chance) / (1 − Chance): 0 at chance, 1 when
	// perfect.
	Normalized float64 `json:"normalized"`
	// Kind is "continuous" for the quantile bins of a continuous label;
	// empty for classes.
	Kind string `json:"kind,omitempty"`
	// PerClass is the k-NN accuracy of the queries of each class.
	PerClass []ClassAccuracy `json:"per_class,omitempty"`
	// Confusion[t][p] counts the queries of class t whose vote was p (a
	// last column counts those without a vote); nil for labels of more
	// than maxConfusionClasses classes.
	Confusion [][]int `json:"confusion,omitempty"`
}

// ClassAccuracy is the k-NN accuracy of the queries of one class.
type ClassAccuracy struct {
	Class    int     `json:"class"`
	Name     string  `json:"name"`
	Queries  int     `json:"queries"`
	Accuracy float64 `json:"accuracy"`
}

// maxConfusionClasses is the most classes a label's confusion table is
// given for: larger tables are more bytes than a reader reads.
const maxConfusionClasses = 50

// vote returns the most frequent label among neighbours' labels, nearest
// first; a tie goes to the label that occurs nearest. Labels below 0 mean
// unknown and do not vote; vote returns −1 when none is known.
func vote(labels []int) int {
	best, bestCount := -1, 0
	counts := make(map[int]int, len(labels))
	for _, l := range labels {
		if l >= 0 {
			counts[l]++
		}
	}
	// Walking nearest first, a strictly larger count is needed to take the
	// lead, so ties keep the nearer label.
	for _, l := range labels {
		if l >= 0 && counts[l] > bestCount {
			best, bestCount = l, counts[l]
		}
	}
	return best
}

// knnTally accumulates the k-NN votes of one label over many queries. It is
// not safe for concurrent use; merge per-worker tallies with add.
type knnTally struct {
	queries, correct, correct1 int
	// confusion[t][p] counts queries of class t voted p; column classes
	// holds those without a vote. Nil when not kept.
	confusion [][]int
}

// keepConfusion makes the tally count votes by class, for classes
// classes.
func (t *knnTally) keepConfusion(classes int) {
	t.confusion = make([][]int, classes)
	for i := range t.confusion {
		t.confusion[i] = make([]int, classes+1)
	}
}

func (t *knnTally) record(truth int, neighbours []int) {
	if truth < 0 {
		return
	}
	t.queries++
	v := vote(neighbours)
	if v == truth {
		t.correct++
	}
	if t.confusion != nil && truth < len(t.confusion) {
		row := t.confusion[truth]
		if v < 0 || v >= len(row)-1 {
			row[len(row)-1]++
		} else {
			row[v]++
		}
	}
	if len(neighbours) > 0 && neighbours[0] == truth {
		t.correct1++
	}
}

func (t *knnTally) add(o knnTally) {
	t.queries += o.queries
	t.correct += o.correct
	t.correct1 += o.correct1
	for i := range min(len(t.confusion), len(o.confusion)) {
		for j := range min(len(t.confusion[i]), len(o.confusion[i])) {
			t.confusion[i][j] += o.confusion[i][j]
		}
	}
}

// chanceLevel is the share of query labels equal to the most frequent
// training label.
func chanceLevel(trainLabels, queryLabels []int) float64 {
	counts := map[int]int{}
	for _, l := range trainLabels {
		if l >= 0 {
			counts[l]++
		}
	}
	majority, most := -1, 0
	for l, c := range counts {
		if c > most || (c == most && l < majority) {
			majority, most = l, c
		}
	}
	hits, known := 0, 0
	for _, l := range queryLabels {
		if l < 0 {
			continue
		}
		known++
		if l == majority {
			hits++
		}
	}
	if known == 0 {
		return 0
	}
	return float64(hits) / float64(known)
}

// accuracy turns a tally into a LabelAccuracy.
func (t knnTally) accuracy(label string, classes, k int, chance float64) LabelAccuracy {
	a := LabelAccuracy{Label: label, Classes: classes, K: k, Queries: t.queries, Chance: chance}
	if t.queries > 0 {
		a.Accuracy = float64(t.correct) / float64(t.queries)
		a.Accuracy1 = float64(t.correct1) / float64(t.queries)
	}
	if chance < 1 {
		a.Normalized = (a.Accuracy - chance) / (1 - chance)
	}
	for c, row := range t.confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		if n == 0 {
			continue
		}
		a.PerClass = append(a.PerClass, ClassAccuracy{Class: c, Queries: n, Accuracy: float64(row[c]) / float64(n)})
	}
	if classes <= maxConfusionClasses {
		a.Confusion = t.confusion
	}
	return a
}
