package report

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"

	"simsearch/index"
)

// LabelFree holds the measures of a space that need no labels (the
// effective rank, the PCA picture's axes) and the axis-aligned
// disentanglement scores, which need labels but assume one factor per
// coordinate.
type LabelFree struct {
	// Items counts the training vectors the measures were computed on.
	Items int `json:"items"`
	Dim   int `json:"dim"`
	// EffectiveRank is RankMe (Garrido et al., 2023): exp of the entropy
	// of the normalized singular values of the vectors, between 1 (every
	// vector on one line) and Dim (all directions used equally).
	EffectiveRank float64 `json:"effective_rank"`
	// MIG and SAP are per label; MeanMIG and MeanSAP their means. Both
	// score how much one coordinate alone carries a label, which an
	// encoder that rotates its features freely (a contrastive one) never
	// promises: they are secondary numbers, low for a rotated but perfectly
	// decodable code.
	MIG     []AxisScore `json:"mig,omitempty"`
	SAP     []AxisScore `json:"sap,omitempty"`
	MeanMIG float64     `json:"mean_mig"`
	MeanSAP float64     `json:"mean_sap"`
	// PCA is the projection of validation vectors on their first two
	// principal components.
	PCA *PCAProjection `json:"pca,omitempty"`
	// UnitNormError is the largest |‖v‖ − 1| of the vectors, and
	// IdentityError the largest |‖u − v‖² − 2(1 − u·v)| over pairs of
	// consecutive vectors: both 0 (to rounding) when the space holds unit
	// vectors, for which Euclidean and cosine neighbours are the same.
	UnitNormError float64 `json:"unit_norm_error"`
	IdentityError float64 `json:"identity_error"`
}

// AxisScore is an axis-aligned score of one label: the gap between the two
// coordinates that carry it best, and the best coordinate.
type AxisScore struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
	// Best and Second are the coordinates with the highest and second
	// highest per-coordinate score.
	Best   int `json:"best"`
	Second int `json:"second"`
}

// PCAProjection is the 2-d picture of a space: validation vectors,
// centred, projected on the two directions of largest variance.
type PCAProjection struct {
	// Explained is the share of the total variance along each axis.
	Explained [2]float64 `json:"explained"`
	// Points are the projected vectors (not in report.json: drawn in
	// <space>-pca.png), Labels[name][i] the class of point i (−1 when
	// unknown), in the order of LabelNames.
	Points     [][2]float64     `json:"-"`
	LabelNames []string         `json:"labels"`
	Labels     map[string][]int `json:"-"`
}

// maxPCAPoints bounds the points of the PCA picture.
const maxPCAPoints = 1500

// migBins is the number of equal-width bins a coordinate is cut into for
// MIG and SAP.
const migBins = 20

// EffectiveRank returns RankMe of the rows of x: exp(−Σ p_k log p_k) with
// p_k = σ_k / Σσ over the singular values σ of x. It uses the eigenvalues
// of xᵀx, whose square roots are the singular values.
func EffectiveRank(x *mat.Dense) float64 {
	gram := symmetric(crossProduct(x, x), 1)
	var eig mat.EigenSym
	if !eig.Factorize(gram, false) {
		return math.NaN()
	}
	var sum float64
	sigma := eig.Values(nil)
	for i, v := range sigma {
		sigma[i] = math.Sqrt(max(v, 0))
		sum += sigma[i]
	}
	if sum == 0 {
		return 0
	}
	var entropy float64
	for _, s := range sigma {
		if p := s / sum; p > 0 {
			entropy -= p * math.Log(p)
		}
	}
	return math.Exp(entropy)
}

// centred returns a copy of x with its column means subtracted.
func centred(x *mat.Dense) *mat.Dense {
	n, dim := x.Dims()
	out := mat.DenseCopyOf(x)
	for c := range dim {
		m := mat.Sum(out.ColView(c)) / float64(n)
		for r := range n {
			out.Set(r, c, out.At(r, c)-m)
		}
	}
	return out
}

