package cli

import (
	"errors"
	"fmt"
	"image"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"simsearch/index"
	"simsearch/internal/atomicfile"
	"simsearch/report/render"
	"simsearch/spaces"
)

func newQueryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "find the nearest items of an image or item",
		ArgsUsage: " ",
		Description: `Prints the k nearest items of a query in a space of a database file: rank,
id, distance (Euclidean, between unit vectors), split, labels and source.

The query is an image file (--image: decoded, resized to the space's
resolution and embedded with the encoder stored in the space), a stored item
(--id: its stored vector; the item itself comes first, at distance 0, unless
a filter leaves it out), or --sample N items drawn at random (--seed) from
the validation items of the space (each one left out of its own results).

--filter keeps only some items: split=train, or a label such as color=3,
location=4, size=0 or shape=circle; repeat it to combine (several splits
are alternatives, labels must all hold). Searches use the HNSW graph, or an
exact scan when the index judges it faster (small spaces, selective
filters); --exact always scans.

--grid draws the queries as a PNG from the stored thumbnails: one row per
query, the query first, then its neighbours from near to far with their
distances. The file is opened read-only: several queries, reports and infos
can run at once, and beside a writer they wait for it (--timeout).

Examples:
   simsearch query --db shapes.db --space enc-A --id 17
   simsearch query --db shapes.db --space enc-A --image photo.png -k 5 --json
   simsearch query --db shapes.db --space enc-A --sample 8 --filter split=train --grid nn.png
   simsearch query --db shapes.db --space enc-A --id 17 --filter color=3 --exact`,
		Flags: []cli.Flag{
			dbFlag("to read"),
			&cli.StringFlag{Name: "space", Usage: "space to search (may be left out when the file holds one)"},
			&cli.StringFlag{Name: "image", Aliases: []string{"i"}, Usage: "image `FILE` to query with (embedded by the space's encoder: not for a space of precomputed vectors)"},
			encoderCommandFlag("for a space made by an encoder command: run this command line instead of the stored one (it must give the space's fingerprint)"),
			encoderTimeoutFlag(),
			&cli.IntFlag{Name: "id", Usage: "stored item to query with"},
			&cli.IntFlag{Name: "k", Value: 10, Usage: "number of neighbours"},
			&cli.BoolFlag{Name: "exact", Usage: "scan every vector instead of walking the HNSW graph"},
			&cli.IntFlag{Name: "ef", Usage: "HNSW search breadth (default: the space's ef_search)"},
			&cli.StringSliceFlag{Name: "filter", Usage: "keep only items with split=NAME or LABEL=VALUE (repeat to combine)"},
			&cli.StringFlag{Name: "grid", Usage: "PNG file to draw the queries and their neighbours into"},
			&cli.IntFlag{Name: "sample", Usage: "query with this many random validation items"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of --sample"},
			timeoutFlag(),
		},
		Action: runQuery,
	}
}

// Limits of query's flags, so that a typing mistake is an error.
const (
	maxQueryK      = 1000
	maxQuerySample = 1000
)

// gridResult is the result of --grid.
type gridResult struct {
	Path    string `json:"path"`
	Queries int    `json:"queries"`
	K       int    `json:"k"`
}

func runQuery(c *cli.Context) error {
	o := newOutput(c)
	k := c.Int("k")
	queries := 0
	for _, flag := range []string{"image", "id", "sample"} {
		if c.IsSet(flag) {
			queries++
		}
	}
	switch {
	case c.NArg() > 0:
		return usagef("query takes no arguments, only flags (got %q); the query image goes after --image", strings.Join(c.Args().Slice(), " "))
	case queries > 1:
		return usagef("query takes one of --image, --id or --sample, not several")
	case queries == 0:
		return usagef("query needs --image PATH, --id N or --sample N")
	case k < 1 || k > maxQueryK:
		return usagef("-k must be 1 to %d, not %d", maxQueryK, k)
	case c.Int("ef") < 0:
		return usagef("--ef must be 0 (the space's default) or more, not %d", c.Int("ef"))
	case c.IsSet("sample") && (c.Int("sample") < 1 || c.Int("sample") > maxQuerySample):
		return usagef("--sample must be 1 to %d, not %d", maxQuerySample, c.Int("sample"))
	case c.IsSet("id") && c.Int("id") < 0:
		return usagef("--id must not be negative, not %d", c.Int("id"))
	case c.IsSet("image") && c.String("image") == "":
		return usagef("--image needs the path of an image file")
	}
	bars := indexProgress(o)
	st, err := openStore(c, o, true, bars.report)
	if err != nil {
		return err
	}
	defer st.Close()
	defer bars.done()
	names, err := storeLabels(st)
	if err != nil {
		return err
	}
	filter, err := names.parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	opts := index.SearchOptions{K: k, Ef: c.Int("ef"), Filter: filter}
	if c.Bool("exact") {
		opts.Method = index.Exact
	}
	sp, err := openSpace(st, c.String("space"), "query")
	if err != nil {
		return err
	}
	defer sp.Close()
	eo, err := storedEncoderOptions(c, o)
	if err != nil {
		return err
	}
	sp.SetEncoderOptions(eo)
	if err := sp.Index().Load(c.Context); err != nil {
		return err
	}
	bars.done()
	if len(filter.Splits) > 0 || len(filter.Labels) > 0 {
		if n, err := sp.Matching(filter); err != nil {
			return err
		} else if n == 0 {
			return usagef("no item of space %s matches --filter %s", sp.Name(), names.describeFilter(filter))
		}
	}

	var results []spaces.Result
	switch {
	case c.IsSet("image"):
		res, err := sp.QueryImage(c.Context, c.String("image"), opts)
		if err != nil {
			return err
		}
		results = append(results, res)
	case c.IsSet("id"):
		id := index.ItemID(c.Int("id"))
		res, err := sp.QueryItem(c.Context, id, opts)
		if err != nil {
			return fmt.Errorf("--id %d: %w", id, err)
		}
		results = append(results, res)
	default:
		if results, err = sp.QuerySample(c.Context, c.Int("sample"), c.Uint64("seed"), opts); err != nil {
			return err
		}
	}
	for i, res := range results {
		if err := o.result("query", res, func(w io.Writer) error { return writeQueryResult(w, res, i > 0, names) }); err != nil {
			return err
		}
	}

	if path := c.String("grid"); path != "" {
		title := gridTitle(sp.Name(), k, results[0].Method, c.StringSlice("filter"), c.Int("sample"), c.Uint64("seed"))
		if err := writeNeighbourGrid(path, title, results, st); err != nil {
			return err
		}
		res := gridResult{Path: path, Queries: len(results), K: k}
		return o.result("grid", res, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "\nwrote %s: %d queries × %d neighbours\n", path, res.Queries, k)
			return err
		})
	}
	return nil
}

