package cli

import (
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"simsearch/dataset"
	"simsearch/report/render"
)

func newAugmentCommand() *cli.Command {
	return &cli.Command{
		Name:      "augment",
		Usage:     "draw a grid of augmentations of one image",
		ArgsUsage: " ",
		Description: `Draws a PNG grid: one row per input image (--in files, --item items of
--spec, or items 0 to 3 when neither is given), its first column the input,
then --n random views made by the augmentation --aug. Two such views of one
image are a positive pair in contrastive training, so the grid shows what an
encoder trained with --aug is asked to ignore.

` + dataset.PrimitivesHelp() + `

Examples:
   simsearch augment --aug B --item 17 --out b.png
   simsearch augment --aug "pad:24,rotate,crop:0.2-0.6" --in photo.jpg --out grid.png`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "aug", Aliases: []string{"a"}, Usage: "augmentation: A, B, C, none, or primitives (see above)"},
			&cli.StringSliceFlag{Name: "in", Usage: "image file (PNG, JPEG, GIF) to augment; repeat for more rows"},
			&cli.IntSliceFlag{Name: "item", Usage: "item of --spec to augment; repeat for more rows"},
			&cli.StringFlag{Name: "spec", Value: dataset.DefaultSpec().String(), Usage: "generator spec of --item"},
			&cli.IntFlag{Name: "res", Usage: "resolution the images are augmented at (default: the spec's)"},
			&cli.IntFlag{Name: "n", Value: 10, Usage: "augmented views per image"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the random views"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "PNG file to write"},
		},
		Action: runAugment,
	}
}

// augmentResult is the result of augment.
type augmentResult struct {
	Out          string   `json:"out"`
	Augmentation string   `json:"augmentation"`
	Definition   string   `json:"definition"`
	Rows         []string `json:"rows"`
	Views        int      `json:"views"`
	Res          int      `json:"res"`
	Seed         uint64   `json:"seed"`
}

// maxAugmentViews bounds --n and the number of rows, so a grid stays an image.
const maxAugmentViews = 100

func runAugment(c *cli.Context) error {
	o := newOutput(c)
	out := c.String("out")
	if out == "" {
		return usagef("augment needs --out, the PNG file to write")
	}
	if c.String("aug") == "" {
		return usagef("augment needs --aug: A, B, C, or primitives such as \"pad:24,rotate,crop:0.2-0.6\"")
	}
	aug, err := dataset.ParseAugmentation(c.String("aug"))
	if err != nil {
		return usagef("--aug: %v", err)
	}
	n := c.Int("n")
	if n < 1 || n > maxAugmentViews {
		return usagef("--n must be from 1 to %d, not %d", maxAugmentViews, n)
	}
	spec, err := dataset.ParseSpec(c.String("spec"))
	if err != nil {
		return usagef("--spec: %v", err)
	}
	if c.IsSet("res") {
		spec.Res = c.Int("res")
		if err := spec.Validate(); err != nil {
			return usagef("--res: %v", err)
		}
	}

	items := c.IntSlice("item")
	files := c.StringSlice("in")
	if len(items) == 0 && len(files) == 0 {
		items = []int{0, 1, 2, 3}
	}
	if len(items)+len(files) > maxAugmentViews {
		return usagef("at most %d rows (--in and --item), not %d", maxAugmentViews, len(items)+len(files))
	}
	var inputs []*image.RGBA
	var labels []string
	for _, path := range files {
		img, err := dataset.LoadImage(path, spec.Res)
		if err != nil {
			return err
		}
		inputs = append(inputs, img)
		labels = append(labels, filepath.Base(path))
	}
	for _, i := range items {
		if i < 0 || i >= spec.N {
			return usagef("--item %d is not an item of %s (0 to %d)", i, spec, spec.N-1)
		}
		inputs = append(inputs, spec.Image(i))
		labels = append(labels, fmt.Sprintf("item %d", i))
	}

	seed := c.Uint64("seed")
	rows := make([][]*image.RGBA, len(inputs))
	for r, src := range inputs {
		// One stream per row, so adding rows leaves the others unchanged.
		rng := rand.New(rand.NewPCG(seed, uint64(r)))
		rows[r] = append(rows[r], src)
		for k := 0; k < n; k++ {
			rows[r] = append(rows[r], aug.Apply(src, rng))
		}
	}
	definition := aug.String()
	if p, ok := aug.(*dataset.Pipeline); ok {
		definition = p.Definition()
	}
	columns := []string{"input"}
	for k := 1; k <= n; k++ {
		columns = append(columns, fmt.Sprint(k))
	}
	described := aug.String()
	if definition != described {
		described += " = " + definition
	}
	grid := render.Grid{Title: "augmentation " + described, Columns: columns}
	for r, row := range rows {
		cells := make([]image.Image, len(row))
		for k, img := range row {
			cells[k] = img
		}
		grid.Rows = append(grid.Rows, render.GridRow{Label: labels[r], Cells: cells})
	}
	if err := writePNG(out, render.DrawGrid(grid)); err != nil {
		return err
	}
	res := augmentResult{Out: out, Augmentation: aug.String(), Definition: definition, Rows: labels, Views: n, Res: spec.Res, Seed: seed}
	return o.result("augment", res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %s: %d input(s) × %d view(s) of augmentation %s at %d px\n", out, len(rows), n, described, spec.Res)
		return err
	})
}