// LinearCKA is the linear centred kernel alignment of two representations
// of the same items, the rows of x and y (Kornblith et al., 2019):
// ‖yᵀx‖²_F / (‖xᵀx‖_F ‖yᵀy‖_F) on centred columns. It is 1 for
// representations equal up to rotation and isotropic scaling, near 0 for
// unrelated ones. It panics if x and y have different numbers of rows.
func LinearCKA(x, y *mat.Dense) float64 {
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	if nx != ny {
		panic("report: LinearCKA needs the same items in both representations")
	}
	cx, cy := centred(x), centred(y)
	return ckaOfCentred(cx, cy, crossNorm(cx, cx), crossNorm(cy, cy))
}

// crossNorm is ‖aᵀb‖_F.
func crossNorm(a, b *mat.Dense) float64 {
	return mat.Norm(crossProduct(a, b), 2)
}

// symmetric returns scale·(m + mᵀ)/2 of a square m.
func symmetric(m *mat.Dense, scale float64) *mat.SymDense {
	dim, _ := m.Dims()
	out := mat.NewSymDense(dim, nil)
	for i := range dim {
		for j := i; j < dim; j++ {
			out.SetSym(i, j, scale*(m.At(i, j)+m.At(j, i))/2)
		}
	}
	return out
}

// ckaOfCentred is LinearCKA of centred cx and cy given ‖cxᵀcx‖_F and
// ‖cyᵀcy‖_F.
func ckaOfCentred(cx, cy *mat.Dense, xx, yy float64) float64 {
	if xx == 0 || yy == 0 {
		return 0
	}
	xy := crossNorm(cy, cx)
	return xy * xy / (xx * yy)
}

// PCA2 projects the rows of x (centred here) on their two principal
// directions and returns the points and the share of variance each
// explains.
func PCA2(x *mat.Dense) ([][2]float64, [2]float64) {
	n, dim := x.Dims()
	c := centred(x)
	cov := symmetric(crossProduct(c, c), 1/float64(max(n-1, 1)))
	var eig mat.EigenSym
	var explained [2]float64
	if dim < 2 || !eig.Factorize(cov, true) {
		return nil, explained
	}
	values := eig.Values(nil) // ascending
	var vectors mat.Dense
	eig.VectorsTo(&vectors)
	var total float64
	for _, v := range values {
		total += max(v, 0)
	}
	top := []int{dim - 1, dim - 2}
	for i, k := range top {
		if total > 0 {
			explained[i] = max(values[k], 0) / total
		}
	}
	points := make([][2]float64, n)
	for r := range n {
		row := c.RawRowView(r)
		for i, k := range top {
			var s float64
			for d := range dim {
				s += row[d] * vectors.At(d, k)
			}
			points[r][i] = s
		}
	}
	// A sign convention makes the picture reproducible: the largest
	// loading of each axis is positive.
	for i, k := range top {
		col := mat.Col(nil, k, &vectors)
		big := 0
		for d := range col {
			if math.Abs(col[d]) > math.Abs(col[big]) {
				big = d
			}
		}
		if col[big] < 0 {
			for r := range points {
				points[r][i] = -points[r][i]
			}
		}
	}
	return points, explained
}

// binned cuts each column of x into migBins equal-width bins over its
// range and returns bin numbers by column, then row.
func binned(x *mat.Dense) [][]int {
	n, dim := x.Dims()
	out := make([][]int, dim)
	for c := range dim {
		lo, hi := math.Inf(1), math.Inf(-1)
		for r := range n {
			lo, hi = min(lo, x.At(r, c)), max(hi, x.At(r, c))
		}
		out[c] = make([]int, n)
		if hi <= lo {
			continue
		}
		for r := range n {
			out[c][r] = min(migBins-1, int(float64(migBins)*(x.At(r, c)-lo)/(hi-lo)))
		}
	}
	return out
}

// mutualInformation is I(a; b) in nats of two discrete variables with
// values in [0, na) and [0, nb).
func mutualInformation(a []int, na int, b []int, nb int) float64 {
	joint := make([]float64, na*nb)
	pa, pb := make([]float64, na), make([]float64, nb)
	n := float64(len(a))
	for i := range a {
		joint[a[i]*nb+b[i]]++
		pa[a[i]]++
		pb[b[i]]++
	}
	var mi float64
	for i := range na {
		for j := range nb {
			if p := joint[i*nb+j] / n; p > 0 {
				mi += p * math.Log(p/(pa[i]/n*pb[j]/n))
			}
		}
	}
	return mi
}

