package ingest

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/internal/npy"
	"simsearch/spaces"
)

// VectorsOptions configure RunVectors.
type VectorsOptions struct {
	// Vectors is the .npy file of the vectors: float32 (or float16,
	// float64), shape (N, D), one row per item. Required.
	Vectors string
	// Items is the CSV file that says which item each row of Vectors is,
	// in the same order (see RunVectors). Required.
	Items string
	// Space is the space to fill: created for precomputed vectors of
	// dimension D when it does not exist; when it exists it must hold
	// precomputed vectors of that dimension. Required.
	Space string
	// Split is the split of new items whose row gives none; empty means
	// "train".
	Split string
	// BatchSize is the number of rows stored per transaction; 0 means
	// DefaultBatchSize·4.
	BatchSize int
	// Progress, when not nil, is called once the files are opened (Done 0)
	// and after each batch is stored.
	Progress func(Progress)
	// OnSkip, when not nil, is called for each row left out (a vector of
	// zeros, which has no direction), with the row's source and why.
	OnSkip func(source, reason string)
}

// Item CSV columns: names are compared ignoring case, spaces, dashes and
// underscores ("Item ID" is "item_id").
var (
	rowColumns    = []string{"row"}
	idColumns     = []string{"itemid", "item", "id"}
	hashColumns   = []string{"hash", "contenthash"}
	sourceColumns = []string{"source", "file", "path"}
	splitColumns  = []string{"split"}
)

