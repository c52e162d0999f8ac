package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"simsearch/index"
)

// Colours and sizes of a grid.
var (
	gridBackground = color.RGBA{48, 48, 48, 255}
	gridText       = color.RGBA{220, 220, 220, 255}
)

const (
	gridGap      = 4
	gridQueryGap = 12 // between the first column and the others, with Grid.QueryGap
	// GridMinCell is the least side of a cell: images are scaled up by
	// whole factors with nearest neighbours to at least this many pixels.
	GridMinCell  = 96
	gridLineTall = 16 // a line of the 7×13 font with spacing
	gridMaxLabel = 24 // characters of a row label
)

// Grid is a picture of images in rows of cells under a title and a column
// header, with a label left of each row and an optional caption under
// each cell. It is a plain value for DrawGrid.
type Grid struct {
	Title   string
	Columns []string
	Rows    []GridRow
	// QueryGap leaves a wider gap after the first column, which holds the
	// query of a neighbour grid.
	QueryGap bool
}

// GridRow is one row of a Grid.
type GridRow struct {
	// Label is written left of the row; a long one is shortened from the
	// left.
	Label string
	// Cells are the row's images; a nil cell is left black.
	Cells []image.Image
	// Captions, when not nil, are written under the cells.
	Captions []string
}

// DrawGrid draws g. Cells take the size of the largest image, scaled up
// by a whole factor to at least GridMinCell pixels; other images are
// scaled to it.
func DrawGrid(g Grid) *image.RGBA {
	side := 1
	columns := len(g.Columns)
	captions := false
	for _, r := range g.Rows {
		for _, img := range r.Cells {
			if img != nil {
				side = max(side, img.Bounds().Dx(), img.Bounds().Dy())
			}
		}
		columns = max(columns, len(r.Cells))
		captions = captions || r.Captions != nil
	}
	cell := side * max(1, (GridMinCell+side-1)/side)
	labels := make([]string, len(g.Rows))
	labelWidth := 0
	for i, r := range g.Rows {
		labels[i] = r.Label
		if len(labels[i]) > gridMaxLabel {
			labels[i] = "..." + labels[i][len(labels[i])-gridMaxLabel+3:]
		}
		labelWidth = max(labelWidth, textWidth(labels[i]))
	}
	left := gridGap + labelWidth + gridGap
	top := gridGap + 2*gridLineTall
	rowHeight := cell + gridGap
	if captions {
		rowHeight += gridLineTall
	}
	columnX := func(c int) int {
		x := left + c*(cell+gridGap)
		if g.QueryGap && c > 0 {
			x += gridQueryGap
		}
		return x
	}
	width := max(columnX(columns), gridGap+textWidth(g.Title)+gridGap)
	height := top + len(g.Rows)*rowHeight

	out := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(out, out.Rect, image.NewUniform(gridBackground), image.Point{}, draw.Src)
	drawText(out, gridGap, gridGap+12, g.Title)
	for c, name := range g.Columns {
		drawText(out, columnX(c)+(cell-textWidth(name))/2, gridGap+gridLineTall+12, name)
	}
	for r, row := range g.Rows {
		y := top + r*rowHeight
		drawText(out, gridGap, y+cell/2+4, labels[r])
		for c, img := range row.Cells {
			x := columnX(c)
			if img != nil {
				draw.NearestNeighbor.Scale(out, image.Rect(x, y, x+cell, y+cell), img, img.Bounds(), draw.Src, nil)
			} else {
				draw.Draw(out, image.Rect(x, y, x+cell, y+cell), image.Black, image.Point{}, draw.Src)
			}
			if c < len(row.Captions) {
				drawText(out, x+(cell-textWidth(row.Captions[c]))/2, y+cell+12, row.Captions[c])
			}
		}
	}
	return out
}

// textWidth is the width of s in pixels in the grid's font.
func textWidth(s string) int {
	return font.MeasureString(basicfont.Face7x13, s).Ceil()
}

// drawText writes s with its baseline at y.
func drawText(dst *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(gridText), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// Thumbnails gives the thumbnails of stored items: index.Store does.
type Thumbnails interface {
	Thumbnail(id index.ItemID) ([]byte, error)
}

// NeighbourRow is one query of a neighbour grid: its thumbnail (a PNG; or
// nil to read the stored item's), the stored item (nil for an image that
// is not stored), a label, and its neighbours, nearest first.
type NeighbourRow struct {
	Label      string
	Thumbnail  []byte
	Query      *index.ItemID
	Neighbours []index.Result
}

// NeighbourGrid draws the seed's figure from thumbnails: one row per query,
// the query first, then its neighbours from near to far with their
// distances under them. A neighbour without a thumbnail is a black cell.
func NeighbourGrid(title string, rows []NeighbourRow, thumbs Thumbnails) (*image.RGBA, error) {
	g := Grid{Title: title, Columns: []string{"query"}, QueryGap: true}
	k := 0
	for _, row := range rows {
		k = max(k, len(row.Neighbours))
	}
	for i := range k {
		g.Columns = append(g.Columns, fmt.Sprintf("NN %d", i+1))
	}
	for _, row := range rows {
		query := row.Thumbnail
		if query == nil && row.Query != nil {
			var err error
			if query, err = thumbs.Thumbnail(*row.Query); err != nil {
				return nil, err
			}
		}
		img, err := decodeThumbnail(query)
		if err != nil {
			return nil, fmt.Errorf("thumbnail of %s: %w", row.Label, err)
		}
		gr := GridRow{Label: row.Label, Cells: []image.Image{img}, Captions: []string{""}}
		for _, n := range row.Neighbours {
			t, err := thumbs.Thumbnail(n.ID)
			if err != nil {
				return nil, err
			}
			img, err := decodeThumbnail(t)
			if err != nil {
				return nil, fmt.Errorf("thumbnail of item %d: %w", n.ID, err)
			}
			gr.Cells = append(gr.Cells, img)
			gr.Captions = append(gr.Captions, fmt.Sprintf("%.3f", n.Distance))
		}
		g.Rows = append(g.Rows, gr)
	}
	return DrawGrid(g), nil
}

// decodeThumbnail decodes a stored thumbnail; nil for none.
func decodeThumbnail(b []byte) (image.Image, error) {
	if len(b) == 0 {
		return nil, nil
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", index.ErrCorrupt, err)
	}
	return img, nil
}

// EncodePNG returns img as PNG bytes.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
