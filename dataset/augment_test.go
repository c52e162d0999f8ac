package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseAugmentation(t *testing.T) {
	for _, c := range []struct {
		text, name, definition string
	}{
		{"A", "A", "grayscale@0.2,jitter:0.7-1.3:0.7-1.3:0.1-1.9:-0.5-0.5"},
		{"b", "B", "pad:24,rotate:0-360,crop:0.2-0.6:1"},
		{"C", "C", "pad:16,rotate:0-360,(affine:0.3:-80-80,perspective:0.6)@0.7,crop:0.4-0.8:0.2-5,rotate:0-360"},
		{"none", "none", ""},
		{"pad:24,rotate,crop:0.2-0.6", "", "pad:24,rotate:0-360,crop:0.2-0.6:1"},
		{" pad:24 , rotate:-30-30 ", "", "pad:24,rotate:-30-30"},
		{"resized-crop:0.5:0.5-2", "", "crop:0.5:0.5-2"},
		{"gray@0.5,hue:0.1", "", "grayscale@0.5,hue:0.1"},
		{"jitter:1-2", "", "jitter:1-2:0.7-1.3:0.1-1.9:-0.5-0.5"},
		{"brightness,contrast:0.5-1.5,saturation:0", "", "brightness:0.7-1.3,contrast:0.5-1.5,saturation:0"},
		{"(pad:8,(rotate:10)@0.5)@0.9,perspective:0.2", "", "(pad:8,(rotate:10)@0.5)@0.9,perspective:0.2"},
		{"affine:0.1:-1e1-5", "", "affine:0.1:-10-5"},
	} {
		t.Run(c.text, func(t *testing.T) {
			a, err := ParseAugmentation(c.text)
			if err != nil {
				t.Fatalf("ParseAugmentation(%q): %v", c.text, err)
			}
			p := a.(*Pipeline)
			if got := p.Definition(); got != c.definition {
				t.Fatalf("definition %q, want %q", got, c.definition)
			}
			wantString := c.name
			if wantString == "" {
				wantString = c.definition
			}
			if a.String() != wantString {
				t.Fatalf("String() = %q, want %q", a.String(), wantString)
			}
			back, err := ParseAugmentation(a.String())
			if err != nil || back.String() != a.String() {
				t.Fatalf("String %q does not round-trip: %v, %v", a.String(), back, err)
			}
		})
	}
}

func TestParseAugmentationErrors(t *testing.T) {
	for _, c := range []struct{ text, message string }{
		{"", "empty augmentation"},
		{"D", `unknown step "d"`},
		{"blur:3", `unknown step "blur" (want one of grayscale, jitter`},
		{"pad", "pad needs its length (px at 64 px), as in pad:24"},
		{"pad:x", `the length (px at 64 px) must be a number, got "x"`},
		{"pad:4-8", "must be a number"},
		{"pad:-4", "is outside 0-1024"},
		{"rotate:1:2", "rotate takes at most 1 parameters"},
		{"crop:0.6-0.2", `the area (share) range "0.6-0.2" goes from high to low`},
		{"crop:0-0.5", "is outside 0.001-1"},
		{"hue:-0.7-0.5", "is outside -0.5-0.5"},
		{"affine:0.3:-90-90", "is outside -89-89"},
		{"grayscale@1.5", "the probability after @ must be a number from 0 to 1"},
		{"grayscale@", "the probability after @"},
		{"(pad:4", "unbalanced parentheses"},
		{"pad:4)", "unbalanced parentheses"},
		{"()", "an empty group"},
		{"pad:4,,rotate", "an empty step"},
		{"rotate:NaN", "must be a number or a range"},
	} {
		t.Run(c.text, func(t *testing.T) {
			_, err := ParseAugmentation(c.text)
			if !errors.Is(err, ErrBadAugmentation) {
				t.Fatalf("ParseAugmentation(%q) error %v, want ErrBadAugmentation", c.text, err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Fatalf("ParseAugmentation(%q) error %q does not say %q", c.text, err, c.message)
			}
		})
	}
}

// colours returns the set of colours in img.
func colours(img *image.RGBA) map[color.RGBA]bool {
	set := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			set[img.RGBAAt(x, y)] = true
		}
	}
	return set
}

// mask returns which pixels of img are not black.
func mask(img *image.RGBA) []bool {
	m := make([]bool, 0, len(img.Pix)/4)
	for i := 0; i < len(img.Pix); i += 4 {
		m = append(m, img.Pix[i]|img.Pix[i+1]|img.Pix[i+2] != 0)
	}
	return m
}

func equalMasks(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func meanColour(img *image.RGBA) [3]float64 {
	var sum [3]float64
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i]|img.Pix[i+1]|img.Pix[i+2] != 0 {
			for c := 0; c < 3; c++ {
				sum[c] += float64(img.Pix[i+c])
			}
			n++
		}
	}
	for c := range sum {
		sum[c] /= float64(max(n, 1))
	}
	return sum
}

