package encoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"
)

// A checkpoint is a safetensors file: the weights in PyTorch's layout and
// names (a state_dict of the same architecture loads them), and in its
// "__metadata__" map everything needed to rebuild the model and to say how
// it was made.

// FormatVersion is the version of the checkpoint format this package writes
// and reads.
const FormatVersion = 1

// checkpointFormat is the value of the "format" metadata key.
const checkpointFormat = "simsearch-encoder"

// Info describes a model: its architecture and how it was trained.
type Info struct {
	// FormatVersion is the checkpoint format version.
	FormatVersion int `json:"format_version"`
	// Objective is what the model was trained for, or its baseline.
	Objective Objective `json:"objective"`
	// Augmentation makes the positive pairs of a contrastive model: "A",
	// "B", "C" or a string of primitives.
	Augmentation string `json:"augmentation,omitempty"`
	// Tau is the InfoNCE temperature of a contrastive model.
	Tau float64 `json:"tau,omitempty"`
	// Label is the factor label a supervised model classifies, with
	// Classes classes.
	Label   string `json:"label,omitempty"`
	Classes int    `json:"classes,omitempty"`
	// Res, Width and Latent are the architecture (see Arch); Layers is the
	// number of strided convolutions. The pixels baseline has no network:
	// only Res is set.
	Res    int `json:"res"`
	Width  int `json:"width,omitempty"`
	Latent int `json:"latent,omitempty"`
	Layers int `json:"layers,omitempty"`
	// Dim is the size of the embeddings.
	Dim int `json:"dim"`
	// Command is the command line of an encoder that runs in another
	// program (see Command); Vectors names the file a space's precomputed
	// vectors came from (see Precomputed). Both are empty for simsearch's
	// own models.
	Command string `json:"command,omitempty"`
	Vectors string `json:"vectors,omitempty"`
	// Pool is the side of the grid the pixels baseline averages the image
	// to (Dim = 3·Pool²).
	Pool int `json:"pool,omitempty"`
	// Data is the training data (a generator spec or a folder path).
	Data string `json:"data,omitempty"`
	// Seed drew the initial weights, the batches and the augmentations.
	Seed uint64 `json:"seed"`
	// Epochs, Batch (images, or pairs, per step), LearningRate and Steps
	// describe the training.
	Epochs       int     `json:"epochs,omitempty"`
	Batch        int     `json:"batch,omitempty"`
	LearningRate float64 `json:"learning_rate,omitempty"`
	Steps        int     `json:"steps,omitempty"`
	// TrainSeconds is the wall time of the training loop.
	TrainSeconds float64 `json:"train_seconds,omitempty"`
	// FinalLoss is the mean loss of the last epoch.
	FinalLoss float64 `json:"final_loss,omitempty"`
	// Unnormalized is set for a contrastive model trained on unnormalized
	// outputs (TrainOptions.NoNormalize); its embeddings are normalized
	// like every model's.
	Unnormalized bool `json:"unnormalized,omitempty"`
	// FirstLoss, OutputNormFirst and OutputNormLast are, for a model
	// trained on unnormalized outputs, the loss of its first step and the
	// mean norm of its outputs at the first and the last step: the
	// shortcut shows as a falling loss while the norms grow.
	FirstLoss       float64 `json:"first_loss,omitempty"`
	OutputNormFirst float64 `json:"output_norm_first,omitempty"`
	OutputNormLast  float64 `json:"output_norm_last,omitempty"`
	// Input is the scaling of the pixels the network is fed; "" (a
	// checkpoint that does not say) is Unit.
	Input Input `json:"input,omitempty"`
}

// Arch returns the architecture of the model's network.
func (i Info) Arch() Arch { return Arch{Res: i.Res, Width: i.Width, Latent: i.Latent} }

