package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/dataset"
)

func newGenerateCommand() *cli.Command {
	def := dataset.DefaultSpec()
	return &cli.Command{
		Name:      "generate",
		Usage:     "write a colored-shapes dataset (PNG files and factors.csv)",
		ArgsUsage: " ",
		Description: `Writes one PNG per item into --out, a factors.csv that lists every item's
split, factors (shape, hue, saturation, value, radius, centre, rotation) and
labels (shape, color, location, size), and a dataset.json naming the spec.
Item i depends only on the seed and i, so the same flags always give the same
files. The default is the seed experiment's 64,000 images: 40,000 for
training and 24,000 for validation. Lengths in factors.csv are pixels at
--res.

Example:
   simsearch generate --n 64000 --res 64 --out shapes64`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "n", Value: def.N, Usage: "number of images"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "seed of the dataset"},
			&cli.IntFlag{Name: "res", Value: def.Res, Usage: fmt.Sprintf("width and height of the images in pixels (%d to %d; 32 for fast runs)", dataset.MinRes, dataset.MaxRes)},
			&cli.Float64Flag{Name: "val-frac", Value: def.ValFrac, Usage: "share of the images, the last ones, kept for validation"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "folder to write (created if missing; must be empty)"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace the dataset files (images, factors.csv, dataset.json) in a non-empty --out"},
			&cli.IntFlag{Name: "workers", Usage: "images made at once (default: one per core)"},
		},
		Action: runGenerate,
	}
}

// generateResult is the result of generate.
type generateResult struct {
	Dir             string  `json:"dir"`
	Spec            string  `json:"spec"`
	Images          int     `json:"images"`
	Train           int     `json:"train"`
	Val             int     `json:"val"`
	Seconds         float64 `json:"seconds"`
	ImagesPerSecond float64 `json:"images_per_second"`
}

func runGenerate(c *cli.Context) error {
	o := newOutput(c)
	dir := c.String("out")
	if dir == "" {
		return usagef("generate needs --out, the folder to write")
	}
	if c.Int("workers") < 0 {
		return usagef("--workers must be 0 (one per core) or more, not %d", c.Int("workers"))
	}
	spec := dataset.Spec{N: c.Int("n"), Seed: c.Uint64("seed"), Res: c.Int("res"), ValFrac: c.Float64("val-frac")}
	if err := spec.Validate(); err != nil {
		return usagef("%v", err)
	}

	// The bar starts with the first image, so that a refusal prints none.
	var bar *progress
	start := time.Now()
	err := dataset.WriteFolder(c.Context, dir, spec, dataset.WriteOptions{
		Overwrite: c.Bool("overwrite"),
		Workers:   c.Int("workers"),
		Progress: func(done, total int) {
			if bar == nil {
				bar = o.newProgress("generate", "images", int64(total))
			}
			bar.Set(int64(done))
		},
	})
	if bar != nil {
		bar.Done()
	}
	if errors.Is(err, dataset.ErrNotEmpty) {
		return fmt.Errorf("%w; add --overwrite to replace the dataset in it", err)
	}
	if err != nil {
		return err
	}

	elapsed := time.Since(start).Seconds()
	train, val := spec.Counts()
	res := generateResult{
		Dir: dir, Spec: spec.String(), Images: spec.N, Train: train, Val: val,
		Seconds: elapsed, ImagesPerSecond: float64(spec.N) / elapsed,
	}
	return o.result("generate", res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %d images (%d train, %d val) of %s to %s in %.1f s (%.0f images/s)\n",
			res.Images, res.Train, res.Val, res.Spec, res.Dir, res.Seconds, res.ImagesPerSecond)
		return err
	})
}
