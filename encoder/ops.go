package encoder

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The network's layers are gorgonia Ops of this package rather than
// gorgonia's own convolution: they work on NHWC tensors so that one matrix
// product covers a whole batch without transposes, and every op keeps its
// output and scratch buffers from one run of the graph to the next instead
// of allocating them again. An op's output is therefore only valid until the
// next run of its graph; read values out (or copy them) before running again.

var opCount atomic.Uint64

// opBase gives each op a unique identity, so that gorgonia never merges two
// nodes of distinct ops that hold distinct buffers.
type opBase struct {
	id   uint64
	name string
}

func newOpBase(name string) opBase { return opBase{id: opCount.Add(1), name: name} }

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "simsearch.%s#%d", o.name, o.id) }
func (o opBase) String() string        { return o.name }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// tensorType is the gorgonia type of a tensor of dims dimensions.
func tensorType(dims int) hm.Type {
	return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// fnType is the type of an op taking tensors of the given dimensions (0 for
// a scalar) and returning one of the last.
func fnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		if d == 0 {
			ts[i] = hm.TypeVariable('a')
		} else {
			ts[i] = tensorType(d)
		}
	}
	return hm.NewFnType(ts...)
}

// buffer is a tensor an op reuses as its output from run to run.
type buffer struct{ t *tensor.Dense }

// get returns the buffer as a tensor of dt and shape, allocating it (zeroed)
// only the first time or when dt or the size changed.
func (b *buffer) get(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b.t == nil || b.t.Dtype() != dt || b.t.Shape().TotalSize() != shape.TotalSize() {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	} else if !b.t.Shape().Eq(shape) {
		// Another op may have reshaped the tensor in place.
		if err := b.t.Reshape(shape...); err != nil {
			panic("encoder: reshape of a reused buffer: " + err.Error())
		}
	}
	return b.t
}

// slice returns the buffer's elements as []T.
func slice[T float](t *tensor.Dense) []T { return t.Data().([]T) }

// workspace is scratch memory shared by the ops of one graph. A graph runs
// one op at a time, so an op may use it freely during Do; an op that needs
// several scratch buffers at once takes them from distinct slots.
type workspace struct {
	slots [numSlots]any
}

// The scratch slots.
const (
	slotCols    = iota // im2col matrix of an inference pass
	slotWeights        // weights of one tap class
	slotRows           // output rows, or gathered gradient rows, of one class
	slotGrad           // gradient of an im2col matrix or of class weights
	numSlots
)

// scratch returns n elements of scratch memory of type T from a slot.
func scratch[T float](ws *workspace, slot, n int) []T {
	return keep[T](&ws.slots[slot], n)
}

// keep returns n elements of the memory held in *store, (re)allocating it
// when its type or size is wrong.
func keep[T float](store *any, n int) []T {
	if s, ok := (*store).([]T); ok && cap(s) >= n {
		return s[:n]
	}
	s := make([]T, n)
	*store = s
	return s
}

// values returns the elements of v, which must hold T.
func values[T float](v G.Value) []T { return v.Data().([]T) }

// scalarOf returns the value of a scalar (or one-element tensor).
func scalarOf(v G.Value) float64 {
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		return float64(d[0])
	case []float64:
		return d[0]
	}
	panic(fmt.Sprintf("encoder: %T is not a float scalar", v.Data()))
}

// newScalar returns a gorgonia scalar of dt.
func newScalar(dt tensor.Dtype, v float64) G.Value {
	if dt == tensor.Float32 {
		return G.NewF32(float32(v))
	}
	return G.NewF64(v)
}

// checkSize returns an error unless v holds n elements.
func checkSize(op string, v G.Value, n int) error {
	if got := v.Shape().TotalSize(); got != n {
		return fmt.Errorf("encoder: %s: input of shape %v has %d elements, want %d", op, v.Shape(), got, n)
	}
	return nil
}

// errTarget reports a class number outside a classifier's outputs.
type errTarget struct {
	row     int
	target  float64
	classes int
}

func (e errTarget) Error() string {
	return fmt.Sprintf("encoder: target %v of row %d is not a class in [0, %d)", e.target, e.row, e.classes)
}

// apply is G.ApplyOp for ops whose inputs are known to fit: an error is a
// programming mistake.
func apply(op G.Op, children ...*G.Node) *G.Node {
	n, err := G.ApplyOp(op, children...)
	if err != nil {
		panic(fmt.Sprintf("encoder: apply %v: %v", op, err))
	}
	return n
}