// RunVectors adds vectors computed elsewhere to a space without an
// encoder: row i of the .npy file opts.Vectors is the vector of the item
// that row i of the CSV file opts.Items names (a "row" column, when there
// is one, must count the rows 0, 1, …). The CSV has a header; its columns
// are, in any order:
//
//   - row: the row's position in the .npy file (optional, checked);
//   - item (or id, item id): the id of an item of this database;
//   - hash: the item's content hash, 64 hexadecimal digits;
//   - source (or file, path): where the item came from;
//   - split: its split (train, val);
//   - any other column: a label of the item: integers are class labels,
//     other numbers continuous factors, other text class names (numbered
//     in sorted order). An empty cell is no label.
//
// Each row is matched to a stored item by, in turn, its hash, its item id
// (when the row gives a source too, the item's must be the same), or its
// source; a row that matches none is a new item, with the row's source,
// split and labels, and, when its source is an image file that can be
// read, that image's hash and thumbnail (otherwise no thumbnail, and a
// hash of its source). Stored items keep their fields (labels included).
// This is the layout "simsearch export" writes (emb.npy and
// emb.items.csv).
//
// Rows are stored in batches, items then vectors, each in one
// transaction: an interrupted run keeps what it stored and, run again,
// adds the rest. Vectors are normalized as in every cosine space; a row of
// zeros is skipped with a reason, a value that is not finite is an error
// wrapping ErrBadVectors that names the row.
func RunVectors(ctx context.Context, db index.Store, opts VectorsOptions) (Summary, error) {
	start := time.Now()
	switch {
	case opts.Vectors == "" || opts.Items == "":
		return Summary{}, fmt.Errorf("%w: precomputed vectors need a .npy file and an items CSV", ErrOptions)
	case opts.Space == "":
		return Summary{}, fmt.Errorf("%w: no space name given", ErrOptions)
	case opts.BatchSize < 0:
		return Summary{}, fmt.Errorf("%w: negative batch size", ErrOptions)
	}
	batchSize := cmp.Or(opts.BatchSize, 4*DefaultBatchSize)
	vf, err := os.Open(opts.Vectors)
	if err != nil {
		return Summary{}, err
	}
	defer vf.Close()
	vr := bufio.NewReaderSize(vf, 1<<20)
	h, err := npy.ReadHeader(vr)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %s: %w", ErrBadVectors, opts.Vectors, err)
	}
	if len(h.Shape) != 2 || h.Shape[0] < 1 || h.Shape[1] < 1 {
		return Summary{}, fmt.Errorf("%w: %s holds an array of shape %v; want (N, D): one vector per row", ErrBadVectors, opts.Vectors, h.Shape)
	}
	n, dim := h.Shape[0], h.Shape[1]
	rows, err := readItemRows(opts.Items)
	if err != nil {
		return Summary{}, err
	}
	if len(rows.rows) != n {
		return Summary{}, fmt.Errorf("%w: %s has %d rows, %s %d vectors: one row per vector, in the same order", ErrBadVectors, opts.Items, len(rows.rows), opts.Vectors, n)
	}
	if err := rows.storeClassNames(ctx, db); err != nil {
		return Summary{}, err
	}
	enc, err := encoder.NewPrecomputed(dim, filepath.Base(opts.Vectors))
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %s: %w", ErrBadVectors, opts.Vectors, err)
	}
	sp, created, err := spaces.Create(ctx, db, opts.Space, enc)
	if err != nil {
		if errors.Is(err, index.ErrEncoderMismatch) {
			return Summary{}, fmt.Errorf("%w; precomputed vectors go into a space of their own, with --space", err)
		}
		return Summary{}, err
	}
	defer sp.Close()
	space := sp.Index()
	sum := Summary{Source: opts.Vectors, Kind: "precomputed vectors", Space: opts.Space, Encoder: enc.ID(), SpaceCreated: created}
	m, err := newItemMatcher(db, rows.hasSource && !rows.hasHash)
	if err != nil {
		return sum, err
	}
	// A Fortran-order file is read whole; a C-order one a batch at a
	// time.
	var all []float32
	if h.Fortran {
		if all, err = npy.ReadFloat32s(vr, h); err != nil {
			return sum, fmt.Errorf("%w: %s: %w", ErrBadVectors, opts.Vectors, err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Total: n})
	}
	split := cmp.Or(opts.Split, index.SplitTrain)
	for first := 0; first < n; first += batchSize {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		last := min(first+batchSize, n)
		var flat []float32
		if all != nil {
			flat = all[first*dim : last*dim]
		} else if flat, err = npy.ReadFloat32s(vr, npy.Header{Descr: h.Descr, Shape: []int{last - first, dim}}); err != nil {
			return sum, fmt.Errorf("%w: %s: rows %d to %d: %w", ErrBadVectors, opts.Vectors, first, last-1, err)
		}
		items := make([]index.Item, last-first)
		for i := range items {
			if items[i], err = m.item(rows, first+i, split, opts.Vectors); err != nil {
				return sum, err
			}
		}
		var keptItems []index.Item
		var kept []float32
		for i, it := range items {
			v := flat[i*dim : (i+1)*dim]
			switch err := spaces.CheckVector(v); {
			case errors.Is(err, spaces.ErrZeroVector):
				sum.Skipped++
				if opts.OnSkip != nil {
					opts.OnSkip(it.Source, err.Error())
				}
				continue
			case err != nil:
				return sum, fmt.Errorf("%w: %s row %d: %w", ErrBadVectors, opts.Vectors, first+i, err)
			}
			keptItems = append(keptItems, it)
			kept = append(kept, v...)
		}
		ids, added, err := storeItems(ctx, db, keptItems)
		if err != nil {
			return sum, err
		}
		sum.AddedItems += added
		got, err := space.AddVectors(ctx, ids, kept)
		if err != nil {
			return sum, err
		}
		sum.AddedVectors += got
		sum.Images += last - first
		sum.Present = sum.Images - sum.Skipped - sum.AddedVectors
		if opts.Progress != nil {
			opts.Progress(Progress{Done: last, Total: n, AddedVectors: sum.AddedVectors, Skipped: sum.Skipped})
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.ImagesPerSecond = float64(sum.Images) / sum.Seconds
	}
	if !space.Info().Stored.UpToDate {
		graphStart := time.Now()
		if err := space.SaveGraph(ctx); err != nil {
			return sum, err
		}
		sum.GraphSeconds = time.Since(graphStart).Seconds()
	}
	sum.Items, sum.Vectors = db.Len(), space.Len()
	return sum, nil
}

