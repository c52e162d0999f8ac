package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/viterin/vek/vek32"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"simsearch/dataset"
	"simsearch/index"
)

// LabelProbe is how well a linear map of a space's vectors decodes one
// label: a multinomial logistic regression with an L2 penalty, fitted on
// training items and scored on validation items. A label can be decodable
// without deciding who is near whom: a perfect autoencoder's code holds
// colour (some h extracts it), yet other factors may dominate its
// distances.
type LabelProbe struct {
	Label   string `json:"label"`
	Classes int    `json:"classes"`
	// Train and Validation count the items fitted and scored.
	Train      int `json:"train"`
	Validation int `json:"validation"`
	// L2 is the penalty chosen on a held-out part of the training items.
	L2 float64 `json:"l2"`
	// Accuracy is the share of validation items whose most probable class
	// is their own; Chance the majority-class rate; Normalized is
	// (Accuracy − Chance) / (1 − Chance).
	Accuracy   float64 `json:"accuracy"`
	Chance     float64 `json:"chance"`
	Normalized float64 `json:"normalized"`
}

// FactorProbe is how well a linear map of a space's vectors decodes one
// continuous factor: a ridge regression, fitted on training items and
// scored on validation items by R².
type FactorProbe struct {
	Factor string `json:"factor"`
	// Target says what is regressed: the value itself, (cos 2πh, sin 2πh)
	// for hue, (cos kθ, sin kθ) for the rotation of a k-fold symmetric
	// shape (circles, which look the same at every angle, are left out).
	Target     string  `json:"target"`
	Train      int     `json:"train"`
	Validation int     `json:"validation"`
	L2         float64 `json:"l2"`
	// R2 is 1 − Σ squared error / Σ squared deviation from the validation
	// mean, over the target's coordinates: 1 is exact, 0 no better than a
	// constant.
	R2 float64 `json:"r2"`
}

// Probe limits: by default (Options.ProbeItems) the probes are fitted on
// a seeded sample of at most maxProbeTrain training items and scored on as
// many validation items, which keeps n/d large for d ≤ 512.
const (
	maxProbeTrain = 5000
	// maxProbeClasses is the most classes a label's probe is fitted for:
	// its cost grows with the classes, and a label of more classes than
	// this has too few items per class at maxProbeTrain to fit anyway.
	maxProbeClasses = 100
	// probeHeldOut is the share of the fitted items held out to choose L2.
	probeHeldOut = 0.2
	// probeIterations is the number of L-BFGS iterations of the final
	// logistic regression, probeSweepIterations that of each fit of the
	// penalty sweep (warm-started from the previous one): fixed, so that
	// a probe is deterministic and its cost known.
	probeIterations      = 40
	probeSweepIterations = 20
)

// probeL2 are the penalties tried, largest first (on standardized
// features; the logistic loss is a mean over items).
var probeL2 = []float64{1e-1, 1e-2, 1e-3}

// probeData holds the vectors of the probe items.
type probeData struct {
	train, val   []index.ItemID
	trainX, valX *mat.Dense
}

// loadProbeData reads the vectors of a seeded sample of the training and
// validation items of space; nil when there are too few.
func loadProbeData(ctx context.Context, space index.SpaceStore, items *itemLabels, seed uint64, probeItems int) (*probeData, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9b0e))
	pick := func(ids []index.ItemID, n int) []index.ItemID {
		out := slices.DeleteFunc(slices.Clone(ids), func(id index.ItemID) bool { return !space.Has(id) })
		if len(out) > n {
			rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			out = out[:n]
			slices.Sort(out)
		}
		return out
	}
	d := &probeData{train: pick(items.train, probeItems), val: pick(items.val, probeItems)}
	if len(d.train) < 10 || len(d.val) == 0 {
		return nil, nil
	}
	var err error
	if d.trainX, err = vectorMatrix(ctx, space, d.train); err != nil {
		return nil, err
	}
	if d.valX, err = vectorMatrix(ctx, space, d.val); err != nil {
		return nil, err
	}
	return d, nil
}

// vectorMatrix reads the vectors of ids as the rows of a matrix.
func vectorMatrix(ctx context.Context, space index.SpaceStore, ids []index.ItemID) (*mat.Dense, error) {
	flat, err := space.Vectors(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read vectors: %w", err)
	}
	data := make([]float64, len(flat))
	for i, x := range flat {
		data[i] = float64(x)
	}
	return mat.NewDense(len(ids), space.Dim(), data), nil
}

