package render

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"simsearch/report"
)

// Colours of the distance plot.
var (
	withinColour  = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	betweenColour = color.NRGBA{R: 255, G: 127, B: 14, A: 255}
)

// DistancePlot draws, for each probe group of a space, the distribution of
// distances between members of one set (within) against distances between
// members of different sets (between), as cumulative distributions in a
// grid of panels, one per group. It returns the PNG, or nil without
// distributions.
func DistancePlot(space string, samples []report.DistanceDistribution) ([]byte, error) {
	if len(samples) == 0 {
		return nil, nil
	}
	const columns = 3
	rows := (len(samples) + columns - 1) / columns
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, columns)
	}
	for i, s := range samples {
		p, err := distancePanel(s)
		if err != nil {
			return nil, fmt.Errorf("distance plot of %s, %s: %w", space, s.Group, err)
		}
		plots[i/columns][i%columns] = p
	}
	width, height := 4*vg.Inch*columns, 3*vg.Inch*vg.Length(rows)+0.4*vg.Inch
	return figurePNG(plots, width, height, fmt.Sprintf("%s: distances within a set (blue) and between sets (orange)", space))
}

// figurePNG draws rows of plots under a title line into a PNG of the given
// size; nil plots leave their tile empty.
func figurePNG(plots [][]*plot.Plot, width, height vg.Length, title string) ([]byte, error) {
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.FillText(draw.TextStyle{Color: color.Black, Font: titleFont(), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter},
		vg.Point{X: width / 2, Y: height - 0.25*vg.Inch}, title)
	body := draw.Crop(dc, 0, 0, 0, -0.4*vg.Inch)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, body)
	for r := range plots {
		for c, p := range plots[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// titleFont is the font of the figure's title.
func titleFont() font.Font {
	f := plot.DefaultFont
	f.Size = vg.Points(13)
	return f
}

// distancePanel draws the empirical cumulative distributions of the two
// kinds of distance of one group. Curves read at any scale: an invariant
// factor puts the within curve at 1 from distance 0, a factor the encoder
// ignores nothing of makes the two curves meet.
func distancePanel(s report.DistanceDistribution) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = s.Group
	p.X.Label.Text = "distance"
	p.Y.Label.Text = "share of pairs closer"
	p.X.Min, p.X.Max = 0, 2
	p.Y.Min, p.Y.Max = 0, 1
	for _, c := range []struct {
		name   string
		values []float64
		colour color.Color
	}{{"within a set", s.Within, withinColour}, {"between sets", s.Between, betweenColour}} {
		if len(c.values) == 0 {
			continue
		}
		line, err := plotter.NewLine(cumulative(c.values))
		if err != nil {
			return nil, err
		}
		line.Color = c.colour
		line.Width = vg.Points(2)
		p.Add(line)
		p.Legend.Add(c.name, line)
	}
	p.Legend.Top, p.Legend.Left = false, false
	return p, nil
}

// cumulative returns the distribution function given by its percentiles
// as a line from distance 0 to 2.
func cumulative(percentiles []float64) plotter.XYs {
	points := plotter.XYs{{X: 0, Y: 0}}
	last := float64(len(percentiles) - 1)
	for q, v := range percentiles {
		points = append(points, plotter.XY{X: v, Y: float64(q) / last})
	}
	return append(points, plotter.XY{X: max(2, percentiles[len(percentiles)-1]), Y: 1})
}
