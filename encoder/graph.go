package encoder

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graph is one gorgonia expression graph of a network at a fixed batch
// size, with its tape machine. A graph is used by one goroutine at a time.
type graph struct {
	g  *G.ExprGraph
	ws *workspace
	// input holds the batch of NHWC images: for contrastive training the
	// batch images x followed by their positives x⁺.
	input *G.Node
	// targets holds the class numbers of the cross-entropy, if any.
	targets *G.Node
	// features is the encoder's output, embedding its L2 normalization.
	features, embedding *G.Node
	// output is the decoder's reconstruction (autoencoder) or the logits.
	output *G.Node
	// cost is the loss, nil for an embedding graph.
	cost   *G.Node
	params G.Nodes
	vm     G.VM
}

// graphConfig says which graph to build.
type graphConfig struct {
	arch      Arch
	objective Objective // Contrastive, Autoencoder or Supervised; "" embeds only
	classes   int       // outputs of a supervised head
	tau       float64   // InfoNCE temperature
	// unnormalized makes contrastive logits of the outputs before their
	// L2 normalization (TrainOptions.NoNormalize).
	unnormalized bool
	// batch is the number of images (pairs for contrastive) per run.
	batch int
	// lanes, if not nil, are the lanes of a training step of which this
	// graph is lane number lane, over batch of lanes.total images: its
	// loss couples the lanes (InfoNCE) or is its share of the mean.
	lanes *laneSet
	lane  int
}

// share is the weight of the graph's part of a mean loss over the lanes'.
func (c graphConfig) share() float64 {
	if c.lanes == nil {
		return 1
	}
	return float64(c.batch) / float64(c.lanes.total)
}

// images is the number of images the input holds.
func (c graphConfig) images() int {
	if c.objective == Contrastive {
		return 2 * c.batch
	}
	return c.batch
}

// buildMu serializes the building of graphs: gorgonia's tape machine sets
// fields of the bound values, which graphs over the same weights share.
var buildMu sync.Mutex

