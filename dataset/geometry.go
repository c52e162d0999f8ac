package dataset

import (
	"image"
	"math"
	"math/rand/v2"
)

// mat3 is a projective transform of the plane in homogeneous coordinates,
// row-major: (x, y, 1) ↦ (m[0]x+m[1]y+m[2], m[3]x+m[4]y+m[5], m[6]x+m[7]y+m[8]).
type mat3 [9]float64

var identity = mat3{1, 0, 0, 0, 1, 0, 0, 0, 1}

// mul returns a·b: the transform that applies b, then a.
func (a mat3) mul(b mat3) mat3 {
	var c mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

// inverse returns a⁻¹ and whether a is invertible.
func (a mat3) inverse() (mat3, bool) {
	c := mat3{
		a[4]*a[8] - a[5]*a[7], a[2]*a[7] - a[1]*a[8], a[1]*a[5] - a[2]*a[4],
		a[5]*a[6] - a[3]*a[8], a[0]*a[8] - a[2]*a[6], a[2]*a[3] - a[0]*a[5],
		a[3]*a[7] - a[4]*a[6], a[1]*a[6] - a[0]*a[7], a[0]*a[4] - a[1]*a[3],
	}
	det := a[0]*c[0] + a[1]*c[3] + a[2]*c[6]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return mat3{}, false
	}
	for i := range c {
		c[i] /= det
	}
	return c, true
}

func translation(dx, dy float64) mat3 { return mat3{1, 0, dx, 0, 1, dy, 0, 0, 1} }
func scaling(sx, sy float64) mat3     { return mat3{sx, 0, 0, 0, sy, 0, 0, 0, 1} }

// aboutCentre returns m applied about the centre of a w×h canvas instead of
// the origin.
func aboutCentre(m mat3, w, h float64) mat3 {
	return translation(w/2, h/2).mul(m).mul(translation(-w/2, -h/2))
}

// rotation turns by angle radians, clockwise on screen (y grows downwards).
func rotation(angle float64) mat3 {
	sin, cos := math.Sincos(angle)
	return mat3{cos, -sin, 0, sin, cos, 0, 0, 0, 1}
}

// squareToQuad returns the projective map of the unit square's corners
// (0,0), (1,0), (1,1), (0,1) onto q[0..3] (Heckbert, "Fundamentals of
// Texture Mapping and Image Warping", 1989, §2.2.3).
func squareToQuad(q [4][2]float64) mat3 {
	x0, y0, x1, y1 := q[0][0], q[0][1], q[1][0], q[1][1]
	x2, y2, x3, y3 := q[2][0], q[2][1], q[3][0], q[3][1]
	sx, sy := x0-x1+x2-x3, y0-y1+y2-y3
	dx1, dx2, dy1, dy2 := x1-x2, x3-x2, y1-y2, y3-y2
	det := dx1*dy2 - dx2*dy1
	var g, h float64
	if det != 0 {
		g = (sx*dy2 - dx2*sy) / det
		h = (dx1*sy - sx*dy1) / det
	}
	return mat3{
		x1 - x0 + g*x1, x3 - x0 + h*x3, x0,
		y1 - y0 + g*y1, y3 - y0 + h*y3, y0,
		g, h, 1,
	}
}

// uniform draws from [r.Lo, r.Hi).
func uniform(rng *rand.Rand, r Range) float64 { return r.at(rng.Float64()) }

// canvas follows the geometric steps of one sample: the forward map from
// the source image to the current canvas, and the canvas size.
type canvas struct {
	srcW, srcH float64 // the source image, and the size of the output
	w, h       float64
	forward    mat3
	moved      bool // a geometric step was applied
}

func newCanvas(w, h int) canvas {
	return canvas{srcW: float64(w), srcH: float64(h), w: float64(w), h: float64(h), forward: identity}
}

// then appends a map of the current canvas onto a canvas of size w×h.
func (c *canvas) then(m mat3, w, h float64) {
	c.forward = m.mul(c.forward)
	c.w, c.h = w, h
	c.moved = true
}

// pad adds a black border of px pixels at 64 px to every side.
func (c *canvas) pad(px float64) {
	dx, dy := px*c.srcW/64, px*c.srcH/64
	c.then(translation(dx, dy), c.w+2*dx, c.h+2*dy)
}

func (c *canvas) rotate(degrees float64) {
	c.then(aboutCentre(rotation(degrees*math.Pi/180), c.w, c.h), c.w, c.h)
}

