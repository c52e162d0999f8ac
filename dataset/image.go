package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers GIF for DecodeImage
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"

	"golang.org/x/image/draw"
)

// DefaultMaxPixels is the largest image, in pixels, that LoadImage decodes:
// 50 megapixels, about 200 MB once decoded.
const DefaultMaxPixels = 50_000_000

// DecodeImage decodes a PNG, JPEG or GIF image (the first frame of a GIF)
// from r. It reads the header first and refuses, before decoding, an image
// of more than maxPixels pixels with an error wrapping ErrImageTooLarge, so
// a small file cannot make it allocate gigabytes. maxPixels ≤ 0 means
// DefaultMaxPixels. Any other failure wraps ErrBadImage.
func DecodeImage(r io.Reader, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	// DecodeConfig consumes the header; keep what it read to decode again.
	var header bytes.Buffer
	config, format, err := image.DecodeConfig(io.TeeReader(r, &header))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, fmt.Errorf("%w: not a PNG, JPEG or GIF file", ErrBadImage)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if config.Width <= 0 || config.Height <= 0 {
		return nil, fmt.Errorf("%w: the %s header declares %d×%d pixels", ErrBadImage, format, config.Width, config.Height)
	}
	if int64(config.Width)*int64(config.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %d×%d pixels, more than the limit of %d", ErrImageTooLarge, config.Width, config.Height, maxPixels)
	}
	img, _, err := image.Decode(io.MultiReader(&header, r))
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), format) {
			return nil, fmt.Errorf("%w: %v", ErrBadImage, err) // "png: invalid format: ..."
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrBadImage, format, err) // "png: unexpected EOF"
	}
	// The first frame of a GIF may be smaller than its screen, never larger.
	if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %s image of %v pixels after a header of %d×%d", ErrBadImage, format, b.Size(), config.Width, config.Height)
	}
	return img, nil
}

// LoadImage reads the image file at path (PNG, JPEG or GIF, at most
// DefaultMaxPixels) and returns it as an opaque res×res RGB image: any
// colour model converted to RGB, transparency composited over black (the
// dataset's background), the centred largest square cropped so the aspect
// ratio is kept, and that square scaled to res×res with Catmull-Rom
// filtering. Errors wrap ErrBadImage or ErrImageTooLarge, or are the
// file system's.
func LoadImage(path string, res int) (*image.RGBA, error) {
	if res <= 0 {
		return nil, fmt.Errorf("load image %s: resolution %d is not positive", path, res)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := DecodeImage(f, DefaultMaxPixels)
	if err != nil {
		return nil, fmt.Errorf("load image %s: %w", path, err)
	}
	return Resize(img, res), nil
}

// Resize returns the centred largest square of img scaled to res×res with
// Catmull-Rom filtering, as an opaque RGBA image: transparent pixels become
// black. It returns a copy even when img is already res×res RGBA.
func Resize(img image.Image, res int) *image.RGBA {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	square := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, res, res))
	if side == res {
		draw.Draw(dst, dst.Rect, img, square.Min, draw.Src)
	} else {
		draw.CatmullRom.Scale(dst, dst.Rect, img, square, draw.Src, nil)
	}
	// RGBA is premultiplied: over black, the colour stays and alpha is full.
	for i := 3; i < len(dst.Pix); i += 4 {
		dst.Pix[i] = 255
	}
	return dst
}
