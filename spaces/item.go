package spaces

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"image/color"
	"slices"
	"strconv"
	"strings"

	"simsearch/dataset"
	"simsearch/index"
)

// ThumbnailSize is the largest side of an item's thumbnail, in pixels.
const ThumbnailSize = 64

// Origin is what is known of an image besides its pixels, for NewItem.
type Origin struct {
	// Source names where the image comes from: a file path, or a
	// generator spec's item (SpecSource).
	Source string
	// Split is the item's split.
	Split string
	// Factors, when not nil, are the image's colored-shapes factors: the
	// item stores them by name (FactorMap) and their labels at the
	// image's resolution (LabelMap).
	Factors *dataset.Factors
	// File is the PNG, JPEG or GIF file the image was decoded from, when
	// at hand: a small PNG file of an opaque image that needs no scaling
	// is its own thumbnail, which saves encoding one.
	File []byte
	// Hash is the image's ContentHash when it is already computed.
	Hash *index.Hash
}

// NewItem returns the item of img: its content hash (see ContentHash),
// source and split, a thumbnail PNG of at most ThumbnailSize pixels a side
// (see Thumbnail) and, when known, its factors and labels. It does not set
// the probe set or group.
//
// NewItem panics on an empty image.
func NewItem(img image.Image, o Origin) index.Item {
	if img.Bounds().Empty() {
		panic("spaces: NewItem of an empty image")
	}
	var hash index.Hash
	if o.Hash != nil {
		hash = *o.Hash
	} else {
		hash = ContentHash(img)
	}
	it := index.Item{Source: o.Source, Split: o.Split, Hash: hash}
	if isThumbnail(img, o.File) {
		it.Thumbnail = o.File
	} else {
		it.Thumbnail = Thumbnail(img)
	}
	if o.Factors != nil {
		it.Factors = FactorMap(*o.Factors)
		it.Labels = LabelMap(o.Factors.Labels(img.Bounds().Dx()))
	}
	return it
}

// MaxThumbnailFile is the size of the largest image file that NewItem
// keeps as its own thumbnail.
const MaxThumbnailFile = 8 << 10

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// isThumbnail reports whether file, from which img was decoded, can serve
// as img's thumbnail as it is: a small PNG of a square, opaque image of at
// most ThumbnailSize pixels a side.
func isThumbnail(img image.Image, file []byte) bool {
	if len(file) == 0 || len(file) > MaxThumbnailFile || !bytes.HasPrefix(file, []byte(pngSignature)) {
		return false
	}
	m, ok := img.(*image.RGBA)
	return ok && m.Rect.Dx() == m.Rect.Dy() && m.Rect.Dx() <= ThumbnailSize && opaque(m)
}

// ContentHash returns the SHA-256 that identifies an image's content:
// of a header holding the width and height (two big-endian uint32), then
// every pixel's red, green and blue, row by row, with transparency
// composited over black (8 bits of each premultiplied channel). The hash
// depends only on the pixels, not on the file format or the Go image type
// decoding gave: a generated PNG file and the same item rendered from its
// generator spec have the same hash.
func ContentHash(img image.Image) index.Hash {
	h := sha256.New()
	b := img.Bounds()
	var header [8]byte
	binary.BigEndian.PutUint32(header[0:], uint32(b.Dx()))
	binary.BigEndian.PutUint32(header[4:], uint32(b.Dy()))
	h.Write(header[:])
	row := make([]byte, 3*b.Dx())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		compositeRow(row, img, y)
		h.Write(row)
	}
	var sum index.Hash
	h.Sum(sum[:0])
	return sum
}

// compositeRow writes the RGB of row y of img, composited over black, to
// row (3 bytes per pixel). The fast paths give the bytes the generic one
// does: 8 bits of the 16-bit premultiplied value of color.Color.RGBA.
func compositeRow(row []byte, img image.Image, y int) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.RGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			row[3*x], row[3*x+1], row[3*x+2] = pix[4*x], pix[4*x+1], pix[4*x+2]
		}
		return
	case *image.NRGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			a := uint32(pix[4*x+3])
			if a == 0xff {
				row[3*x], row[3*x+1], row[3*x+2] = pix[4*x], pix[4*x+1], pix[4*x+2]
				continue
			}
			// As color.NRGBA.RGBA: 16-bit channel times 16-bit alpha.
			a |= a << 8
			for c := range 3 {
				v := uint32(pix[4*x+c])
				v |= v << 8
				row[3*x+c] = byte(v * a / 0xffff >> 8)
			}
		}
		return
	}
	for x := range b.Dx() {
		r, g, bl, _ := img.At(b.Min.X+x, y).RGBA()
		row[3*x], row[3*x+1], row[3*x+2] = byte(r>>8), byte(g>>8), byte(bl>>8)
	}
}

