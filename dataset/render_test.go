package dataset

import (
	"bytes"
	"flag"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pixelStats measures what the pixels of img say about the shape drawn in it,
// knowing its colour's value v: each pixel's coverage is its largest channel
// divided by v·255.
type pixelStats struct {
	area     float64 // sum of coverage, in pixels
	cx, cy   float64 // coverage-weighted centroid
	hue      float64 // hue of the summed colour
	nonBlack int
}

func measure(img *image.RGBA, value float64) pixelStats {
	var s pixelStats
	var sumR, sumG, sumB float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if p.R|p.G|p.B == 0 {
				continue
			}
			s.nonBlack++
			c := float64(max(p.R, p.G, p.B)) / (255 * value)
			s.area += c
			s.cx += c * (float64(x) + 0.5)
			s.cy += c * (float64(y) + 0.5)
			sumR += float64(p.R)
			sumG += float64(p.G)
			sumB += float64(p.B)
		}
	}
	if s.area > 0 {
		s.cx /= s.area
		s.cy /= s.area
	}
	total := max(sumR, sumG, sumB)
	if total > 0 {
		s.hue, _, _ = rgbToHSV(sumR/total, sumG/total, sumB/total)
	}
	return s
}

// analyticArea is the area of f's shape in square pixels.
func analyticArea(f Factors) float64 {
	switch f.Shape {
	case Circle:
		return math.Pi * f.Radius * f.Radius
	case Square:
		return 2 * f.Radius * f.Radius
	default:
		return 3 * math.Sqrt(3) / 4 * f.Radius * f.Radius
	}
}

// hueDistance is the distance between two hues on the colour circle.
func hueDistance(a, b float64) float64 {
	d := math.Abs(a - b)
	return math.Min(d, 1-d)
}

// TestLabelsAreTrueToThePixels checks, for a few hundred random items at two
// resolutions, that the pixels agree with the factors: the centroid of the
// shape is its centre, the colour's hue is the hue, the covered area is the
// analytic area of the shape.
func TestLabelsAreTrueToThePixels(t *testing.T) {
	for _, res := range []int{64, 32} {
		spec := Spec{N: 300, Seed: 7, Res: res, ValFrac: 0.375}
		t.Logf("spec %s", spec)
		inside := 0
		for i := 0; i < spec.N; i++ {
			f := spec.Factors(i)
			s := measure(spec.Image(i), f.Value)
			if s.nonBlack == 0 {
				t.Fatalf("res %d item %d: no shape drawn for %+v", res, i, f)
			}
			if d := hueDistance(s.hue, f.Hue); d > 0.01 {
				t.Errorf("res %d item %d: hue of the pixels %.4f, factor %.4f", res, i, s.hue, f.Hue)
			}
			if f.CX-f.Radius < 0 || f.CY-f.Radius < 0 || f.CX+f.Radius > float64(res) || f.CY+f.Radius > float64(res) {
				continue // cut by the border
			}
			inside++
			// The tolerances cover 8-bit rounding of the edge pixels.
			if d := math.Hypot(s.cx-f.CX, s.cy-f.CY); d > 0.15 {
				t.Errorf("res %d item %d: centroid (%.3f, %.3f), centre (%.3f, %.3f), %.3f px apart", res, i, s.cx, s.cy, f.CX, f.CY, d)
			}
			want := analyticArea(f)
			if rel := math.Abs(s.area-want) / want; rel > 0.02 {
				t.Errorf("res %d item %d (%s, radius %.2f): covered area %.2f px², analytic %.2f (%.1f%% off)", res, i, f.Shape, f.Radius, s.area, want, 100*rel)
			}
		}
		if inside < spec.N/2 {
			t.Fatalf("res %d: only %d of %d shapes lie fully inside; the test checks too little", res, inside, spec.N)
		}
	}
}

func TestRenderIntoOverwritesEveryPixel(t *testing.T) {
	spec := Spec{N: 10, Seed: 3, Res: 32}
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = 0x5a
	}
	for i := 0; i < spec.N; i++ {
		RenderInto(img, spec.Factors(i))
		if !bytes.Equal(img.Pix, spec.Image(i).Pix) {
			t.Fatalf("item %d: RenderInto into a used image differs from Render", i)
		}
	}
}

func TestRenderOrientation(t *testing.T) {
	// At rotation 0 the square is axis-aligned and the triangle points up.
	square := Render(Factors{Shape: Square, Hue: 0, Saturation: 1, Value: 1, Radius: 10 * math.Sqrt2, CX: 32, CY: 32}, 64)
	if c := square.RGBAAt(22, 22); c.R != 255 {
		t.Errorf("axis-aligned square: pixel (22, 22) inside the corner is %v", c)
	}
	if c := square.RGBAAt(21, 32); c.R != 0 {
		t.Errorf("axis-aligned square: pixel (21, 32) outside the left side is %v", c)
	}
	triangle := Render(Factors{Shape: Triangle, Hue: 0, Saturation: 1, Value: 1, Radius: 20, CX: 32, CY: 32}, 64)
	if c := triangle.RGBAAt(32, 14); c.R == 0 {
		t.Errorf("triangle pointing up: pixel (32, 14) below the top corner is black")
	}
	if c := triangle.RGBAAt(32, 44); c.R != 0 {
		t.Errorf("triangle pointing up: pixel (32, 44) below the base is %v", c)
	}
}

// TestRenderGolden compares a few items with testdata/render.png; run
// "go test ./dataset -run Golden -update" to rewrite it after an intended
// change, and look at the new file.
func TestRenderGolden(t *testing.T) {
	spec := Spec{N: 16, Seed: 1, Res: 32}
	grid := image.NewRGBA(image.Rect(0, 0, 8*spec.Res, 2*spec.Res))
	for i := 0; i < spec.N; i++ {
		at := image.Pt(i%8*spec.Res, i/8*spec.Res)
		draw.Draw(grid, image.Rectangle{at, at.Add(image.Pt(spec.Res, spec.Res))}, spec.Image(i), image.Point{}, draw.Src)
	}
	path := filepath.Join("testdata", "render.png")
	if *update {
		var buf bytes.Buffer
		if err := png.Encode(&buf, grid); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	golden, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	want := image.NewRGBA(golden.Bounds())
	draw.Draw(want, want.Rect, golden, image.Point{}, draw.Src)
	if !bytes.Equal(want.Pix, grid.Pix) {
		t.Fatalf("rendered items differ from %s; if the change is intended, run with -update and look at the file", path)
	}
}

func TestHSVRoundTrip(t *testing.T) {
	for _, c := range []struct{ h, s, v float64 }{
		{0, 1, 1}, {0.1, 0.5, 0.7}, {0.35, 0.8, 0.6}, {0.5, 0.55, 0.95}, {0.7, 0.6, 0.55}, {0.99, 0.85, 0.9},
	} {
		r, g, b := hsvToRGB(c.h, c.s, c.v)
		h, s, v := rgbToHSV(r, g, b)
		if hueDistance(h, c.h) > 1e-12 || math.Abs(s-c.s) > 1e-12 || math.Abs(v-c.v) > 1e-12 {
			t.Errorf("HSV %v → RGB (%v, %v, %v) → HSV (%v, %v, %v)", c, r, g, b, h, s, v)
		}
	}
}