// itemRows is an items CSV, read.
type itemRows struct {
	path string
	// rows are the data rows; columns the positions of the known columns
	// (-1 when absent) and labels those of the label columns.
	rows                          [][]string
	line                          []int // line of each row in the file
	id, hash, source, split       int
	labels                        []labelColumn
	hasSource, hasHash, hasRowCol bool
}

// labelColumn is a label column: categorical (Labels) unless continuous
// (Factors); names numbers the class names of a text column.
type labelColumn struct {
	name       string
	at         int
	continuous bool
	names      map[string]int
}

// normalizeColumn returns a column name as compared: lower case, without
// spaces, dashes and underscores.
func normalizeColumn(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// readItemRows reads and checks an items CSV.
func readItemRows(path string) (*itemRows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: no header line: %w", ErrBadVectors, path, err)
	}
	ir := &itemRows{path: path, id: -1, hash: -1, source: -1, split: -1}
	rowAt := -1
	for i, name := range header {
		switch c := normalizeColumn(strings.TrimPrefix(name, "\ufeff")); {
		case slices.Contains(rowColumns, c):
			rowAt = i
		case slices.Contains(idColumns, c) && ir.id < 0:
			ir.id = i
		case slices.Contains(hashColumns, c) && ir.hash < 0:
			ir.hash = i
		case slices.Contains(sourceColumns, c) && ir.source < 0:
			ir.source = i
		case slices.Contains(splitColumns, c) && ir.split < 0:
			ir.split = i
		case c == "":
			return nil, fmt.Errorf("%w: %s: column %d of the header has no name", ErrBadVectors, path, i+1)
		default:
			ir.labels = append(ir.labels, labelColumn{name: strings.TrimSpace(name), at: i})
		}
	}
	ir.hasSource, ir.hasHash, ir.hasRowCol = ir.source >= 0, ir.hash >= 0, rowAt >= 0
	if ir.id < 0 && ir.hash < 0 && ir.source < 0 {
		return nil, fmt.Errorf("%w: %s: no item, hash or source column to tell which item each row is (the header is %q)", ErrBadVectors, path, strings.Join(header, ","))
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadVectors, path, err)
		}
		line, _ := r.FieldPos(0)
		if rowAt >= 0 {
			if k, err := strconv.Atoi(strings.TrimSpace(rec[rowAt])); err != nil || k != len(ir.rows) {
				return nil, fmt.Errorf("%w: %s line %d: row %q, want %d: rows must follow the order of the vectors", ErrBadVectors, path, line, rec[rowAt], len(ir.rows))
			}
		}
		ir.rows = append(ir.rows, rec)
		ir.line = append(ir.line, line)
	}
	// A label column is continuous when one of its values is a number
	// that is not an integer, text when one is not a number.
	for k := range ir.labels {
		lc := &ir.labels[k]
		text := map[string]bool{}
		for _, rec := range ir.rows {
			v := strings.TrimSpace(rec[lc.at])
			if v == "" {
				continue
			}
			if _, err := strconv.Atoi(v); err == nil {
				continue
			}
			if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				lc.continuous = true
				continue
			}
			text[v] = true
		}
		if len(text) > 0 {
			if lc.continuous {
				return nil, fmt.Errorf("%w: %s: column %q holds numbers and text", ErrBadVectors, path, lc.name)
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for v := range text {
					if !yield(v) {
						return
					}
				}
			})
			lc.names = map[string]int{}
			for i, v := range names {
				lc.names[v] = i
			}
		}
	}
	return ir, nil
}

