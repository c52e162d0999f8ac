package encoder

import (
	"fmt"
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
// Forward: im2col of the batch into one matrix, one product with the
// weights, bias and ReLU in one pass. The im2col matrix is kept for the
// weight gradient when the op is built for training.
type convOp struct {
	opBase
	geom convGeom
	relu bool
	// inputGrad tells whether the input needs a gradient; the first layer's
	// input is data and does not.
	inputGrad bool
	// train keeps the im2col matrix for the backward pass.
	train bool
	ws    *workspace
	cols  any // []T kept from the forward pass
	out   buffer
}

func newConvOp(name string, g convGeom, relu, inputGrad, train bool, ws *workspace) *convOp {
	return &convOp{opBase: newOpBase(name), geom: g, relu: relu, inputGrad: inputGrad, train: train, ws: ws}
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
	cols := convCols(op, x)
	gemm.Gemm(false, true, g.Rows(), g.OutC, g.K(), 1, cols, g.K(), w, g.K(), 0, y, g.OutC)
	parallel(g.Rows(), 1<<14/g.OutC+1, func(lo, hi int) {
		biasActivate(y[lo*g.OutC:hi*g.OutC], b, op.relu)
	})
}

// convCols returns the im2col matrix of x: x itself for a 1×1 kernel; else
// kept memory when training, scratch memory otherwise.
func convCols[T float](op *convOp, x []T) []T {
	g := op.geom
	if g.Identity() {
		return x
	}
	n := g.Rows() * g.K()
	var cols []T
	if op.train {
		cols = keep[T](&op.cols, n)
	} else {
		cols = scratch[T](op.ws, n)
	}
	parallel(g.Batch, 1, func(lo, hi int) { im2col(g, x, cols, lo, hi) })
	return cols
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
	cols := x
	if !g.Identity() {
		var ok bool
		if cols, ok = fwd.cols.([]T); !ok || len(cols) != g.Rows()*g.K() {
			panic("encoder: weight gradient of " + fwd.name + " without its forward pass")
		}
	}
	gemm.Gemm(true, false, g.OutC, g.K(), g.Rows(), 1, dy, g.OutC, cols, g.K(), 0, dw, g.K())
}

// biasGradOp sums the rows of the output gradient.
type biasGradOp struct {
	opBase
	n   int
	out buffer
}

func (op *biasGradOp) Arity() int    { return 1 }
func (op *biasGradOp) Type() hm.Type { return fnType(4, 1) }
func (op *biasGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n}, nil
}

func (op *biasGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), tensor.Shape{op.n})
	switch vals[0].Dtype() {
	case tensor.Float32:
		dy, db := values[float32](vals[0]), slice[float32](out)
		// Split by columns, so each sum runs over the rows in order.
		parallel(op.n, 8, func(lo, hi int) { columnSums(dy, db, lo, hi) })
	case tensor.Float64:
		columnSums(values[float64](vals[0]), slice[float64](out), 0, op.n)
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
	if g.Identity() {
		gemm.Gemm(false, false, g.Rows(), g.K(), g.OutC, 1, dy, g.OutC, w, g.K(), 0, dx, g.K())
		return
	}
	dcols := scratch[T](fwd.ws, g.Rows()*g.K())
	gemm.Gemm(false, false, g.Rows(), g.K(), g.OutC, 1, dy, g.OutC, w, g.K(), 0, dcols, g.K())
	parallel(g.Batch, 1, func(lo, hi int) { col2im(g, dcols, dx, lo, hi) })
}