// checkOutput checks what every augmentation guarantees: the size of the
// input and opaque pixels.
func checkOutput(t *testing.T, what string, src, out *image.RGBA) {
	t.Helper()
	if out.Bounds() != src.Bounds() {
		t.Fatalf("%s: output bounds %v, input %v", what, out.Bounds(), src.Bounds())
	}
	for i := 3; i < len(out.Pix); i += 4 {
		if out.Pix[i] != 255 {
			t.Fatalf("%s: pixel %d has alpha %d", what, i/4, out.Pix[i])
		}
	}
}

// TestAugmentationProperties checks, over many items and samples at two
// resolutions, that A keeps the silhouette and changes the colour, and that
// B and C keep the colours (nearest sampling adds none) and change the
// geometry.
func TestAugmentationProperties(t *testing.T) {
	const seed = 99
	t.Logf("seed %d", seed)
	for _, res := range []int{64, 32} {
		spec := Spec{N: 40, Seed: seed, Res: res}
		for _, name := range []string{"A", "B", "C"} {
			t.Run(name+"/"+spec.String(), func(t *testing.T) {
				aug, err := ParseAugmentation(name)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(seed, uint64(res)))
				samples, colourChanged, geometryChanged := 0, 0, 0
				for i := 0; i < spec.N; i++ {
					src := spec.Image(i)
					before := append([]byte(nil), src.Pix...)
					srcMask, srcColours, srcMean := mask(src), colours(src), meanColour(src)
					for k := 0; k < 5; k++ {
						out := aug.Apply(src, rng)
						what := fmt.Sprintf("%s of item %d", name, i)
						checkOutput(t, what, src, out)
						samples++
						outMask := mask(out)
						if !equalMasks(srcMask, outMask) {
							geometryChanged++
						}
						mean := meanColour(out)
						if math.Abs(mean[0]-srcMean[0])+math.Abs(mean[1]-srcMean[1])+math.Abs(mean[2]-srcMean[2]) > 3 {
							colourChanged++
						}
						switch name {
						case "A":
							if !equalMasks(srcMask, outMask) {
								t.Fatalf("%s: the non-black mask changed", what)
							}
						default:
							for c := range colours(out) {
								if !srcColours[c] && c != (color.RGBA{0, 0, 0, 255}) {
									t.Fatalf("%s: colour %v is not in the input", what, c)
								}
							}
						}
					}
					if !bytes.Equal(before, src.Pix) {
						t.Fatalf("%s modified its input", name)
					}
				}
				t.Logf("%d samples: colour changed in %d, geometry in %d", samples, colourChanged, geometryChanged)
				if name == "A" && colourChanged < samples*8/10 {
					t.Fatalf("A changed the colour of only %d of %d samples", colourChanged, samples)
				}
				if name != "A" && geometryChanged < samples*9/10 {
					t.Fatalf("%s changed the geometry of only %d of %d samples", name, geometryChanged, samples)
				}
			})
		}
	}
}

func TestAugmentationIsDeterministicGivenTheRandomStream(t *testing.T) {
	src := DefaultSpec().Image(5)
	for _, name := range []string{"A", "B", "C"} {
		aug, _ := ParseAugmentation(name)
		a := aug.Apply(src, rand.New(rand.NewPCG(3, 4)))
		b := aug.Apply(src, rand.New(rand.NewPCG(3, 4)))
		c := aug.Apply(src, rand.New(rand.NewPCG(3, 5)))
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: two runs with one seed differ", name)
		}
		if bytes.Equal(a.Pix, c.Pix) {
			t.Errorf("%s: two seeds give the same image", name)
		}
	}
}

