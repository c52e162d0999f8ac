package render

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"simsearch/report"
)

// writeLabelFree writes the effective rank and the axis-aligned scores of a
// space, and links its PCA picture.
func writeLabelFree(b *strings.Builder, sr *report.SpaceReport) {
	g := sr.LabelFree
	if g == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Label-free geometry\n\n")
	p("Effective rank (RankMe: exp of the entropy of the normalized singular values of %d training vectors): **%.1f** of %d dimensions.\n\n", g.Items, g.EffectiveRank, g.Dim)
	if len(g.MIG) > 0 {
		p("Axis-aligned scores (secondary): MIG (mutual information gap) and SAP (separated attribute predictability) ask whether one coordinate alone carries a label. They assume one factor per coordinate, which contrastive encoders do not promise (their loss is unchanged by any rotation of the features), so a low score here does not mean the factor is lost: the linear probes above say whether it is there. Mean MIG %.3f, mean SAP %.3f.\n\n", g.MeanMIG, g.MeanSAP)
		p("| label | MIG | best coordinates | SAP | best coordinates |\n|---|---|---|---|---|\n")
		for i, m := range g.MIG {
			s := g.SAP[i]
			p("| %s | %.3f | %d, %d | %.3f | %d, %d |\n", m.Label, m.Score, m.Best, m.Second, s.Score, s.Best, s.Second)
		}
		p("\n")
	}
	if g.PCA != nil {
		p("PCA of the validation vectors: the first two components explain %.1f%% and %.1f%% of the variance.", 100*g.PCA.Explained[0], 100*g.PCA.Explained[1])
		if len(g.PCA.Points) > 0 {
			p(" One panel per label, each point coloured by its class: the label that organizes the picture is the one the space is built around.\n\n")
			p("![PCA of %s, one panel per label](%s-pca.png)\n\n", sr.Name, FileName(sr.Name))
		} else {
			p("\n\n")
		}
	}
}

