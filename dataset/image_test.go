package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"simsearch/internal/imagetest"
)

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, &gif.Options{NumColors: 256}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeaderClaiming returns a PNG signature and IHDR chunk declaring a
// w×h RGB image, followed by nothing: a decompression bomb needs no more
// for DecodeConfig to see its size.
func pngHeaderClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := make([]byte, 13)
	binary.BigEndian.PutUint32(chunk[0:], w)
	binary.BigEndian.PutUint32(chunk[4:], h)
	chunk[8], chunk[9] = 8, 2 // 8 bits, truecolour
	binary.Write(&b, binary.BigEndian, uint32(len(chunk)))
	typed := append([]byte("IHDR"), chunk...)
	b.Write(typed)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(typed))
	return b.Bytes()
}

func TestDecodeImage(t *testing.T) {
	item := DefaultSpec().Image(2)
	for _, c := range []struct {
		name      string
		data      []byte
		maxPixels int
		err       error
	}{
		{"png", imagetest.PNG(t, item), 0, nil},
		{"jpeg", encodeJPEG(t, item), 0, nil},
		{"gif", encodeGIF(t, item), 0, nil},
		{"png at the limit", imagetest.PNG(t, item), 64 * 64, nil},
		{"png over the limit", imagetest.PNG(t, item), 64*64 - 1, ErrImageTooLarge},
		{"bomb header", pngHeaderClaiming(100_000, 100_000), 0, ErrImageTooLarge},
		{"header without data", pngHeaderClaiming(10, 10), 0, ErrBadImage},
		{"text", []byte("hello, world"), 0, ErrBadImage},
		{"empty", nil, 0, ErrBadImage},
		{"truncated png", imagetest.PNG(t, item)[:100], 0, ErrBadImage},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := DecodeImage(bytes.NewReader(c.data), c.maxPixels)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Size() != image.Pt(64, 64) {
				t.Fatalf("decoded %v", img.Bounds())
			}
		})
	}
}

// FuzzDecodeImage feeds arbitrary bytes to DecodeImage: it must not panic,
// must return an image or an error wrapping ErrBadImage or ErrImageTooLarge,
// and never an image over the pixel limit.
func FuzzDecodeImage(f *testing.F) {
	item := Spec{N: 1, Seed: 1, Res: 16}.Image(0)
	f.Add(imagetest.PNG(f, item))
	f.Add(encodeJPEG(f, item))
	f.Add(encodeGIF(f, item))
	f.Add(pngHeaderClaiming(100_000, 100_000))
	f.Add(pngHeaderClaiming(3, 3))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	const maxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(bytes.NewReader(data), maxPixels)
		if err != nil {
			if !errors.Is(err, ErrBadImage) && !errors.Is(err, ErrImageTooLarge) {
				t.Fatalf("error %v wraps neither ErrBadImage nor ErrImageTooLarge", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > maxPixels {
			t.Fatalf("decoded an image of %v with a limit of %d pixels", b, maxPixels)
		}
	})
}

func TestLoadImage(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("same size is exact", func(t *testing.T) {
		item := DefaultSpec().Image(4)
		img, err := LoadImage(write("item.png", imagetest.PNG(t, item)), 64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, item.Pix) {
			t.Fatal("loading a 64-pixel PNG at 64 pixels changed it")
		}
	})

	t.Run("wide paletted image with transparency", func(t *testing.T) {
		// 300×100: left third red, middle third transparent, right third
		// blue. The centred square is the middle third: black.
		src := image.NewPaletted(image.Rect(0, 0, 300, 100), append(palette.Plan9[:255:255], color.Transparent))
		for y := 0; y < 100; y++ {
			for x := 0; x < 300; x++ {
				switch {
				case x < 100:
					src.Set(x, y, color.RGBA{255, 0, 0, 255})
				case x < 200:
					src.Set(x, y, color.Transparent)
				default:
					src.Set(x, y, color.RGBA{0, 0, 255, 255})
				}
			}
		}
		img, err := LoadImage(write("wide.png", imagetest.PNG(t, src)), 32)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 32, 32) {
			t.Fatalf("bounds %v", img.Bounds())
		}
		if c := img.RGBAAt(16, 16); c != (color.RGBA{0, 0, 0, 255}) {
			t.Fatalf("centre %v, want opaque black", c)
		}
	})

	t.Run("downscaled gray JPEG", func(t *testing.T) {
		src := image.NewGray(image.Rect(0, 0, 200, 200))
		for i := range src.Pix {
			src.Pix[i] = 128
		}
		img, err := LoadImage(write("gray.jpg", encodeJPEG(t, src)), 16)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(img.Pix); i += 4 {
			for c := 0; c < 3; c++ {
				if d := int(img.Pix[i+c]) - 128; d < -2 || d > 2 {
					t.Fatalf("pixel %d channel %d is %d, want about 128", i/4, c, img.Pix[i+c])
				}
			}
			if img.Pix[i+3] != 255 {
				t.Fatalf("pixel %d is not opaque", i/4)
			}
		}
	})

	t.Run("not an image", func(t *testing.T) {
		_, err := LoadImage(write("notes.png", []byte("not a picture")), 64)
		if !errors.Is(err, ErrBadImage) {
			t.Fatalf("error %v, want ErrBadImage", err)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		_, err := LoadImage(filepath.Join(dir, "nothing.png"), 64)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v, want a not-exist error", err)
		}
	})
}
