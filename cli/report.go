package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/index"
	"simsearch/report"
)

func newReportCommand() *cli.Command {
	d := report.DefaultOptions()
	t := d.Thresholds
	return &cli.Command{
		Name:      "report",
		Usage:     "measure what each space is invariant and sensitive to",
		ArgsUsage: " ",
		Description: `Measures, for each space of --db, what its encoder kept and what it ignored
of the colored-shapes factors (shape, color, location, size, rotation):

  k-NN factor accuracy   every validation item queries its k nearest
                         training items; the majority label is compared
                         with the item's own, against chance.
  factor interventions   sets of generated images equal but in one factor;
                         sensitivity = mean distance within a set / mean
                         distance between sets (0: the factor is ignored);
                         diameter and margin of each set.
  augmentation orbits    sets of augmentations of one image (the space's
                         training augmentation, or --aug): the same geometry,
                         alignment, uniformity and a collapse check.
  verdicts               invariant, sensitive or partial per factor, from the
                         thresholds below.
  trust                  the index's recall@k against exact search on the
                         queries made; --exact recomputes everything by
                         brute force and shows the largest difference.

The probe images of interventions and orbits are generated at each space's
resolution, embedded with the encoder stored in the space, and kept in the
file (left out of ordinary queries), so a second report reuses them; the file
must therefore be writable.

Writes report.md, report.json and, per space, <space>-neighbours.png (8
validation queries and their nearest training items) and
<space>-distances.png (within-set against between-set distances) into --out,
and prints the comparison table.

Example:
   simsearch report --db shapes.db --out report`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Usage: "database `FILE` (required)"},
			&cli.StringSliceFlag{Name: "space", Usage: "space to measure (repeat for several; default: every space)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "report", Usage: "folder to write the report into"},
			&cli.IntFlag{Name: "k", Value: d.K, Usage: "neighbours of a k-NN vote"},
			&cli.IntFlag{Name: "queries", Usage: "largest number of validation items that query (default: all)"},
			&cli.IntFlag{Name: "bases", Value: d.Bases, Usage: "intervention sets per factor"},
			&cli.IntFlag{Name: "variants", Value: d.Variants, Usage: "members of an intervention set (shape: always the 3 shapes)"},
			&cli.IntFlag{Name: "orbits", Value: d.OrbitSets, Usage: "augmentation orbits (0: none)"},
			&cli.IntFlag{Name: "orbit-size", Value: d.OrbitSize, Usage: "augmentations of one image in an orbit"},
			&cli.StringFlag{Name: "aug", Usage: "augmentation of every space's orbits: A, B, C or primitives (default: each space's own)"},
			&cli.BoolFlag{Name: "exact", Usage: "also compute every figure by brute force and report the largest difference"},
			&cli.IntFlag{Name: "ef", Usage: "HNSW search breadth (default: the space's)"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "seed of the probe images, augmentations and sampled queries"},
			&cli.Float64Flag{Name: "invariant-sensitivity", Value: t.InvariantSensitivity, Usage: "invariant needs a sensitivity below this"},
			&cli.Float64Flag{Name: "sensitive-sensitivity", Value: t.SensitiveSensitivity, Usage: "sensitive needs a sensitivity above this"},
			&cli.Float64Flag{Name: "invariant-score", Value: t.InvariantScore, Usage: "invariant needs a normalized k-NN score below this"},
			&cli.Float64Flag{Name: "sensitive-score", Value: t.SensitiveScore, Usage: "sensitive needs a normalized k-NN score above this"},
		},
		Action: runReport,
	}
}

// reportResult is the JSON result of report: the report and its files.
type reportResult struct {
	*report.Report
	Files   []string `json:"files"`
	Seconds float64  `json:"seconds"`
}

func runReport(c *cli.Context) error {
	o := newOutput(c)
	path := c.String("db")
	if path == "" {
		return usagef("report needs --db, the database file")
	}
	orbits := c.Int("orbits")
	if orbits == 0 {
		orbits = -1 // none
	}
	opts := report.Options{
		Spaces: c.StringSlice("space"), K: c.Int("k"), Queries: c.Int("queries"),
		Bases: c.Int("bases"), Variants: c.Int("variants"), OrbitSets: orbits, OrbitSize: c.Int("orbit-size"),
		Augmentation: c.String("aug"), Exact: c.Bool("exact"), Ef: c.Int("ef"), Seed: c.Uint64("seed"),
		Thresholds: report.Thresholds{
			InvariantSensitivity: c.Float64("invariant-sensitivity"), SensitiveSensitivity: c.Float64("sensitive-sensitivity"),
			InvariantScore: c.Float64("invariant-score"), SensitiveScore: c.Float64("sensitive-score"),
		},
	}
	for _, flag := range []string{"k", "queries", "bases", "variants", "orbits", "orbit-size", "ef"} {
		if c.Int(flag) < 0 {
			return usagef("--%s must not be negative", flag)
		}
	}
	if err := opts.Thresholds.Validate(); err != nil {
		return usagef("%v", err)
	}

	start := time.Now()
	db, err := index.Open(path, index.Options{Progress: indexProgress(o).report})
	if err != nil {
		return err
	}
	defer db.Close()
	opts.Progress = reportProgress(o)
	r, err := report.Run(c.Context, db, opts)
	opts.Progress(report.Progress{})
	if err != nil {
		return err
	}
	files, err := r.WriteFiles(c.String("out"))
	if err != nil {
		return err
	}
	res := reportResult{Report: r, Files: files, Seconds: time.Since(start).Seconds()}
	return o.result("report", res, func(w io.Writer) error {
		if err := r.WriteSummary(w); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\nwrote %s/report.md, report.json and %d pictures in %.1f s\n", c.String("out"), len(files)-2, res.Seconds)
		return err
	})
}

// reportProgress shows the stages of a report: a progress bar for those
// with a known number of steps, a line for the others. Calling it with the
// zero Progress ends the last bar.
func reportProgress(o *output) func(report.Progress) {
	var bar *progress
	var current string
	return func(p report.Progress) {
		name := p.Space + ": " + p.Stage
		if name == current && bar != nil {
			bar.Set(int64(p.Done))
			return
		}
		if bar != nil {
			bar.Done()
			bar = nil
		}
		current = name
		switch {
		case p.Stage == "":
		case p.Total > 0:
			unit := "steps"
			if p.Stage == "k-NN" {
				unit = "queries"
			}
			bar = o.newProgress("report "+name, unit, int64(p.Total))
			bar.Set(int64(p.Done))
		default:
			o.logf("report %s", name)
		}
	}
}
