package encoder

import (
	"fmt"
	"image"
)

// Input is how a network's input is made from an image's pixels: RGB
// values, height × width × 3, each scaled from 0..255 by one of the
// scalings below. It is part of a model: the checkpoint records it (a
// checkpoint that does not is Unit's, as every checkpoint before it was)
// and the model's identity includes it.
type Input string

const (
	// Centered is values in [−1, 1]: (v/255 − 0.5) / 0.5, what PyTorch's
	// ToTensor followed by Normalize(0.5, 0.5) gives. It is the default of
	// training.
	Centered Input = "centered"
	// Unit is values in [0, 1]: v/255, what ToTensor alone gives.
	Unit Input = "unit"
)

// Inputs are the input scalings, the default of training first.
var Inputs = []Input{Centered, Unit}

// ParseInput parses an input scaling: "centered" or "unit" (also
// "0..1" and "-1..1"); "" is the default, Centered.
func ParseInput(s string) (Input, error) {
	switch s {
	case "", "centered", "-1..1":
		return Centered, nil
	case "unit", "0..1":
		return Unit, nil
	}
	return "", fmt.Errorf("%w: input scaling %q: want centered (RGB in [-1, 1], Normalize(0.5, 0.5)) or unit (RGB in [0, 1])", ErrOptions, s)
}

// orUnit returns in, or Unit when in is empty (a checkpoint without it).
func (in Input) orUnit() Input {
	if in == "" {
		return Unit
	}
	return in
}

// identity is the text the model's identity hashes for in.
func (in Input) identity() string {
	if in.orUnit() == Centered {
		return "rgb -1..1"
	}
	return "rgb 0..1"
}

// interval says the range of the values, for messages.
func (in Input) interval() string {
	if in.orUnit() == Centered {
		return "[-1, 1]"
	}
	return "[0, 1]"
}

// scale returns the factor and offset of the scaling: value = v·a + b.
func (in Input) scale() (a, b float32) {
	if in.orUnit() == Centered {
		return 2.0 / 255, -1
	}
	return 1.0 / 255, 0
}

// toTensor writes img as height×width×3 values scaled by in into dst.
func toTensor(img *image.RGBA, dst []float32, in Input) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if len(dst) != w*h*3 {
		return fmt.Errorf("image of %d×%d pixels, the model takes %d values (%d×%d pixels)", w, h, len(dst), side(len(dst)/3), side(len(dst)/3))
	}
	a, b := in.scale()
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := dst[y*w*3 : (y+1)*w*3]
		for x := range w {
			out[3*x] = float32(row[4*x])*a + b
			out[3*x+1] = float32(row[4*x+1])*a + b
			out[3*x+2] = float32(row[4*x+2])*a + b
		}
	}
	return nil
}