// metadata returns the "__metadata__" map of a checkpoint of i.
func (i Info) metadata() map[string]string {
	m := map[string]string{
		"format":         checkpointFormat,
		"format_version": strconv.Itoa(FormatVersion),
		"objective":      string(i.Objective),
		"res":            strconv.Itoa(i.Res),
		"dim":            strconv.Itoa(i.Dim),
		"seed":           strconv.FormatUint(i.Seed, 10),
	}
	set := func(key string, v string, ok bool) {
		if ok {
			m[key] = v
		}
	}
	fl := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	set("augmentation", i.Augmentation, i.Augmentation != "")
	set("tau", fl(i.Tau), i.Tau != 0)
	set("label", i.Label, i.Label != "")
	set("classes", strconv.Itoa(i.Classes), i.Classes != 0)
	set("width", strconv.Itoa(i.Width), i.Width != 0)
	set("latent", strconv.Itoa(i.Latent), i.Latent != 0)
	set("layers", strconv.Itoa(i.Layers), i.Layers != 0)
	set("pool", strconv.Itoa(i.Pool), i.Pool != 0)
	set("data", i.Data, i.Data != "")
	set("epochs", strconv.Itoa(i.Epochs), i.Epochs != 0)
	set("batch", strconv.Itoa(i.Batch), i.Batch != 0)
	set("learning_rate", fl(i.LearningRate), i.LearningRate != 0)
	set("steps", strconv.Itoa(i.Steps), i.Steps != 0)
	set("train_seconds", fl(i.TrainSeconds), i.TrainSeconds != 0)
	set("final_loss", fl(i.FinalLoss), i.FinalLoss != 0)
	set("unnormalized", "true", i.Unnormalized)
	set("first_loss", fl(i.FirstLoss), i.FirstLoss != 0)
	set("output_norm_first", fl(i.OutputNormFirst), i.OutputNormFirst != 0)
	set("output_norm_last", fl(i.OutputNormLast), i.OutputNormLast != 0)
	set("input", string(i.Input), i.Input != "" && i.Input != Unit)
	return m
}

// infoFromMetadata parses and checks a checkpoint's metadata.
func infoFromMetadata(m map[string]string) (Info, error) {
	if m["format"] != checkpointFormat {
		return Info{}, fmt.Errorf("%w: a safetensors file, but not a simsearch encoder (no %q format in its metadata)", ErrBadCheckpoint, checkpointFormat)
	}
	var info Info
	var errs []error
	integer := func(key string, required bool) int {
		s, ok := m[key]
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("no %s", key))
			}
			return 0
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("%s %q is not a count", key, s))
		}
		return v
	}
	float := func(key string) float64 {
		s, ok := m[key]
		if !ok {
			return 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%s %q is not a number", key, s))
		}
		return v
	}
	info.FormatVersion = integer("format_version", true)
	if len(errs) == 0 && info.FormatVersion != FormatVersion {
		return Info{}, fmt.Errorf("%w: format version %d; this build of simsearch reads version %d", ErrBadCheckpoint, info.FormatVersion, FormatVersion)
	}
	objective, err := ParseObjective(m["objective"])
	if err != nil {
		errs = append(errs, err)
	}
	info.Objective = objective
	info.Augmentation = m["augmentation"]
	info.Tau = float("tau")
	info.Label = m["label"]
	info.Classes = integer("classes", objective.Classifies())
	info.Res = integer("res", true)
	info.Width = integer("width", objective != Pixels)
	info.Latent = integer("latent", objective != Pixels)
	info.Layers = integer("layers", false)
	info.Dim = integer("dim", true)
	info.Pool = integer("pool", objective == Pixels)
	info.Data = m["data"]
	if s, ok := m["seed"]; ok {
		if info.Seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			errs = append(errs, fmt.Errorf("seed %q is not a number", s))
		}
	}
	info.Epochs = integer("epochs", false)
	info.Batch = integer("batch", false)
	info.LearningRate = float("learning_rate")
	info.Steps = integer("steps", false)
	info.TrainSeconds = float("train_seconds")
	info.FinalLoss = float("final_loss")
	info.Unnormalized = m["unnormalized"] == "true"
	info.FirstLoss = float("first_loss")
	info.OutputNormFirst = float("output_norm_first")
	info.OutputNormLast = float("output_norm_last")
	if s, ok := m["input"]; ok {
		if s == "" {
			errs = append(errs, fmt.Errorf("an empty input scaling"))
		} else if in, err := ParseInput(s); err != nil {
			errs = append(errs, fmt.Errorf("input scaling %q is not centered or unit", s))
		} else {
			info.Input = in
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Info{}, fmt.Errorf("%w: metadata: %w", ErrBadCheckpoint, err)
	}
	if err := info.check(); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	return info, nil
}