// Thumbnail returns a PNG of img for neighbour grids: the centred largest
// square of img (what an encoder sees, see dataset.Resize), scaled down to
// ThumbnailSize pixels a side if larger, opaque over black. A thumbnail of a
// 64-pixel generated image is the image itself, in about 300 bytes.
func Thumbnail(img image.Image) []byte {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy(), ThumbnailSize)
	var small *image.RGBA
	if m, ok := img.(*image.RGBA); ok && b.Dx() == side && b.Dy() == side && opaque(m) {
		small = m
	} else {
		small = dataset.Resize(img, side)
	}
	var buf bytes.Buffer
	buf.Grow(1024)
	var err error
	// A generated image has a few dozen colours: as a paletted PNG it
	// takes a third of the time to encode and half the bytes.
	if p, ok := toPaletted(small); ok {
		err = dataset.EncodePNG(&buf, p)
	} else {
		err = dataset.EncodePNG(&buf, small)
	}
	if err != nil {
		// Encoding into memory fails only for an empty image.
		panic("spaces: encode thumbnail: " + err.Error())
	}
	return bytes.Clone(buf.Bytes())
}

// toPaletted returns the opaque image m as a paletted image with the same
// colours, or false when m has more than 256 colours.
func toPaletted(m *image.RGBA) (*image.Paletted, bool) {
	b := m.Rect
	out := image.NewPaletted(b, nil)
	var colours []uint32 // 0xRRGGBB
	last, lastIndex := uint32(1<<24), uint8(0)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		dst := out.Pix[out.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			c := uint32(row[4*x])<<16 | uint32(row[4*x+1])<<8 | uint32(row[4*x+2])
			if c != last {
				i := slices.Index(colours, c)
				if i < 0 {
					if len(colours) == 256 {
						return nil, false
					}
					i = len(colours)
					colours = append(colours, c)
				}
				last, lastIndex = c, uint8(i)
			}
			dst[x] = lastIndex
		}
	}
	out.Palette = make(color.Palette, len(colours))
	for i, c := range colours {
		out.Palette[i] = color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 0xff}
	}
	return out, true
}

// opaque reports whether every pixel of m has full alpha.
func opaque(m *image.RGBA) bool {
	b := m.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		pix := m.Pix[m.PixOffset(b.Min.X, y) : m.PixOffset(b.Max.X-1, y)+4]
		for i := 3; i < len(pix); i += 4 {
			if pix[i] != 0xff {
				return false
			}
		}
	}
	return true
}

// FactorMap returns f by name, as items store factors: hue, saturation,
// value, radius, cx, cy, rotation, and shape as its class number.
func FactorMap(f dataset.Factors) map[string]float64 {
	return map[string]float64{
		"shape":      float64(f.Shape),
		"hue":        f.Hue,
		"saturation": f.Saturation,
		"value":      f.Value,
		"radius":     f.Radius,
		"cx":         f.CX,
		"cy":         f.CY,
		"rotation":   f.Rotation,
	}
}

// LabelMap returns l by name (dataset.LabelNames), as items store labels.
func LabelMap(l dataset.Labels) map[string]int {
	m := make(map[string]int, len(dataset.LabelNames))
	for _, name := range dataset.LabelNames {
		v, _ := l.Get(name)
		m[name] = v
	}
	return m
}

// SpecSource returns the source text of item i of spec, as stored in its
// item: the spec's canonical text, "#" and the index, such as
// "shapes:n=64000,seed=1,res=64,val=0.375#17".
func SpecSource(spec dataset.Spec, i int) string {
	return spec.String() + "#" + strconv.Itoa(i)
}

// ParseSpecSource reads a source written by SpecSource.
func ParseSpecSource(s string) (dataset.Spec, int, bool) {
	at := strings.LastIndexByte(s, '#')
	if at < 0 || !strings.HasPrefix(s, "shapes") {
		return dataset.Spec{}, 0, false
	}
	spec, err := dataset.ParseSpec(s[:at])
	if err != nil {
		return dataset.Spec{}, 0, false
	}
	i, err := strconv.Atoi(s[at+1:])
	if err != nil || i < 0 || i >= spec.N {
		return dataset.Spec{}, 0, false
	}
	return spec, i, true
}

// AtResolution returns img as an encoder of resolution res takes it:
// res×res pixels, opaque (see dataset.Resize); img itself when it is so
// already.
func AtResolution(img image.Image, res int) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Dx() == res && m.Rect.Dy() == res && opaque(m) {
		return m
	}
	return dataset.Resize(img, res)
}
