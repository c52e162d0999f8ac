package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// param is one weight or bias tensor of a network. Its value is stored in
// the layout the ops use; the checkpoint holds PyTorch's layout, so that a
// PyTorch module of the same architecture can load it.
type param struct {
	// name is the tensor's name in the checkpoint, as in a PyTorch
	// state_dict ("encoder.convs.0.weight").
	name string
	// kernel, in and out describe a weight: out rows by kernel²·in columns
	// (kernel row, kernel column, input channel) here, (out, in, kernel,
	// kernel) in PyTorch (a linear layer has kernel 1 and is (out, in)
	// there). A bias has kernel 0.
	kernel, in, out int
	value           *tensor.Dense
}

func (p *param) isBias() bool { return p.kernel == 0 }

// shape is the shape of the value used by the ops.
func (p *param) shape() tensor.Shape {
	if p.isBias() {
		return tensor.Shape{p.out}
	}
	return tensor.Shape{p.out, p.kernel * p.kernel * p.in}
}

// torchShape is the shape of the tensor in the checkpoint.
func (p *param) torchShape() []uint64 {
	switch {
	case p.isBias():
		return []uint64{uint64(p.out)}
	case p.linear():
		return []uint64{uint64(p.out), uint64(p.in)}
	}
	return []uint64{uint64(p.out), uint64(p.in), uint64(p.kernel), uint64(p.kernel)}
}

// linear tells whether the weight belongs to a fully connected layer.
func (p *param) linear() bool { return p.kernel == 1 }

// toTorch returns the value in PyTorch's layout.
func (p *param) toTorch() []float32 {
	src := p.value.Data().([]float32)
	if p.isBias() {
		return append([]float32(nil), src...)
	}
	dst := make([]float32, len(src))
	k := p.kernel
	for co := range p.out {
		for ci := range p.in {
			for ky := range k {
				for kx := range k {
					dst[((co*p.in+ci)*k+ky)*k+kx] = src[co*k*k*p.in+(ky*k+kx)*p.in+ci]
				}
			}
		}
	}
	return dst
}

// fromTorch sets the value from data in PyTorch's layout.
func (p *param) fromTorch(src []float32) {
	dst := p.value.Data().([]float32)
	if p.isBias() {
		copy(dst, src)
		return
	}
	k := p.kernel
	for co := range p.out {
		for ci := range p.in {
			for ky := range k {
				for kx := range k {
					dst[co*k*k*p.in+(ky*k+kx)*p.in+ci] = src[((co*p.in+ci)*k+ky)*k+kx]
				}
			}
		}
	}
}

// weights are the parameters of one model, in a fixed order.
type weights struct {
	params []*param
	byName map[string]*param
	// packs holds the weights packed for the forward products of the
	// inference graphs over these weights, which never change them.
	packs packCache
}

// layout returns the parameters (without values) of the networks that
// objective trains on arch: the encoder, plus the decoder of an
// autoencoder or the classification head of a supervised encoder (classes
// outputs).
func layout(arch Arch, objective Objective, classes int) []*param {
	var ps []*param
	layer := func(prefix string, kernel, in, out int) {
		ps = append(ps,
			&param{name: prefix + ".weight", kernel: kernel, in: in, out: out},
			&param{name: prefix + ".bias", in: kernel * kernel * in, out: out})
	}
	ch := arch.Channels()
	for i := 0; i+1 < len(ch); i++ {
		layer(fmt.Sprintf("encoder.convs.%d", i), 4, ch[i], ch[i+1])
	}
	layer("encoder.linear", 1, arch.Latent, arch.Latent)
	switch objective {
	case Autoencoder:
		layer("decoder.linear", 1, arch.Latent, arch.Latent)
		for i, level := 0, len(ch)-1; level > 0; i, level = i+1, level-1 {
			layer(fmt.Sprintf("decoder.convs.%d", i), 3, ch[level], 4*ch[level-1])
		}
	case Supervised, DualEncoder:
		// The dual encoder's head.weight rows are its class embeddings
		// f₂(c); its bias stays 0 (see frozen).
		layer("head", 1, arch.Latent, classes)
	}
	return ps
}

// newWeights returns the parameters of layout(arch, objective, classes),
// zero, of type dt.
func newWeights(arch Arch, objective Objective, classes int, dt tensor.Dtype) *weights {
	w := &weights{byName: map[string]*param{}}
	for _, p := range layout(arch, objective, classes) {
		p.value = tensor.New(tensor.Of(dt), tensor.WithShape(p.shape()...))
		w.params = append(w.params, p)
		w.byName[p.name] = p
	}
	return w
}

// init draws every parameter as PyTorch initializes Conv2d and Linear
// layers: uniform in ±1/√fan_in, where fan_in = kernel²·in.
func (w *weights) init(rng *rand.Rand) {
	for _, p := range w.params {
		fanIn := p.in
		if !p.isBias() {
			fanIn = p.kernel * p.kernel * p.in
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		switch d := p.value.Data().(type) {
		case []float32:
			for i := range d {
				d[i] = float32((2*rng.Float64() - 1) * bound)
			}
		case []float64:
			for i := range d {
				d[i] = (2*rng.Float64() - 1) * bound
			}
		}
	}
}

// count returns the number of parameters.
func (w *weights) count() int {
	n := 0
	for _, p := range w.params {
		n += p.value.Shape().TotalSize()
	}
	return n
}
