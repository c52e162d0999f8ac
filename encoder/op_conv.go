package encoder

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"simsearch/encoder/internal/gemm"
)

// convOp is a convolution of NHWC images (batch, height, width, channels)
// with a weight matrix of outC rows by K = kernel²·inC columns (kernel row,
// kernel column, input channel) and a bias of outC, followed by a ReLU if
// relu is set. A fully connected layer is a convOp with a 1×1 kernel over
// 1×1 images.
//
// Forward: for each tap class (see taps.go), im2col of the batch into one
// matrix and one product with the class's weights; then bias and ReLU in
// one pass. The im2col matrices are kept for the weight gradient when the
// op is built for training. The 3×3 and strided layers of enough channels
// run by Winograd's transform instead (winograd*.go), and the first layer
// by a layout of its images (stem.go).
type convOp struct {
	opBase
	geom    convGeom
	classes []tapClass
	relu    bool
	// inputGrad tells whether the input needs a gradient; the first layer's
	// input is data and does not.
	inputGrad bool
	// train keeps the im2col matrix for the backward pass.
	train bool
	ws    *workspace
	cols  []any // per class, []T kept from the forward pass
	// packedW and classW hold the weights packed for the forward products:
	// all of them, and those of one tap class (*gemm.PackedB[T]).
	packedW, classW any
	// packs, for an inference graph, holds the packings for good: its
	// weights do not change.
	packs *packCache
	// share, for a lane of a training step (lanes.go), holds the packings
	// the lanes' ops of the layer share.
	share *layerShare
	// wino is set when the layer runs as Winograd's F(2×2, 3×3)
	// (winograd.go) instead of by tap classes.
	wino *winoState
	// stem is set when the layer runs as the first layer's layout
	// (stem.go).
	stem bool
	out  buffer
}

func newConvOp(name string, g convGeom, relu, inputGrad, train bool, ws *workspace) *convOp {
	op := &convOp{opBase: newOpBase(name), geom: g, relu: relu, inputGrad: inputGrad, train: train, ws: ws}
	if op.stem = stemFits(g, inputGrad); op.stem {
		return op
	}
	if op.wino = newWinoState(g); op.wino == nil && !g.Identity() {
		op.classes = g.classes()
		op.cols = make([]any, len(op.classes))
	}
	return op
}

func (op *convOp) outShape() tensor.Shape {
	return tensor.Shape{op.geom.Batch, op.geom.OutH(), op.geom.OutW(), op.geom.OutC}
}

func (op *convOp) Arity() int     { return 3 }
func (op *convOp) Type() hm.Type  { return fnType(4, 2, 1, 4) }
func (op *convOp) String() string { return fmt.Sprintf("%s%v", op.name, op.outShape()) }

func (op *convOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape(), nil }

func (op *convOp) Do(vals ...G.Value) (G.Value, error) {
	g := op.geom
	if err := checkSize(op.name, vals[0], g.InSize()); err != nil {
		return nil, err
	}
	if err := checkSize(op.name+" weights", vals[1], g.K()*g.OutC); err != nil {
		return nil, err
	}
	if err := checkSize(op.name+" bias", vals[2], g.OutC); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), op.outShape())
	switch vals[0].Dtype() {
	case tensor.Float32:
		convForward(op, values[float32](vals[0]), values[float32](vals[1]), values[float32](vals[2]), slice[float32](out))
	case tensor.Float64:
		convForward(op, values[float64](vals[0]), values[float64](vals[1]), values[float64](vals[2]), slice[float64](out))
	default:
		return nil, fmt.Errorf("encoder: %s: unsupported dtype %v", op.name, vals[0].Dtype())
	}
	return out, nil
}

