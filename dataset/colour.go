package dataset

import (
	"encoding/binary"
	"image"
	"math"
)

// colourKind is one photometric operation.
type colourKind uint8

const (
	opGrayscale colourKind = iota
	opBrightness
	opContrast
	opSaturation
	opHue
)

// colourOp is a photometric operation with its factor drawn for one sample.
type colourOp struct {
	kind colourKind
	// factor multiplies brightness, contrast or saturation, or shifts the
	// hue (in turns).
	factor float64
	// mean is the mean gray level of the object before a contrast step.
	mean float64
}

// gray is the luma of ITU-R BT.601, as torchvision's rgb_to_grayscale.
func gray(r, g, b float64) float64 { return 0.299*r + 0.587*g + 0.114*b }

// clamp01 limits x to [0, 1]; plain comparisons are faster than the
// built-in min and max, which order NaNs and signed zeros.
func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// applyColour applies ops, in order, to the colour (r, g, b) in [0, 1],
// clamping after each step as torchvision does.
func applyColour(r, g, b float64, ops []colourOp) (float64, float64, float64) {
	for _, op := range ops {
		switch op.kind {
		case opGrayscale:
			y := gray(r, g, b)
			r, g, b = y, y, y
		case opBrightness:
			r, g, b = clamp01(r*op.factor), clamp01(g*op.factor), clamp01(b*op.factor)
		case opContrast:
			m := (1 - op.factor) * op.mean
			r, g, b = clamp01(op.factor*r+m), clamp01(op.factor*g+m), clamp01(op.factor*b+m)
		case opSaturation:
			y := (1 - op.factor) * gray(r, g, b)
			r, g, b = clamp01(op.factor*r+y), clamp01(op.factor*g+y), clamp01(op.factor*b+y)
		case opHue:
			h, s, v := rgbToHSV(r, g, b)
			if s > 0 {
				r, g, b = hsvToRGB(h+op.factor+1, s, v)
			}
		}
	}
	return r, g, b
}

// applyColours applies ops to img in place.
//
// The colour steps act on the object, not the background: black pixels
// stay black, the mean gray of a contrast step is the mean over the
// non-black pixels, and a non-black pixel never rounds to black. So a
// photometric pipeline leaves the silhouette (the non-black mask) of the
// image unchanged, as a photometric augmentation of a shape on a black
// background should.
func applyColours(img *image.RGBA, ops []colourOp) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for k := range ops {
		if ops[k].kind != opContrast {
			continue
		}
		// torchvision blends with the mean gray of the image as it is when
		// the contrast step runs, so the steps before it are applied first.
		sum, count := 0.0, 0
		for y := 0; y < h; y++ {
			forObjectPixels(img.Pix[y*img.Stride:y*img.Stride+4*w], func(p []byte) {
				r, g, b := applyColour(float64(p[0])/255, float64(p[1])/255, float64(p[2])/255, ops[:k])
				sum += gray(r, g, b)
				count++
			})
		}
		if count > 0 {
			ops[k].mean = sum / float64(count)
		}
	}
	for y := 0; y < h; y++ {
		forObjectPixels(img.Pix[y*img.Stride:y*img.Stride+4*w], func(p []byte) {
			r, g, b := applyColour(float64(p[0])/255, float64(p[1])/255, float64(p[2])/255, ops)
			p[0], p[1], p[2] = to8(r), to8(g), to8(b)
			if p[0]|p[1]|p[2] == 0 {
				p[0], p[1], p[2] = 1, 1, 1
			}
		})
	}
}

// forObjectPixels calls f with the RGB bytes of each pixel of row that is
// not black.
func forObjectPixels(row []byte, f func(p []byte)) {
	for x := 0; x+4 <= len(row); x += 4 {
		// One load tests the three colour bytes at once.
		if binary.LittleEndian.Uint32(row[x:])&0x00ffffff != 0 {
			f(row[x : x+3 : x+3])
		}
	}
}

// to8 converts a channel in [0, 1] to 8 bits, rounding.
func to8(c float64) uint8 { return uint8(math.Round(c * 255)) }