// openSpace opens the space called name of st, or st's only space when
// name is empty.
func openSpace(st index.Store, name, command string) (*spaces.Space, error) {
	sp, err := spaces.Open(st, name)
	if errors.Is(err, spaces.ErrChooseSpace) {
		return nil, usageError{fmt.Errorf("%s needs --space: %w", command, err)}
	}
	return sp, err
}

// writeQueryResult writes one query's results as a table.
func writeQueryResult(w io.Writer, r spaces.Result, blankLine bool, names labelNames) error {
	if blankLine {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "query %s\n", describeQuery(r.Query, names))
	within := ""
	if f := names.describeFilter(r.Filter); f != "" {
		within = " among " + f
	}
	fmt.Fprintf(w, "%d nearest in space %s%s (%s)\n", len(r.Neighbours), r.Space, within, r.Method)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tid\tdistance\tsplit\tlabels\tsource")
	for _, n := range r.Neighbours {
		fmt.Fprintf(tw, "%d\t%d\t%.4f\t%s\t%s\t%s\n", n.Rank, n.ID, n.Distance, n.Split, names.format(n.Labels), n.Source)
	}
	return tw.Flush()
}

// describeQuery says what a query is: "item 17 (shapes32/000017.png, val,
// shape=circle color=3 ...)" or "image photo.png".
func describeQuery(q spaces.Query, names labelNames) string {
	var parts []string
	if q.Image != "" {
		parts = append(parts, "image "+q.Image)
		if q.ID != nil {
			parts = append(parts, fmt.Sprintf("stored as item %d", *q.ID))
		}
		return strings.Join(parts, ", ")
	}
	details := []string{q.Source, q.Split}
	if l := names.format(q.Labels); l != "" {
		details = append(details, l)
	}
	return fmt.Sprintf("item %d (%s)", *q.ID, strings.Join(details, ", "))
}

// gridTitle is the title of a neighbour grid.
func gridTitle(space string, k int, method string, filters []string, sample int, seed uint64) string {
	among := "all items"
	if len(filters) > 0 {
		among = strings.Join(filters, " ")
	}
	title := fmt.Sprintf("space %s: %d nearest neighbours among %s (%s), near to far", space, k, among, method)
	if sample > 0 {
		title += fmt.Sprintf("; %d random validation queries (seed %d)", sample, seed)
	}
	return title
}

// writeNeighbourGrid draws the queries and their neighbours into the PNG
// file at path.
func writeNeighbourGrid(path, title string, results []spaces.Result, thumbs render.Thumbnails) error {
	rows := make([]render.NeighbourRow, len(results))
	for i, res := range results {
		label := res.Query.Image
		if label == "" {
			label = fmt.Sprintf("item %d", *res.Query.ID)
		}
		neighbours := make([]index.Result, len(res.Neighbours))
		for j, n := range res.Neighbours {
			neighbours[j] = index.Result{ID: n.ID, Distance: n.Distance}
		}
		rows[i] = render.NeighbourRow{Label: label, Thumbnail: res.Query.Thumbnail, Query: res.Query.ID, Neighbours: neighbours}
	}
	grid, err := render.NeighbourGrid(title, rows, thumbs)
	if err != nil {
		return err
	}
	return writePNG(path, grid)
}

// writePNG writes img to the PNG file at path, atomically.
func writePNG(path string, img image.Image) error {
	b, err := render.EncodePNG(img)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
