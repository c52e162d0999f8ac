package encoder

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"simsearch/encoder/internal/gemm"
)

// A training step runs as lanes: graphs of the same network over the same
// weights, each on its own slice of the batch, run at the same time on
// their own part of the cores, whose weight gradients are added at the end.
// Every layer treats images independently, so a lane needs the others only
// where the loss couples the batch: InfoNCE compares each image with the
// whole batch's positives, so its lanes meet once, at the embeddings, and
// each then computes the whole batch's loss and keeps the gradient of its
// own rows. The other losses are means, which each lane takes over its
// images with its share of the weight. The weights transformed and packed
// for a layer's products are the same in every lane, so the first lane to
// need them in a step makes them for all (layerShare).
//
// On two cores this keeps both busy: a step whose every layer is split
// between two goroutines waits for the slower of the two at each of its
// hundreds of products and passes, and the layers of a few pixels are too
// small to split well at all; two lanes that each run a whole network on
// one core wait for each other twice a step. The number of lanes depends on
// the batch only, never on the cores, so the weights are the same on any
// machine (for a given kernel).

// minLaneImages is the smallest batch split into lanes: two lanes of 16
// images (pairs) and more.
const minLaneImages = 32

// lanesFor returns the number of lanes of a batch.
func lanesFor(batch int) int {
	if batch >= minLaneImages {
		return 2
	}
	return 1
}

// laneSizes splits batch into n consecutive lanes as evenly as possible.
func laneSizes(batch, n int) []int {
	sizes := make([]int, n)
	for l := range sizes {
		sizes[l] = batch*(l+1)/n - batch*l/n
	}
	return sizes
}

// laneSet is what the lanes of a step share: the number of the step, the
// weights each layer prepares once a step for all of them (layers), and
// for InfoNCE the embeddings of the whole batch, which each lane fills with
// its own rows before they all read it, and the barrier they wait at in
// between.
type laneSet struct {
	sizes  []int
	total  int
	starts []int

	// step counts the steps run, from 1; layers are the lanes' shared
	// state of each layer, by name, made while the graphs are built.
	step   atomic.Uint64
	layers map[string]*layerShare

	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	round   uint64
	broken  error
	full    any // []float32 or []float64 of 2·total rows
}

func newLaneSet(sizes []int) *laneSet {
	s := &laneSet{sizes: sizes}
	for _, n := range sizes {
		s.starts = append(s.starts, s.total)
		s.total += n
	}
	s.cond = sync.NewCond(&s.mu)
	s.layers = map[string]*layerShare{}
	return s
}

// layerShare is what the lanes' ops of one layer share: the weights
// transformed and packed for its products, made by the first lane to need
// them in a step (prepare) and read by all. The weights change only
// between steps, so each packing is made once a step instead of once a
// lane.
type layerShare struct {
	set     *laneSet
	mu      sync.Mutex
	wino    *winoState
	packedW any
	// done holds the step each preparation was last made in.
	done [numPreps]uint64
}

// The preparations of a layer's weights.
const (
	prepForward = iota // Winograd's forward packing, or the tap classes' whole packing
	prepBack           // Winograd's packing for the input gradient
	numPreps
)

// shareLanePreps lets the lanes share their layers' prepared weights;
// tests turn it off to check that sharing changes no bit.
var shareLanePreps = true

// join makes op one of the lanes' ops of its layer: its Winograd state
// and packed weights are the layer's, shared with the other lanes.
func (s *laneSet) join(op *convOp) {
	if !shareLanePreps {
		return
	}
	ls := s.layers[op.name]
	if ls == nil {
		ls = &layerShare{set: s, wino: op.wino}
		s.layers[op.name] = ls
	}
	op.wino, op.share = ls.wino, ls
}

// prepare runs pack, which writes weights prepared for op's products
// into op's (shared) state, unless another lane already has in this step.
// The lanes that wait for it meanwhile lend it their cores.
func (op *convOp) prepare(key int, pack func()) {
	ls := op.share
	if ls == nil {
		pack()
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	step := ls.set.step.Load()
	if ls.done[key] == step {
		return
	}
	release := gemm.Share(1 - len(ls.set.sizes))
	pack()
	release()
	ls.done[key] = step
}

// preparedPacks returns the nxi packings in store that pack (winoPack,
// w22Pack) makes, made once a step for all the lanes (prepare).
func preparedPacks[T float](op *convOp, key int, store *any, nxi int, pack func() []*gemm.PackedB[T]) []*gemm.PackedB[T] {
	var b []*gemm.PackedB[T]
	op.prepare(key, func() { b = pack() })
	if b == nil {
		b = pointers(winoPacked[T](store, nxi))
	}
	return b
}

// packedWhole returns where op keeps its weights packed whole: its own, or
// its layer's in the lanes.
func packedWhole[T float](op *convOp) *gemm.PackedB[T] {
	ls := op.share
	if ls == nil {
		return packedOf[T](&op.packedW)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return packedOf[T](&ls.packedW)
}

// laneRows returns the whole batch's embeddings, rows of dim values.
func laneRows[T float](s *laneSet, dim int) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return keep[T](&s.full, 2*s.total*dim)
}

// wait returns when every lane has called it in this round, or with an
// error once a lane has failed (abort), so that no lane waits for ever.
func (s *laneSet) wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	round := s.round
	s.arrived++
	if s.arrived == len(s.sizes) {
		s.arrived = 0
		s.round++
		s.cond.Broadcast()
		return nil
	}
	for s.round == round && s.broken == nil {
		s.cond.Wait()
	}
	if s.round == round {
		return s.broken
	}
	return nil
}