// storeClassNames records the class names of the text label columns in
// the store's label schema, so that reports and filters show and accept
// them, and numbers the classes as the merged schema does (a class the
// store knows keeps its number).
func (ir *itemRows) storeClassNames(ctx context.Context, db index.Store) error {
	var add index.LabelSchema
	for _, lc := range ir.labels {
		if lc.names == nil {
			continue
		}
		classes := make([]string, len(lc.names))
		for name, i := range lc.names {
			classes[i] = name
		}
		add.Labels = append(add.Labels, index.LabelInfo{Name: lc.name, Kind: index.Categorical, Classes: classes})
	}
	if len(add.Labels) == 0 {
		return nil
	}
	stored, err := db.LabelSchema()
	if err != nil {
		return err
	}
	merged, err := stored.Merge(add)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadVectors, ir.path, err)
	}
	if _, err := db.SetLabels(ctx, merged, nil); err != nil {
		return err
	}
	for i := range ir.labels {
		lc := &ir.labels[i]
		if lc.names == nil {
			continue
		}
		info, _ := merged.Label(lc.name)
		for k, name := range info.Classes {
			if _, ok := lc.names[name]; ok {
				lc.names[name] = k
			}
		}
	}
	return nil
}

// itemMatcher finds the stored item of a row.
type itemMatcher struct {
	db       index.Store
	bySource map[string]index.ItemID // nil unless rows are matched by source
}

func newItemMatcher(db index.Store, bySource bool) (*itemMatcher, error) {
	m := &itemMatcher{db: db}
	if bySource {
		m.bySource = map[string]index.ItemID{}
		err := db.ForEachItem(context.Background(), func(it index.Item) error {
			if it.SetID == 0 {
				if _, ok := m.bySource[it.Source]; !ok {
					m.bySource[it.Source] = it.ID
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// item returns the item of row i: a stored one or a new one.
func (m *itemMatcher) item(ir *itemRows, i int, split, vectors string) (index.Item, error) {
	rec := ir.rows[i]
	cell := func(at int) string {
		if at < 0 {
			return ""
		}
		return strings.TrimSpace(rec[at])
	}
	where := func() string { return fmt.Sprintf("%s line %d", ir.path, ir.line[i]) }
	source := cell(ir.source)
	if s := cell(ir.hash); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(index.Hash{}) {
			return index.Item{}, fmt.Errorf("%w: %s: hash %q is not 64 hexadecimal digits", ErrBadVectors, where(), s)
		}
		var h index.Hash
		copy(h[:], b)
		if id, ok, err := m.db.LookupHash(h); err != nil {
			return index.Item{}, err
		} else if ok {
			return m.db.Item(id)
		}
	}
	if s := cell(ir.id); s != "" {
		id, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return index.Item{}, fmt.Errorf("%w: %s: item id %q is not a number", ErrBadVectors, where(), s)
		}
		if int(id) < m.db.Len() {
			it, err := m.db.Item(index.ItemID(id))
			if err != nil {
				return index.Item{}, err
			}
			if it.SetID == 0 && (source == "" || it.Source == source) {
				return it, nil
			}
		}
	}
	if source != "" && m.bySource != nil {
		if id, ok := m.bySource[source]; ok {
			return m.db.Item(id)
		}
	}
	// A new item.
	if source == "" {
		source = fmt.Sprintf("%s#%d", vectors, i)
	}
	it := index.Item{Source: source, Split: cmp.Or(cell(ir.split), split)}
	if img, _, err := readImage(source, 0); err == nil {
		it = spaces.NewItem(img, spaces.Origin{Source: source, Split: it.Split})
	} else {
		it.Hash = sha256.Sum256([]byte("simsearch precomputed item\x00" + source))
	}
	for _, lc := range ir.labels {
		v := cell(lc.at)
		switch {
		case v == "":
		case lc.continuous:
			x, _ := strconv.ParseFloat(v, 64)
			if it.Factors == nil {
				it.Factors = map[string]float64{}
			}
			it.Factors[lc.name] = x
		default:
			k, ok := lc.names[v]
			if !ok {
				var err error
				if k, err = strconv.Atoi(v); err != nil || k < math.MinInt32+1 || k > math.MaxInt32 {
					return index.Item{}, fmt.Errorf("%w: %s: label %s = %q does not fit in 32 bits", ErrBadVectors, where(), lc.name, v)
				}
			}
			if it.Labels == nil {
				it.Labels = map[string]int{}
			}
			it.Labels[lc.name] = k
		}
	}
	return it, nil
}