// affine shifts by up to ±translate of the canvas size in x and y and
// shears by angles drawn from shear (degrees) along x and along y, about
// the centre.
func (c *canvas) affine(rng *rand.Rand, translate float64, shear Range) {
	tx := uniform(rng, Range{-translate, translate}) * c.w
	ty := uniform(rng, Range{-translate, translate}) * c.h
	shx := math.Tan(uniform(rng, shear) * math.Pi / 180)
	shy := math.Tan(uniform(rng, shear) * math.Pi / 180)
	// Shear along y after shear along x: [[1, shx], [shy, 1+shx·shy]], determinant 1.
	m := mat3{1, shx, 0, shy, 1 + shx*shy, 0, 0, 0, 1}
	c.then(translation(tx, ty).mul(aboutCentre(m, c.w, c.h)), c.w, c.h)
}

// perspective moves each corner of the canvas inward by up to distortion
// times half the canvas size, in x and y independently, and maps the
// canvas onto that quadrilateral.
func (c *canvas) perspective(rng *rand.Rand, distortion float64) {
	mx, my := distortion*c.w/2, distortion*c.h/2
	in := func(m float64) float64 { return m * rng.Float64() }
	q := [4][2]float64{
		{in(mx), in(my)},
		{c.w - in(mx), in(my)},
		{c.w - in(mx), c.h - in(my)},
		{in(mx), c.h - in(my)},
	}
	c.then(squareToQuad(q).mul(scaling(1/c.w, 1/c.h)), c.w, c.h)
}

// crop takes a random rectangle whose area is a share drawn from area of the
// canvas and whose aspect ratio (width/height) is log-uniform in aspect, and
// scales it to the output size, as torchvision's RandomResizedCrop does.
func (c *canvas) crop(rng *rand.Rand, area, aspect Range) {
	total := c.w * c.h
	logAspect := Range{math.Log(aspect.Lo), math.Log(aspect.Hi)}
	var x0, y0, w, h float64
	found := false
	for attempt := 0; attempt < 10 && !found; attempt++ {
		target := total * uniform(rng, area)
		ratio := math.Exp(uniform(rng, logAspect))
		w, h = math.Sqrt(target*ratio), math.Sqrt(target/ratio)
		if w <= c.w && h <= c.h {
			x0 = (c.w - w) * rng.Float64()
			y0 = (c.h - h) * rng.Float64()
			found = true
		}
	}
	if !found { // the centred largest rectangle with an allowed aspect ratio
		w, h = c.w, c.h
		if ratio := c.w / c.h; ratio < aspect.Lo {
			h = w / aspect.Lo
		} else if ratio > aspect.Hi {
			w = h * aspect.Hi
		}
		x0, y0 = (c.w-w)/2, (c.h-h)/2
	}
	c.then(scaling(c.srcW/w, c.srcH/h).mul(translation(-x0, -y0)), c.srcW, c.srcH)
}

// warp samples src through c's transform into dst (the size of src), with
// nearest-neighbour interpolation and black outside the source. A canvas
// that does not end at the source's size is scaled to fit.
func (c *canvas) warp(dst, src *image.RGBA) {
	forward := c.forward
	if c.w != c.srcW || c.h != c.srcH {
		forward = scaling(c.srcW/c.w, c.srcH/c.h).mul(forward)
	}
	inv, ok := forward.inverse()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	fw, fh := float64(sw), float64(sh)
	for y := 0; y < dh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*dw]
		if !ok {
			fillBlackRow(row)
			continue
		}
		// Homogeneous source coordinates of the centre of pixel (0, y),
		// advanced by one column at a time.
		py := float64(y) + 0.5
		u := inv[0]*0.5 + inv[1]*py + inv[2]
		v := inv[3]*0.5 + inv[4]*py + inv[5]
		w := inv[6]*0.5 + inv[7]*py + inv[8]
		for x := 0; x < len(row); x += 4 {
			p := row[x : x+4 : x+4]
			sx, sy := u, v
			if w != 1 {
				sx, sy = u/w, v/w
			}
			if w > 0 && sx >= 0 && sy >= 0 && sx < fw && sy < fh {
				i := int(sy)*src.Stride + 4*int(sx)
				copy(p, src.Pix[i:i+4])
			} else {
				p[0], p[1], p[2], p[3] = 0, 0, 0, 255
			}
			u += inv[0]
			v += inv[3]
			w += inv[6]
		}
	}
}
