package export

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/internal/atomicfile"
	"simsearch/internal/npy"
)

// The formats of Options.Format.
const (
	FormatNpy = "npy"
	FormatNpz = "npz"
)

// Options configure Run.
type Options struct {
	// Space is the space whose vectors are written. Required.
	Space string
	// Out is the file to write: the .npy matrix (its items CSV goes
	// beside it, named <base>.items.csv), or the .npz. Required.
	Out string
	// Format is FormatNpy or FormatNpz; empty means Out's extension
	// (.npz, otherwise npy).
	Format string
	// Filter keeps only some items (as query's --filter); the zero Filter
	// keeps every ordinary item with a vector.
	Filter index.Filter
	// Progress, when not nil, is called after each chunk of rows.
	Progress func(done, total int)
}

// Summary tells what Run wrote.
type Summary struct {
	Space  string   `json:"space"`
	Format string   `json:"format"`
	Files  []string `json:"files"`
	Rows   int      `json:"rows"`
	Dim    int      `json:"dim"`
	// Labels and Factors are the CSV's label and factor columns.
	Labels  []string `json:"labels"`
	Factors []string `json:"factors"`
	// Bytes is the size of the vectors written; Seconds the time of the
	// whole export, MBPerSecond Bytes over it (10⁶ bytes).
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	MBPerSecond float64 `json:"mb_per_second"`
}

// chunk is the number of rows read and written at a time.
const chunk = 4096

// Paths returns the files Run writes for out in format: the matrix and
// the items CSV, or the npz alone.
func Paths(out, format string) []string {
	ext := filepath.Ext(out)
	base := strings.TrimSuffix(out, ext)
	if format == FormatNpz {
		if !strings.EqualFold(ext, ".npz") {
			return []string{base + ".npz"}
		}
		return []string{out}
	}
	if ext == "" {
		out += ".npy"
	}
	return []string{out, base + ".items.csv"}
}

// Run writes the vectors of opts.Space of st that opts.Filter keeps, in
// item id order, with their items (see the package comment).
func Run(ctx context.Context, st index.Store, opts Options) (Summary, error) {
	start := time.Now()
	switch {
	case opts.Space == "":
		return Summary{}, fmt.Errorf("%w: no space given", ErrOptions)
	case opts.Out == "":
		return Summary{}, fmt.Errorf("%w: no output file given", ErrOptions)
	}
	if opts.Format == "" {
		opts.Format = FormatNpy
		if strings.EqualFold(filepath.Ext(opts.Out), ".npz") {
			opts.Format = FormatNpz
		}
	}
	if opts.Format != FormatNpy && opts.Format != FormatNpz {
		return Summary{}, fmt.Errorf("%w: format %q: want npy or npz", ErrOptions, opts.Format)
	}
	space, err := st.Space(opts.Space)
	if err != nil {
		return Summary{}, err
	}
	selected, err := st.Select(opts.Filter)
	if err != nil {
		return Summary{}, err
	}
	ids := slices.DeleteFunc(selected, func(id index.ItemID) bool { return !space.Has(id) })
	if len(ids) == 0 {
		return Summary{}, fmt.Errorf("%w: no item with a vector in space %s matches the filter", ErrNothing, opts.Space)
	}
	schema, err := st.LabelSchema()
	if err != nil {
		return Summary{}, err
	}
	cols, err := columnsOf(ctx, st, ids, schema)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Space: opts.Space, Format: opts.Format, Files: Paths(opts.Out, opts.Format), Rows: len(ids), Dim: space.Dim(),
		Labels: cols.labels, Factors: cols.factors}
	w := &writer{ctx: ctx, st: st, space: space, ids: ids, cols: cols, progress: opts.Progress}
	if opts.Format == FormatNpz {
		err = atomicfile.Write(sum.Files[0], 0o644, w.npz)
	} else {
		err = w.npyAndCSV(sum.Files[0], sum.Files[1])
	}
	if err != nil {
		return Summary{}, err
	}
	sum.Bytes = int64(len(ids)) * int64(space.Dim()) * 4
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.MBPerSecond = float64(sum.Bytes) / 1e6 / sum.Seconds
	}
	return sum, nil
}

// columns are the label and factor columns of the items CSV.
type columns struct {
	labels, factors []string
	// factorHeader is the header of each factor column: the factor's
	// name, or name_value when a label has that name.
	factorHeader []string
	schema       index.LabelSchema
}

// columnsOf finds the labels and factors that the items carry: those of
// the schema first, in its order, then the colored shapes', then others.
func columnsOf(ctx context.Context, st index.Store, ids []index.ItemID, schema index.LabelSchema) (columns, error) {
	c := columns{schema: schema}
	var first []string
	for _, l := range schema.Labels {
		first = append(first, l.Name)
	}
	labels, factors := map[string]bool{}, map[string]bool{}
	for start := 0; start < len(ids); start += chunk {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		items, err := st.Items(ids[start:min(start+chunk, len(ids))])
		if err != nil {
			return c, err
		}
		for _, it := range items {
			for name := range it.Labels {
				labels[name] = true
			}
			for name := range it.Factors {
				factors[name] = true
			}
		}
	}
	c.labels = ordered(labels, append(first, dataset.LabelNames...))
	c.factors = ordered(factors, append(first, dataset.FactorNames...))
	for _, f := range c.factors {
		h := f
		if labels[f] {
			h = f + "_value"
		}
		c.factorHeader = append(c.factorHeader, h)
	}
	return c, nil
}