func convForward[T float](op *convOp, x, w, b, y []T) {
	g := op.geom
	switch {
	case op.stem:
		stemForward(op, x, w, b, y)
		return
	case g.Identity():
		gemm.Gemm(false, true, g.Rows(), g.OutC, g.K(), 1, x, g.K(), w, g.K(), 0, y, g.OutC)
	case op.wino != nil:
		winoForward(op, x, w, y)
	default:
		convClassesForward(op, x, w, y)
	}
	parallel(g.Rows(), 1<<14/g.OutC+1, func(lo, hi int) {
		biasActivate(y[lo*g.OutC:hi*g.OutC], b, op.relu)
	})
}

// convClassesForward is the product of the forward pass, one tap class at
// a time.
func convClassesForward[T float](op *convOp, x, w, y []T) {
	g := op.geom
	// The weights are packed for the products once, and each class takes
	// its taps' rows from that packing: packing them for each class's
	// product (and on each core) cost as much as the products of a small
	// batch.
	var packed *gemm.PackedB[T]
	if len(op.classes) > 0 && gemm.Backend == "go" {
		packAll := func(p *gemm.PackedB[T]) { gemm.PackB(p, true, g.K(), g.OutC, w, g.K()) }
		if op.packs != nil {
			packed = cachedPacking(op.packs, packKey{op.name, -1}, packAll)
		} else {
			packed = packedWhole[T](op)
			op.prepare(prepForward, func() { packAll(packed) })
		}
	}
	for ci, c := range op.classes {
		rows, kc := g.Batch*c.positions(), c.k(g.InC)
		if kc == 0 {
			// Windows entirely in the padding.
			out := y
			if !c.whole {
				out = scratch[T](op.ws, slotRows, rows*g.OutC)
				clear(out)
				parallel(g.Batch, 1, func(lo, hi int) { scatterRows(g, c, out, y, g.OutC, 0, lo, hi) })
			} else {
				clear(out)
			}
			continue
		}
		if packed == nil {
			convClassForward(op, ci, c, x, w, y)
			continue
		}
		wc := packed
		if kc != g.K() {
			selectTaps := func(p *gemm.PackedB[T]) { packed.SelectRows(p, classTapRows(g, c)) }
			if op.packs != nil {
				wc = cachedPacking(op.packs, packKey{op.name, ci}, selectTaps)
			} else {
				wc = packedOf[T](&op.classW)
				selectTaps(wc)
			}
		}
		// A block of rows at a time, so that the im2col rows and the
		// class's output rows are still in the cache when the product
		// reads them and when they are scattered. Training makes the
		// im2col rows again for the weight gradient rather than keep them:
		// writing them to memory and reading them back cost more.
		rowsPer := chunkRows(max(kc, g.OutC), 1)
		blocks := (rows + rowsPer - 1) / rowsPer
		if workers := blockWorkers(blocks); workers > 0 {
			// Each goroutine makes, multiplies and scatters blocks of its own.
			cols := scratch[T](op.ws, slotCols, workers*rowsPer*kc)
			var out []T
			if !c.whole {
				out = scratch[T](op.ws, slotRows, workers*rowsPer*g.OutC)
			}
			parallelBlocks(blocks, workers, func(wk, blk int) {
				r0 := blk * rowsPer
				n := min(rowsPer, rows-r0)
				a := cols[wk*rowsPer*kc:]
				classColsRows(g, c, x, a, r0, r0+n)
				if c.whole {
					gemm.GemmPackedSerial(false, n, g.OutC, kc, 1, a, kc, wc, 0, y[r0*g.OutC:], g.OutC)
					return
				}
				o := out[wk*rowsPer*g.OutC:]
				gemm.GemmPackedSerial(false, n, g.OutC, kc, 1, a, kc, wc, 0, o, g.OutC)
				scatterRowsRange(g, c, o, y, g.OutC, r0, r0+n)
			})
			continue
		}
		cols := scratch[T](op.ws, slotCols, min(rows, rowsPer)*kc)
		var out []T
		if !c.whole {
			out = scratch[T](op.ws, slotRows, min(rows, rowsPer)*g.OutC)
		}
		for r0 := 0; r0 < rows; r0 += rowsPer {
			n := min(rowsPer, rows-r0)
			parallel(n, 16, func(lo, hi int) { classColsRows(g, c, x, cols[lo*kc:], r0+lo, r0+hi) })
			if c.whole {
				gemm.GemmPacked(false, n, g.OutC, kc, 1, cols, kc, wc, 0, y[r0*g.OutC:], g.OutC)
				continue
			}
			gemm.GemmPacked(false, n, g.OutC, kc, 1, cols, kc, wc, 0, out, g.OutC)
			parallel(n, 16, func(lo, hi int) { scatterRowsRange(g, c, out[lo*g.OutC:], y, g.OutC, r0+lo, r0+hi) })
		}
	}
}

