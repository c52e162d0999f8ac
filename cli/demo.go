package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/experiment"
	"simsearch/report"
	"simsearch/report/render"
)

func newDemoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "run the whole chain on a small default and print what each encoder is invariant to",
		ArgsUsage: " ",
		Description: `Runs the whole simsearch chain in one folder (--out):

  1. generate a colored-shapes dataset            <out>/shapes/
  2. train an autoencoder and three contrastive    <out>/encoders/
     encoders (augmentations A, B, C), and make
     the pixels and random baselines; then, for
     the seed's other claims, a supervised and a
     dual encoder of colour and a short contrastive
     run on unnormalized outputs (shortcut-A)
  3. ingest the dataset into one database file,    <out>/shapes.db
     one space per encoder
  4. measure what each space is invariant to       <out>/report/

and prints the comparison table, then one line per claim of the seed
document with what was measured and whether it held. The theory predicts that augmentation A
(colour jitter) makes an encoder invariant to colour, B (rotations and
crops) invariant to location, and C (shears, perspective, crops) invariant
to shape and location; the report says what the encoders really did.

Sizes (--size):
   small  32 px, 2,000 training images, 8 epochs of batch 64: a few minutes
          on 2 cores (the default)
   full   the seed's experiment: 64 px, 40,000 training and 24,000
          validation images, autoencoder 30 epochs, contrastive 15, batch
          256; it measures the training speed first and says how long the
          run will take
   tiny   seconds; checks that everything runs, its numbers mean nothing

Interrupting (Ctrl-C) keeps what is finished; running the same command
again resumes: finished steps are not done twice.

Example:
   simsearch demo --out demo`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "simsearch-demo", Usage: "folder for the dataset, encoders, database and report"},
			&cli.StringFlag{Name: "size", Value: "small", Usage: "small, full or tiny"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the dataset, the training and the report"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	o := newOutput(c)
	if c.NArg() > 0 {
		return usagef("demo takes no arguments, only flags (got %q)", strings.Join(c.Args().Slice(), " "))
	}
	size, ok := experiment.FindSize(c.String("size"))
	if !ok {
		return usagef("--size %q: want small, full or tiny", c.String("size"))
	}
	size.Seed = c.Uint64("seed")
	bars := newStageBars(o)
	defer bars.done()
	reportBars := reportProgress(o)
	res, err := experiment.Run(c.Context, experiment.Options{
		Dir: c.String("out"), Size: size,
		Log: func(line string) { bars.done(); o.logf("%s", line) },
		Progress: func(p experiment.Progress) {
			bars.show(p.Stage, p.Unit, int64(p.Done), int64(p.Total), p.Detail)
		},
		Index:  indexProgress(o).report,
		Report: reportBars,
	})
	reportBars(report.Progress{})
	bars.done()
	if err != nil {
		return err
	}
	return o.result("demo", res, func(w io.Writer) error {
		fmt.Fprintf(w, "What each encoder kept and ignored (k-NN accuracy of the factor's label, and the verdict):\n\n")
		if err := render.Summary(w, res.Report); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nThe seed's claims, measured:\n\n")
		if err := render.WriteClaims(w, res.Report); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nDataset   %s\nEncoders  %s\nDatabase  %s\nReport    %s\n",
			res.Dataset, filepath.Join(res.Dir, "encoders"), res.Database, filepath.Join(res.Dir, "report", "report.md"))
		_, err := fmt.Fprintf(w, "Done in %s.\n", time.Duration(res.Seconds*float64(time.Second)).Round(time.Second))
		return err
	})
}
