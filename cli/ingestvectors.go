package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"simsearch/index"
	"simsearch/ingest"
)

// runIngestVectors is ingest --vectors FILE --items CSV: vectors computed
// elsewhere into a space without an encoder.
func runIngestVectors(c *cli.Context, o *output) error {
	vectors, items := c.String("vectors"), c.String("items")
	switch {
	case vectors == "" || items == "":
		return usagef("--vectors and --items go together: the .npy file of vectors and the CSV naming the item of each row")
	case c.NArg() > 0:
		return usagef("ingest --vectors takes no SOURCE (got %q): the items are named by --items", strings.Join(c.Args().Slice(), " "))
	case c.String("encoder") != "" || c.String("encoder-cmd") != "" || c.Bool("reembed"):
		return usagef("--vectors adds vectors computed elsewhere to a space without an encoder: it takes no --encoder, --encoder-cmd or --reembed")
	}
	space := c.String("space")
	if space == "" {
		space = strings.TrimSuffix(filepath.Base(vectors), filepath.Ext(vectors))
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
	var bar *progress
	opts := ingest.VectorsOptions{
		Vectors: vectors, Items: items, Space: space, Split: c.String("split"),
		Progress: func(p ingest.Progress) {
			if bar == nil {
				bar = o.newProgress("ingest "+space, "vectors", int64(p.Total))
			}
			bar.Set(int64(p.Done))
			if p.Done == p.Total {
				bar.Done()
			}
		},
		OnSkip: func(source, reason string) { fmt.Fprintf(o.stderr, "skipped %s: %s\n", source, reason) },
	}
	sum, err := ingest.RunVectors(c.Context, db, opts)
	if bar != nil {
		bar.Done()
	}
	if err = db.finish(err); err != nil {
		if sum.Images > 0 {
			o.logf("stored before stopping: %d items added, %d vectors added", sum.AddedItems, sum.AddedVectors)
		}
		return err
	}
	return o.result("ingest", sum, func(w io.Writer) error { return writeIngestSummary(w, sum) })
}
