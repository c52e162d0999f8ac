package cli

import (
	"fmt"
	"io"
	"strings"

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

With --format npz, one file emb.npz holds vectors.npy, ids.npy (int64) and
items.csv (np.load("emb.npz")["items.csv"] is its bytes). --filter keeps
only some items, as in query: split=val, species=cat. Files are written
under temporary names and put in place when complete.

Examples:
   simsearch export --db photos.db --space enc-A --out emb.npy
   simsearch export --db photos.db --space enc-A --filter split=val --format npz --out val.npz`,
		Flags: []cli.Flag{
			dbFlag("to read"),
			&cli.StringFlag{Name: "space", Usage: "space to export (may be left out when the file holds one)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "`FILE` to write (.npy, or .npz)"},
			&cli.StringFlag{Name: "format", Usage: "npy (the matrix and an items CSV) or npz (one file); default: from --out"},
			&cli.StringSliceFlag{Name: "filter", Usage: "keep only items with split=NAME or LABEL=VALUE (repeat to combine)"},
			timeoutFlag(),
		},
		Action: runExport,
	}
}

func runExport(c *cli.Context) error {
	o := newOutput(c)
	switch {
	case c.NArg() > 0:
		return usagef("export takes no arguments, only flags (got %q)", strings.Join(c.Args().Slice(), " "))
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
