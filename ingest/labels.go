package ingest

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"simsearch/index"
)

// DefaultBins is the number of quantile classes a continuous label is
// binned into for k-NN accuracy, unless told otherwise.
const DefaultBins = 3

// DefaultValFrac is the share of the items of a labelled source without a
// split column (and without Options.Split) that go to the validation
// split, chosen by content hash.
const DefaultValFrac = 1.0 / 3

// maxClassText is the longest value of a categorical column, in bytes: a
// longer one is not a class name but text (a caption, a path).
const maxClassText = 64

// LabelOptions say how to read a labels file (Options.Labels). The zero
// value is valid: every zero field means its default.
type LabelOptions struct {
	// Bins is the number of quantile classes of a continuous label; 0
	// means DefaultBins.
	Bins int
	// Categorical and Continuous name columns whose kind is given rather
	// than guessed (a column of integers is guessed categorical, one of
	// real numbers continuous, any other categorical). Ignore names
	// columns to leave out.
	Categorical, Continuous, Ignore []string
}

// labelRow is what a labels file says about one image.
type labelRow struct {
	line    int
	file    string // as the task's source: joined with the folder when relative
	split   string // empty: not given
	labels  map[string]int
	factors map[string]float64
}

// labelTable is a parsed labels file.
type labelTable struct {
	path   string
	schema index.LabelSchema // the labels of this file, numbered as the store will hold them
	rows   []labelRow
	byFile map[string]int // cleaned path → row
	bins   int            // quantile classes of a new continuous label
}

// csvColumn is one label column while the file is read.
type csvColumn struct {
	name   string
	col    int
	values []string // by row; "" when missing
}

// readLabels reads the labels file at path for the images of folder dir.
// stored is the store's schema: a label it has keeps its kind and class
// numbers (new classes are numbered after its own), a continuous one its
// bins. Problems that leave an image without a label are reported through
// warn, naming the line; problems that make the file unusable are errors
// wrapping ErrBadLabels.
func readLabels(path, dir string, opts LabelOptions, stored index.LabelSchema, warn func(string)) (*labelTable, error) {
	if opts.Bins < 0 {
		return nil, fmt.Errorf("%w: %d bins", ErrOptions, opts.Bins)
	}
	opts.Bins = cmp.Or(opts.Bins, DefaultBins)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLabels, err)
	}
	defer f.Close()
	bad := func(line int, format string, args ...any) error {
		where := path
		if line > 0 {
			where = fmt.Sprintf("%s line %d", path, line)
		}
		return fmt.Errorf("%w: %s: %s", ErrBadLabels, where, fmt.Sprintf(format, args...))
	}

	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, bad(0, "the file is empty; want a header line such as file,split,label")
	}
	if err != nil {
		return nil, bad(0, "%v", err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	fileCol, splitCol := -1, -1
	var columns []*csvColumn
	seen := map[string]bool{}
	for i, name := range header {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, bad(1, "column %d has no name", i+1)
		case seen[name]:
			return nil, bad(1, "two columns are called %q", name)
		case len(name) > 255:
			return nil, bad(1, "column %d has a name of %d bytes; at most 255", i+1, len(name))
		}
		seen[name] = true
		switch {
		case strings.EqualFold(name, "file"):
			fileCol = i
		case strings.EqualFold(name, "split"):
			splitCol = i
		case slices.Contains(opts.Ignore, name):
		default:
			columns = append(columns, &csvColumn{name: name, col: i})
		}
	}
	if fileCol < 0 {
		return nil, bad(1, "no column called file (the header is %q); want the image's path, relative to %s or absolute", strings.Join(header, ","), dir)
	}
	for _, list := range [][]string{opts.Categorical, opts.Continuous, opts.Ignore} {
		for _, name := range list {
			if !seen[name] {
				return nil, bad(1, "no column called %q (the columns are %s)", name, strings.Join(header, ", "))
			}
		}
	}
	for _, name := range opts.Categorical {
		if slices.Contains(opts.Continuous, name) {
			return nil, fmt.Errorf("%w: column %q is given as both categorical and continuous", ErrOptions, name)
		}
	}

	t := &labelTable{path: path, byFile: map[string]int{}, bins: opts.Bins}
	var records [][]string // raw rows, for telling repeated rows from disagreeing ones
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, bad(pe.StartLine, "%v", pe.Err)
			}
			return nil, bad(0, "%v", err)
		}
		line, _ := r.FieldPos(0)
		file := strings.TrimSpace(rec[fileCol])
		if file == "" {
			return nil, bad(line, "the file column is empty")
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		key := filepath.Clean(file)
		if prev, ok := t.byFile[key]; ok {
			for c := range rec {
				if c != fileCol && strings.TrimSpace(rec[c]) != strings.TrimSpace(records[prev][c]) {
					return nil, bad(line, "%s is described twice, here and on line %d, and the two disagree on %s (%q, %q)",
						file, t.rows[prev].line, header[c], records[prev][c], rec[c])
				}
			}
			warn(fmt.Sprintf("%s line %d repeats line %d (%s); the repeat is ignored", path, line, t.rows[prev].line, file))
			continue
		}
		row := labelRow{line: line, file: file}
		if splitCol >= 0 {
			row.split = strings.TrimSpace(rec[splitCol])
			if len(row.split) > 64 {
				return nil, bad(line, "split %q is longer than 64 bytes", row.split)
			}
		}
		for _, c := range columns {
			c.values = append(c.values, strings.TrimSpace(rec[c.col]))
		}
		t.byFile[key] = len(t.rows)
		t.rows = append(t.rows, row)
		records = append(records, slices.Clone(rec))
	}
	if len(t.rows) == 0 {
		return nil, bad(0, "no row after the header")
	}
	for _, c := range columns {
		if err := t.addColumn(c, opts, stored, bad, warn); err != nil {
			return nil, err
		}
	}
	// What the store will check: names and classes of UTF-8, kinds that
	// agree with its own.
	if _, err := stored.Merge(t.schema); err != nil {
		return nil, bad(0, "%v", err)
	}
	return t, nil
}