// buildGraph builds the graph of c over w. The graph's parameter nodes are
// bound to w's tensors, so that graphs built over the same weights share
// them. Running graphs only read them.
func buildGraph(c graphConfig, w *weights) (*graph, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	dt := w.params[0].value.Dtype()
	train := c.objective != ""
	gr := &graph{g: G.NewGraph(), ws: &workspace{}}
	n, res := c.images(), c.arch.Res
	gr.input = G.NewTensor(gr.g, dt, 4, G.WithShape(n, res, res, 3), G.WithName("input"),
		G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, res, res, 3))))
	for _, p := range w.params {
		node := G.NewTensor(gr.g, dt, p.value.Dims(), G.WithShape(p.value.Shape()...), G.WithName(p.name), G.WithValue(p.value))
		gr.params = append(gr.params, node)
	}
	param := func(name string) *G.Node {
		for i, p := range w.params {
			if p.name == name {
				return gr.params[i]
			}
		}
		panic("encoder: no parameter " + name)
	}
	layer := func(prefix string, x *G.Node, geom convGeom, relu, inputGrad bool) *G.Node {
		op := newConvOp(prefix, geom, relu, inputGrad, train, gr.ws)
		if c.lanes != nil {
			c.lanes.join(op)
		}
		if !train {
			// Only a Model's embedding graphs are built without an
			// objective, over weights that never change.
			op.packs = &w.packs
		}
		return apply(op, x, param(prefix+".weight"), param(prefix+".bias"))
	}

	// Encoder.
	encoderConvs, decoderConvs := c.arch.convs(n)
	x := gr.input
	for i, geom := range encoderConvs {
		x = layer(fmt.Sprintf("encoder.convs.%d", i), x, geom, true, i > 0)
	}
	linear := func(prefix string, x *G.Node, in, out int, relu bool) *G.Node {
		return layer(prefix, x, convGeom{Batch: n, InH: 1, InW: 1, InC: in, OutC: out, Kernel: 1, Stride: 1}, relu, true)
	}
	gr.features = linear("encoder.linear", x, c.arch.Latent, c.arch.Latent, false)
	gr.embedding = apply(newL2NormalizeOp("normalize", gr.features.Shape()), gr.features)

	switch c.objective {
	case "":
	case Contrastive:
		outputs := gr.embedding
		if c.unnormalized {
			outputs = gr.features
		}
		pairs, dims := c.batch, 4
		if c.lanes != nil {
			// Every lane compares the whole batch.
			outputs = apply(&laneGatherOp{opBase: newOpBase("lane_gather"), set: c.lanes, lane: c.lane, dim: c.arch.Latent, inDims: 4}, outputs)
			pairs, dims = c.lanes.total, 2
		}
		logits := apply(&pairLogitsOp{opBase: newOpBase("pair_logits"), n: pairs, dim: c.arch.Latent, tau: c.tau, inDims: dims}, outputs)
		gr.output = logits
		gr.targets = G.NewVector(gr.g, dt, G.WithShape(pairs), G.WithName("targets"),
			G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(pairs))))
		setDiagonalTargets(gr.targets.Value())
		gr.cost = apply(&crossEntropyOp{opBase: newOpBase("info_nce"), rows: pairs, classes: pairs, logitDims: 2}, logits, gr.targets)
	case Supervised, DualEncoder:
		// Supervised: the head on the features, g(x) = W·h(x) + b. Dual
		// encoder: f₁(x)·f₂(c), the normalized embedding against each class
		// embedding (the head's weight rows; its bias is frozen at 0).
		in, name := gr.features, "cross_entropy"
		if c.objective == DualEncoder {
			in, name = gr.embedding, "dual_encoder_info_nce"
		}
		logits := linear("head", in, c.arch.Latent, c.classes, false)
		gr.output = logits
		gr.targets = G.NewVector(gr.g, dt, G.WithShape(c.batch), G.WithName("targets"),
			G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(c.batch))))
		gr.cost = apply(&crossEntropyOp{opBase: newOpBase(name), rows: c.batch, classes: c.classes, logitDims: 4, share: c.share()}, logits, gr.targets)
	case Autoencoder:
		y := linear("decoder.linear", gr.features, c.arch.Latent, c.arch.Latent, true)
		for i, geom := range decoderConvs {
			last := i == len(decoderConvs)-1
			prefix := fmt.Sprintf("decoder.convs.%d", i)
			// ReLU commutes with the rearrangement, so it is applied by the
			// convolution.
			y = layer(prefix, y, geom, !last, true)
			y = apply(newDepthToSpaceOp(prefix+".depth_to_space", n, geom.InH, geom.InW, geom.OutC/4, false), y)
		}
		gr.output = y
		gr.cost = apply(&mseOp{opBase: newOpBase("mse"), shape: y.Shape().Clone(), share: c.share()}, y, gr.input)
	default:
		return nil, fmt.Errorf("encoder: no graph for objective %q", c.objective)
	}

	if gr.cost != nil {
		if _, err := G.Grad(gr.cost, gr.params...); err != nil {
			return nil, fmt.Errorf("encoder: differentiate the %s graph: %w", c.objective, err)
		}
	}
	gr.vm = G.NewTapeMachine(gr.g)
	return gr, nil
}

// convs returns the geometries of a's convolutions over batches of n
// images: the encoder's strided ones from the input down to 1×1, and the
// autoencoder decoder's 3×3 ones from 1×1 up, each followed by a
// depth-to-space step to 4× fewer channels at twice the side.
func (a Arch) convs(n int) (encoder, decoder []convGeom) {
	ch := a.Channels()
	size := a.Res
	for i := 0; i+1 < len(ch); i++ {
		encoder = append(encoder, convGeom{Batch: n, InH: size, InW: size, InC: ch[i], OutC: ch[i+1], Kernel: 4, Stride: 2, Pad: 1})
		size /= 2
	}
	for level := len(ch) - 1; level > 0; level-- {
		decoder = append(decoder, convGeom{Batch: n, InH: size, InW: size, InC: ch[level], OutC: 4 * ch[level-1], Kernel: 3, Stride: 1, Pad: 1})
		size *= 2
	}
	return encoder, decoder
}

// setDiagonalTargets sets v to 0, 1, 2, …: the i-th image's positive is the
// i-th of the second half.
func setDiagonalTargets(v G.Value) {
	switch d := v.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(i)
		}
	case []float64:
		for i := range d {
			d[i] = float64(i)
		}
	}
}

// run runs the graph once on the values bound to its input nodes.
func (gr *graph) run() error {
	gr.vm.Reset()
	return gr.vm.RunAll()
}

// close releases the tape machine.
func (gr *graph) close() { gr.vm.Close() }