// standardize centres the columns of train and others on train's means and
// scales them by train's standard deviations (constant columns are left
// at 0).
func standardize(train *mat.Dense, others ...*mat.Dense) {
	n, dim := train.Dims()
	for c := range dim {
		var sum, sq float64
		for r := range n {
			x := train.At(r, c)
			sum += x
			sq += x * x
		}
		m := sum / float64(n)
		std := math.Sqrt(max(sq/float64(n)-m*m, 0))
		scale := 0.0
		if std > 1e-12 {
			scale = 1 / std
		}
		for _, x := range append([]*mat.Dense{train}, others...) {
			rows, _ := x.Dims()
			for r := range rows {
				x.Set(r, c, (x.At(r, c)-m)*scale)
			}
		}
	}
}

// selectRows returns the rows of x listed in rows.
func selectRows(x *mat.Dense, rows []int) *mat.Dense {
	_, dim := x.Dims()
	out := mat.NewDense(max(len(rows), 1), dim, nil)
	for i, r := range rows {
		out.SetRow(i, x.RawRowView(r))
	}
	if len(rows) == 0 {
		return nil
	}
	return out
}

// measureDecodability fits the linear probes of a space and measures its
// label-free geometry, on the same sample of vectors.
func measureDecodability(ctx context.Context, space index.SpaceStore, items *itemLabels, opts Options, sr *SpaceReport, progress func(string, int, int)) error {
	progress("probes", 0, 0)
	raw, err := loadProbeData(ctx, space, items, opts.Seed, opts.ProbeItems)
	if err != nil || raw == nil {
		return err
	}
	d := &probeData{train: raw.train, val: raw.val, trainX: mat.DenseCopyOf(raw.trainX), valX: mat.DenseCopyOf(raw.valX)}
	standardize(d.trainX, d.valX)
	if sr.Probes, sr.FactorProbes, err = measureProbes(ctx, d, items, opts); err != nil {
		return err
	}
	progress("geometry", 0, 0)
	sr.LabelFree = measureLabelFree(raw, items)
	return nil
}

// measureProbes fits the linear probes of every label and continuous
// factor of the items on d (standardized).
func measureProbes(ctx context.Context, d *probeData, items *itemLabels, opts Options) ([]LabelProbe, []FactorProbe, error) {
	var labels []LabelProbe
	for l, name := range items.labelNames {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		label := func(id index.ItemID) int { return items.label(l, id) }
		trainRows, trainY := labelledRows(d.train, label)
		valRows, valY := labelledRows(d.val, label)
		if len(trainRows) < 10 || len(valRows) == 0 || items.classes(l) > maxProbeClasses {
			continue
		}
		p := ProbeClasses(selectRows(d.trainX, trainRows), trainY, selectRows(d.valX, valRows), valY, items.classes(l), opts.Seed)
		p.Label = name
		labels = append(labels, p)
	}
	var factors []FactorProbe
	shapeFactor := slices.Index(items.factorNames, "shape")
	for _, f := range regressionFactors(items) {
		name := items.factorNames[f]
		target := func(id index.ItemID) []float64 {
			v := items.factor(f, id)
			if math.IsNaN(v) {
				return nil
			}
			switch {
			case name == "hue" && items.coloredShapesFactors():
				return []float64{math.Cos(2 * math.Pi * v), math.Sin(2 * math.Pi * v)}
			case name == "rotation" && shapeFactor >= 0:
				k := symmetryOrder(items.factor(shapeFactor, id))
				if k == 0 {
					return nil
				}
				return []float64{math.Cos(float64(k) * v), math.Sin(float64(k) * v)}
			}
			return []float64{v}
		}
		var trainRows, valRows []int
		var trainY, valY [][]float64
		for i, id := range d.train {
			if y := target(id); y != nil {
				trainRows, trainY = append(trainRows, i), append(trainY, y)
			}
		}
		for i, id := range d.val {
			if y := target(id); y != nil {
				valRows, valY = append(valRows, i), append(valY, y)
			}
		}
		if len(trainRows) < 10 || len(valRows) < 2 {
			continue
		}
		p := ProbeRegression(selectRows(d.trainX, trainRows), trainY, selectRows(d.valX, valRows), valY, opts.Seed)
		p.Factor = name
		p.Target = "value"
		switch {
		case name == "hue" && items.coloredShapesFactors():
			p.Target = "cos/sin 2πh"
		case name == "rotation" && shapeFactor >= 0:
			p.Target = "cos/sin kθ (k-fold symmetric shapes)"
		}
		factors = append(factors, p)
	}
	return labels, factors, nil
}

