package encoder

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"

	"simsearch/internal/npy"
)

// ImportOptions describe the PyTorch network whose weights ImportTorch
// reads: the seed's network (bench/torch_train.py's Encoder, and Decoder
// or a linear head for the autoencoder and supervised objectives) of the
// given architecture.
type ImportOptions struct {
	// Objective is what the network was trained for: contrastive,
	// autoencoder (the file holds the decoder too), supervised (it holds
	// the head), or random (an untrained network). Required.
	Objective Objective
	// Res, Width and Latent are the architecture (see Arch). Required.
	Res, Width, Latent int
	// Classes is the number of classes of a supervised head; 0 means the
	// number of rows of head.weight.
	Classes int
	// Label is the factor a supervised network classifies; Augmentation
	// and Tau (0 means 0.07, the seed's) those of a contrastive one; Data
	// what it was trained on. They are recorded for reports and change no
	// vector.
	Label, Augmentation, Data string
	Tau                       float64
	// Input is how the network's input was made from the pixels, channels
	// R, G, B: "unit" (or empty), RGB values in [0, 1] as torchvision's
	// ToTensor gives them, or "centered", [-1, 1] as ToTensor followed by
	// Normalize(0.5, 0.5) gives them. The model feeds its network the same.
	Input string
}

// ImportTorch returns the model whose weights are the PyTorch state_dict
// in b, a safetensors file as safetensors.torch.save_file writes it. Tensor
// names are those of bench/torch_train.py: "encoder.convs.0.weight", …,
// "encoder.linear.bias", plus "decoder.…" or "head.…"; a file of the
// encoder alone may leave out the "encoder." prefix (the state_dict of the
// Encoder module itself), and a "module." prefix (DataParallel) is
// dropped. Every tensor the network needs must be there with its shape,
// and no other: an error wrapping ErrArchitecture names the first that is
// missing, extra or of another shape. Values may be float32, float64,
// float16 or bfloat16, and must be finite.
func ImportTorch(b []byte, opts ImportOptions) (m *Model, err error) {
	input := Unit
	if opts.Input != "" {
		var err error
		if input, err = ParseInput(opts.Input); err != nil {
			return nil, err
		}
	}
	if !opts.Objective.Trained() && opts.Objective != Random {
		return nil, fmt.Errorf("%w: import needs the objective of a network (autoencoder, contrastive, supervised or random), not %q", ErrOptions, opts.Objective)
	}
	arch := Arch{Res: opts.Res, Width: opts.Width, Latent: opts.Latent}
	if err := arch.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	defer func() {
		// The safetensors reader trusts some header fields: a foreign file
		// must be an error, never a crash.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: unreadable safetensors header (%v)", ErrBadCheckpoint, r)
		}
	}()
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not a safetensors file, or a truncated one: %w", ErrBadCheckpoint, err)
	}
	tensors := map[string]safetensors.TensorView{}
	names := st.Names()
	slices.Sort(names)
	bare := !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(strings.TrimPrefix(n, "module."), "encoder.") })
	for _, name := range names {
		view, _ := st.Tensor(name)
		key := strings.TrimPrefix(name, "module.")
		if bare {
			key = "encoder." + key
		}
		tensors[key] = view
	}
	classes := opts.Classes
	if opts.Objective == Supervised && classes == 0 {
		head, ok := tensors["head.weight"]
		if !ok || len(head.Shape()) != 2 {
			return nil, fmt.Errorf("%w: no tensor %q of shape (classes, %d) for a supervised network", ErrArchitecture, "head.weight", arch.Latent)
		}
		classes = int(head.Shape()[0])
	}
	info := Info{
		Objective: opts.Objective, Augmentation: opts.Augmentation, Tau: opts.Tau, Label: opts.Label, Classes: classes,
		Res: arch.Res, Width: arch.Width, Latent: arch.Latent, Layers: arch.Layers(), Dim: arch.Latent, Data: opts.Data,
		Input: input,
	}
	if opts.Objective != Supervised {
		info.Classes, info.Label = 0, ""
	}
	if opts.Objective != Contrastive {
		info.Augmentation, info.Tau = "", 0
	} else if info.Tau == 0 {
		info.Tau = 0.07
	}
	if err := info.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	params := layout(arch, opts.Objective, info.Classes)
	expected := map[string]bool{}
	for _, p := range params {
		expected[p.name] = true
	}
	// The first missing or misshapen tensor, in the network's order, then
	// the first extra one.
	for _, p := range params {
		view, ok := tensors[p.name]
		if !ok {
			return nil, fmt.Errorf("%w: no tensor %q, which a %s network (%v) needs; the file has %s", ErrArchitecture, p.name, opts.Objective, arch, someNames(names))
		}
		if want := p.torchShape(); !equalShapes(view.Shape(), want) {
			return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v for %v", ErrArchitecture, p.name, view.Shape(), want, arch)
		}
	}
	for _, name := range names {
		key := strings.TrimPrefix(name, "module.")
		if bare {
			key = "encoder." + key
		}
		if !expected[key] {
			return nil, fmt.Errorf("%w: tensor %q is not part of a %s network (%v)", ErrArchitecture, name, opts.Objective, arch)
		}
	}
	w := newWeights(arch, opts.Objective, info.Classes, tensor.Float32)
	for _, p := range w.params {
		values, err := tensorFloats(tensors[p.name])
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrBadCheckpoint, p.name, err)
		}
		p.fromTorch(values)
	}
	return newModel(info, w)
}

// someNames lists the first few tensor names of a file, for a message.
func someNames(names []string) string {
	if len(names) == 0 {
		return "no tensor"
	}
	const most = 4
	list := strings.Join(names[:min(len(names), most)], ", ")
	if len(names) > most {
		list += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return list
}

// tensorFloats returns the values of a tensor as float32, checking that they
// are finite.
func tensorFloats(view safetensors.TensorView) ([]float32, error) {
	data := view.Data()
	var size int
	switch view.DType() {
	case safetensors.F32:
		size = 4
	case safetensors.F64:
		size = 8
	case safetensors.F16, safetensors.BF16:
		size = 2
	default:
		return nil, fmt.Errorf("values of type %v; want float32 (or float64, float16, bfloat16)", view.DType())
	}
	out := make([]float32, len(data)/size)
	for i := range out {
		var v float32
		switch view.DType() {
		case safetensors.F32:
			v = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		case safetensors.F64:
			v = float32(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		case safetensors.F16:
			v = npy.Float16(binary.LittleEndian.Uint16(data[2*i:]))
		case safetensors.BF16:
			v = math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[2*i:])) << 16)
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("value %d is not finite", i)
		}
		out[i] = v
	}
	return out, nil
}
