package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/export"
	"simsearch/index"
)

func newExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the vectors of a space as .npy (or .npz) with an items CSV",
		ArgsUsage: " ",
		Description: `Writes the vectors of space --space of --db for NumPy and other tools:

   --out emb.npy        the vectors, an N×D float32 matrix (np.load reads it),
                        one row per item in item id order
   emb.items.csv        beside it: row, id, hash, source, split, then one column per
                        label (its class name) and per factor (its value;
                        NAME_value when a label has the same name)

--to TARGET copies the space instead, with its encoder, its items (labels,
thumbnails) and its vectors, from --db into another store: a database file,
or a PostgreSQL server (postgres://host/db, or host=... dbname=...); --from
TARGET copies the other way, from TARGET into --db. A copy is resumable and
idempotent: run it again after an interruption and it sends only what is
missing. Probe items stay behind; a report prepares them again.

With --format npz, one file emb.npz holds vectors.npy, ids.npy (int64) and
items.csv (np.load("emb.npz")["items.csv"] is its bytes). --filter keeps
only some items, as in query: split=val, species=cat. Files are written
under temporary names and put in place when complete.

Examples:
   simsearch export --db photos.db --space enc-A --out emb.npy
   simsearch export --db photos.db --space enc-A --filter split=val --format npz --out val.npz
   simsearch export --db photos.db --space enc-A --to "postgres://lab-server/photos"
   simsearch export --db copy.db --space enc-A --from "host=lab-server dbname=photos"`,
		Flags: []cli.Flag{
			dbFlag("to read"),
			&cli.StringFlag{Name: "space", Usage: "space to export (may be left out when the file holds one)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "`FILE` to write (.npy, or .npz)"},
			&cli.StringFlag{Name: "format", Usage: "npy (the matrix and an items CSV) or npz (one file); default: from --out"},
			&cli.StringSliceFlag{Name: "filter", Usage: "keep only items with split=NAME or LABEL=VALUE (repeat to combine)"},
			&cli.StringFlag{Name: "to", Usage: "copy the space from --db into this store (a file, or a server's URL) instead of writing files"},
			&cli.StringFlag{Name: "from", Usage: "copy the space from this store into --db instead of writing files"},
			timeoutFlag(),
		},
		Action: runExport,
	}
}

func runExport(c *cli.Context) error {
	o := newOutput(c)
	outputs := 0
	for _, flag := range []string{"out", "to", "from"} {
		if c.String(flag) != "" {
			outputs++
		}
	}
	switch {
	case c.NArg() > 0:
		return usagef("export takes no arguments, only flags (got %q)", strings.Join(c.Args().Slice(), " "))
	case outputs > 1:
		return usagef("export takes one of --out, --to or --from, not several")
	case c.String("to") != "" || c.String("from") != "":
		return runCopy(c, o)
	case c.String("out") == "":
		return usagef("export needs --out, the .npy or .npz file to write")
	case c.IsSet("format") && c.String("format") != export.FormatNpy && c.String("format") != export.FormatNpz:
		return usagef("--format is npy or npz, not %q", c.String("format"))
	}
	bars := indexProgress(o)
	st, err := openStore(c, o, true, bars.report)
	if err != nil {
		return err
	}
	defer st.Close()
	defer bars.done()
	sp, err := openSpace(st, c.String("space"), "export")
	if err != nil {
		return err
	}
	defer sp.Close()
	names, err := storeLabels(st)
	if err != nil {
		return err
	}
	filter, err := names.parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	if err := sp.Index().Load(c.Context); err != nil {
		return err
	}
	bars.done()
	var bar *progress
	sum, err := export.Run(c.Context, st, export.Options{
		Space: sp.Name(), Out: c.String("out"), Format: c.String("format"), Filter: filter,
		Progress: func(done, total int) {
			if bar == nil {
				bar = o.newProgress("export "+sp.Name(), "rows", int64(total))
			}
			bar.Set(int64(done))
		},
	})
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	return o.result("export", sum, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %s: %s rows of %d dimensions (%s) in %s (%.0f MB/s)\n",
			strings.Join(sum.Files, " and "), groupDigits(sum.Rows), sum.Dim, index.FormatBytes(sum.Bytes), seconds(sum.Seconds), sum.MBPerSecond)
		return err
	})
}

// copyResult is the result of export --to or --from.
type copyResult struct {
	Space string `json:"space"`
	From  string `json:"from"`
	To    string `json:"to"`
	index.CopySummary
	Seconds float64 `json:"seconds"`
}

// runCopy copies a space between --db and the store of --to or --from.
func runCopy(c *cli.Context, o *output) error {
	if len(c.StringSlice("filter")) > 0 || c.IsSet("format") {
		return usagef("--filter and --format are for files (--out); a copy takes the whole space")
	}
	other := c.String("to") + c.String("from")
	if sameFile(c.String("db"), other) {
		return usagef("%s is the --db file itself: a copy needs another file or a server", other)
	}
	start := time.Now()
	bars := indexProgress(o)
	defer bars.done()
	db, err := openStore(c, o, c.String("to") != "", bars.report)
	if err != nil {
		return err
	}
	otherStore, err := index.Connect(c.Context, other, index.Options{ReadOnly: c.String("from") != "", Timeout: c.Duration("timeout"), Progress: bars.report})
	if err != nil {
		db.Close()
		return err
	}
	from, to := index.Store(db), otherStore
	if c.String("from") != "" {
		from, to = otherStore, index.Store(db)
	}
	name := c.String("space")
	if name == "" {
		sp, err := openSpace(from, "", "export")
		if err != nil {
			otherStore.Close()
			return db.finish(err)
		}
		name = sp.Name()
	}
	sum, err := index.CopySpace(c.Context, from, to, name, bars.report)
	if closeErr := otherStore.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("close %s: %w", otherStore.Path(), closeErr)
	}
	if err := db.finish(err); err != nil {
		return err
	}
	res := copyResult{Space: name, From: from.Path(), To: to.Path(), CopySummary: sum, Seconds: time.Since(start).Seconds()}
	return o.result("copy", res, func(w io.Writer) error {
		created := fmt.Sprintf(" (%v storage)", sum.Storage)
		if sum.SpaceCreated {
			created = fmt.Sprintf(" (created, %v storage)", sum.Storage)
		}
		_, err := fmt.Fprintf(w, "copied space %s from %s to %s%s: %s vectors, %s items and %s vectors added, in %s\n",
			name, res.From, res.To, created, groupDigits(sum.Vectors), groupDigits(sum.ItemsAdded), groupDigits(sum.VectorsAdded), seconds(res.Seconds))
		return err
	})
}

// sameFile tells whether paths a and b name one file: the same file on
// disk, or the same path when neither exists yet.
func sameFile(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(ia, ib)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