// abort releases the lanes waiting, and all that come to wait later, with
// an error: a lane failed before it reached the barrier.
func (s *laneSet) abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == nil {
		s.broken = fmt.Errorf("encoder: another lane of the step failed: %w", err)
	}
	s.cond.Broadcast()
}

// laneGatherOp puts its lane's 2·n embeddings (the images x, then their
// positives x⁺) at their rows of the whole batch's, waits for the other
// lanes, and returns the whole batch's 2·total rows: x of every lane, then
// x⁺ of every lane, as pairLogitsOp takes them.
type laneGatherOp struct {
	opBase
	set    *laneSet
	lane   int
	dim    int
	inDims int
	out    buffer
}

func (op *laneGatherOp) Arity() int    { return 1 }
func (op *laneGatherOp) Type() hm.Type { return fnType(op.inDims, 2) }
func (op *laneGatherOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{2 * op.set.total, op.dim}, nil
}

func (op *laneGatherOp) Do(vals ...G.Value) (G.Value, error) {
	n := op.set.sizes[op.lane]
	if err := checkSize(op.name, vals[0], 2*n*op.dim); err != nil {
		return nil, err
	}
	out := op.out.get(vals[0].Dtype(), tensor.Shape{2 * op.set.total, op.dim})
	var err error
	switch vals[0].Dtype() {
	case tensor.Float32:
		err = laneGather(op, values[float32](vals[0]), slice[float32](out))
	case tensor.Float64:
		err = laneGather(op, values[float64](vals[0]), slice[float64](out))
	default:
		err = fmt.Errorf("encoder: %s: unsupported dtype %v", op.name, vals[0].Dtype())
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func laneGather[T float](op *laneGatherOp, z, out []T) error {
	s := op.set
	full := laneRows[T](s, op.dim)
	n, start, d := s.sizes[op.lane], s.starts[op.lane], op.dim
	// The lanes write rows of their own; the barrier orders the writes
	// before every lane's reads, and the next step's writes come after
	// every lane has finished this one.
	copy(full[start*d:(start+n)*d], z[:n*d])
	copy(full[(s.total+start)*d:(s.total+start+n)*d], z[n*d:2*n*d])
	if err := s.wait(); err != nil {
		return err
	}
	copy(out, full)
	return nil
}

func (op *laneGatherOp) DiffWRT(int) []bool { return []bool{true} }

func (op *laneGatherOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := &laneGatherGradOp{opBase: newOpBase(op.name + ".grad"), fwd: op, shape: inputs[0].Shape().Clone()}
	return G.Nodes{apply(back, grad)}, nil
}

// laneGatherGradOp is the gradient of laneGatherOp: the whole batch's
// gradient's rows of its lane.
type laneGatherGradOp struct {
	opBase
	fwd   *laneGatherOp
	shape tensor.Shape
	out   buffer
}

func (op *laneGatherGradOp) Arity() int    { return 1 }
func (op *laneGatherGradOp) Type() hm.Type { return fnType(2, op.fwd.inDims) }
func (op *laneGatherGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *laneGatherGradOp) Do(vals ...G.Value) (G.Value, error) {
	out := op.out.get(vals[0].Dtype(), op.shape)
	switch vals[0].Dtype() {
	case tensor.Float32:
		laneScatter(op.fwd, values[float32](vals[0]), slice[float32](out))
	case tensor.Float64:
		laneScatter(op.fwd, values[float64](vals[0]), slice[float64](out))
	}
	return out, nil
}

func laneScatter[T float](f *laneGatherOp, full, dz []T) {
	s := f.set
	n, start, d := s.sizes[f.lane], s.starts[f.lane], f.dim
	copy(dz[:n*d], full[start*d:(start+n)*d])
	copy(dz[n*d:2*n*d], full[(s.total+start)*d:(s.total+start+n)*d])
}

// stepGraphs are the lanes of training steps of one batch size.
type stepGraphs struct {
	lanes []*graph
	sizes []int
	// shared is what the lanes share, nil with one lane; InfoNCE's lanes
	// also meet in it.
	shared    *laneSet
	objective Objective
	grads     [][]G.ValueGrad
}

// buildStep builds the lanes of c's batch over w.
func buildStep(c graphConfig, w *weights) (*stepGraphs, error) {
	s := &stepGraphs{sizes: laneSizes(c.batch, lanesFor(c.batch)), objective: c.objective}
	if len(s.sizes) > 1 {
		c.lanes = newLaneSet(s.sizes)
		s.shared = c.lanes
	}
	for l, n := range s.sizes {
		lc := c
		lc.lane, lc.batch = l, n
		gr, err := buildGraph(lc, w)
		if err != nil {
			s.close()
			return nil, err
		}
		s.lanes = append(s.lanes, gr)
		s.grads = append(s.grads, G.NodesToValueGrads(trainable(gr, c.objective)))
	}
	return s, nil
}

func (s *stepGraphs) close() {
	for _, gr := range s.lanes {
		gr.close()
	}
}

// inputShape is the shape of a whole batch's input: the lanes' inputs one
// after the other.
func (s *stepGraphs) inputShape() tensor.Shape {
	shape := s.lanes[0].input.Shape().Clone()
	shape[0] = 0
	for _, gr := range s.lanes {
		shape[0] += gr.input.Shape()[0]
	}
	return shape
}

// slot returns where view v (0, or 1 for the positive of a contrastive
// pair) of the batch's i-th image goes in the whole batch's input: lane by
// lane, each lane's images and then their positives.
func (s *stepGraphs) slot(v, i int) int {
	start := 0
	for _, n := range s.sizes {
		if i < start+n {
			if s.objective == Contrastive {
				return 2*start + v*n + i - start
			}
			return i
		}
		start += n
	}
	panic("encoder: image outside the batch")
}

// bind makes input (of inputShape) and targets (one per image, or nil) the
// lanes' next inputs.
func (s *stepGraphs) bind(input *tensor.Dense, targets []float32) error {
	if want := s.inputShape(); !input.Shape().Eq(want) {
		return fmt.Errorf("encoder: an input of %v for lanes of %v", input.Shape(), want)
	}
	data := input.Data().([]float32)
	at, image := 0, 0
	for l, gr := range s.lanes {
		shape := gr.input.Shape().Clone()
		n := shape.TotalSize()
		view := input
		if len(s.lanes) > 1 {
			view = tensor.New(tensor.WithBacking(data[at:at+n]), tensor.WithShape(shape...))
		}
		if err := G.Let(gr.input, view); err != nil {
			return err
		}
		if targets != nil {
			copy(gr.targets.Value().Data().([]float32), targets[image:image+s.sizes[l]])
		}
		at += n
		image += s.sizes[l]
	}
	return nil
}

// run runs one step: the lanes at the same time, then the sum of their
// weight gradients into the first lane's, which grads returns.
func (s *stepGraphs) run() error {
	if len(s.lanes) == 1 {
		return s.lanes[0].run()
	}
	s.shared.step.Add(1)
	release := gemm.Share(len(s.lanes))
	errs := make([]error, len(s.lanes))
	runLane := func(l int) {
		if errs[l] = s.lanes[l].run(); errs[l] != nil {
			s.shared.abort(errs[l])
		}
	}
	// One goroutine a lane: InfoNCE's lanes wait for each other.
	parallelBlocks(len(s.lanes), len(s.lanes), func(_, l int) { runLane(l) })
	release()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.sumGrads()
}

// sumGrads adds the other lanes' weight gradients to the first lane's, in
// the order of the lanes.
func (s *stepGraphs) sumGrads() error {
	for i, vg := range s.grads[0] {
		dst, err := vg.Grad()
		if err != nil {
			return err
		}
		for l := 1; l < len(s.lanes); l++ {
			src, err := s.grads[l][i].Grad()
			if err != nil {
				return err
			}
			switch d := dst.Data().(type) {
			case []float32:
				addAll(d, src.Data().([]float32))
			case []float64:
				addAll(d, src.Data().([]float64))
			}
		}
	}
	return nil
}

// addAll adds src to dst, on every core.
func addAll[T float](dst, src []T) {
	add := adder[T]()
	parallel(len(dst), 1<<15, func(lo, hi int) { add(dst[lo:hi], src[lo:hi]) })
}

// gradients are the step's weight gradients, for the optimizer.
func (s *stepGraphs) gradients() []G.ValueGrad { return s.grads[0] }

// loss is the step's loss: the first lane's for InfoNCE, which every lane
// computes whole, the sum of the lanes' shares otherwise.
func (s *stepGraphs) loss() float64 {
	if s.objective == Contrastive {
		return scalarOf(s.lanes[0].cost.Value())
	}
	var sum float64
	for _, gr := range s.lanes {
		sum += scalarOf(gr.cost.Value())
	}
	return sum
}
