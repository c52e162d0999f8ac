package dataset

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Split tells whether an item is for training or validation.
type Split uint8

// The two splits.
const (
	Train Split = iota
	Validation
)

// String returns "train" or "val".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Validation:
		return "val"
	}
	return fmt.Sprintf("Split(%d)", uint8(s))
}

// ParseSplit parses "train" or "val" (also "validation").
func ParseSplit(s string) (Split, error) {
	switch s {
	case "train":
		return Train, nil
	case "val", "validation":
		return Validation, nil
	}
	return 0, fmt.Errorf("unknown split %q (want train or val)", s)
}

// Limits of a Spec, so that a typing mistake is an error rather than a
// dataset that fills the disk.
const (
	MinRes = 8
	MaxRes = 1024
	MaxN   = 100_000_000
)

// Spec describes a colored-shapes dataset: how many items, the seed they are
// drawn from, their resolution and the share of them kept for validation.
// A Spec is a plain value, safe to copy and to use from many goroutines.
type Spec struct {
	// N is the number of items.
	N int
	// Seed selects the dataset; item i depends only on (Seed, i).
	Seed uint64
	// Res is the width and height of every image in pixels.
	Res int
	// ValFrac is the share of items, at the end of the index range, kept for
	// validation: the first N − round(N·ValFrac) items are for training.
	ValFrac float64
}

// DefaultSpec returns the dataset of the seed's experiment: 64,000 items at
// 64 pixels, seed 1, 40,000 for training and 24,000 for validation.
func DefaultSpec() Spec {
	return Spec{N: 64000, Seed: 1, Res: 64, ValFrac: 0.375}
}

// specKind is the prefix of the textual form of a Spec.
const specKind = "shapes"

// String returns the canonical text of s, such as
// "shapes:n=64000,seed=1,res=64,val=0.375", which ParseSpec reads back to s.
func (s Spec) String() string {
	return fmt.Sprintf("%s:n=%d,seed=%d,res=%d,val=%s", specKind, s.N, s.Seed, s.Res,
		strconv.FormatFloat(s.ValFrac, 'g', -1, 64))
}

// ParseSpec parses the text of a Spec: "shapes", optionally followed by ":"
// and comma-separated key=value pairs among n, seed, res and val. Missing keys
// take the values of DefaultSpec. Errors wrap ErrBadSpec.
func ParseSpec(text string) (Spec, error) {
	s := DefaultSpec()
	kind, params, _ := strings.Cut(strings.TrimSpace(text), ":")
	if kind != specKind {
		return Spec{}, fmt.Errorf("%w %q: it must start with %q, as in %q", ErrBadSpec, text, specKind, DefaultSpec())
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(params, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return Spec{}, fmt.Errorf("%w %q: %q is not key=value", ErrBadSpec, text, kv)
		}
		if seen[key] {
			return Spec{}, fmt.Errorf("%w %q: %s is given twice", ErrBadSpec, text, key)
		}
		seen[key] = true
		var err error
		switch key {
		case "n":
			s.N, err = strconv.Atoi(value)
		case "seed":
			s.Seed, err = strconv.ParseUint(value, 10, 64)
		case "res":
			s.Res, err = strconv.Atoi(value)
		case "val":
			s.ValFrac, err = strconv.ParseFloat(value, 64)
		default:
			return Spec{}, fmt.Errorf("%w %q: unknown key %q (want n, seed, res or val)", ErrBadSpec, text, key)
		}
		if err != nil {
			return Spec{}, fmt.Errorf("%w %q: %s=%s is not a number", ErrBadSpec, text, key, value)
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Validate returns an error wrapping ErrBadSpec if a field of s is out of
// its range.
func (s Spec) Validate() error {
	switch {
	case s.N < 1 || s.N > MaxN:
		return fmt.Errorf("%w: n=%d, want 1 to %d items", ErrBadSpec, s.N, MaxN)
	case s.Res < MinRes || s.Res > MaxRes:
		return fmt.Errorf("%w: res=%d, want %d to %d pixels", ErrBadSpec, s.Res, MinRes, MaxRes)
	case !(s.ValFrac >= 0 && s.ValFrac <= 1):
		return fmt.Errorf("%w: val=%v, want a fraction from 0 to 1", ErrBadSpec, s.ValFrac)
	}
	return nil
}

// Counts returns the number of training and validation items.
func (s Spec) Counts() (train, val int) {
	val = int(math.Round(float64(s.N) * s.ValFrac))
	return s.N - val, val
}

// Split returns the split of item i: the first N − round(N·ValFrac) items
// are for training, the rest for validation.
func (s Spec) Split(i int) Split {
	if train, _ := s.Counts(); i < train {
		return Train
	}
	return Validation
}

// Rand returns the random stream of item i: a PCG seeded from a hash of
// (Seed, i), so every item has its own stream and items can be drawn in any
// order. Vary and probe sets may use it to derive further randomness from
// an item.
func (s Spec) Rand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(s.Seed), splitmix64(uint64(i)^0x9e3779b97f4a7c15)))
}

// Factors returns the factors of item i. They depend only on (Seed, i) and
// Res, and are drawn uniformly and independently from RangesAt(Res) in a
// fixed order: shape, hue, saturation, value, radius, x, y, rotation.
func (s Spec) Factors(i int) Factors {
	return randomFactors(s.Rand(i), s.Res)
}

// Labels returns the labels of item i.
func (s Spec) Labels(i int) Labels { return s.Factors(i).Labels(s.Res) }

// Image returns the image of item i, Render(s.Factors(i), s.Res).
func (s Spec) Image(i int) *image.RGBA { return Render(s.Factors(i), s.Res) }

// randomFactors draws one item's factors from rng.
func randomFactors(rng *rand.Rand, res int) Factors {
	r := RangesAt(res)
	return Factors{
		Shape:      Shape(rng.IntN(numShapes)),
		Hue:        rng.Float64(),
		Saturation: r.Saturation.at(rng.Float64()),
		Value:      r.Value.at(rng.Float64()),
		Radius:     r.Radius.at(rng.Float64()),
		CX:         r.Centre.at(rng.Float64()),
		CY:         r.Centre.at(rng.Float64()),
		Rotation:   randomAngle(rng),
	}
}

// randomAngle returns an angle uniform in [0, 2π).
func randomAngle(rng *rand.Rand) float64 {
	a := 2 * math.Pi * rng.Float64()
	if a >= 2*math.Pi { // 2π·(1−2⁻⁵³) may round up to 2π
		a = 0
	}
	return a
}

// splitmix64 scrambles x so that neighbouring seeds and indices give
// unrelated PCG states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