// entropy is H(a) in nats of a discrete variable with values in [0, na).
func entropy(a []int, na int) float64 {
	counts := make([]float64, na)
	for _, v := range a {
		counts[v]++
	}
	var h float64
	for _, c := range counts {
		if p := c / float64(len(a)); p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h
}

// topTwo returns the indexes of the largest and second largest scores.
func topTwo(scores []float64) (best, second int) {
	best, second = 0, -1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i] > scores[best]:
			best, second = i, best
		case second < 0 || scores[i] > scores[second]:
			second = i
		}
	}
	return best, max(second, 0)
}

// MIG is the mutual information gap of a label (Chen et al., 2018): the
// difference between the two largest mutual informations of a coordinate
// (binned) with the label, over the label's entropy. It needs one
// coordinate per factor to be high.
func MIG(x *mat.Dense, y []int, classes int) AxisScore {
	return migOf(binned(x), y, classes)
}

func migOf(bins [][]int, y []int, classes int) AxisScore {
	h := entropy(y, classes)
	scores := make([]float64, len(bins))
	for c, b := range bins {
		scores[c] = mutualInformation(b, migBins, y, classes)
	}
	best, second := topTwo(scores)
	s := AxisScore{Best: best, Second: second}
	if h > 0 && len(scores) > 1 {
		s.Score = (scores[best] - scores[second]) / h
	}
	return s
}

// SAP is the separated attribute predictability of a label (Kumar et
// al., 2018): the gap between the two best accuracies of predicting the
// label from one coordinate alone, here by the majority class of each of
// migBins bins fitted on the training rows and scored on the validation
// rows.
func SAP(train *mat.Dense, trainY []int, val *mat.Dense, valY []int, classes int) AxisScore {
	n, dim := train.Dims()
	nv, _ := val.Dims()
	scores := make([]float64, dim)
	for c := range dim {
		lo, hi := math.Inf(1), math.Inf(-1)
		for r := range n {
			lo, hi = min(lo, train.At(r, c)), max(hi, train.At(r, c))
		}
		bin := func(v float64) int {
			if hi <= lo {
				return 0
			}
			return max(0, min(migBins-1, int(float64(migBins)*(v-lo)/(hi-lo))))
		}
		counts := make([]int, migBins*classes)
		for r := range n {
			counts[bin(train.At(r, c))*classes+trainY[r]]++
		}
		majority := make([]int, migBins)
		for b := range migBins {
			row := counts[b*classes : (b+1)*classes]
			majority[b] = slices.Index(row, slices.Max(row))
		}
		hits := 0
		for r := range nv {
			if majority[bin(val.At(r, c))] == valY[r] {
				hits++
			}
		}
		if nv > 0 {
			scores[c] = float64(hits) / float64(nv)
		}
	}
	best, second := topTwo(scores)
	return AxisScore{Score: scores[best] - scores[second], Best: best, Second: second}
}

// measureLabelFree computes the label-free geometry and the axis-aligned
// scores of a space on its probe data (raw, not standardized).
func measureLabelFree(d *probeData, items *itemLabels) *LabelFree {
	n, dim := d.trainX.Dims()
	g := &LabelFree{Items: n, Dim: dim, EffectiveRank: EffectiveRank(d.trainX)}
	g.UnitNormError, g.IdentityError = unitNormErrors(d.trainX)
	bins := binned(d.trainX)
	for l, name := range items.labelNames {
		trainRows, trainY := labelledRows(d.train, func(id index.ItemID) int { return items.label(l, id) })
		valRows, valY := labelledRows(d.val, func(id index.ItemID) int { return items.label(l, id) })
		if len(trainRows) < 10 || len(valRows) == 0 {
			continue
		}
		classes := items.classes(l)
		labelBins := make([][]int, dim)
		for c := range dim {
			labelBins[c] = pickInts(bins[c], trainRows)
		}
		m := migOf(labelBins, trainY, classes)
		m.Label = name
		s := SAP(selectRows(d.trainX, trainRows), trainY, selectRows(d.valX, valRows), valY, classes)
		s.Label = name
		g.MIG, g.SAP = append(g.MIG, m), append(g.SAP, s)
		g.MeanMIG += m.Score
		g.MeanSAP += s.Score
	}
	if n := len(g.MIG); n > 0 { // the means are over the labels measured
		g.MeanMIG /= float64(n)
		g.MeanSAP /= float64(n)
	}
	rows := min(len(d.val), maxPCAPoints)
	if rows >= 3 && dim >= 2 {
		pick := make([]int, rows)
		for i := range pick {
			pick[i] = i
		}
		points, explained := PCA2(selectRows(d.valX, pick))
		g.PCA = &PCAProjection{Explained: explained, Points: points, LabelNames: slices.Clone(items.labelNames), Labels: map[string][]int{}}
		for l, name := range items.labelNames {
			classes := make([]int, rows)
			for i := range rows {
				classes[i] = items.label(l, d.val[i])
			}
			g.PCA.Labels[name] = classes
		}
	}
	return g
}

