package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/report"
	"simsearch/report/render"
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

A space whose items carry labels of their own (ingest --labels, an npz
dataset) is measured on those: k-NN accuracy per label and per class (with
a confusion table in report.json), k-NN regression of continuous labels
against predicting the mean, interventions drawn from the stored items where
they form a factor grid (as dSprites does; otherwise the report says why
there are none), orbits of stored validation images, and a verdict per
label.

The probe images of interventions and orbits are generated at each space's
resolution, embedded with the encoder stored in the space (a checkpoint, or
an encoder command, started for it: --encoder-cmd runs another command line
in its place, which must give the space's fingerprint), and kept in the
file (left out of ordinary queries), so a second report reuses them. The
file must therefore be writable: the report holds it for writing only while
it stores new probes, then measures with the file opened read-only, beside
queries and other reports.

A space of precomputed vectors (ingest --vectors) has no encoder to embed
probes with: its report has k-NN and trust, and says that interventions,
orbits and verdicts need an encoder and how to give one. An encoder command
trained without a known augmentation gets orbits with --aug.

Writes report.md, report.json and, per space, <space>-neighbours.png (8
validation queries and their nearest training items) and
<space>-distances.png (within-set against between-set distances) into --out,
and prints the comparison table.

Example:
   simsearch report --db shapes.db --out report`,
		Flags: []cli.Flag{
			dbFlag("to measure"),
			&cli.StringSliceFlag{Name: "space", Usage: "space to measure (repeat for several; default: every space)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "report", Usage: "folder to write the report into"},
			&cli.IntFlag{Name: "k", Value: d.K, Usage: "neighbours of a k-NN vote"},
			&cli.IntFlag{Name: "queries", Usage: "largest number of validation items that query (default: all)"},
			&cli.IntFlag{Name: "bases", Value: d.Bases, Usage: "intervention sets per factor"},
			&cli.IntFlag{Name: "probe-items", Value: d.ProbeItems, Usage: "training (and validation) items the linear probes are fitted (and scored) on; their time grows with it"},
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
			encoderCommandFlag("for spaces made by an encoder command: run this command line instead of the stored one (it must give the space's fingerprint)"),
			encoderTimeoutFlag(),
			timeoutFlag(),
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
	if c.NArg() > 0 {
		return usagef("report takes no arguments, only flags (got %q)", strings.Join(c.Args().Slice(), " "))
	}
	for _, flag := range []string{"k", "bases", "variants", "orbit-size", "probe-items"} {
		if c.Int(flag) < 1 {
			return usagef("--%s must be at least 1, not %d", flag, c.Int(flag))
		}
	}
	for _, flag := range []string{"queries", "orbits", "ef"} {
		if c.Int(flag) < 0 {
			return usagef("--%s must not be negative, not %d", flag, c.Int(flag))
		}
	}
	opts := report.Options{
		Spaces: c.StringSlice("space"), K: c.Int("k"), Queries: c.Int("queries"),
		Bases: c.Int("bases"), Variants: c.Int("variants"), ProbeItems: c.Int("probe-items"), OrbitSets: c.Int("orbits"), OrbitSize: c.Int("orbit-size"),
		NoOrbits:     c.Int("orbits") == 0,
		Augmentation: c.String("aug"), Exact: c.Bool("exact"), Ef: c.Int("ef"), Seed: c.Uint64("seed"),
		Thresholds: report.Thresholds{
			InvariantSensitivity: c.Float64("invariant-sensitivity"), SensitiveSensitivity: c.Float64("sensitive-sensitivity"),
			InvariantScore: c.Float64("invariant-score"), SensitiveScore: c.Float64("sensitive-score"),
		},
		Progress: reportProgress(o),
	}
	if err := opts.Thresholds.Validate(); err != nil {
		return usagef("%v", err)
	}
	eo, err := storedEncoderOptions(c, o)
	if err != nil {
		return err
	}
	opts.Encoders = storedEncoders(eo)

	start := time.Now()
	r, reader, err := measureStore(c, o, opts)
	if err != nil {
		return err
	}
	defer reader.Close()
	files, err := render.WriteFiles(c.String("out"), r, reader)
	if err != nil {
		return err
	}
	res := reportResult{Report: r, Files: files, Seconds: time.Since(start).Seconds()}
	return o.result("report", res, func(w io.Writer) error {
		if err := render.Summary(w, r); err != nil {
			return err
		}
		if len(render.Claims(r)) > 0 {
			fmt.Fprintf(w, "\nThe seed's claims, measured:\n\n")
			if err := render.WriteClaims(w, r); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintf(w, "\nwrote %s/report.md, report.json and %d pictures in %.1f s\n", c.String("out"), len(files)-2, res.Seconds)
		return err
	})
}

// measureStore runs the report on --db and returns it with the store,
// open read-only. The probes a report needs are stored with the file held
// for writing only when they are missing, so that a report made before
// leaves the file to other readers all along.
func measureStore(c *cli.Context, o *output, opts report.Options) (*report.Report, *store, error) {
	measure := func() (*report.Report, *store, error) {
		reader, err := openStore(c, o, true, indexProgress(o).report)
		if err != nil {
			return nil, nil, err
		}
		r, err := report.Run(c.Context, reader, opts)
		opts.Progress(report.Progress{})
		if err != nil {
			reader.Close()
			return nil, nil, err
		}
		return r, reader, nil
	}
	if _, err := os.Stat(c.String("db")); err == nil {
		r, reader, err := measure()
		if !errors.Is(err, report.ErrNoProbes) {
			return r, reader, err
		}
	}
	writer, err := openStore(c, o, false, indexProgress(o).report)
	if err != nil {
		return nil, nil, err
	}
	err = report.Prepare(c.Context, writer, opts)
	opts.Progress(report.Progress{})
	if err := writer.finish(err); err != nil {
		return nil, nil, err
	}
	return measure()
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