// chunkValues is the size of the blocks of rows that convolutions pass
// over several times, in values: 1 MiB of float32, which stays in the L2
// cache between the passes. Tests make it small to cut batches finely.
var chunkValues = 1 << 18

// chunkImages returns how many images of perImage values make a block of
// chunkValues.
func chunkImages(perImage int) int { return max(1, chunkValues/max(1, perImage)) }

// chunkRows returns how many rows of perRow values make a block of
// chunkValues, a multiple of unit.
func chunkRows(perRow, unit int) int { return max(1, chunkValues/max(1, perRow)/unit) * unit }

// convClassForward is the forward pass of class ci when the products go to
// an outside library: the whole batch at once.
func convClassForward[T float](op *convOp, ci int, c tapClass, x, w, y []T) {
	g := op.geom
	rows, kc := g.Batch*c.positions(), c.k(g.InC)
	out := y
	if !c.whole {
		out = scratch[T](op.ws, slotRows, rows*g.OutC)
	}
	var cols []T
	if op.train {
		cols = keep[T](&op.cols[ci], rows*kc)
	} else {
		cols = scratch[T](op.ws, slotCols, rows*kc)
	}
	parallel(g.Batch, 1, func(lo, hi int) { classCols(g, c, x, cols, 0, lo, hi) })
	wc, ldw := weightsOf(op, c, w)
	gemm.Gemm(false, true, rows, g.OutC, kc, 1, cols, kc, wc, ldw, 0, out, g.OutC)
	if !c.whole {
		parallel(g.Batch, 1, func(lo, hi int) { scatterRows(g, c, out, y, g.OutC, 0, lo, hi) })
	}
}

// packedOf returns the packed operand held in *store, making it the first
// time.
func packedOf[T float](store *any) *gemm.PackedB[T] {
	if p, ok := (*store).(*gemm.PackedB[T]); ok {
		return p
	}
	p := new(gemm.PackedB[T])
	*store = p
	return p
}

// packCache holds weights packed for the forward products of inference
// graphs, shared by all the graphs over the same weights. It is safe for
// concurrent use.
type packCache struct {
	mu sync.Mutex
	m  map[packKey]any // *gemm.PackedB[T]
}

// packKey names a packing: the weights of a layer (class -1) or of one of
// its tap classes.
type packKey struct {
	layer string
	class int
}

// cachedPacking returns the packing of key in pc, making it with pack if
// there is none yet for the kernel in use.
func cachedPacking[T float](pc *packCache, key packKey, pack func(*gemm.PackedB[T])) *gemm.PackedB[T] {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	p, ok := pc.m[key].(*gemm.PackedB[T])
	if ok && p.Current() {
		return p
	}
	if !ok {
		p = new(gemm.PackedB[T])
		if pc.m == nil {
			pc.m = map[packKey]any{}
		}
		pc.m[key] = p
	}
	pack(p)
	return p
}

// weightsOf returns the weights of class c and their row stride.
func weightsOf[T float](op *convOp, c tapClass, w []T) ([]T, int) {
	var buf []T
	if !c.fullWidth(op.geom.Kernel) {
		buf = scratch[T](op.ws, slotWeights, op.geom.OutC*c.k(op.geom.InC))
	}
	return classWeights(op.geom, c, w, buf)
}

func (op *convOp) DiffWRT(int) []bool { return []bool{op.inputGrad, true, true} }

