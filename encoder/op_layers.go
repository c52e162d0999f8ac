package encoder

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"simsearch/encoder/internal/gemm"
)

// depthToSpaceOp rearranges (batch, h, w, 4c) NHWC images into (batch, 2h,
// 2w, c) as PyTorch's pixel_shuffle(2) does in NCHW; with inverse set it
// does the opposite. After a 3×3 convolution to 4c channels it makes the
// decoder's upsampling block, which can represent ConvTranspose2d(kernel 4,
// stride 2, padding 1) exactly.
type depthToSpaceOp struct {
	opBase
	batch, h, w, c int // of the deep (4c channels) side
	inverse        bool
	out            buffer
}

func newDepthToSpaceOp(name string, batch, h, w, c int, inverse bool) *depthToSpaceOp {
	return &depthToSpaceOp{opBase: newOpBase(name), batch: batch, h: h, w: w, c: c, inverse: inverse}
}

func (op *depthToSpaceOp) outShape() tensor.Shape {
	if op.inverse {
		return tensor.Shape{op.batch, op.h, op.w, 4 * op.c}
	}
	return tensor.Shape{op.batch, 2 * op.h, 2 * op.w, op.c}
}

func (op *depthToSpaceOp) Arity() int    { return 1 }
func (op *depthToSpaceOp) Type() hm.Type { return fnType(4, 4) }
func (op *depthToSpaceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape(), nil
}

func (op *depthToSpaceOp) Do(vals ...G.Value) (G.Value, error) {
	if err := checkSize(op.name, vals[0], op.batch*op.h*op.w*4*op.c); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), op.outShape())
	switch vals[0].Dtype() {
	case tensor.Float32:
		in, o := values[float32](vals[0]), slice[float32](out)
		per := op.h * op.w * 4 * op.c
		parallel(op.batch, 1+(1<<14)/per, func(lo, hi int) {
			depthToSpace(hi-lo, op.h, op.w, op.c, in[lo*per:hi*per], o[lo*per:hi*per], op.inverse)
		})
	case tensor.Float64:
		depthToSpace(op.batch, op.h, op.w, op.c, values[float64](vals[0]), slice[float64](out), op.inverse)
	}
	return out, nil
}

func (op *depthToSpaceOp) DiffWRT(int) []bool { return []bool{true} }

func (op *depthToSpaceOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := newDepthToSpaceOp(op.name+".grad", op.batch, op.h, op.w, op.c, !op.inverse)
	return G.Nodes{apply(back, grad)}, nil
}

// l2NormalizeOp divides each of the rows of a tensor (its first dimension)
// by its Euclidean norm.
type l2NormalizeOp struct {
	opBase
	shape tensor.Shape
	norms any // []T of the last forward pass
	out   buffer
}

func newL2NormalizeOp(name string, shape tensor.Shape) *l2NormalizeOp {
	return &l2NormalizeOp{opBase: newOpBase(name), shape: shape.Clone()}
}

func (op *l2NormalizeOp) rows() int { return op.shape[0] }
func (op *l2NormalizeOp) dim() int  { return op.shape.TotalSize() / op.shape[0] }

func (op *l2NormalizeOp) Arity() int    { return 1 }
func (op *l2NormalizeOp) Type() hm.Type { return fnType(len(op.shape), len(op.shape)) }
func (op *l2NormalizeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *l2NormalizeOp) Do(vals ...G.Value) (G.Value, error) {
	if err := checkSize(op.name, vals[0], op.shape.TotalSize()); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), op.shape)
	switch vals[0].Dtype() {
	case tensor.Float32:
		l2Normalize(values[float32](vals[0]), slice[float32](out), keep[float32](&op.norms, op.rows()), op.dim())
	case tensor.Float64:
		l2Normalize(values[float64](vals[0]), slice[float64](out), keep[float64](&op.norms, op.rows()), op.dim())
	}
	return out, nil
}

func (op *l2NormalizeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *l2NormalizeOp) SymDiff(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &l2NormalizeGradOp{opBase: newOpBase(op.name + ".grad"), fwd: op}
	return G.Nodes{apply(back, output, grad)}, nil
}

// l2NormalizeGradOp is the gradient of l2NormalizeOp, from its output (0)
// and the output gradient (1).
type l2NormalizeGradOp struct {
	opBase
	fwd *l2NormalizeOp
	out buffer
}

func (op *l2NormalizeGradOp) Arity() int { return 2 }
func (op *l2NormalizeGradOp) Type() hm.Type {
	d := len(op.fwd.shape)
	return fnType(d, d, d)
}
func (op *l2NormalizeGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.shape.Clone(), nil
}

