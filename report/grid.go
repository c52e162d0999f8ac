package report

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
	GridMinCell  = 96 // DrawGrid scales cells up by whole factors to at least this many pixels
	gridLineTall = 16 // a line of the 7×13 font with spacing
)

// DrawGrid draws images in rows of cells, each cell scaled up by a whole
// factor with nearest neighbours, under a title line and a column header,
// with a label left of each row. The cell size follows the first image; the
// others are scaled to it. It panics if rows is empty or a row is longer
// than columns.
func DrawGrid(title string, columns, rowLabels []string, rows [][]*image.RGBA) *image.RGBA {
	if len(rows) == 0 || len(rows[0]) == 0 {
		panic("report: DrawGrid without images")
	}
	res := rows[0][0].Bounds().Dx()
	cell := res * max(1, (GridMinCell+res-1)/res)
	labelWidth := 0
	for _, l := range rowLabels {
		labelWidth = max(labelWidth, textWidth(l))
	}
	left := gridGap + labelWidth + gridGap
	top := gridGap + 2*gridLineTall
	width := max(left+len(columns)*(cell+gridGap), gridGap+textWidth(title)+gridGap)
	height := top + len(rows)*(cell+gridGap)

	grid := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(grid, grid.Rect, image.NewUniform(gridBackground), image.Point{}, draw.Src)
	drawText(grid, gridGap, gridGap+12, title)
	for k, name := range columns {
		x := left + k*(cell+gridGap)
		drawText(grid, x+(cell-textWidth(name))/2, gridGap+gridLineTall+12, name)
	}
	for r, row := range rows {
		y := top + r*(cell+gridGap)
		if r < len(rowLabels) {
			drawText(grid, gridGap, y+cell/2+4, rowLabels[r])
		}
		for k, img := range row {
			if img == nil {
				continue
			}
			x := left + k*(cell+gridGap)
			draw.NearestNeighbor.Scale(grid, image.Rect(x, y, x+cell, y+cell), img, img.Bounds(), draw.Src, nil)
		}
	}
	return grid
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

// neighbourGrid draws the seed's figure for a space from the items'
// thumbnails: one row per validation query, the query first, then its
// nearest training items from near to far. It returns the PNG.
func neighbourGrid(db *index.DB, space string, rows []gridRow) ([]byte, error) {
	k := 0
	for _, r := range rows {
		k = max(k, len(r.neighbours))
	}
	columns := []string{"query"}
	for i := range k {
		columns = append(columns, fmt.Sprintf("NN %d", i+1))
	}
	var labels []string
	var cells [][]*image.RGBA
	for _, r := range rows {
		row := []*image.RGBA{}
		query, err := thumbnail(db, r.query)
		if err != nil {
			return nil, err
		}
		row = append(row, query)
		for _, n := range r.neighbours {
			img, err := thumbnail(db, n.ID)
			if err != nil {
				return nil, err
			}
			row = append(row, img)
		}
		labels = append(labels, fmt.Sprintf("item %d", r.query))
		cells = append(cells, row)
	}
	if cells[0][0] == nil {
		return nil, nil // no thumbnails stored: no picture
	}
	title := fmt.Sprintf("%s: validation queries and their nearest training items (near -> far)", space)
	var buf bytes.Buffer
	if err := png.Encode(&buf, DrawGrid(title, columns, labels, cells)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// thumbnail decodes an item's thumbnail, or returns nil when it has none.
func thumbnail(db *index.DB, id index.ItemID) (*image.RGBA, error) {
	b, err := db.Thumbnail(id)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("thumbnail of item %d: %w", id, err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba, nil
}