// missing reports whether a cell holds no value.
func missing(v string) bool {
	return v == "" || strings.EqualFold(v, "nan") || strings.EqualFold(v, "na")
}

// addColumn decides the kind of a column, numbers its classes and sets
// the rows' labels.
func (t *labelTable) addColumn(c *csvColumn, opts LabelOptions, stored index.LabelSchema, bad func(int, string, ...any) error, warn func(string)) error {
	integers, numbers := true, true
	present := 0
	for i, v := range c.values {
		if missing(v) {
			warn(fmt.Sprintf("%s line %d: no value of %s; the image gets no %s label", t.path, t.rows[i].line, c.name, c.name))
			continue
		}
		present++
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			integers = false
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(x, 0) {
				numbers = false
			}
		}
	}
	if present == 0 {
		warn(fmt.Sprintf("%s: column %s has no value on any line; it is left out", t.path, c.name))
		return nil
	}
	kind := index.Categorical
	switch {
	case slices.Contains(opts.Continuous, c.name):
		kind = index.Continuous
	case slices.Contains(opts.Categorical, c.name):
	case numbers && !integers:
		kind = index.Continuous
	}
	if have, ok := stored.Label(c.name); ok && !slices.Contains(opts.Continuous, c.name) && !slices.Contains(opts.Categorical, c.name) {
		kind = have.Kind // the store's kind wins over a guess
	}
	if kind == index.Continuous {
		return t.addContinuous(c, stored, bad)
	}
	return t.addCategorical(c, integers, stored, bad)
}

func (t *labelTable) addCategorical(c *csvColumn, integers bool, stored index.LabelSchema, bad func(int, string, ...any) error) error {
	have, _ := stored.Label(c.name)
	if have.Kind == index.Continuous {
		return bad(0, "column %s is continuous in the database; it cannot be categorical here", c.name)
	}
	distinct := map[string]bool{}
	var values []string
	for i, v := range c.values {
		if missing(v) || distinct[v] {
			continue
		}
		if len(v) > maxClassText {
			return bad(t.rows[i].line, "%s is %d bytes long, too long for a class name (at most %d): if the column is not a label, leave it out with --ignore %s",
				c.name, len(v), maxClassText, c.name)
		}
		distinct[v] = true
		values = append(values, v)
		if len(distinct) > index.MaxClasses {
			hint := "leave it out with --ignore " + c.name
			if integers {
				hint = "if it is a quantity, give --continuous " + c.name + "; otherwise " + hint
			}
			return bad(t.rows[i].line, "column %s has more than %d distinct values, too many for a categorical label (%s)", c.name, index.MaxClasses, hint)
		}
	}
	if integers {
		slices.SortFunc(values, func(a, b string) int {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return cmp.Compare(x, y)
		})
	} else {
		slices.Sort(values)
	}
	classes := slices.Clone(have.Classes)
	for _, v := range values {
		if !slices.Contains(classes, v) {
			classes = append(classes, v)
		}
	}
	if len(classes) > index.MaxClasses {
		return bad(0, "column %s would give label %s %d classes with those of the database, more than %d", c.name, c.name, len(classes), index.MaxClasses)
	}
	number := make(map[string]int, len(classes))
	for i, name := range classes {
		number[name] = i
	}
	for i, v := range c.values {
		if missing(v) {
			continue
		}
		t.rows[i].setLabel(c.name, number[v])
	}
	t.schema.Labels = append(t.schema.Labels, index.LabelInfo{Name: c.name, Kind: index.Categorical, Classes: classes})
	return nil
}

