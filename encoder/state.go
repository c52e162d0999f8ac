package encoder

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"simsearch/internal/atomicfile"
)

// A training state is what a training that stopped needs to go on as if it
// had never stopped: the weights, Adam's moments and step count, the
// number of steps done, the running loss of the epoch, and the loss log so
// far. The random streams of training (the order of the images in each
// epoch and every view's augmentation) are functions of the seed and the
// step, so the step is their whole state. The settings the state was made
// with are stored too, so that a training with other settings does not
// resume it.
//
// The file is "simsearch-train-state\n", a little-endian uint32 version, a
// uint32 length and that many bytes of JSON (stateHeader), the float32
// values of each parameter's weights, first moment and second moment in the
// header's order, and the SHA-256 of everything before it. It is written
// atomically; a file that is cut short or altered fails the checksum.

// StateVersion is the version of the training state format.
const StateVersion = 1

const stateMagic = "simsearch-train-state\n"

// StatePath returns the path of the training state TrainToFiles keeps
// beside the checkpoint at path while it trains: enc-A.safetensors →
// enc-A.train-state.
func StatePath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".train-state"
}

// trainSettings are the options a state belongs to: a training resumes a
// state only when its settings are equal.
type trainSettings struct {
	Objective    Objective `json:"objective"`
	Augmentation string    `json:"augmentation,omitempty"`
	Label        string    `json:"label,omitempty"`
	Res          int       `json:"res"`
	Width        int       `json:"width"`
	Latent       int       `json:"latent"`
	Epochs       int       `json:"epochs"`
	Batch        int       `json:"batch"`
	LearningRate float64   `json:"learning_rate"`
	Tau          float64   `json:"tau,omitempty"`
	Seed         uint64    `json:"seed"`
	Input        Input     `json:"input"`
	DropLast     bool      `json:"drop_last,omitempty"`
	NoNormalize  bool      `json:"no_normalize,omitempty"`
	// Data is the training data's source, Images its number of images and
	// DataHash the SHA-256 of their pixels (and labels).
	Data     string `json:"data"`
	Images   int    `json:"images"`
	DataHash string `json:"data_hash"`
}

// settingsOf returns the settings of checked options o.
func settingsOf(o TrainOptions) trainSettings {
	return trainSettings{
		Objective: o.Objective, Augmentation: o.Augmentation, Label: o.Label,
		Res: o.Res, Width: o.Width, Latent: o.Latent, Epochs: o.Epochs, Batch: o.Batch,
		LearningRate: o.LearningRate, Tau: o.Tau, Seed: o.Seed, Input: o.Input, DropLast: o.DropLast, NoNormalize: o.NoNormalize,
		Data: o.Data.Source, Images: o.Data.Len(), DataHash: o.Data.hash(o.Label),
	}
}

// difference returns a sentence naming the first setting in which s and t
// differ, or "" when they are equal.
func (s trainSettings) difference(t trainSettings) string {
	type field struct {
		name string
		a, b any
	}
	fields := []field{
		{"objective", s.Objective, t.Objective},
		{"augmentation", s.Augmentation, t.Augmentation},
		{"label", s.Label, t.Label},
		{"resolution", s.Res, t.Res},
		{"width", s.Width, t.Width},
		{"latent size", s.Latent, t.Latent},
		{"number of epochs", s.Epochs, t.Epochs},
		{"batch", s.Batch, t.Batch},
		{"learning rate", s.LearningRate, t.LearningRate},
		{"temperature τ", s.Tau, t.Tau},
		{"seed", s.Seed, t.Seed},
		{"input scaling", s.Input, t.Input},
		{"dropping of the last partial batch", s.DropLast, t.DropLast},
		{"normalization of the outputs left out (--no-normalize)", s.NoNormalize, t.NoNormalize},
		{"training data", s.Data, t.Data},
		{"number of training images", s.Images, t.Images},
	}
	for _, f := range fields {
		if f.a != f.b {
			return fmt.Sprintf("its %s is %v, this training's is %v", f.name, f.a, f.b)
		}
	}
	if s.DataHash != t.DataHash {
		return "its training images are not these (the same source and count, other pixels or labels)"
	}
	return ""
}

// trainState is a training stopped after Step steps.
type trainState struct {
	settings trainSettings
	// step counts the steps done; adamStep is Adam's step count.
	step, adamStep int
	// epochLoss is the sum of the losses of the current epoch's steps.
	epochLoss float64
	// opening is the training's first step.
	opening firstStep
	// seconds is the time spent training so far.
	seconds float64
	// lossLog is the loss CSV so far, its header included.
	lossLog []byte
	// names, values, m and v are each parameter's name, weights and Adam
	// moments (nil moments before the first step).
	names        []string
	values, m, v [][]float32
}

// stateHeader is the JSON part of a state file.
type stateHeader struct {
	Settings  trainSettings `json:"settings"`
	Step      int           `json:"step"`
	AdamStep  int           `json:"adam_step"`
	EpochLoss uint64        `json:"epoch_loss_bits"` // float64 bits, for an exact round trip
	// FirstLoss and FirstNorm are the loss and mean output norm of the
	// training's first step (float64 bits), which a model trained on
	// unnormalized outputs records.
	FirstLoss uint64       `json:"first_loss_bits,omitempty"`
	FirstNorm uint64       `json:"first_output_norm_bits,omitempty"`
	Seconds   float64      `json:"seconds"`
	LossLog   string       `json:"loss_log"`
	Params    []stateParam `json:"params"`
}

type stateParam struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

