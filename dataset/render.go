package dataset

import (
	"image"
	"math"
)

// Render returns a res×res image of f: the shape in its colour on a black
// background, its edges anti-aliased by area coverage (4×4 supersampling).
// Render panics if res is not positive.
func Render(f Factors, res int) *image.RGBA {
	if res <= 0 {
		panic("dataset: Render with a resolution of zero or less")
	}
	dst := image.NewRGBA(image.Rect(0, 0, res, res))
	RenderInto(dst, f)
	return dst
}

// RenderInto draws f into dst as Render does, overwriting every pixel, so a
// caller can reuse one image for many items without allocating. f's lengths
// are relative to dst.Rect.Min.
func RenderInto(dst *image.RGBA, f Factors) {
	fillBlack(dst)
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	r, g, b := hsvToRGB(f.Hue, f.Saturation, f.Value)
	r, g, b = 255*r, 255*g, 255*b
	sh := newOutline(f)

	x0 := max(int(math.Floor(f.CX-f.Radius)), 0)
	x1 := min(int(math.Ceil(f.CX+f.Radius)), w-1)
	y0 := max(int(math.Floor(f.CY-f.Radius)), 0)
	y1 := min(int(math.Ceil(f.CY+f.Radius)), h-1)
	for y := y0; y <= y1; y++ {
		row := dst.Pix[y*dst.Stride:]
		py := float64(y) + 0.5 - f.CY
		for x := x0; x <= x1; x++ {
			px := float64(x) + 0.5 - f.CX
			coverage := sh.coverage(px, py)
			if coverage == 0 {
				continue
			}
			p := row[4*x : 4*x+3 : 4*x+3]
			p[0] = uint8(coverage*r + 0.5)
			p[1] = uint8(coverage*g + 0.5)
			p[2] = uint8(coverage*b + 0.5)
		}
	}
}

// fillBlack sets every pixel of dst to opaque black.
func fillBlack(dst *image.RGBA) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	if dst.Stride == 4*w {
		fillBlackRow(dst.Pix[:4*w*h])
		return
	}
	for y := 0; y < h; y++ {
		fillBlackRow(dst.Pix[y*dst.Stride : y*dst.Stride+4*w])
	}
}

// fillBlackRow sets the pixels of a run of RGBA bytes to opaque black,
// doubling a copied prefix (copy is far faster than a loop over bytes).
func fillBlackRow(row []byte) {
	if len(row) < 4 {
		return
	}
	row[0], row[1], row[2], row[3] = 0, 0, 0, 255
	for n := 4; n < len(row); n *= 2 {
		copy(row[n:], row[:n])
	}
}

// outline is a shape centred at the origin, ready for inside tests.
type outline struct {
	circle bool
	radius float64
	// A polygon is the intersection of the half-planes n·p ≤ inradius.
	nx, ny   [4]float64
	sides    int
	inradius float64
}

func newOutline(f Factors) outline {
	o := outline{radius: f.Radius}
	var first float64 // angle of the first edge normal
	switch f.Shape {
	case Circle:
		o.circle = true
		return o
	case Square:
		// Corners at rotation+45°+k·90°: axis-aligned at rotation 0.
		o.sides = 4
		first = f.Rotation + math.Pi/2
	default:
		// Corners at rotation−90°+k·120° (y grows downwards): pointing up
		// at rotation 0.
		o.sides = 3
		first = f.Rotation - math.Pi/2 + math.Pi/3
	}
	o.inradius = f.Radius * math.Cos(math.Pi/float64(o.sides))
	for k := 0; k < o.sides; k++ {
		a := first + 2*math.Pi*float64(k)/float64(o.sides)
		o.ny[k], o.nx[k] = math.Sincos(a)
	}
	return o
}

// distance returns the signed distance from (x, y) to the outline for a
// circle; for a polygon, the exact signed distance inside and a lower
// bound of the distance outside. It is negative inside.
func (o *outline) distance(x, y float64) float64 {
	if o.circle {
		return math.Sqrt(x*x+y*y) - o.radius
	}
	d := math.Inf(-1)
	for k := 0; k < o.sides; k++ {
		d = max(d, o.nx[k]*x+o.ny[k]*y-o.inradius)
	}
	return d
}

// halfDiagonal is the largest distance from a pixel's centre to a point of
// the pixel: a pixel whose centre is farther than that from the outline is
// entirely inside or outside.
const halfDiagonal = math.Sqrt2/2 + 1e-9

// subsamples are the offsets of the 4×4 supersampling grid from a pixel's centre.
var subsamples = [4]float64{-0.375, -0.125, 0.125, 0.375}

// coverage returns the share of the pixel centred at (x, y) inside the outline.
func (o *outline) coverage(x, y float64) float64 {
	d := o.distance(x, y)
	if d >= halfDiagonal {
		return 0
	}
	if d <= -halfDiagonal {
		return 1
	}
	inside := 0
	for _, dy := range subsamples {
		for _, dx := range subsamples {
			if o.distance(x+dx, y+dy) < 0 {
				inside++
			}
		}
	}
	return float64(inside) / 16
}

// hsvToRGB converts a colour from HSV (hue in [0, 1)) to RGB in [0, 1].
func hsvToRGB(h, s, v float64) (r, g, b float64) {
	h = 6 * (h - math.Floor(h))
	sector := int(h)
	f := h - float64(sector)
	p := v * (1 - s)
	q := v * (1 - s*f)
	t := v * (1 - s*(1-f))
	switch sector {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

// rgbToHSV converts a colour from RGB in [0, 1] to HSV with hue in [0, 1).
func rgbToHSV(r, g, b float64) (h, s, v float64) {
	v = max(r, g, b)
	c := v - min(r, g, b)
	if v == 0 || c == 0 {
		return 0, 0, v
	}
	s = c / v
	switch v {
	case r:
		h = (g - b) / c
	case g:
		h = 2 + (b-r)/c
	default:
		h = 4 + (r-g)/c
	}
	h /= 6
	if h < 0 {
		h++
	}
	if h >= 1 {
		h = 0
	}
	return h, s, v
}
