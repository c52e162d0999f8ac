package dataset

import (
	"image"
	"image/color"
	"testing"
)

// TestResizeConvertsAnyImage checks what an encoder is given for
// grayscale, 16-bit and paletted images that are not square: RGB with
// equal channels (16 bits kept to their high 8) or the palette's colours,
// from the centred square.
func TestResizeConvertsAnyImage(t *testing.T) {
	gray16 := image.NewGray16(image.Rect(0, 0, 12, 20))
	gray := image.NewGray(image.Rect(0, 0, 20, 12))
	pal := image.NewPaletted(image.Rect(0, 0, 12, 16), color.Palette{color.Black, color.RGBA{200, 10, 30, 255}})
	for y := range 20 {
		for x := range 20 {
			gray16.SetGray16(x, y, color.Gray16{Y: uint16(x*4000 + y*100)})
			gray.SetGray(x, y, color.Gray{Y: uint8(10*x + y)})
			pal.SetColorIndex(x, y, uint8((x+y)%2))
		}
	}
	for _, c := range []struct {
		name string
		img  image.Image
		want func(x, y int) [3]uint8 // at (x, y) of the 12×12 result
	}{
		{"16-bit gray, tall", gray16, func(x, y int) [3]uint8 {
			v := uint8((x*4000 + (y+4)*100) >> 8)
			return [3]uint8{v, v, v}
		}},
		{"gray, wide", gray, func(x, y int) [3]uint8 {
			v := uint8(10*(x+4) + y)
			return [3]uint8{v, v, v}
		}},
		{"paletted, tall", pal, func(x, y int) [3]uint8 {
			if (x+y+2)%2 == 1 {
				return [3]uint8{200, 10, 30}
			}
			return [3]uint8{}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := Resize(c.img, 12)
			for y := range 12 {
				for x := range 12 {
					p := out.Pix[out.PixOffset(x, y):]
					if got, want := [3]uint8{p[0], p[1], p[2]}, c.want(x, y); got != want || p[3] != 255 {
						t.Fatalf("pixel (%d, %d) = %v alpha %d, want %v opaque", x, y, got, p[3], want)
					}
				}
			}
		})
	}
}