// whiteSquare returns a res×res image, white inside [lo, hi)² and black elsewhere.
func whiteSquare(res, lo, hi int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, res, res))
	for y := 0; y < res; y++ {
		for x := 0; x < res; x++ {
			c := color.RGBA{0, 0, 0, 255}
			if x >= lo && x < hi && y >= lo && y < hi {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func TestGeometricPrimitives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, res := range []int{64, 32} {
		src := Spec{N: 1, Seed: 2, Res: res}.Image(0)
		apply := func(text string, src *image.RGBA) *image.RGBA {
			a, err := ParseAugmentation(text)
			if err != nil {
				t.Fatal(err)
			}
			return a.Apply(src, rng)
		}
		t.Run("identity", func(t *testing.T) {
			for _, text := range []string{"none", "pad:0", "rotate:0", "crop:1", "perspective:0", "affine:0:0"} {
				if out := apply(text, src); !bytes.Equal(out.Pix, src.Pix) {
					t.Errorf("res %d: %s changed the image", res, text)
				}
			}
		})
		t.Run("rotate 90° clockwise", func(t *testing.T) {
			out := apply("rotate:90", src)
			for y := 0; y < res; y++ {
				for x := 0; x < res; x++ {
					if got, want := out.RGBAAt(x, y), src.RGBAAt(y, res-1-x); got != want {
						t.Fatalf("res %d: pixel (%d, %d) is %v, want source (%d, %d) %v", res, x, y, got, y, res-1-x, want)
					}
				}
			}
		})
		t.Run("pad scales with the resolution", func(t *testing.T) {
			// Padding 32 px at 64 px on each side doubles the canvas, which is
			// then scaled back: the image shrinks to its middle half.
			out := apply("pad:32", whiteSquare(res, 0, res))
			if want := whiteSquare(res, res/4, 3*res/4); !bytes.Equal(out.Pix, want.Pix) {
				t.Fatalf("res %d: pad:32 of a white image is not a white square over the middle half", res)
			}
		})
		t.Run("crop of a quarter zooms in", func(t *testing.T) {
			// A crop of a quarter of the area is half the side: scaled back,
			// a white square of half the side, anywhere, covers at least a
			// quarter of the output.
			out := apply("crop:0.25", whiteSquare(res, res/4, 3*res/4))
			white := 0
			for _, m := range mask(out) {
				if m {
					white++
				}
			}
			if white < res*res/4 {
				t.Fatalf("res %d: %d white pixels after the crop, want at least %d", res, white, res*res/4)
			}
		})
	}
}

func TestColourPrimitives(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	src := Render(Factors{Shape: Circle, Hue: 0, Saturation: 0.8, Value: 0.8, Radius: 12, CX: 32, CY: 32}, 64)
	centre := src.RGBAAt(32, 32)
	for _, c := range []struct {
		text string
		want func(p color.RGBA) bool
	}{
		{"grayscale", func(p color.RGBA) bool { return p.R == p.G && p.G == p.B }},
		{"brightness:0.5", func(p color.RGBA) bool { return p.R == uint8(math.Round(float64(centre.R)*0.5)) }},
		{"saturation:0", func(p color.RGBA) bool { return p.R == p.G && p.G == p.B }},
		{"hue:0.5", func(p color.RGBA) bool { return p.G > p.R && p.B > p.R }},             // red to cyan
		{"contrast:0", func(p color.RGBA) bool { return p.R == p.G && p.G == p.B }},        // all the mean gray
		{"grayscale@0", func(p color.RGBA) bool { return p == centre }},                    // never applied
		{"(grayscale,hue:0.5)@0", func(p color.RGBA) bool { return p == centre }},          // group never applied
		{"jitter:1:1:1:0", func(p color.RGBA) bool { return p == centre }},                 // identity factors
		{"brightness:2,brightness:0.5", func(p color.RGBA) bool { return p.R < centre.R }}, // clamped at 1 in between
	} {
		t.Run(c.text, func(t *testing.T) {
			a, err := ParseAugmentation(c.text)
			if err != nil {
				t.Fatal(err)
			}
			out := a.Apply(src, rng)
			if p := out.RGBAAt(32, 32); !c.want(p) {
				t.Fatalf("centre pixel %v → %v", centre, p)
			}
			if !equalMasks(mask(src), mask(out)) {
				t.Fatalf("the non-black mask changed")
			}
		})
	}
}

func TestApplyIntoDoesNotAllocate(t *testing.T) {
	src := DefaultSpec().Image(1)
	dst := image.NewRGBA(src.Rect)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"A", "B", "C"} {
		a, _ := ParseAugmentation(name)
		p := a.(*Pipeline)
		if n := testing.AllocsPerRun(20, func() { p.ApplyInto(dst, src, rng) }); n != 0 {
			t.Errorf("%s: ApplyInto allocates %.1f times per call", name, n)
		}
	}
}

func TestMatrices(t *testing.T) {
	m := aboutCentre(rotation(0.7), 64, 40).mul(translation(3, -2)).mul(scaling(2, 0.5))
	inv, ok := m.inverse()
	if !ok {
		t.Fatal("inverse failed")
	}
	p := m.mul(inv)
	for i, v := range p {
		if math.Abs(v-identity[i]) > 1e-12 {
			t.Fatalf("m·m⁻¹ = %v", p)
		}
	}
	if _, ok := (mat3{}).inverse(); ok {
		t.Fatal("the zero matrix has an inverse")
	}
	quad := [4][2]float64{{1, 2}, {9, 1}, {8, 7}, {2, 9}}
	h := squareToQuad(quad)
	for k, corner := range [4][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
		x := h[0]*corner[0] + h[1]*corner[1] + h[2]
		y := h[3]*corner[0] + h[4]*corner[1] + h[5]
		w := h[6]*corner[0] + h[7]*corner[1] + h[8]
		if math.Abs(x/w-quad[k][0]) > 1e-9 || math.Abs(y/w-quad[k][1]) > 1e-9 {
			t.Fatalf("corner %v maps to (%v, %v), want %v", corner, x/w, y/w, quad[k])
		}
	}
}
