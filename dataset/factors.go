package dataset

import (
	"fmt"
	"math"
	"strings"
)

// Shape is the kind of shape drawn in an image.
type Shape int

// The three shapes of the dataset, in the order of their class labels.
const (
	Circle Shape = iota
	Square
	Triangle
	numShapes = 3
)

var shapeNames = [numShapes]string{"circle", "square", "triangle"}

// String returns "circle", "square" or "triangle".
func (s Shape) String() string {
	if s < 0 || int(s) >= numShapes {
		return fmt.Sprintf("Shape(%d)", int(s))
	}
	return shapeNames[s]
}

// ParseShape parses the String form of a shape.
func ParseShape(s string) (Shape, error) {
	for i, name := range shapeNames {
		if s == name {
			return Shape(i), nil
		}
	}
	return 0, fmt.Errorf("unknown shape %q (want circle, square or triangle)", s)
}

// Factors are the factors of variation of one image. Lengths are in pixels
// at the image's resolution, in continuous coordinates where pixel (x, y)
// covers [x, x+1)×[y, y+1), so the image centre of a 64-pixel image is (32, 32).
type Factors struct {
	Shape Shape
	// Hue, Saturation and Value are the shape's colour in HSV; Hue is in [0, 1).
	Hue, Saturation, Value float64
	// Radius is the circumradius: the distance from the centre to a corner
	// of a square or triangle, the radius of a circle.
	Radius float64
	// CX and CY are the shape's centre; y grows downwards.
	CX, CY float64
	// Rotation is in radians, in [0, 2π). At 0 the square is axis-aligned
	// and the triangle points up.
	Rotation float64
}

// Range is a closed interval of factor values.
type Range struct{ Lo, Hi float64 }

// at maps u in [0, 1] linearly onto the range.
func (r Range) at(u float64) float64 { return r.Lo + u*(r.Hi-r.Lo) }

// bin returns which of n equal parts of the range holds v; values outside
// the range fall in the first or last part.
func (r Range) bin(v float64, n int) int {
	b := int(math.Floor(float64(n) * (v - r.Lo) / (r.Hi - r.Lo)))
	return min(max(b, 0), n-1)
}

// Ranges are the ranges from which the factors are drawn, uniformly and
// independently, at one resolution. Hue is in [0, 1) and rotation in
// [0, 2π) at every resolution.
type Ranges struct {
	Saturation, Value Range
	// Radius and Centre are in pixels; the centre range applies to x and y.
	Radius, Centre Range
}

// RangesAt returns the factor ranges at resolution res. The ranges of the
// specification are given at 64 pixels: radius [6, 14], centre [4, 60];
// lengths scale with res.
func RangesAt(res int) Ranges {
	s := float64(res) / 64
	return Ranges{
		Saturation: Range{0.55, 0.85},
		Value:      Range{0.55, 0.95},
		Radius:     Range{6 * s, 14 * s},
		Centre:     Range{4 * s, 60 * s},
	}
}

// Labels are the class labels derived from an image's factors, used for
// classification and k-NN accuracy.
type Labels struct {
	// Shape is the Shape's number: 3 classes.
	Shape int
	// Color is floor(8·hue): 8 classes.
	Color int
	// Location is the cell of a 3×3 grid over the centre range,
	// row·3 + column with row 0 at the top: 9 classes.
	Location int
	// Size is the tertile of the radius range: 3 classes.
	Size int
}

// LabelNames are the names of the labels, as accepted by Labels.Get and
// LabelClasses.
var LabelNames = []string{"shape", "color", "location", "size"}

// FactorNames are the names items store a Factors value's fields under:
// the shape's class number, then the continuous factors (lengths in
// pixels at the image's resolution, rotation in radians).
var FactorNames = []string{"shape", "hue", "saturation", "value", "radius", "cx", "cy", "rotation"}

// Labels returns the class labels of f, for an image of resolution res.
func (f Factors) Labels(res int) Labels {
	r := RangesAt(res)
	return Labels{
		Shape:    int(f.Shape),
		Color:    Range{0, 1}.bin(f.Hue, 8),
		Location: 3*r.Centre.bin(f.CY, 3) + r.Centre.bin(f.CX, 3),
		Size:     r.Radius.bin(f.Radius, 3),
	}
}

// Get returns the label called name (one of LabelNames).
func (l Labels) Get(name string) (int, bool) {
	switch name {
	case "shape":
		return l.Shape, true
	case "color":
		return l.Color, true
	case "location":
		return l.Location, true
	case "size":
		return l.Size, true
	}
	return 0, false
}

// LabelClasses returns the number of classes of the label called name
// (one of LabelNames), or 0 for an unknown name.
func LabelClasses(name string) int {
	switch name {
	case "shape":
		return numShapes
	case "color":
		return 8
	case "location":
		return 9
	case "size":
		return 3
	}
	return 0
}

// Factor names one factor of variation, as changed by Vary.
type Factor int

// The factors that Vary can change. FactorColor changes the hue,
// FactorLocation the centre (x and y), FactorSize the radius.
const (
	FactorShape Factor = iota
	FactorColor
	FactorLocation
	FactorSize
	FactorRotation
)

// AllFactors lists every Factor, in order.
var AllFactors = []Factor{FactorShape, FactorColor, FactorLocation, FactorSize, FactorRotation}

var factorNames = []string{"shape", "color", "location", "size", "rotation"}

// String returns "shape", "color", "location", "size" or "rotation".
func (f Factor) String() string {
	if f < 0 || int(f) >= len(factorNames) {
		return fmt.Sprintf("Factor(%d)", int(f))
	}
	return factorNames[f]
}

// ParseFactor parses a factor name: the String form, or one of the aliases
// "hue" (color), "colour", "centre"/"center" (location) and "radius" (size).
func ParseFactor(s string) (Factor, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "shape":
		return FactorShape, nil
	case "color", "colour", "hue":
		return FactorColor, nil
	case "location", "centre", "center":
		return FactorLocation, nil
	case "size", "radius":
		return FactorSize, nil
	case "rotation":
		return FactorRotation, nil
	}
	return 0, fmt.Errorf("unknown factor %q (want one of %s)", s, strings.Join(factorNames, ", "))
}