// coloredShapesFactors reports whether the items carry the colored
// shapes' factors (hue in [0, 1) turns on a circle).
func (l *itemLabels) coloredShapesFactors() bool {
	return slices.Contains(l.factorNames, "hue") && slices.Contains(l.factorNames, "shape")
}

// symmetryOrder returns k for a k-fold rotationally symmetric shape (the
// shape factor's class number), or 0 for a circle or unknown shape.
func symmetryOrder(shape float64) int {
	switch dataset.Shape(int(shape)) {
	case dataset.Square:
		return 4
	case dataset.Triangle:
		return 3
	}
	return 0
}

// heldOutSplit divides n rows into fitted and held-out ones, seeded.
func heldOutSplit(n int, seed uint64) (fit, held []int) {
	perm := rand.New(rand.NewPCG(seed, 0x4e1d)).Perm(n)
	cut := max(1, int(math.Round(probeHeldOut*float64(n))))
	held, fit = perm[:cut], perm[cut:]
	slices.Sort(fit)
	slices.Sort(held)
	return fit, held
}

// ProbeClasses fits a multinomial logistic regression of trainY (classes
// 0 … classes−1) on the rows of trainX, with the L2 penalty of probeL2
// that gives the best accuracy on a seeded held-out fifth of the rows,
// then refits on all rows and scores the rows of valX. Features should be
// standardized. It panics if the rows and labels differ in number.
func ProbeClasses(trainX *mat.Dense, trainY []int, valX *mat.Dense, valY []int, classes int, seed uint64) LabelProbe {
	n, _ := trainX.Dims()
	nv, _ := valX.Dims()
	if n != len(trainY) || nv != len(valY) {
		panic("report: ProbeClasses needs one label per row")
	}
	fit, held := heldOutSplit(n, seed)
	fitRows, heldRows := newLogisticRows(selectRows(trainX, fit), classes), newLogisticRows(selectRows(trainX, held), classes)
	fitY, heldY := pickInts(trainY, fit), pickInts(trainY, held)
	// The penalties are tried from the largest down, each fit starting
	// where the previous one ended; the refit on every training row starts
	// from the chosen penalty's fit.
	best, bestAccuracy := probeL2[0], -1.0
	var w, bestW []float64
	for _, l2 := range probeL2 {
		w = fitLogistic(fitRows, fitY, classes, l2, w, probeSweepIterations)
		if a := logisticAccuracy(heldRows, heldY, classes, w); a > bestAccuracy {
			best, bestAccuracy, bestW = l2, a, slices.Clone(w)
		}
	}
	w = fitLogistic(newLogisticRows(trainX, classes), trainY, classes, best, bestW, probeIterations)
	p := LabelProbe{Classes: classes, Train: n, Validation: nv, L2: best,
		Accuracy: logisticAccuracy(newLogisticRows(valX, classes), valY, classes, w), Chance: chanceLevel(trainY, valY)}
	if p.Chance < 1 {
		p.Normalized = (p.Accuracy - p.Chance) / (1 - p.Chance)
	}
	return p
}

func pickInts(xs []int, rows []int) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = xs[r]
	}
	return out
}

// logisticRows holds the rows of a logistic regression in float32, in
// both layouts the products need, so that the AVX2 kernels of vek32 run
// along the long dimension (items, then features).
type logisticRows struct {
	n, dim  int
	x       []float32 // n × dim
	xt      []float32 // dim × n
	scores  []float32 // classes × n
	weights []float32 // classes × dim
	grad    []float32 // classes × dim
}

func newLogisticRows(x *mat.Dense, classes int) *logisticRows {
	n, dim := x.Dims()
	r := &logisticRows{n: n, dim: dim, x: make([]float32, n*dim), xt: make([]float32, dim*n),
		scores: make([]float32, classes*n), weights: make([]float32, classes*dim), grad: make([]float32, classes*dim)}
	for i := range n {
		for j, v := range x.RawRowView(i) {
			r.x[i*dim+j] = float32(v)
			r.xt[j*n+i] = float32(v)
		}
	}
	return r
}