// ordered returns the names of set: those of first in their order, then
// the others sorted.
func ordered(set map[string]bool, first []string) []string {
	var out, rest []string
	for _, name := range first {
		if set[name] && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for name := range set {
		if !slices.Contains(first, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// className names class v of label name for the CSV: a class name of the
// schema, a shape's name, or the number.
func (c columns) className(name string, v int) string {
	if l, ok := c.schema.Label(name); ok && v >= 0 && v < len(l.Classes) {
		return l.Classes[v]
	}
	if name == "shape" && v >= 0 && v < dataset.LabelClasses("shape") {
		return dataset.Shape(v).String()
	}
	return strconv.Itoa(v)
}

// vectorSource and itemSource are what an export reads of a space and a
// store.
type (
	vectorSource interface {
		Dim() int
		Vectors(ctx context.Context, ids []index.ItemID) ([]float32, error)
	}
	itemSource interface {
		Items(ids []index.ItemID) ([]index.Item, error)
	}
)

// writer streams the rows of an export.
type writer struct {
	ctx      context.Context
	st       itemSource
	space    vectorSource
	ids      []index.ItemID
	cols     columns
	progress func(done, total int)
}

// npyAndCSV writes the matrix and the items CSV, each under a temporary
// name until both are complete.
func (w *writer) npyAndCSV(npyPath, csvPath string) error {
	npyFile, err := atomicfile.Create(npyPath, 0o644)
	if err != nil {
		return err
	}
	defer npyFile.Abort()
	csvFile, err := atomicfile.Create(csvPath, 0o644)
	if err != nil {
		return err
	}
	defer csvFile.Abort()
	vectors := bufio.NewWriterSize(npyFile, 1<<20)
	items := bufio.NewWriterSize(csvFile, 1<<20)
	if err := w.rows(vectors, items); err != nil {
		return err
	}
	if err := vectors.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", npyPath, err)
	}
	if err := items.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", csvPath, err)
	}
	if err := npyFile.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", npyPath, err)
	}
	if err := csvFile.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", csvPath, err)
	}
	return nil
}

// npz writes vectors.npy, ids.npy and items.csv into one zip file,
// stored without compression as np.savez does.
func (w *writer) npz(out io.Writer) error {
	buf := bufio.NewWriterSize(out, 1<<20)
	z := zip.NewWriter(buf)
	member := func(name string) (io.Writer, error) {
		return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: time.Unix(0, 0).UTC()})
	}
	vectors, err := member("vectors.npy")
	if err != nil {
		return err
	}
	if err := w.rows(vectors, nil); err != nil {
		return err
	}
	ids, err := member("ids.npy")
	if err != nil {
		return err
	}
	if _, err := ids.Write(npy.AppendHeader(nil, "<i8", []int{len(w.ids)})); err != nil {
		return err
	}
	var b [8]byte
	for _, id := range w.ids {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		if _, err := ids.Write(b[:]); err != nil {
			return err
		}
	}
	items, err := member("items.csv")
	if err != nil {
		return err
	}
	if err := w.rows(nil, items); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return buf.Flush()
}

// rows writes the matrix to vectors and the CSV to items; either may be
// nil.
func (w *writer) rows(vectors, items io.Writer) error {
	dim := w.space.Dim()
	if vectors != nil {
		if _, err := vectors.Write(npy.AppendHeader(nil, "<f4", []int{len(w.ids), dim})); err != nil {
			return err
		}
	}
	var cw *csv.Writer
	if items != nil {
		cw = csv.NewWriter(items)
		header := append([]string{"row", "id", "hash", "source", "split"}, w.cols.labels...)
		if err := cw.Write(append(header, w.cols.factorHeader...)); err != nil {
			return err
		}
	}
	raw := make([]byte, 0, chunk*dim*4)
	const fixed = 5 // row, id, hash, source, split
	record := make([]string, fixed+len(w.cols.labels)+len(w.cols.factors))
	for start := 0; start < len(w.ids); start += chunk {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		part := w.ids[start:min(start+chunk, len(w.ids))]
		if vectors != nil {
			flat, err := w.space.Vectors(w.ctx, part)
			if err != nil {
				return err
			}
			raw = raw[:len(flat)*4]
			for i, v := range flat {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
			}
			if _, err := vectors.Write(raw); err != nil {
				return err
			}
		}
		if cw != nil {
			list, err := w.st.Items(part)
			if err != nil {
				return err
			}
			for i, it := range list {
				record[0], record[1], record[2] = strconv.Itoa(start+i), strconv.FormatUint(uint64(it.ID), 10), it.Hash.String()
				record[3], record[4] = it.Source, it.Split
				for j, name := range w.cols.labels {
					record[fixed+j] = ""
					if v, ok := it.Labels[name]; ok {
						record[fixed+j] = w.cols.className(name, v)
					}
				}
				for j, name := range w.cols.factors {
					k := fixed + len(w.cols.labels) + j
					record[k] = ""
					if v, ok := it.Factors[name]; ok {
						record[k] = strconv.FormatFloat(v, 'g', -1, 64)
					}
				}
				if err := cw.Write(record); err != nil {
					return err
				}
			}
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if w.progress != nil {
			w.progress(start+len(part), len(w.ids))
		}
	}
	return nil
}