func (op *l2NormalizeGradOp) Do(vals ...G.Value) (G.Value, error) {
	f := op.fwd
	out := op.out.get(vals[0].Dtype(), f.shape)
	switch vals[0].Dtype() {
	case tensor.Float32:
		l2NormalizeGrad(values[float32](vals[0]), values[float32](vals[1]), slice[float32](out), keep[float32](&f.norms, f.rows()), f.dim())
	case tensor.Float64:
		l2NormalizeGrad(values[float64](vals[0]), values[float64](vals[1]), slice[float64](out), keep[float64](&f.norms, f.rows()), f.dim())
	}
	return out, nil
}

// pairLogitsOp takes 2n rows of dim values, the first n the embeddings of
// the images x and the next n those of their positives x⁺, and returns the
// n×n matrix of similarities x·x⁺ᵀ/τ: the logits of InfoNCE, whose targets
// are the diagonal.
type pairLogitsOp struct {
	opBase
	n, dim int
	tau    float64
	inDims int
	out    buffer
}

func (op *pairLogitsOp) Arity() int    { return 1 }
func (op *pairLogitsOp) Type() hm.Type { return fnType(op.inDims, 2) }
func (op *pairLogitsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.n}, nil
}

func (op *pairLogitsOp) Do(vals ...G.Value) (G.Value, error) {
	if err := checkSize(op.name, vals[0], 2*op.n*op.dim); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), tensor.Shape{op.n, op.n})
	switch vals[0].Dtype() {
	case tensor.Float32:
		z := values[float32](vals[0])
		nd := op.n * op.dim
		gemm.Gemm(false, true, op.n, op.n, op.dim, float32(1/op.tau), z[:nd], op.dim, z[nd:], op.dim, 0, slice[float32](out), op.n)
	case tensor.Float64:
		z := values[float64](vals[0])
		nd := op.n * op.dim
		gemm.Gemm(false, true, op.n, op.n, op.dim, 1/op.tau, z[:nd], op.dim, z[nd:], op.dim, 0, slice[float64](out), op.n)
	}
	return out, nil
}

func (op *pairLogitsOp) DiffWRT(int) []bool { return []bool{true} }

func (op *pairLogitsOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := &pairLogitsGradOp{opBase: newOpBase(op.name + ".grad"), fwd: op, shape: inputs[0].Shape().Clone()}
	return G.Nodes{apply(back, inputs[0], grad)}, nil
}

// pairLogitsGradOp is the gradient of pairLogitsOp, from its input (0) and
// the logits' gradient (1): dx = dL·x⁺/τ and dx⁺ = dLᵀ·x/τ.
type pairLogitsGradOp struct {
	opBase
	fwd   *pairLogitsOp
	shape tensor.Shape
	out   buffer
}

func (op *pairLogitsGradOp) Arity() int { return 2 }
func (op *pairLogitsGradOp) Type() hm.Type {
	return fnType(op.fwd.inDims, 2, op.fwd.inDims)
}
func (op *pairLogitsGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *pairLogitsGradOp) Do(vals ...G.Value) (G.Value, error) {
	f := op.fwd
	out := op.out.get(vals[0].Dtype(), op.shape)
	switch vals[0].Dtype() {
	case tensor.Float32:
		pairLogitsGrad(f, values[float32](vals[0]), values[float32](vals[1]), slice[float32](out))
	case tensor.Float64:
		pairLogitsGrad(f, values[float64](vals[0]), values[float64](vals[1]), slice[float64](out))
	}
	return out, nil
}

func pairLogitsGrad[T float](f *pairLogitsOp, z, dl, dz []T) {
	nd := f.n * f.dim
	s := T(1 / f.tau)
	gemm.Gemm(false, false, f.n, f.dim, f.n, s, dl, f.n, z[nd:], f.dim, 0, dz[:nd], f.dim)
	gemm.Gemm(true, false, f.n, f.dim, f.n, s, dl, f.n, z[:nd], f.dim, 0, dz[nd:], f.dim)
}

// crossEntropyOp is the mean cross-entropy of rows of logits (input 0)
// against class numbers stored as floats (input 1), computed with a
// log-sum-exp softmax, times share (a lane's part of a step's batch, 0 for
// all of it). It returns a scalar.
type crossEntropyOp struct {
	opBase
	rows, classes int
	logitDims     int
	share         float64
}

// lossWeight is the factor of a loss over a lane's part of the batch: its
// share, or 1.
func lossWeight(share float64) float64 {
	if share == 0 {
		return 1
	}
	return share
}