// check returns an error if the fields of i contradict each other.
func (i Info) check() error {
	if i.Objective == Pixels {
		if i.Pool < 1 || i.Pool > i.Res || i.Res%i.Pool != 0 || i.Res > MaxRes {
			return fmt.Errorf("pixels baseline pooling %d px to %d", i.Res, i.Pool)
		}
		if i.Dim != 3*i.Pool*i.Pool {
			return fmt.Errorf("pixels baseline of dimension %d, want %d", i.Dim, 3*i.Pool*i.Pool)
		}
		return nil
	}
	if err := i.Arch().Validate(); err != nil {
		return err
	}
	if i.Layers != 0 && i.Layers != i.Arch().Layers() {
		return fmt.Errorf("%d layers for resolution %d", i.Layers, i.Res)
	}
	if i.Dim != i.Latent {
		return fmt.Errorf("dimension %d with latent size %d", i.Dim, i.Latent)
	}
	if i.Objective.Classifies() && (i.Classes < 2 || i.Classes > 1<<16) {
		return fmt.Errorf("%s with %d classes", i.Objective, i.Classes)
	}
	return nil
}

// tensorView lets safetensors write float32 data.
type tensorView struct {
	shape []uint64
	data  []byte
}

func (v tensorView) DType() safetensors.DType { return safetensors.F32 }
func (v tensorView) Shape() []uint64          { return v.shape }
func (v tensorView) Data() []byte             { return v.data }
func (v tensorView) DataLen() uint64          { return uint64(len(v.data)) }

// encodeCheckpoint returns the checkpoint bytes of a model.
func encodeCheckpoint(info Info, w *weights) ([]byte, error) {
	views := map[string]tensorView{}
	if w != nil {
		for _, p := range w.params {
			values := p.toTorch()
			data := make([]byte, 4*len(values))
			for i, v := range values {
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
			}
			views[p.name] = tensorView{shape: p.torchShape(), data: data}
		}
	}
	b, err := safetensors.Serialize(views, info.metadata())
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	return b, nil
}

// decodeCheckpoint parses checkpoint bytes into the model's info and
// weights (nil for the pixels baseline).
func decodeCheckpoint(b []byte) (info Info, w *weights, err error) {
	defer func() {
		// The safetensors reader trusts some header fields; a foreign file
		// must be an error, never a crash.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: unreadable safetensors header (%v)", ErrBadCheckpoint, r)
		}
	}()
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return Info{}, nil, fmt.Errorf("%w: not a safetensors file, or a truncated one: %w", ErrBadCheckpoint, err)
	}
	_, meta, err := safetensors.ReadMetadata(b)
	if err != nil {
		return Info{}, nil, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	info, err = infoFromMetadata(meta.Metadata())
	if err != nil {
		return Info{}, nil, err
	}
	if info.Objective == Pixels {
		if st.Len() != 0 {
			return Info{}, nil, fmt.Errorf("%w: the pixels baseline has no weights, this file has %d tensors", ErrArchitecture, st.Len())
		}
		return info, nil, nil
	}
	// Check names and shapes against the header before allocating anything
	// the header asks for.
	params := layout(info.Arch(), info.Objective, info.Classes)
	expected := map[string]bool{}
	for _, p := range params {
		expected[p.name] = true
	}
	for _, name := range st.Names() {
		if !expected[name] {
			return Info{}, nil, fmt.Errorf("%w: tensor %q is not part of a %s model (%v)", ErrArchitecture, name, info.Objective, info.Arch())
		}
	}
	for _, p := range params {
		view, ok := st.Tensor(p.name)
		if !ok {
			return Info{}, nil, fmt.Errorf("%w: no tensor %q for a %s model (%v)", ErrArchitecture, p.name, info.Objective, info.Arch())
		}
		if view.DType() != safetensors.F32 {
			return Info{}, nil, fmt.Errorf("%w: tensor %q is %v, want F32", ErrArchitecture, p.name, view.DType())
		}
		if want := p.torchShape(); !equalShapes(view.Shape(), want) {
			return Info{}, nil, fmt.Errorf("%w: tensor %q has shape %v, want %v for %v", ErrArchitecture, p.name, view.Shape(), want, info.Arch())
		}
	}
	w = newWeights(info.Arch(), info.Objective, info.Classes, tensor.Float32)
	for _, p := range w.params {
		view, _ := st.Tensor(p.name)
		data := view.Data()
		values := make([]float32, len(data)/4)
		for i := range values {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Info{}, nil, fmt.Errorf("%w: tensor %q holds a value that is not finite", ErrBadCheckpoint, p.name)
			}
			values[i] = v
		}
		p.fromTorch(values)
	}
	return info, w, nil
}

func equalShapes(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