// SymDiff builds the backward pass: the ReLU mask of the output gradient,
// then the weight gradient (gradᵀ × im2col), the bias gradient (column sums)
// and, unless the input is data, the input gradient (col2im of grad × W).
func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.relu {
		grad = apply(&reluGradOp{opBase: newOpBase(op.name + ".relu_grad"), shape: op.outShape()}, output, grad)
	}
	dw := apply(&convWeightGradOp{opBase: newOpBase(op.name + ".weight_grad"), fwd: op}, inputs[0], grad)
	db := apply(&biasGradOp{opBase: newOpBase(op.name + ".bias_grad"), n: op.geom.OutC}, grad)
	var dx *G.Node
	if op.inputGrad {
		dx = apply(&convInputGradOp{opBase: newOpBase(op.name + ".input_grad"), fwd: op}, grad, inputs[1])
	}
	return G.Nodes{dx, dw, db}, nil
}

// reluGradOp passes the gradient (input 1) where the ReLU's output (input 0)
// is positive.
type reluGradOp struct {
	opBase
	shape tensor.Shape
	out   buffer
}

func (op *reluGradOp) Arity() int    { return 2 }
func (op *reluGradOp) Type() hm.Type { return fnType(len(op.shape), len(op.shape), len(op.shape)) }
func (op *reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *reluGradOp) Do(vals ...G.Value) (G.Value, error) {
	n := op.shape.TotalSize()
	if err := checkSize(op.name, vals[1], n); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), op.shape)
	switch vals[0].Dtype() {
	case tensor.Float32:
		y, dy, dx := values[float32](vals[0]), values[float32](vals[1]), slice[float32](out)
		parallel(n, 1<<15, func(lo, hi int) { reluGrad(y[lo:hi], dy[lo:hi], dx[lo:hi]) })
	case tensor.Float64:
		reluGrad(values[float64](vals[0]), values[float64](vals[1]), slice[float64](out))
	}
	return out, nil
}

// convWeightGradOp computes the weight gradient gradᵀ × im2col(x) from the
// input (0) and the output gradient (1), using the im2col matrix its forward
// op kept.
type convWeightGradOp struct {
	opBase
	fwd *convOp
	out buffer
}

func (op *convWeightGradOp) Arity() int    { return 2 }
func (op *convWeightGradOp) Type() hm.Type { return fnType(4, 4, 2) }
func (op *convWeightGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.fwd.geom.OutC, op.fwd.geom.K()}, nil
}

func (op *convWeightGradOp) Do(vals ...G.Value) (G.Value, error) {
	g := op.fwd.geom
	if err := checkSize(op.name, vals[1], g.OutSize()); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), tensor.Shape{g.OutC, g.K()})
	switch vals[0].Dtype() {
	case tensor.Float32:
		convWeightGrad(op.fwd, values[float32](vals[0]), values[float32](vals[1]), slice[float32](out))
	case tensor.Float64:
		convWeightGrad(op.fwd, values[float64](vals[0]), values[float64](vals[1]), slice[float64](out))
	}
	return out, nil
}