func (op *crossEntropyOp) Arity() int    { return 2 }
func (op *crossEntropyOp) Type() hm.Type { return fnType(op.logitDims, 1, 0) }
func (op *crossEntropyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *crossEntropyOp) Do(vals ...G.Value) (G.Value, error) {
	if err := checkSize(op.name, vals[0], op.rows*op.classes); err != nil {
		return nil, err
	}
	if err := checkSize(op.name+" targets", vals[1], op.rows); err != nil {
		return nil, err
	}
	var loss float64
	var err error
	switch vals[0].Dtype() {
	case tensor.Float32:
		loss, err = crossEntropy(values[float32](vals[0]), values[float32](vals[1]), op.classes, nil, 0)
	case tensor.Float64:
		loss, err = crossEntropy(values[float64](vals[0]), values[float64](vals[1]), op.classes, nil, 0)
	default:
		err = fmt.Errorf("encoder: %s: unsupported dtype %v", op.name, vals[0].Dtype())
	}
	if err != nil {
		return nil, err
	}
	return newScalar(vals[0].Dtype(), loss*lossWeight(op.share)), nil
}

func (op *crossEntropyOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *crossEntropyOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := &crossEntropyGradOp{opBase: newOpBase(op.name + ".grad"), fwd: op, shape: inputs[0].Shape().Clone()}
	return G.Nodes{apply(back, inputs[0], inputs[1], grad), nil}, nil
}

// crossEntropyGradOp is the gradient of crossEntropyOp from its inputs (0,
// 1) and the scalar gradient of the loss (2): (softmax − one-hot)/rows.
type crossEntropyGradOp struct {
	opBase
	fwd   *crossEntropyOp
	shape tensor.Shape
	out   buffer
}

func (op *crossEntropyGradOp) Arity() int { return 3 }
func (op *crossEntropyGradOp) Type() hm.Type {
	return fnType(op.fwd.logitDims, 1, 0, op.fwd.logitDims)
}
func (op *crossEntropyGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *crossEntropyGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), op.shape)
	scale := scalarOf(vals[2]) * lossWeight(op.fwd.share)
	var err error
	switch vals[0].Dtype() {
	case tensor.Float32:
		_, err = crossEntropy(values[float32](vals[0]), values[float32](vals[1]), op.fwd.classes, slice[float32](out), scale)
	case tensor.Float64:
		_, err = crossEntropy(values[float64](vals[0]), values[float64](vals[1]), op.fwd.classes, slice[float64](out), scale)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mseOp is the mean squared difference of a prediction (input 0) and its
// target (input 1), times share (see crossEntropyOp), as a scalar.
type mseOp struct {
	opBase
	shape tensor.Shape
	share float64
}

func (op *mseOp) Arity() int    { return 2 }
func (op *mseOp) Type() hm.Type { return fnType(len(op.shape), len(op.shape), 0) }
func (op *mseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *mseOp) Do(vals ...G.Value) (G.Value, error) {
	n := op.shape.TotalSize()
	if err := checkSize(op.name, vals[0], n); err != nil {
		return nil, err
	}
	if err := checkSize(op.name+" target", vals[1], n); err != nil {
		return nil, err
	}
	var loss float64
	switch vals[0].Dtype() {
	case tensor.Float32:
		loss = meanSquaredError(values[float32](vals[0]), values[float32](vals[1]), nil, 0)
	case tensor.Float64:
		loss = meanSquaredError(values[float64](vals[0]), values[float64](vals[1]), nil, 0)
	}
	return newScalar(vals[0].Dtype(), loss*lossWeight(op.share)), nil
}

func (op *mseOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *mseOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := &mseGradOp{opBase: newOpBase(op.name + ".grad"), fwd: op}
	return G.Nodes{apply(back, inputs[0], inputs[1], grad), nil}, nil
}

// mseGradOp is the gradient of mseOp with respect to the prediction, from
// its inputs (0, 1) and the scalar gradient of the loss (2).
type mseGradOp struct {
	opBase
	fwd *mseOp
	out buffer
}

func (op *mseGradOp) Arity() int { return 3 }
func (op *mseGradOp) Type() hm.Type {
	d := len(op.fwd.shape)
	return fnType(d, d, 0, d)
}
func (op *mseGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.shape.Clone(), nil
}

func (op *mseGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), op.fwd.shape)
	scale := scalarOf(vals[2]) * lossWeight(op.fwd.share)
	switch vals[0].Dtype() {
	case tensor.Float32:
		meanSquaredError(values[float32](vals[0]), values[float32](vals[1]), slice[float32](out), scale)
	case tensor.Float64:
		meanSquaredError(values[float64](vals[0]), values[float64](vals[1]), slice[float64](out), scale)
	}
	return out, nil
}
