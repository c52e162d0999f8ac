package cli

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
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
can run at once.

Examples:
   simsearch query --db shapes.db --space enc-A --id 17
   simsearch query --db shapes.db --space enc-A --image photo.png -k 5 --json
   simsearch query --db shapes.db --space enc-A --sample 8 --filter split=train --grid nn.png
   simsearch query --db shapes.db --space enc-A --id 17 --filter color=3 --exact`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "space", Usage: "space to search (may be left out when the file holds one)"},
			&cli.StringFlag{Name: "image", Aliases: []string{"i"}, Usage: "image file to query with"},
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

// queryItem describes a query or a neighbour.
type queryItem struct {
	// ID is nil for an image that is not stored.
	ID     *index.ItemID  `json:"id,omitempty"`
	Image  string         `json:"image,omitempty"`
	Source string         `json:"source,omitempty"`
	Split  string         `json:"split,omitempty"`
	Labels map[string]int `json:"labels,omitempty"`
}

// neighbour is one result of a query.
type neighbour struct {
	Rank     int            `json:"rank"`
	ID       index.ItemID   `json:"id"`
	Distance float32        `json:"distance"`
	Split    string         `json:"split"`
	Source   string         `json:"source"`
	Labels   map[string]int `json:"labels,omitempty"`
}

// queryResult is the result of one query.
type queryResult struct {
	Space      string       `json:"space"`
	Query      queryItem    `json:"query"`
	K          int          `json:"k"`
	Method     string       `json:"method"`
	Filter     index.Filter `json:"filter"`
	Neighbours []neighbour  `json:"neighbours"`

	thumbnail []byte // of the query image
}

// gridResult is the result of --grid.
type gridResult struct {
	Path    string `json:"path"`
	Queries int    `json:"queries"`
	K       int    `json:"k"`
}

func runQuery(c *cli.Context) error {
	o := newOutput(c)
	k := c.Int("k")
	switch {
	case c.IsSet("image") && c.IsSet("id"):
		return usagef("query takes --image or --id, not both")
	case !c.IsSet("image") && !c.IsSet("id") && c.Int("sample") == 0:
		return usagef("query needs --image PATH, --id N or --sample N")
	case k < 1 || k > maxQueryK:
		return usagef("-k must be 1 to %d, not %d", maxQueryK, k)
	case c.Int("ef") < 0:
		return usagef("--ef must be 0 (the space's default) or more, not %d", c.Int("ef"))
	case c.Int("sample") < 0 || c.Int("sample") > maxQuerySample:
		return usagef("--sample must be 0 to %d, not %d", maxQuerySample, c.Int("sample"))
	case c.IsSet("id") && c.Int("id") < 0:
		return usagef("--id must not be negative, not %d", c.Int("id"))
	}
	filter, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	opts := index.SearchOptions{K: k, Ef: c.Int("ef"), Filter: filter}
	if c.Bool("exact") {
		opts.Method = index.Exact
	}

	bars := indexProgress(o)
	db, err := openReadOnly(c, bars.report)
	if err != nil {
		return err
	}
	defer db.Close()
	defer bars.done()
	space, err := querySpace(db, c.String("space"), "query")
	if err != nil {
		return err
	}
	if err := space.Load(c.Context); err != nil {
		return err
	}
	bars.done()
	method := opts.Method
	if method == index.Auto {
		if method, _, err = space.Plan(c.Context, opts); err != nil {
			return err
		}
	}

	var results []queryResult
	switch {
	case c.IsSet("image"):
		res, err := queryImage(c, db, space, c.String("image"), opts)
		if err != nil {
			return err
		}
		results = append(results, res)
	case c.IsSet("id"):
		id := index.ItemID(c.Int("id"))
		vector, err := space.Vector(id)
		if err != nil {
			return fmt.Errorf("--id %d: %w", id, err)
		}
		found, err := space.Search(vector, opts)
		if err != nil {
			return err
		}
		res, err := newQueryResult(db, space, id, found)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	if n := c.Int("sample"); n > 0 {
		ids, err := sampleQueries(db, space, n, c.Uint64("seed"))
		if err != nil {
			return err
		}
		found, err := space.SearchItems(c.Context, ids, opts)
		if err != nil {
			return err
		}
		for i, id := range ids {
			res, err := newQueryResult(db, space, id, found[i])
			if err != nil {
				return err
			}
			results = append(results, res)
		}
	}
	for i := range results {
		results[i].K, results[i].Method, results[i].Filter = k, method.String(), filter
		res := results[i]
		if err := o.result("query", res, func(w io.Writer) error { return writeQueryResult(w, res, i > 0) }); err != nil {
			return err
		}
	}

	if path := c.String("grid"); path != "" {
		grid, err := drawNeighbourGrid(db, gridTitle(space.Name(), k, method, c.StringSlice("filter"), c.Int("sample"), c.Uint64("seed")), results)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, grid); err != nil {
			return err
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write grid: %w", err)
		}
		res := gridResult{Path: path, Queries: len(results), K: k}
		return o.result("grid", res, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "\nwrote %s: %d queries × %d neighbours\n", path, res.Queries, k)
			return err
		})
	}
	return nil
}

// querySpace returns the space called name, or the file's only space when
// name is empty.
func querySpace(db *index.DB, name, command string) (*index.Space, error) {
	if name == "" {
		names, err := db.SpaceNames()
		if err != nil {
			return nil, err
		}
		if len(names) != 1 {
			return nil, usagef("%s needs --space: %s holds %d spaces (%s)", command, db.Path(), len(names), strings.Join(names, ", "))
		}
		name = names[0]
	}
	return db.Space(name)
}

// parseFilters reads --filter values: split=NAME or LABEL=VALUE.
func parseFilters(values []string) (index.Filter, error) {
	var f index.Filter
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return f, usagef("--filter %q: want split=NAME or LABEL=VALUE, such as split=train or color=3", v)
		}
		if name == "split" {
			f.Splits = append(f.Splits, value)
			continue
		}
		classes := dataset.LabelClasses(name)
		if classes == 0 {
			return f, usagef("--filter %q: no label %q; the labels are %s (or split)", v, name, strings.Join(dataset.LabelNames, ", "))
		}
		n, err := strconv.Atoi(value)
		if err != nil && name == "shape" {
			shape, shapeErr := dataset.ParseShape(value)
			n, err = int(shape), shapeErr
		}
		if err != nil || n < 0 || n >= classes {
			return f, usagef("--filter %q: %s is a class from 0 to %d", v, name, classes-1)
		}
		f.Labels = append(f.Labels, index.LabelIs{Name: name, Value: n})
	}
	return f, nil
}

// queryImage embeds the image file at path with the space's encoder and
// searches with it.
func queryImage(c *cli.Context, db *index.DB, space *index.Space, path string, opts index.SearchOptions) (queryResult, error) {
	stored, err := space.Encoder()
	if err != nil {
		return queryResult{}, err
	}
	model, err := encoder.Decode(stored.Checkpoint)
	if err != nil {
		return queryResult{}, fmt.Errorf("space %s: stored encoder: %w", space.Name(), err)
	}
	if err := space.CheckEncoder(model.ID()); err != nil {
		return queryResult{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return queryResult{}, err
	}
	defer f.Close()
	img, err := dataset.DecodeImage(f, 0)
	if err != nil {
		return queryResult{}, fmt.Errorf("%s: %w", path, err)
	}
	vectors, err := model.NewEmbedder(encoder.EmbedOptions{}).Embed(c.Context, []*image.RGBA{dataset.Resize(img, model.Res())})
	if err != nil {
		return queryResult{}, err
	}
	found, err := space.Search(vectors[0], opts)
	if err != nil {
		return queryResult{}, err
	}
	res := queryResult{Space: space.Name(), Query: queryItem{Image: path}, thumbnail: ingest.Thumbnail(img)}
	// An image that is stored is named by its item.
	if id, ok, err := db.LookupHash(ingest.ContentHash(img)); err == nil && ok {
		if it, err := db.Item(id); err == nil {
			res.Query = queryItem{ID: &id, Image: path, Source: it.Source, Split: it.Split, Labels: it.Labels}
		}
	}
	res.Neighbours, err = neighbours(db, found)
	return res, err
}

// newQueryResult describes the query by stored item id and its results.
func newQueryResult(db *index.DB, space *index.Space, id index.ItemID, found []index.Result) (queryResult, error) {
	it, err := db.Item(id)
	if err != nil {
		return queryResult{}, err
	}
	res := queryResult{Space: space.Name(), Query: queryItem{ID: &id, Source: it.Source, Split: it.Split, Labels: it.Labels}}
	res.Neighbours, err = neighbours(db, found)
	return res, err
}

// neighbours describes search results.
func neighbours(db *index.DB, found []index.Result) ([]neighbour, error) {
	ids := make([]index.ItemID, len(found))
	for i, r := range found {
		ids[i] = r.ID
	}
	items, err := db.Items(ids)
	if err != nil {
		return nil, err
	}
	out := make([]neighbour, len(found))
	for i, r := range found {
		out[i] = neighbour{Rank: i + 1, ID: r.ID, Distance: r.Distance, Split: items[i].Split, Source: items[i].Source, Labels: items[i].Labels}
	}
	return out, nil
}

// sampleQueries draws n validation items of space at random with seed, or
// n of all its items when none is a validation item.
func sampleQueries(db *index.DB, space *index.Space, n int, seed uint64) ([]index.ItemID, error) {
	val, err := db.Select(index.Filter{Splits: []string{index.SplitVal}})
	if err != nil {
		return nil, err
	}
	pool := slices.DeleteFunc(val, func(id index.ItemID) bool { return !space.Has(id) })
	if len(pool) == 0 {
		pool, err = db.Select(index.Filter{})
		if err != nil {
			return nil, err
		}
		pool = slices.DeleteFunc(pool, func(id index.ItemID) bool { return !space.Has(id) })
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("space %s holds no item to sample: %w", space.Name(), index.ErrNoItem)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	n = min(n, len(pool))
	for i := range n {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:n], nil
}

// writeQueryResult writes one query's results as a table.
func writeQueryResult(w io.Writer, r queryResult, blankLine bool) error {
	if blankLine {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "query %s\n", describeQuery(r.Query))
	within := ""
	if f := describeFilter(r.Filter); f != "" {
		within = " among " + f
	}
	fmt.Fprintf(w, "%d nearest in space %s%s (%s)\n", len(r.Neighbours), r.Space, within, r.Method)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tid\tdistance\tsplit\tlabels\tsource")
	for _, n := range r.Neighbours {
		fmt.Fprintf(tw, "%d\t%d\t%.4f\t%s\t%s\t%s\n", n.Rank, n.ID, n.Distance, n.Split, formatLabels(n.Labels), n.Source)
	}
	return tw.Flush()
}

// describeQuery says what a query is: "item 17 (shapes32/000017.png, val,
// shape=circle color=3 ...)" or "image photo.png".
func describeQuery(q queryItem) string {
	var parts []string
	if q.Image != "" {
		parts = append(parts, "image "+q.Image)
		if q.ID != nil {
			parts = append(parts, fmt.Sprintf("stored as item %d", *q.ID))
		}
		return strings.Join(parts, ", ")
	}
	details := []string{q.Source, q.Split}
	if l := formatLabels(q.Labels); l != "" {
		details = append(details, l)
	}
	return fmt.Sprintf("item %d (%s)", *q.ID, strings.Join(details, ", "))
}

// describeFilter writes a filter the way --filter reads it.
func describeFilter(f index.Filter) string {
	var parts []string
	if len(f.Splits) > 0 {
		parts = append(parts, "split="+strings.Join(f.Splits, "|"))
	}
	for _, l := range f.Labels {
		parts = append(parts, fmt.Sprintf("%s=%s", l.Name, labelValue(l.Name, l.Value)))
	}
	return strings.Join(parts, " ")
}

// formatLabels writes labels as "shape=circle color=3 location=4 size=2":
// the dataset's labels first, in their order, then others by name.
func formatLabels(labels map[string]int) string {
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	rank := func(name string) int {
		if i := slices.Index(dataset.LabelNames, name); i >= 0 {
			return i
		}
		return len(dataset.LabelNames)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + labelValue(name, labels[name])
	}
	return strings.Join(parts, " ")
}

// labelValue names a shape label's class; other labels stay numbers.
func labelValue(name string, v int) string {
	if name == "shape" && v >= 0 && v < dataset.LabelClasses("shape") {
		return dataset.Shape(v).String()
	}
	return strconv.Itoa(v)
}

// gridTitle is the title of a neighbour grid.
func gridTitle(space string, k int, method index.Method, filters []string, sample int, seed uint64) string {
	among := "all items"
	if len(filters) > 0 {
		among = strings.Join(filters, " ")
	}
	title := fmt.Sprintf("space %s: %d nearest neighbours among %s (%v), near to far", space, k, among, method)
	if sample > 0 {
		title += fmt.Sprintf("; %d random validation queries (seed %d)", sample, seed)
	}
	return title
}

// Colours and sizes of a neighbour grid, as in the report's grids.
var (
	nnBackground = color.RGBA{48, 48, 48, 255}
	nnText       = color.RGBA{220, 220, 220, 255}
)

const (
	nnGap      = 4
	nnQueryGap = 12 // between the query column and the neighbours
	nnMinCell  = 96 // cells are scaled up by whole factors to at least this
	nnLine     = 16 // a line of the 7×13 font with spacing
	nnMaxLabel = 24 // characters of a row label
)

// nnTextWidth is the width of s in pixels in the grid's font.
func nnTextWidth(s string) int {
	return font.MeasureString(basicfont.Face7x13, s).Ceil()
}

// nnDrawText writes s with its baseline at y.
func nnDrawText(dst *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(nnText), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// drawNeighbourGrid draws one row per query: its thumbnail, then its
// neighbours' from near to far with their distances under them, under a
// title and a column header.
func drawNeighbourGrid(db *index.DB, title string, results []queryResult) (*image.RGBA, error) {
	rows := make([][]image.Image, len(results))
	side := 1
	k := 0
	for r, res := range results {
		thumbs := [][]byte{res.thumbnail}
		if res.thumbnail == nil && res.Query.ID != nil {
			t, err := db.Thumbnail(*res.Query.ID)
			if err != nil {
				return nil, err
			}
			thumbs[0] = t
		}
		for _, n := range res.Neighbours {
			t, err := db.Thumbnail(n.ID)
			if err != nil {
				return nil, err
			}
			thumbs = append(thumbs, t)
		}
		for _, t := range thumbs {
			img := image.Image(image.NewRGBA(image.Rect(0, 0, 1, 1))) // no thumbnail: a black cell
			if t != nil {
				decoded, err := png.Decode(bytes.NewReader(t))
				if err != nil {
					return nil, fmt.Errorf("%w: thumbnail: %v", index.ErrCorrupt, err)
				}
				img = decoded
				side = max(side, decoded.Bounds().Dx(), decoded.Bounds().Dy())
			}
			rows[r] = append(rows[r], img)
		}
		k = max(k, len(res.Neighbours))
	}
	cell := side * max(1, (nnMinCell+side-1)/side)

	labels := make([]string, len(results))
	labelWidth := 0
	for r, res := range results {
		switch {
		case res.Query.Image != "":
			labels[r] = res.Query.Image
			if len(labels[r]) > nnMaxLabel {
				labels[r] = "..." + labels[r][len(labels[r])-nnMaxLabel+3:]
			}
		default:
			labels[r] = fmt.Sprintf("item %d", *res.Query.ID)
		}
		labelWidth = max(labelWidth, nnTextWidth(labels[r]))
	}
	left := nnGap + labelWidth + nnGap
	top := nnGap + 2*nnLine
	rowHeight := cell + nnLine + nnGap
	columnX := func(c int) int {
		x := left + c*(cell+nnGap)
		if c > 0 {
			x += nnQueryGap
		}
		return x
	}
	width := max(columnX(k+1), nnGap+nnTextWidth(title)+nnGap)
	height := top + len(rows)*rowHeight

	grid := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(grid, grid.Rect, image.NewUniform(nnBackground), image.Point{}, draw.Src)
	nnDrawText(grid, nnGap, nnGap+12, title)
	for c := 0; c <= k; c++ {
		name := "query"
		if c > 0 {
			name = fmt.Sprintf("NN %d", c)
		}
		nnDrawText(grid, columnX(c)+(cell-nnTextWidth(name))/2, nnGap+nnLine+12, name)
	}
	for r, row := range rows {
		y := top + r*rowHeight
		nnDrawText(grid, nnGap, y+cell/2+4, labels[r])
		for c, img := range row {
			x := columnX(c)
			draw.NearestNeighbor.Scale(grid, image.Rect(x, y, x+cell, y+cell), img, img.Bounds(), draw.Src, nil)
			if c > 0 {
				d := fmt.Sprintf("%.3f", results[r].Neighbours[c-1].Distance)
				nnDrawText(grid, x+(cell-nnTextWidth(d))/2, y+cell+12, d)
			}
		}
	}
	return grid, nil
}