func convWeightGrad[T float](fwd *convOp, x, dy, dw []T) {
	g := fwd.geom
	if g.Identity() {
		gemm.Gemm(true, false, g.OutC, g.K(), g.Rows(), 1, dy, g.OutC, x, g.K(), 0, dw, g.K())
		return
	}
	if fwd.wino != nil {
		winoWeightGrad(fwd, x, dy, dw)
		return
	}
	if fwd.stem {
		stemWeightGrad(fwd, x, dy, dw)
		return
	}
	clear(dw)
	span := g.Kernel * g.InC
	for ci, c := range fwd.classes {
		rows, kc := g.Batch*c.positions(), c.k(g.InC)
		if kc == 0 {
			continue
		}
		dst, ldd := dw[c.y.k0*span:], g.K() // the class's weights are consecutive columns of every row
		if !c.fullWidth(g.Kernel) {
			dst, ldd = scratch[T](fwd.ws, slotGrad, g.OutC*kc), kc
		}
		if cols, ok := fwd.cols[ci].([]T); ok && len(cols) == rows*kc {
			// Kept by the forward pass (products by an outside library).
			beta := T(1)
			if !c.fullWidth(g.Kernel) {
				beta = 0
			}
			gemm.Gemm(true, false, g.OutC, kc, rows, 1, classRows(fwd, c, dy), g.OutC, cols, kc, beta, dst, ldd)
		} else {
			// Blocks of rows of whole blocks of k of the products, so that
			// the sums run in the order of one product over all rows.
			// Blocks four times the usual size: each one waits for both
			// cores twice.
			rowsPer := chunkRows(max(1, kc/4), gemm.BlockK)
			cols := scratch[T](fwd.ws, slotCols, min(rows, rowsPer)*kc)
			for r0 := 0; r0 < rows; r0 += rowsPer {
				n := min(rowsPer, rows-r0)
				parallel(n, 16, func(lo, hi int) { classColsRows(g, c, x, cols[lo*kc:], r0+lo, r0+hi) })
				beta := T(1)
				if r0 == 0 && !c.fullWidth(g.Kernel) {
					beta = 0
				}
				dyc := classRowsRange(fwd, c, dy, r0, r0+n)
				gemm.Gemm(true, false, g.OutC, kc, n, 1, dyc, g.OutC, cols, kc, beta, dst, ldd)
			}
		}
		if !c.fullWidth(g.Kernel) {
			addClassWeights(g, c, dst, dw, adder[T]())
		}
	}
}

// classRows returns the rows of full (one per output position) of class
// c's positions: full itself if c is every position, else a gathered copy.
func classRows[T float](op *convOp, c tapClass, full []T) []T {
	if c.whole {
		return full
	}
	g := op.geom
	rows := scratch[T](op.ws, slotRows, g.Batch*c.positions()*g.OutC)
	parallel(g.Batch, 1, func(lo, hi int) { gatherRows(g, c, full, rows, g.OutC, lo, hi) })
	return rows
}

// classRowsRange returns the rows [r0, r1) of class c's positions in full:
// a view of full if c is every position, else a gathered copy.
func classRowsRange[T float](op *convOp, c tapClass, full []T, r0, r1 int) []T {
	n := op.geom.OutC
	if c.whole {
		return full[r0*n : r1*n]
	}
	rows := scratch[T](op.ws, slotRows, (r1-r0)*n)
	parallel(r1-r0, 16, func(lo, hi int) { gatherRowsRange(op.geom, c, full, rows[lo*n:], n, r0+lo, r0+hi) })
	return rows
}

// biasGradOp sums the rows of the output gradient.
type biasGradOp struct {
	opBase
	n       int
	partial any // []T: the sums of blocks of rows
	out     buffer
}

func (op *biasGradOp) Arity() int    { return 1 }
func (op *biasGradOp) Type() hm.Type { return fnType(4, 1) }
func (op *biasGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n}, nil
}

func (op *biasGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), tensor.Shape{op.n})
	blocks := (vals[0].Shape().TotalSize()/op.n + sumBlock - 1) / sumBlock
	switch vals[0].Dtype() {
	case tensor.Float32:
		columnSums(values[float32](vals[0]), slice[float32](out), keep[float32](&op.partial, blocks*op.n))
	case tensor.Float64:
		columnSums(values[float64](vals[0]), slice[float64](out), keep[float64](&op.partial, blocks*op.n))
	}
	return out, nil
}

// convInputGradOp computes the input gradient col2im(grad × W) from the
// output gradient (0) and the weights (1).
type convInputGradOp struct {
	opBase
	fwd *convOp
	out buffer
}

func (op *convInputGradOp) inShape() tensor.Shape {
	g := op.fwd.geom
	return tensor.Shape{g.Batch, g.InH, g.InW, g.InC}
}