// score fills r.scores with the class scores W·xᵢ + b of every row, for
// parameters w laid out as classes rows of (dim weights, bias).
func (r *logisticRows) score(classes int, w []float64) {
	for c := range classes {
		for j := range r.dim {
			r.weights[c*r.dim+j] = float32(w[c*(r.dim+1)+j])
		}
	}
	vek32.MatMul_Into(r.scores, r.weights, r.xt, r.dim)
	for c := range classes {
		vek32.AddNumber_Inplace(r.scores[c*r.n:(c+1)*r.n], float32(w[c*(r.dim+1)+r.dim]))
	}
}

// fitLogistic minimizes the mean cross-entropy of a softmax over the
// class scores plus l2/2 ‖W‖² (the biases are not penalized) by
// iterations L-BFGS iterations from start (zero when nil), and returns
// the parameters.
func fitLogistic(rows *logisticRows, y []int, classes int, l2 float64, start []float64, iterations int) []float64 {
	n, dim := rows.n, rows.dim
	size := (dim + 1) * classes
	var lastX []float64
	var lastLoss float64
	lastGrad := make([]float64, size)
	top, own, sum, logSum := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	evaluate := func(w []float64) {
		if lastX != nil && slices.Equal(lastX, w) {
			return
		}
		lastX = append(lastX[:0], w...)
		rows.score(classes, w)
		// The scores become the gradient of the loss by the scores,
		// (softmax − one-hot) / n, with log-sum-exp for the loss, class
		// row by class row on vek32's kernels.
		s := rows.scores
		copy(top, s[:n])
		for c := 1; c < classes; c++ {
			row := s[c*n : (c+1)*n]
			for i, v := range row {
				top[i] = max(top[i], v)
			}
		}
		for i := range n {
			own[i] = s[y[i]*n+i] - top[i]
		}
		clear(sum)
		for c := range classes {
			row := s[c*n : (c+1)*n]
			vek32.Sub_Inplace(row, top)
			vek32.Exp_Inplace(row)
			vek32.Add_Inplace(sum, row)
		}
		copy(logSum, sum)
		vek32.Log_Inplace(logSum)
		var loss float64
		for i := range n {
			loss += float64(logSum[i]) - float64(own[i])
		}
		vek32.MulNumber_Inplace(sum, float32(n))
		for c := range classes {
			vek32.Div_Inplace(s[c*n:(c+1)*n], sum)
		}
		for i := range n {
			s[y[i]*n+i] -= 1 / float32(n)
		}
		loss /= float64(n)
		vek32.MatMul_Into(rows.grad, s, rows.x, n)
		for c := range classes {
			for j := range dim {
				k := c*(dim+1) + j
				lastGrad[k] = float64(rows.grad[c*dim+j]) + l2*w[k]
				loss += l2 / 2 * w[k] * w[k]
			}
			lastGrad[c*(dim+1)+dim] = float64(vek32.Sum(s[c*n : (c+1)*n]))
		}
		lastLoss = loss
	}
	problem := optimize.Problem{
		Func: func(w []float64) float64 { evaluate(w); return lastLoss },
		Grad: func(grad, w []float64) { evaluate(w); copy(grad, lastGrad) },
	}
	init := make([]float64, size)
	if start != nil {
		copy(init, start)
	}
	result, err := optimize.Minimize(problem, init, &optimize.Settings{
		MajorIterations: iterations, Converger: optimize.NeverTerminate{},
	}, &optimize.LBFGS{})
	if result == nil || err != nil && len(result.X) != size {
		return init
	}
	return result.X
}

