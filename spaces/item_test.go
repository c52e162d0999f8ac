package spaces

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"math"
	"testing"

	"simsearch/internal/imagetest"

	"simsearch/dataset"
)

// opaqueImage hides an image's type, so ContentHash takes its generic path.
type opaqueImage struct{ image.Image }

func TestContentHashDependsOnlyOnPixels(t *testing.T) {
	spec := dataset.Spec{N: 10, Seed: 7, Res: 24, ValFrac: 0.5}
	rendered := spec.Image(3)
	want := ContentHash(rendered)

	nrgba := image.NewNRGBA(rendered.Rect)
	draw.Draw(nrgba, nrgba.Rect, rendered, image.Point{}, draw.Src)
	// An offset image: the same pixels at other coordinates.
	offset := image.NewRGBA(rendered.Rect.Add(image.Pt(5, -3)))
	draw.Draw(offset, offset.Rect, rendered, image.Point{}, draw.Src)
	// Transparency over black: alpha 0 in a transparent copy is black.
	transparent := image.NewNRGBA(rendered.Rect)
	for i := 0; i < len(transparent.Pix); i += 4 {
		if rendered.Pix[i] == 0 && rendered.Pix[i+1] == 0 && rendered.Pix[i+2] == 0 {
			copy(transparent.Pix[i:i+4], []byte{90, 200, 10, 0})
		} else {
			copy(transparent.Pix[i:i+4], rendered.Pix[i:i+4])
		}
	}

	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"RGBA", rendered},
		{"RGBA, generic path", opaqueImage{rendered}},
		{"NRGBA", nrgba},
		{"NRGBA, generic path", opaqueImage{nrgba}},
		{"offset bounds", offset},
		{"PNG file decoded", imagetest.Decode(t, imagetest.PNG(t, rendered))},
		{"NRGBA PNG file decoded", imagetest.Decode(t, imagetest.PNG(t, nrgba))},
		{"transparent background", transparent},
		{"transparent background PNG", imagetest.Decode(t, imagetest.PNG(t, transparent))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ContentHash(c.img); got != want {
				t.Errorf("hash %v, want %v", got, want)
			}
		})
	}

	t.Run("other pixels", func(t *testing.T) {
		if ContentHash(spec.Image(4)) == want {
			t.Error("two items have the same hash")
		}
	})
	t.Run("same bytes, other shape", func(t *testing.T) {
		// 24×24 pixels as a 48×12 image: the header tells them apart.
		wide := &image.RGBA{Pix: rendered.Pix, Stride: 48 * 4, Rect: image.Rect(0, 0, 48, 12)}
		if ContentHash(wide) == want {
			t.Error("a 48×12 image with the same bytes has the same hash")
		}
	})
}

func TestContentHashCompositesPartialAlpha(t *testing.T) {
	// Every value of alpha and colour: the NRGBA fast path must give the
	// bytes of color.NRGBA.RGBA.
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(255 - x), uint8(x ^ y), uint8(y)})
		}
	}
	if got, want := ContentHash(img), ContentHash(opaqueImage{img}); got != want {
		t.Fatalf("fast path %v, generic path %v", got, want)
	}
}

func TestNewItem(t *testing.T) {
	spec := dataset.Spec{N: 10, Seed: 7, Res: 32, ValFrac: 0.5}
	f := spec.Factors(2)
	it := NewItem(spec.Image(2), Origin{Source: SpecSource(spec, 2), Split: "val", Factors: &f})
	if it.Source != "shapes:n=10,seed=7,res=32,val=0.5#2" || it.Split != "val" || it.Hash != ContentHash(spec.Image(2)) {
		t.Errorf("item %+v", it)
	}
	labels := spec.Labels(2)
	wantLabels := map[string]int{"shape": labels.Shape, "color": labels.Color, "location": labels.Location, "size": labels.Size}
	for name, v := range wantLabels {
		if it.Labels[name] != v {
			t.Errorf("label %s = %d, want %d", name, it.Labels[name], v)
		}
	}
	wantFactors := map[string]float64{"shape": float64(f.Shape), "hue": f.Hue, "saturation": f.Saturation, "value": f.Value,
		"radius": f.Radius, "cx": f.CX, "cy": f.CY, "rotation": f.Rotation}
	if len(it.Factors) != len(wantFactors) {
		t.Errorf("factors %v", it.Factors)
	}
	for name, v := range wantFactors {
		if math.Abs(it.Factors[name]-v) > 1e-12 {
			t.Errorf("factor %s = %v, want %v", name, it.Factors[name], v)
		}
	}
	thumb := imagetest.Decode(t, it.Thumbnail)
	if thumb.Bounds().Dx() != 32 || ContentHash(thumb) != it.Hash {
		t.Errorf("thumbnail of %v pixels is not the image", thumb.Bounds())
	}

	plain := NewItem(spec.Image(3), Origin{Source: "photo.png", Split: "train"})
	if plain.Factors != nil || plain.Labels != nil {
		t.Errorf("an image without factors has factors %v, labels %v", plain.Factors, plain.Labels)
	}
}