func (op *convInputGradOp) Arity() int    { return 2 }
func (op *convInputGradOp) Type() hm.Type { return fnType(4, 2, 4) }
func (op *convInputGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.inShape(), nil
}

func (op *convInputGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), op.inShape())
	switch vals[0].Dtype() {
	case tensor.Float32:
		convInputGrad(op.fwd, values[float32](vals[0]), values[float32](vals[1]), slice[float32](out))
	case tensor.Float64:
		convInputGrad(op.fwd, values[float64](vals[0]), values[float64](vals[1]), slice[float64](out))
	}
	return out, nil
}

func convInputGrad[T float](fwd *convOp, dy, w, dx []T) {
	g := fwd.geom
	if fwd.stem {
		panic("encoder: " + fwd.name + " runs as the stem, whose input has no gradient")
	}
	if g.Identity() {
		gemm.Gemm(false, false, g.Rows(), g.K(), g.OutC, 1, dy, g.OutC, w, g.K(), 0, dx, g.K())
		return
	}
	if fwd.wino != nil {
		winoInputGrad(fwd, dy, w, dx)
		return
	}
	clearAll(dx)
	add := adder[T]()
	for _, c := range fwd.classes {
		rows, kc := g.Batch*c.positions(), c.k(g.InC)
		if kc == 0 {
			continue
		}
		wc, ldw := weightsOf(fwd, c, w)
		if gemm.Backend != "go" {
			dcols := scratch[T](fwd.ws, slotGrad, rows*kc)
			gemm.Gemm(false, false, rows, kc, g.OutC, 1, classRows(fwd, c, dy), g.OutC, wc, ldw, 0, dcols, kc)
			parallel(g.Batch, 1, func(lo, hi int) { classColsAdjoint(g, c, dcols, dx, 0, lo, hi, add) })
			continue
		}
		// A few images at a time, so that their im2col gradient is still
		// in the cache when it is added back into dx.
		pb := packedOf[T](&fwd.classW)
		gemm.PackB(pb, false, g.OutC, kc, wc, ldw)
		per := c.positions()
		chunk := chunkImages(per * kc)
		blocks := (g.Batch + chunk - 1) / chunk
		if workers := blockWorkers(blocks); workers > 0 {
			// Each goroutine gathers, multiplies and adds back blocks of
			// images of its own: the blocks touch distinct images of dx.
			dcols := scratch[T](fwd.ws, slotGrad, workers*chunk*per*kc)
			var dyRows []T
			if !c.whole {
				dyRows = scratch[T](fwd.ws, slotRows, workers*chunk*per*g.OutC)
			}
			parallelBlocks(blocks, workers, func(wk, blk int) {
				b0 := blk * chunk
				b1 := min(g.Batch, b0+chunk)
				n := (b1 - b0) * per
				a := dy[b0*per*g.OutC:]
				if !c.whole {
					a = dyRows[wk*chunk*per*g.OutC:]
					gatherRowsRange(g, c, dy, a, g.OutC, b0*per, b1*per)
				}
				d := dcols[wk*chunk*per*kc:]
				gemm.GemmPackedSerial(false, n, kc, g.OutC, 1, a, g.OutC, pb, 0, d[:n*kc], kc)
				classColsAdjoint(g, c, d, dx, b0, b0, b1, add)
			})
			continue
		}
		dcols := scratch[T](fwd.ws, slotGrad, min(g.Batch, chunk)*per*kc)
		for b0 := 0; b0 < g.Batch; b0 += chunk {
			b1 := min(g.Batch, b0+chunk)
			n := (b1 - b0) * per
			dyc := classRowsRange(fwd, c, dy, b0*per, b1*per)
			gemm.GemmPacked(false, n, kc, g.OutC, 1, dyc, g.OutC, pb, 0, dcols[:n*kc], kc)
			parallel(b1-b0, 1, func(lo, hi int) { classColsAdjoint(g, c, dcols, dx, b0, b0+lo, b0+hi, add) })
		}
	}
}
