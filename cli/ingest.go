package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/spaces"
)

func newIngestCommand() *cli.Command {
	return &cli.Command{
		Name:      "ingest",
		Usage:     "embed images into a space of a database file (or add vectors computed elsewhere)",
		ArgsUsage: "[SOURCE]",
		Description: `Embeds the images of SOURCE with an encoder and stores them in the space
--space of the database file --db (created if missing). SOURCE is one of:

   a dataset folder   written by "generate": each image keeps its split,
                      factors and labels from factors.csv
   a folder           every PNG, JPEG and GIF under it (recursively, hidden
                      files left out), in split --split
   an image file
   a generator spec   such as shapes:n=64000,seed=1,res=64: the items are
                      rendered in memory, no file is written
   a labelled folder  a folder with --labels FILE.csv: the images the CSV
                      lists, with their labels (see LABELS below)
   an .npz file       a factorial dataset in the dSprites layout (see NPZ)
   nothing            the items already in the file that have no vector in
                      the space, re-read from their stored sources: how to
                      add a space for another encoder over the same images

Images are decoded and resized to the encoder's resolution on --workers
goroutines while the encoder embeds earlier batches; every --batch images
are stored in one transaction. An item is keyed by the hash of its pixels, so
a picture is stored once in a file whatever its source, running the same
ingest again adds nothing, and an ingest interrupted at any point (Ctrl-C,
or even a kill) resumes where it stopped when run again. A space holds the
vectors of one encoder: ingesting into it with another is an error.

Files that cannot be read (corrupt, not an image, or declaring more than
--max-pixels) are skipped with the reason on stderr and counted; --strict
stops at the first one instead (exit code 3). What was stored is kept
either way. Stored file paths are as written on the command line.

The encoder is one of:

   --encoder FILE     a simsearch checkpoint (trained by "train", or a
                      PyTorch state_dict of the same network brought in by
                      "import"): everything the report measures
   --encoder-cmd CMD  any model, of any framework and architecture, behind
                      a program that speaks the encoder command protocol
                      (see the README: batches of images as .npy on its
                      stdin, vectors as .npy on its stdout), with --res:
                      everything the report measures. The space stores the
                      command and a fingerprint (its vectors of 16 generated
                      images); later runs, query and report use the stored
                      command and refuse one whose fingerprint moved, unless
                      --reembed rebuilds the space
   --vectors FILE     no encoder: vectors computed elsewhere, an .npy file
                      (N×D float32) with --items, a CSV naming the item of
                      each row (row, item id, hash, source, split, labels:
                      the layout "export" writes). A report on such a space
                      measures k-NN only: interventions and orbits need an
                      encoder to embed new images

LABELS: --labels FILE.csv has a header and one row per image: a file column
(the path, relative to the folder or absolute), an optional split column
(train or val; otherwise --split, or a split drawn from the image's hash
with --val-frac), and any other column is a label. A column of integers or
short strings is categorical (its values are the class names); a column of
real numbers is continuous (the value is stored, and binned into --bins
quantile classes for k-NN accuracy); --categorical and --continuous NAME
override the guess, --ignore NAME leaves a column out. Images of the folder
the CSV does not list, and rows whose file is missing or unreadable, are
skipped with the reason. A row for an image already stored sets its labels.
Problems that leave an image without a label are warnings naming the line;
a CSV that cannot be used (no file column, two rows for one file that
disagree, a categorical column of more than 1,000 values) is exit code 3,
with nothing stored.

NPZ: an .npz with imgs (N×H×W uint8, 0/1 or 0–255; or N×H×W×3),
latents_classes (N×K integers) and optionally latents_values (N×K numbers),
as dSprites ships it. The factor names are --factors (default for K = 6:
color, shape, scale, orientation, posX, posY); each becomes a categorical
label from latents_classes (a factor with one value is dropped), and its
latents_values value is kept too unless it is --categorical (color and
shape by default). Images are streamed; --limit N takes the first N,
--sample N a random N (--seed). The report finds the factor grid in the
stored items and draws interventions from it.

Examples:
   simsearch ingest --db shapes.db --encoder enc-A.safetensors shapes32
   simsearch ingest --db shapes.db --encoder enc-B.safetensors          # same items, space enc-B
   simsearch ingest --db shapes.db --space pixels --encoder pixels.safetensors shapes:n=2000,res=32
   simsearch ingest --db photos.db --encoder enc-A.safetensors --split val ~/photos
   simsearch ingest --db shapes.db --space mine --encoder-cmd "python3 examples/embed_torch.py --model model.pt" --res 64 shapes64
   simsearch ingest --db shapes.db --space outside --vectors emb.npy --items emb.items.csv
   simsearch ingest --db photos.db --encoder enc-A.safetensors --labels labels.csv ~/photos
   simsearch ingest --db dsprites.db --encoder enc-A.safetensors --sample 20000 dsprites.npz`,
		Flags: []cli.Flag{
			dbFlag("to write, created if missing"),
			&cli.StringFlag{Name: "space", Usage: "space to fill (default: the --encoder file's name without its extension)"},
			&cli.StringFlag{Name: "encoder", Aliases: []string{"e"}, Usage: "checkpoint to embed with (may be left out when --space exists: its stored encoder is used)"},
			encoderCommandFlag("encoder command line to embed with, run by the shell (needs --res and --space): see the README for its protocol"),
			&cli.IntFlag{Name: "res", Usage: "side of the square images the --encoder-cmd takes, in pixels"},
			encoderTimeoutFlag(),
			&cli.BoolFlag{Name: "reembed", Usage: "rebuild --space with this encoder: its vectors and graph are dropped, its items kept and embedded again (those of SOURCE, or with none the ones it held)"},
			&cli.StringFlag{Name: "vectors", Usage: "`FILE`.npy of vectors computed elsewhere (N×D) to add to a space without an encoder, with --items"},
			&cli.StringFlag{Name: "items", Usage: "CSV `FILE` naming the item of each row of --vectors"},
			&cli.StringFlag{Name: "split", Usage: "split of new items (default: from factors.csv or the spec, or train for plain images)"},
			&cli.StringFlag{Name: "quantize", Value: "none", Usage: "how a space this creates keeps its vectors in memory: none (float32) or int8 (a quarter of the memory for them; searches re-rank with the float32 vectors the file keeps); an existing space keeps its own"},
			&cli.BoolFlag{Name: "strict", Usage: "stop at the first image that cannot be read instead of skipping it"},
			&cli.IntFlag{Name: "batch", Value: ingest.DefaultBatchSize, Usage: "images per transaction: larger spreads the cost of a sync over more images, smaller redoes less after an interruption"},
			&cli.IntFlag{Name: "workers", Usage: "images decoded at once beside the encoder (default: one per core)"},
			&cli.IntFlag{Name: "max-pixels", Value: dataset.DefaultMaxPixels, Usage: "largest image decoded, in pixels; larger ones are refused from their header"},
			&cli.StringFlag{Name: "labels", Usage: "CSV `FILE` of labels for the images of the folder SOURCE"},
			&cli.IntFlag{Name: "bins", Value: ingest.DefaultBins, Usage: "quantile classes of a continuous label"},
			&cli.StringSliceFlag{Name: "categorical", Usage: "column (or npz factor) that is categorical (repeat for several)"},
			&cli.StringSliceFlag{Name: "continuous", Usage: "column that is continuous (repeat for several)"},
			&cli.StringSliceFlag{Name: "ignore", Usage: "column of the labels file to leave out (repeat for several)"},
			&cli.Float64Flag{Name: "val-frac", Value: ingest.DefaultValFrac, Usage: "share of labelled images without a split that go to val (drawn from the image's hash)"},
			&cli.StringFlag{Name: "factors", Usage: "comma-separated names of an npz's latents (default: the dSprites names)"},
			&cli.IntFlag{Name: "limit", Usage: "take the first N images of an npz"},
			&cli.IntFlag{Name: "sample", Usage: "take N images of an npz at random"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of --sample"},
			timeoutFlag(),
		},
		Action: runIngest,
	}
}

func runIngest(c *cli.Context) error {
	o := newOutput(c)
	switch {
	case c.String("db") == "":
		return usagef("ingest needs --db, the database file to write")
	case c.NArg() > 1 && strings.HasPrefix(c.Args().Get(1), "-"):
		return usagef("flags go before SOURCE: %s", strings.Join(c.Args().Slice(), " "))
	case c.NArg() > 1:
		return usagef("ingest takes one SOURCE, not %d (%s)", c.NArg(), strings.Join(c.Args().Slice(), " "))
	case c.Int("batch") < 1:
		return usagef("--batch must be at least 1, not %d", c.Int("batch"))
	case c.Int("workers") < 0:
		return usagef("--workers must be 0 (one per core) or more, not %d", c.Int("workers"))
	case c.Int("max-pixels") < 1:
		return usagef("--max-pixels must be at least 1, not %d", c.Int("max-pixels"))
	case c.Int("bins") < 1 || c.Int("bins") > 100:
		return usagef("--bins must be 1 to 100, not %d", c.Int("bins"))
	case c.Float64("val-frac") < 0 || c.Float64("val-frac") >= 1:
		return usagef("--val-frac must be at least 0 and below 1, not %g", c.Float64("val-frac"))
	case c.Int("limit") < 0 || c.Int("sample") < 0:
		return usagef("--limit and --sample must not be negative")
	}
	if c.String("vectors") != "" || c.String("items") != "" {
		return runIngestVectors(c, o)
	}
	space := c.String("space")
	checkpoint := c.String("encoder")
	command := c.String("encoder-cmd")
	switch {
	case checkpoint != "" && command != "":
		return usagef("ingest takes --encoder or --encoder-cmd, not both")
	case command != "" && space == "":
		return usagef("--encoder-cmd needs --space, the name of the space to fill")
	case command != "" && !c.IsSet("res"):
		return usagef("--encoder-cmd needs --res, the side of the square images the command takes")
	case c.IsSet("res") && command == "":
		return usagef("--res is the resolution of an --encoder-cmd; a checkpoint knows its own")
	case c.Bool("reembed") && checkpoint == "" && command == "":
		return usagef("--reembed needs the encoder to rebuild the space with (--encoder or --encoder-cmd)")
	}
	if space == "" {
		if checkpoint == "" {
			return usagef("ingest needs --encoder (a checkpoint), --encoder-cmd with --space, or --space naming a space of the file")
		}
		space = strings.TrimSuffix(filepath.Base(checkpoint), filepath.Ext(checkpoint))
	}
	co, err := commandOptions(c, o)
	if err != nil {
		return err
	}
	var enc encoder.Encoder
	switch {
	case checkpoint != "":
		model, err := encoder.Load(checkpoint)
		if err != nil {
			return err
		}
		enc = model
	case command != "":
		o.logf("starting the encoder command and taking its fingerprint: %s", command)
		cmd, err := encoder.StartCommand(c.Context, co)
		if err != nil {
			return err
		}
		defer cmd.Close()
		enc = cmd
	}

	storage, err := quantizeFlag(c)
	if err != nil {
		return err
	}
	bars := indexProgress(o)
	db, err := openStoreWith(c, o, index.Options{Progress: bars.report, Storage: storage})
	if err != nil {
		return err
	}
	defer bars.done()
	sum, err := ingestInto(c, o, db, space, enc)
	if err = db.finish(err); err != nil {
		if sum.Images > 0 {
			o.logf("stored before stopping: %d items added, %d vectors added", sum.AddedItems, sum.AddedVectors)
		}
		return err
	}
	return o.result("ingest", sum, func(w io.Writer) error { return writeIngestSummary(w, sum) })
}

// ingestInto runs the ingest of the command's source into space of db.
func ingestInto(c *cli.Context, o *output, db *store, space string, enc encoder.Encoder) (ingest.Summary, error) {

	// The bar starts with the first batch, when the total is known. Progress
	// and OnSkip are called from two goroutines.
	var mu sync.Mutex
	var bar *progress
	endBar := func() {
		mu.Lock()
		defer mu.Unlock()
		if bar != nil {
			bar.Done()
			bar = nil
		}
	}
	defer endBar()
	co, err := commandOptions(c, o)
	if err != nil {
		return ingest.Summary{}, err
	}
	co.Command, co.Res = "", 0
	opts := ingest.Options{
		Source: c.Args().First(), Space: space, Encoder: enc, Split: c.String("split"),
		StoredEncoder: spaces.EncoderOptions{Command: co}, Reembed: c.Bool("reembed"),
		Strict: c.Bool("strict"), BatchSize: c.Int("batch"), Workers: c.Int("workers"), MaxPixels: c.Int("max-pixels"),
		Labels: c.String("labels"),
		LabelOptions: ingest.LabelOptions{Bins: c.Int("bins"), Categorical: c.StringSlice("categorical"),
			Continuous: c.StringSlice("continuous"), Ignore: c.StringSlice("ignore")},
		ValFrac: c.Float64("val-frac"),
		Npz: ingest.NpzOptions{Factors: splitList(c.String("factors")), Categorical: c.StringSlice("categorical"),
			Limit: c.Int("limit"), Sample: c.Int("sample"), Seed: c.Uint64("seed")},
		OnWarning: func(msg string) { fmt.Fprintf(o.stderr, "warning: %s\n", msg) },
		Progress: func(p ingest.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if bar == nil {
				bar = o.newProgress("ingest "+space, "images", int64(p.Total))
			}
			bar.Set(int64(p.Done))
			if p.Skipped > 0 {
				bar.Describe(fmt.Sprintf("%d skipped", p.Skipped))
			}
			if p.Done == p.Total {
				bar.Done() // before the graph's bars
			}
		},
		OnSkip: func(source, reason string) {
			// Skips are told even with --quiet: data was left out. On a
			// terminal the line replaces the bar, which redraws below.
			mu.Lock()
			defer mu.Unlock()
			clear := ""
			if o.stderrTerminal && bar != nil {
				clear = "\r\033[K"
			}
			fmt.Fprintf(o.stderr, "%sskipped %s: %s\n", clear, source, reason)
		},
	}
	if opts.ValFrac == 0 {
		opts.ValFrac = 1e-300 // --val-frac 0: every image without a split trains
	}
	if opts.Source == "" {
		o.logf("re-reading the items of %s that have no vector in space %s", c.String("db"), space)
	}
	sum, err := ingest.Run(c.Context, db, opts)
	endBar()
	return sum, err
}

// writeIngestSummary writes the summary of an ingest as text.
func writeIngestSummary(w io.Writer, s ingest.Summary) error {
	created := ""
	if s.SpaceCreated {
		created = " (created)"
	}
	if s.Kind == "stored sources" {
		fmt.Fprintf(w, "ingested the items of %s, re-read from their sources, into space %s%s\n", s.Source, s.Space, created)
	} else {
		fmt.Fprintf(w, "ingested %s (%s) into space %s%s\n", s.Source, s.Kind, s.Space, created)
	}
	rows := []struct {
		name  string
		value string
	}{
		{"images", fmt.Sprintf("%s in %s (%s images/s)", groupDigits(s.Images), seconds(s.Seconds), groupDigits(int(s.ImagesPerSecond+0.5)))},
		{"added items", groupDigits(s.AddedItems)},
		{"added vectors", groupDigits(s.AddedVectors)},
		{"already present", groupDigits(s.Present)},
		{"skipped", groupDigits(s.Skipped)},
		{"relabelled", groupDigits(s.Relabelled)},
		{"labels", s.Labels},
		{"graph", "up to date in " + seconds(s.GraphSeconds)},
		{"space", fmt.Sprintf("%s vectors; the file holds %s items", groupDigits(s.Vectors), groupDigits(s.Items))},
	}
	for _, r := range rows {
		if (r.name == "labels" && r.value == "") || (r.name == "relabelled" && s.Relabelled == 0) {
			continue
		}
		if _, err := fmt.Fprintf(w, "  %-16s %s\n", r.name, r.value); err != nil {
			return err
		}
	}
	return nil
}

// seconds formats a duration given in seconds.
func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(10 * time.Millisecond).String()
}

// splitList splits a comma-separated flag value, dropping empty parts.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// quantizeFlag reads --quantize.
func quantizeFlag(c *cli.Context) (index.Storage, error) {
	st, err := index.ParseStorage(c.String("quantize"))
	if err != nil || st == index.DefaultStorage {
		return 0, usagef("--quantize %q: want none or int8", c.String("quantize"))
	}
	if !c.IsSet("quantize") {
		return index.DefaultStorage, nil
	}
	return st, nil
}