// logisticAccuracy is the share of rows whose highest score is y's.
func logisticAccuracy(rows *logisticRows, y []int, classes int, w []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	rows.score(classes, w)
	hits := 0
	for i := range y {
		best := 0
		for c := 1; c < classes; c++ {
			if rows.scores[c*rows.n+i] > rows.scores[best*rows.n+i] {
				best = c
			}
		}
		if best == y[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(y))
}

// ProbeRegression fits a ridge regression of the rows of trainY on the
// rows of trainX, with the L2 penalty of probeL2 (times the number of
// rows) that gives the best R² on a seeded held-out fifth of the rows,
// then refits on all rows and returns the R² on valX, valY. Features
// should be standardized. It panics if rows and targets differ in number.
func ProbeRegression(trainX *mat.Dense, trainY [][]float64, valX *mat.Dense, valY [][]float64, seed uint64) FactorProbe {
	n, _ := trainX.Dims()
	nv, _ := valX.Dims()
	if n != len(trainY) || nv != len(valY) {
		panic("report: ProbeRegression needs one target per row")
	}
	fit, held := heldOutSplit(n, seed)
	best, bestR2 := probeL2[0], math.Inf(-1)
	fitX, fitY := selectRows(trainX, fit), targetMatrix(trainY, fit)
	heldX, heldY := selectRows(trainX, held), targetMatrix(trainY, held)
	// The fitted rows' Gram matrix is every row's less the held-out ones'.
	gramAll := crossProduct(trainX, trainX)
	gramFit := mat.NewDense(gramAll.RawMatrix().Rows, gramAll.RawMatrix().Cols, nil)
	gramFit.Sub(gramAll, crossProduct(heldX, heldX))
	for _, l2 := range probeL2 {
		w, offset := fitRidge(fitX, fitY, gramFit, l2)
		if r2 := ridgeR2(heldX, heldY, w, offset); r2 > bestR2 {
			best, bestR2 = l2, r2
		}
	}
	w, offset := fitRidge(trainX, targetMatrix(trainY, nil), gramAll, best)
	return FactorProbe{Train: n, Validation: nv, L2: best, R2: ridgeR2(valX, targetMatrix(valY, nil), w, offset)}
}

// targetMatrix returns the targets of rows (all when nil) as a matrix.
func targetMatrix(y [][]float64, rows []int) *mat.Dense {
	if rows == nil {
		rows = make([]int, len(y))
		for i := range rows {
			rows[i] = i
		}
	}
	out := mat.NewDense(len(rows), len(y[0]), nil)
	for i, r := range rows {
		out.SetRow(i, y[r])
	}
	return out
}

// fitRidge solves (XᵀX + l2·n·I) W = Xᵀ(Y − ȳ), given the Gram matrix
// XᵀX, on columns of X centred by the caller (standardized) and returns W
// and ȳ.
func fitRidge(x, y, gramX *mat.Dense, l2 float64) (*mat.Dense, []float64) {
	n, dim := x.Dims()
	_, outs := y.Dims()
	offset := make([]float64, outs)
	for c := range outs {
		offset[c] = mat.Sum(y.ColView(c)) / float64(n)
	}
	centred := mat.DenseCopyOf(y)
	for r := range n {
		row := centred.RawRowView(r)
		for c := range row {
			row[c] -= offset[c]
		}
	}
	gram := symmetric(gramX, 1)
	for i := range dim {
		gram.SetSym(i, i, gram.At(i, i)+l2*float64(n))
	}
	rhs := crossProduct(x, centred)
	var chol mat.Cholesky
	w := mat.NewDense(dim, outs, nil)
	if !chol.Factorize(gram) {
		return w, offset // l2 > 0 makes this unreachable
	}
	if err := chol.SolveTo(w, rhs); err != nil {
		return mat.NewDense(dim, outs, nil), offset
	}
	return w, offset
}

// ridgeR2 is 1 − Σ (y − ŷ)² / Σ (y − mean y)² over every coordinate.
func ridgeR2(x, y, w *mat.Dense, offset []float64) float64 {
	n, outs := y.Dims()
	var predicted mat.Dense
	predicted.Mul(x, w)
	var se, st float64
	for c := range outs {
		m := mat.Sum(y.ColView(c)) / float64(n)
		for r := range n {
			truth := y.At(r, c)
			e := predicted.At(r, c) + offset[c] - truth
			se += e * e
			st += (truth - m) * (truth - m)
		}
	}
	if st == 0 {
		return 0
	}
	return 1 - se/st
}

// crossProduct returns aᵀb, computed in float32 by vek32's AVX2 kernel
// along the rows of b (the products of probes, geometry and CKA are
// their costly part; float32 keeps about 6 significant digits, more than
// the figures print).
func crossProduct(a, b *mat.Dense) *mat.Dense {
	n, da := a.Dims()
	nb, db := b.Dims()
	if n != nb {
		panic("report: crossProduct needs matrices with the same rows")
	}
	at := make([]float32, da*n)
	for i := range n {
		for j, v := range a.RawRowView(i) {
			at[j*n+i] = float32(v)
		}
	}
	bf := make([]float32, n*db)
	for i := range n {
		for j, v := range b.RawRowView(i) {
			bf[i*db+j] = float32(v)
		}
	}
	product := vek32.MatMul(at, bf, n)
	out := mat.NewDense(da, db, nil)
	for i := range da {
		for j := range db {
			out.Set(i, j, float64(product[i*db+j]))
		}
	}
	return out
}