// encode returns the state file's bytes.
func (s *trainState) encode() ([]byte, error) {
	h := stateHeader{
		Settings: s.settings, Step: s.step, AdamStep: s.adamStep, EpochLoss: math.Float64bits(s.epochLoss),
		Seconds: s.seconds, LossLog: string(s.lossLog),
		FirstLoss: math.Float64bits(s.opening.loss), FirstNorm: math.Float64bits(s.opening.norm),
	}
	for i, name := range s.names {
		h.Params = append(h.Params, stateParam{Name: name, Len: len(s.values[i])})
	}
	header, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(stateMagic)
	_ = binary.Write(&b, binary.LittleEndian, uint32(StateVersion))
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	b.Write(header)
	for i := range s.names {
		for _, values := range [][]float32{s.values[i], s.m[i], s.v[i]} {
			if values == nil {
				values = make([]float32, len(s.values[i]))
			}
			if len(values) != len(s.values[i]) {
				panic("encoder: state moments of another length than the weights")
			}
			_ = binary.Write(&b, binary.LittleEndian, values)
		}
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes(), nil
}

// decodeState parses a state file's bytes. Errors wrap ErrBadState.
func decodeState(b []byte) (*trainState, error) {
	fixed := len(stateMagic) + 8
	if len(b) < fixed+sha256.Size || string(b[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a simsearch training state", ErrBadState)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: its checksum does not match (the file is cut short or damaged)", ErrBadState)
	}
	version := binary.LittleEndian.Uint32(b[len(stateMagic):])
	if version != StateVersion {
		return nil, fmt.Errorf("%w: format version %d; this build of simsearch reads version %d", ErrBadState, version, StateVersion)
	}
	n := int(binary.LittleEndian.Uint32(b[len(stateMagic)+4:]))
	if n > len(body)-fixed {
		return nil, fmt.Errorf("%w: a header longer than the file", ErrBadState)
	}
	var h stateHeader
	if err := json.Unmarshal(body[fixed:fixed+n], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBadState, err)
	}
	s := &trainState{
		settings: h.Settings, step: h.Step, adamStep: h.AdamStep, epochLoss: math.Float64frombits(h.EpochLoss),
		opening: firstStep{loss: math.Float64frombits(h.FirstLoss), norm: math.Float64frombits(h.FirstNorm)},
		seconds: h.Seconds, lossLog: []byte(h.LossLog),
	}
	rest := body[fixed+n:]
	for _, p := range h.Params {
		if p.Len < 0 || 3*4*p.Len > len(rest) {
			return nil, fmt.Errorf("%w: parameter %q is longer than the file", ErrBadState, p.Name)
		}
		read := func() []float32 {
			values := make([]float32, p.Len)
			for i := range values {
				values[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
			}
			rest = rest[4*p.Len:]
			return values
		}
		s.names = append(s.names, p.Name)
		s.values = append(s.values, read())
		s.m = append(s.m, read())
		s.v = append(s.v, read())
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last parameter", ErrBadState, len(rest))
	}
	return s, nil
}

// writeState writes s to path atomically: a reader, or a training resumed
// after a crash, finds the previous state or this one, never a part.
func writeState(path string, s *trainState) error {
	b, err := s.encode()
	if err != nil {
		return fmt.Errorf("write training state %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write training state %s: %w", path, err)
	}
	return nil
}

// readState reads the state at path; it returns nil and no error when
// there is none.
func readState(path string) (*trainState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read training state: %w", err)
	}
	s, err := decodeState(b)
	if err != nil {
		return nil, fmt.Errorf("training state %s: %w", path, err)
	}
	return s, nil
}

// capture returns the state of t after step steps.
// The loss log is the caller's to add.
func (t *trainer) capture(step int, epochLoss, seconds float64) *trainState {
	s := &trainState{settings: t.settings, step: step, epochLoss: epochLoss, seconds: seconds}
	s.adamStep = t.solver.step
	for _, p := range t.w.params {
		s.names = append(s.names, p.name)
		s.values = append(s.values, append([]float32(nil), p.value.Data().([]float32)...))
		s.m = append(s.m, append([]float32(nil), t.solver.m[p.value]...))
		s.v = append(s.v, append([]float32(nil), t.solver.v[p.value]...))
	}
	return s
}

// restore puts the weights and Adam's moments of s into t. s must be of
// t's settings.
func (t *trainer) restore(s *trainState) error {
	if len(s.names) != len(t.w.params) {
		return fmt.Errorf("%w: %d parameters, the network has %d", ErrBadState, len(s.names), len(t.w.params))
	}
	for i, p := range t.w.params {
		w := p.value.Data().([]float32)
		if s.names[i] != p.name || len(s.values[i]) != len(w) {
			return fmt.Errorf("%w: parameter %q of %d values where the network has %q of %d", ErrBadState, s.names[i], len(s.values[i]), p.name, len(w))
		}
		copy(w, s.values[i])
		if s.adamStep > 0 {
			t.solver.m[p.value] = append([]float32(nil), s.m[i]...)
			t.solver.v[p.value] = append([]float32(nil), s.v[i]...)
		}
	}
	t.solver.step = s.adamStep
	return nil
}

// hash returns the SHA-256 of the set's pixels and of the label training
// reads (none when label is empty), in hex.
func (s *TrainingSet) hash(label string) string {
	h := sha256.New()
	var buf [8]byte
	for i, img := range s.Images {
		binary.LittleEndian.PutUint32(buf[:4], uint32(img.Rect.Dx()))
		binary.LittleEndian.PutUint32(buf[4:], uint32(img.Rect.Dy()))
		h.Write(buf[:])
		w := 4 * img.Rect.Dx()
		for y := range img.Rect.Dy() {
			h.Write(img.Pix[y*img.Stride : y*img.Stride+w])
		}
		if label != "" && i < len(s.Labels) {
			v, _ := s.Labels[i].Get(label)
			binary.LittleEndian.PutUint64(buf[:], uint64(v))
			h.Write(buf[:])
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