// writeCKA writes the table of linear CKA between every pair of spaces.
func writeCKA(b *strings.Builder, r *report.Report) {
	t := r.CKA
	if t == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Which spaces learned the same thing\n\n")
	p("Linear CKA (centred kernel alignment) between the vectors of every pair of spaces over the same %d items: 1 when one space is a rotation and scaling of the other, near 0 when unrelated. It needs no labels.\n\n", t.Items)
	p("| | %s |\n|---|%s\n", strings.Join(t.Spaces, " | "), strings.Repeat("---|", len(t.Spaces)))
	for i, name := range t.Spaces {
		cells := make([]string, len(t.Spaces))
		for j := range t.Spaces {
			cells[j] = fmt.Sprintf("%.2f", t.Values[i][j])
		}
		p("| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	p("\n![linear CKA between spaces](cka.png)\n\n")
}

// ckaGrid is a CKA table as a heat map's grid: column c, row r is the
// CKA of spaces c and (from the top) r.
type ckaGrid struct{ t *report.CKATable }

func (g ckaGrid) Dims() (int, int)   { return len(g.t.Spaces), len(g.t.Spaces) }
func (g ckaGrid) Z(c, r int) float64 { return g.t.Values[len(g.t.Spaces)-1-r][c] }
func (g ckaGrid) X(c int) float64    { return float64(c) }
func (g ckaGrid) Y(r int) float64    { return float64(r) }
func (g ckaGrid) Min() float64       { return 0 }
func (g ckaGrid) Max() float64       { return 1 }

// CKAHeatmap draws a CKA table as a heat map with its values written in
// the cells, and returns the PNG.
func CKAHeatmap(t *report.CKATable) ([]byte, error) {
	n := len(t.Spaces)
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("linear CKA between spaces (%d items)", t.Items)
	pl.Title.TextStyle.Font = titleFont()
	heat := plotter.NewHeatMap(ckaGrid{t}, moreland.SmoothBlueRed().Palette(64))
	pl.Add(heat)
	var labels plotter.XYLabels
	for r := range n {
		for c := range n {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(r)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%.2f", t.Values[n-1-r][c]))
		}
	}
	values, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range values.TextStyle {
		values.TextStyle[i].XAlign, values.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	pl.Add(values)
	names := make([]string, n)
	reversed := make([]string, n)
	for i, s := range t.Spaces {
		names[i], reversed[n-1-i] = s, s
	}
	pl.NominalX(names...)
	pl.NominalY(reversed...)
	pl.X.Min, pl.X.Max = -0.5, float64(n)-0.5
	pl.Y.Min, pl.Y.Max = -0.5, float64(n)-0.5
	pl.X.Tick.Label.Rotation = math.Pi / 6
	pl.X.Tick.Label.XAlign, pl.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	size := vg.Length(1.2*float64(n)+2) * vg.Inch
	return plotPNG(pl, size, size)
}

// classPalette gives up to 12 classes distinct colours, then repeats.
var classPalette = []color.Color{
	color.NRGBA{31, 119, 180, 255}, color.NRGBA{255, 127, 14, 255}, color.NRGBA{44, 160, 44, 255},
	color.NRGBA{214, 39, 40, 255}, color.NRGBA{148, 103, 189, 255}, color.NRGBA{140, 86, 75, 255},
	color.NRGBA{227, 119, 194, 255}, color.NRGBA{127, 127, 127, 255}, color.NRGBA{188, 189, 34, 255},
	color.NRGBA{23, 190, 207, 255}, color.NRGBA{0, 0, 0, 255}, color.NRGBA{255, 215, 0, 255},
}

// hueColour is the colour of colour class c of n: its own hue, so that
// the colour panel reads at a glance.
func hueColour(c, n int) color.Color {
	return palette.HSVA{H: (float64(c) + 0.5) / float64(n), S: 0.85, V: 0.9, A: 1}
}

// PCAScatter draws the PCA picture of a space, one panel per label with
// the points coloured by class, and returns the PNG; nil when there is
// nothing to draw.
func PCAScatter(space string, pca *report.PCAProjection, className func(label string, class int) string) ([]byte, error) {
	if pca == nil || len(pca.Points) == 0 || len(pca.LabelNames) == 0 {
		return nil, nil
	}
	columns := min(4, len(pca.LabelNames))
	rows := (len(pca.LabelNames) + columns - 1) / columns
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, columns)
	}
	for i, name := range pca.LabelNames {
		pl, err := pcaPanel(pca, name, className)
		if err != nil {
			return nil, fmt.Errorf("PCA picture of %s, %s: %w", space, name, err)
		}
		plots[i/columns][i%columns] = pl
	}
	width, height := 3.2*vg.Inch*vg.Length(columns), 3.2*vg.Inch*vg.Length(rows)+0.4*vg.Inch
	return figurePNG(plots, width, height, fmt.Sprintf("%s: PCA of validation vectors (PC1 %.0f%%, PC2 %.0f%% of the variance), coloured by label",
		space, 100*pca.Explained[0], 100*pca.Explained[1]))
}

// pcaPanel is the scatter of the PCA points coloured by one label.
func pcaPanel(pca *report.PCAProjection, label string, className func(string, int) string) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = label
	pl.X.Label.Text, pl.Y.Label.Text = "PC1", "PC2"
	classes := pca.Labels[label]
	largest := -1
	for _, c := range classes {
		largest = max(largest, c)
	}
	byClass := make([]plotter.XYs, largest+1)
	for i, pt := range pca.Points {
		if i < len(classes) && classes[i] >= 0 {
			byClass[classes[i]] = append(byClass[classes[i]], plotter.XY{X: pt[0], Y: pt[1]})
		}
	}
	pl.Legend.Top = true
	pl.Legend.TextStyle.Font.Size = vg.Points(7)
	for c, xys := range byClass {
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Radius = vg.Points(1.3)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Color = classPalette[c%len(classPalette)]
		if label == "color" {
			s.GlyphStyle.Color = hueColour(c, len(byClass))
		}
		pl.Add(s)
		if len(byClass) <= 9 {
			pl.Legend.Add(className(label, c), s)
		}
	}
	return pl, nil
}

// plotPNG renders one plot as a PNG of the given size.
func plotPNG(pl *plot.Plot, width, height vg.Length) ([]byte, error) {
	img := vgimg.New(width, height)
	pl.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeGeometryFiles writes cka.png and each space's <space>-pca.png with
// write.
func writeGeometryFiles(write func(string, func(io.Writer) error) error, r *report.Report) error {
	bytesOf := func(b []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}
	}
	if r.CKA != nil {
		png, err := CKAHeatmap(r.CKA)
		if err != nil {
			return fmt.Errorf("CKA heat map: %w", err)
		}
		if err := write("cka.png", bytesOf(png)); err != nil {
			return err
		}
	}
	for _, sr := range r.Spaces {
		if sr.LabelFree == nil {
			continue
		}
		png, err := PCAScatter(sr.Name, sr.LabelFree.PCA, classNamer(sr))
		if err != nil {
			return err
		}
		if png != nil {
			if err := write(FileName(sr.Name)+"-pca.png", bytesOf(png)); err != nil {
				return err
			}
		}
	}
	return nil
}

// classNamer names the classes of a space's labels as its k-NN tables do.
func classNamer(sr *report.SpaceReport) func(string, int) string {
	return func(label string, class int) string {
		a, _ := sr.KNNOf(label)
		for _, pc := range a.PerClass {
			if pc.Class == class && pc.Name != "" {
				return pc.Name
			}
		}
		return strconv.Itoa(class)
	}
}