func (t *labelTable) addContinuous(c *csvColumn, stored index.LabelSchema, bad func(int, string, ...any) error) error {
	values := make([]float64, 0, len(c.values))
	parsed := make([]float64, len(c.values))
	for i, v := range c.values {
		parsed[i] = math.NaN()
		if missing(v) {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(x, 0) {
			return bad(t.rows[i].line, "%s is %q, not a finite number (the column is continuous)", c.name, v)
		}
		parsed[i] = x
		values = append(values, x)
	}
	info, ok := stored.Label(c.name)
	switch {
	case ok && info.Kind != index.Continuous:
		return bad(0, "column %s is categorical in the database; it cannot be continuous here", c.name)
	case !ok:
		info = quantileBins(c.name, values, t.bins)
	}
	for i, x := range parsed {
		if math.IsNaN(x) {
			continue
		}
		t.rows[i].setLabel(c.name, info.Bin(x))
		if t.rows[i].factors == nil {
			t.rows[i].factors = map[string]float64{}
		}
		t.rows[i].factors[c.name] = x
	}
	t.schema.Labels = append(t.schema.Labels, info)
	return nil
}

func (r *labelRow) setLabel(name string, v int) {
	if r.labels == nil {
		r.labels = map[string]int{}
	}
	r.labels[name] = v
}

// quantileBins returns the continuous label name with bins classes of
// about equal counts of values: the edges are the values at the 1/bins,
// 2/bins, … quantiles (fewer bins when values repeat).
func quantileBins(name string, values []float64, bins int) index.LabelInfo {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	var edges []float64
	for j := 1; j < bins; j++ {
		e := sorted[j*len(sorted)/bins]
		if e > sorted[0] && (len(edges) == 0 || e > edges[len(edges)-1]) {
			edges = append(edges, e)
		}
	}
	info := index.LabelInfo{Name: name, Kind: index.Continuous, Edges: edges}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
	switch len(edges) {
	case 0:
		info.Classes = []string{"all"}
	default:
		info.Classes = append(info.Classes, "< "+g(edges[0]))
		for i := 1; i < len(edges); i++ {
			info.Classes = append(info.Classes, g(edges[i-1])+" to "+g(edges[i]))
		}
		info.Classes = append(info.Classes, "≥ "+g(edges[len(edges)-1]))
	}
	return info
}

// labelsSource lists the rows of a labels file as tasks, then the images
// of dir it does not list, as skips.
func labelsSource(ctx context.Context, dir string, t *labelTable, split string) (*source, error) {
	var unlisted []string
	err := walkImages(ctx, dir, func(path string, err error) error {
		if _, ok := t.byFile[filepath.Clean(path)]; !ok {
			unlisted = append(unlisted, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	name := filepath.Base(t.path)
	return &source{kind: kindLabels, total: len(t.rows) + len(unlisted), each: func(ctx context.Context, send func(task) error) error {
		for _, r := range t.rows {
			tk := task{source: r.file, path: r.file, split: cmp.Or(r.split, split), labels: r.labels, labelFactors: r.factors, line: r.line, relabel: true}
			tk.splitByHash = tk.split == ""
			if err := send(tk); err != nil {
				return err
			}
		}
		for _, path := range unlisted {
			if err := send(task{source: path, err: fmt.Errorf("not listed in %s", name)}); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// splitOf draws the split of an item from its content hash: val for a
// share valFrac of hashes, train for the others; the same image always
// gets the same split.
func splitOf(h index.Hash, valFrac float64) string {
	u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
	if u < valFrac {
		return index.SplitVal
	}
	return index.SplitTrain
}

// openLabelled reads the labels file of a folder source and lists its
// tasks.
func openLabelled(ctx context.Context, db index.Store, opts Options, warn func(string)) (*source, index.LabelSchema, error) {
	info, err := os.Stat(opts.Source)
	if err != nil || !info.IsDir() {
		return nil, index.LabelSchema{}, fmt.Errorf("%w: a labels file goes with a folder of images, and %q is not one", ErrOptions, opts.Source)
	}
	stored, err := db.LabelSchema()
	if err != nil {
		return nil, index.LabelSchema{}, err
	}
	t, err := readLabels(opts.Labels, opts.Source, opts.LabelOptions, stored, warn)
	if err != nil {
		return nil, index.LabelSchema{}, err
	}
	src, err := labelsSource(ctx, opts.Source, t, opts.Split)
	if err != nil {
		return nil, index.LabelSchema{}, err
	}
	return src, t.schema, nil
}

// describeLabels names the labels of a schema with their kinds.
func describeLabels(s index.LabelSchema) string {
	parts := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		unit := "classes"
		if l.Kind == index.Continuous {
			unit = "bins"
		}
		parts[i] = fmt.Sprintf("%s (%s, %d %s)", l.Name, l.Kind, len(l.Classes), unit)
	}
	return strings.Join(parts, ", ")
}