func TestThumbnailIsLossless(t *testing.T) {
	// Few colours go into a paletted PNG, many into an RGB one; either way
	// an opaque square image of at most 64 pixels comes back unchanged.
	gradient := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			gradient.Set(x, y, color.RGBA{uint8(4 * x), uint8(4 * y), uint8(x ^ y), 255})
		}
	}
	for _, c := range []struct {
		name     string
		img      *image.RGBA
		paletted bool
	}{
		{"generated image", dataset.Spec{N: 1, Seed: 3, Res: 64, ValFrac: 0}.Image(0), true},
		{"black", image.NewRGBA(image.Rect(0, 0, 8, 8)), true},
		{"4096 colours", gradient, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i := 3; i < len(c.img.Pix); i += 4 {
				c.img.Pix[i] = 255
			}
			thumb := imagetest.Decode(t, Thumbnail(c.img))
			if _, ok := thumb.(*image.Paletted); ok != c.paletted {
				t.Errorf("thumbnail is a %T", thumb)
			}
			if ContentHash(thumb) != ContentHash(c.img) {
				t.Error("thumbnail differs from the image")
			}
		})
	}
}

func TestThumbnail(t *testing.T) {
	big := dataset.Spec{N: 1, Seed: 1, Res: 256, ValFrac: 0}.Image(0)
	wide := image.NewRGBA(image.Rect(0, 0, 300, 100))
	draw.Draw(wide, image.Rect(100, 0, 200, 100), &image.Uniform{color.RGBA{0, 255, 0, 255}}, image.Point{}, draw.Src)
	translucent := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(translucent, translucent.Rect, &image.Uniform{color.NRGBA{255, 255, 255, 128}}, image.Point{}, draw.Src)
	for _, c := range []struct {
		name     string
		img      image.Image
		side     int
		centre   color.RGBA
		maxBytes int
	}{
		{"large image scaled down", big, 64, color.RGBA{}, 4 << 10},
		{"wide image cropped to its centre", wide, 64, color.RGBA{0, 255, 0, 255}, 4 << 10},
		{"translucent over black", translucent, 16, color.RGBA{128, 128, 128, 255}, 4 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := Thumbnail(c.img)
			if len(b) > c.maxBytes {
				t.Errorf("%d bytes", len(b))
			}
			thumb := imagetest.Decode(t, b)
			if got := thumb.Bounds(); got != image.Rect(0, 0, c.side, c.side) {
				t.Fatalf("thumbnail of %v", got)
			}
			if !thumb.(interface{ Opaque() bool }).Opaque() {
				t.Error("thumbnail is not opaque")
			}
			if c.centre != (color.RGBA{}) {
				r, g, bl, _ := thumb.At(c.side/2, c.side/2).RGBA()
				got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
				if diff(got.R, c.centre.R) > 1 || diff(got.G, c.centre.G) > 1 || diff(got.B, c.centre.B) > 1 {
					t.Errorf("centre pixel %v, want %v", got, c.centre)
				}
			}
		})
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestFileIsOwnThumbnail(t *testing.T) {
	img := dataset.Spec{N: 1, Seed: 1, Res: 32, ValFrac: 0}.Image(0)
	file := imagetest.PNG(t, img)
	it := NewItem(imagetest.Decode(t, file), Origin{Source: "a.png", Split: "train", File: file})
	if !bytes.Equal(it.Thumbnail, file) {
		t.Error("a small opaque PNG file is not its own thumbnail")
	}
	var gifFile bytes.Buffer
	if err := gif.Encode(&gifFile, img, nil); err != nil {
		t.Fatal(err)
	}
	it = NewItem(imagetest.Decode(t, gifFile.Bytes()), Origin{Source: "a.gif", Split: "train", File: gifFile.Bytes()})
	if bytes.Equal(it.Thumbnail, gifFile.Bytes()) {
		t.Error("a GIF file is its own thumbnail")
	}
	if _, err := png.Decode(bytes.NewReader(it.Thumbnail)); err != nil {
		t.Errorf("thumbnail of a GIF: %v", err)
	}
}

// FuzzContentHash checks, on any image the decoder accepts, that the fast
// paths of ContentHash agree with the generic one and that a thumbnail can
// be made and read back.
func FuzzContentHash(f *testing.F) {
	img := dataset.Spec{N: 1, Seed: 1, Res: 16, ValFrac: 0}.Image(0)
	f.Add(imagetest.PNG(f, img))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(i * 37)
	}
	f.Add(imagetest.PNG(f, nrgba))
	var g bytes.Buffer
	if err := gif.Encode(&g, img, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(g.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := dataset.DecodeImage(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		if got, want := ContentHash(img), ContentHash(opaqueImage{img}); got != want {
			t.Fatalf("%T: fast path %v, generic path %v", img, got, want)
		}
		thumb, err := png.Decode(bytes.NewReader(Thumbnail(img)))
		if err != nil {
			t.Fatal(err)
		}
		if s := thumb.Bounds().Size(); s.X != s.Y || s.X > ThumbnailSize || s.X < 1 {
			t.Fatalf("thumbnail of %v pixels for an image of %v", s, img.Bounds().Size())
		}
	})
}