// labelledRows returns the rows of ids whose label is known, and the
// labels.
func labelledRows(ids []index.ItemID, label func(index.ItemID) int) ([]int, []int) {
	var rows, labels []int
	for i, id := range ids {
		if c := label(id); c >= 0 {
			rows, labels = append(rows, i), append(labels, c)
		}
	}
	return rows, labels
}

// CKATable holds the linear CKA between every pair of spaces of a report,
// over the same validation items.
type CKATable struct {
	Spaces []string `json:"spaces"`
	// Items counts the items every space has a vector of that CKA was
	// computed over.
	Items int `json:"items"`
	// Values[i][j] is LinearCKA of spaces i and j (1 on the diagonal).
	Values [][]float64 `json:"values"`
	// Seconds is the time it took (not in report.json).
	Seconds float64 `json:"-"`
}

// maxCKAItems bounds the items CKA is computed over.
const maxCKAItems = 5000

// measureCKA computes the CKA table of the spaces names of st over a
// seeded sample of the validation items (the training items when there
// are none) that every space holds; nil for fewer than two spaces.
func measureCKA(ctx context.Context, st index.Store, names []string, items *itemLabels, seed uint64) (*CKATable, error) {
	if len(names) < 2 {
		return nil, nil
	}
	start := time.Now()
	var all []index.SpaceStore
	for _, name := range names {
		s, err := st.Space(name)
		if err != nil {
			return nil, err
		}
		all = append(all, s)
	}
	pool := items.val
	if len(pool) == 0 {
		pool = items.train
	}
	common := slices.DeleteFunc(slices.Clone(pool), func(id index.ItemID) bool {
		for _, s := range all {
			if !s.Has(id) {
				return true
			}
		}
		return false
	})
	if len(common) < 3 {
		return nil, nil
	}
	if len(common) > maxCKAItems {
		rng := rand.New(rand.NewPCG(seed, 0xc4a))
		rng.Shuffle(len(common), func(i, j int) { common[i], common[j] = common[j], common[i] })
		common = common[:maxCKAItems]
		slices.Sort(common)
	}
	matrices := make([]*mat.Dense, len(all))
	selfNorms := make([]float64, len(all))
	for i, s := range all {
		x, err := vectorMatrix(ctx, s, common)
		if err != nil {
			return nil, err
		}
		matrices[i] = centred(x)
		selfNorms[i] = crossNorm(matrices[i], matrices[i])
	}
	t := &CKATable{Spaces: names, Items: len(common), Values: make([][]float64, len(names))}
	for i := range names {
		t.Values[i] = make([]float64, len(names))
		t.Values[i][i] = 1
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			v := ckaOfCentred(matrices[i], matrices[j], selfNorms[i], selfNorms[j])
			t.Values[i][j], t.Values[j][i] = v, v
		}
	}
	t.Seconds = time.Since(start).Seconds()
	return t, nil
}

// unitNormErrors returns the largest |‖v‖ − 1| over the rows of x and the
// largest |‖u − v‖² − 2(1 − u·v)| over pairs of consecutive rows.
func unitNormErrors(x *mat.Dense) (norm, identity float64) {
	n, _ := x.Dims()
	for r := range n {
		u := x.RawRowView(r)
		norm = max(norm, math.Abs(math.Sqrt(floats64Dot(u, u))-1))
		if r+1 < n {
			v := x.RawRowView(r + 1)
			var d2 float64
			for i := range u {
				d2 += (u[i] - v[i]) * (u[i] - v[i])
			}
			identity = max(identity, math.Abs(d2-2*(1-floats64Dot(u, v))))
		}
	}
	return norm, identity
}

func floats64Dot(u, v []float64) float64 {
	var s float64
	for i := range u {
		s += u[i] * v[i]
	}
	return s
}
