package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"simsearch/index"
	"simsearch/internal/npy"
)

// DSpritesFactors are the names of the dSprites latents, in the order of
// the columns of its latents_classes and latents_values.
var DSpritesFactors = []string{"color", "shape", "scale", "orientation", "posX", "posY"}

// dSpritesShapes name the classes of the dSprites shape latent.
var dSpritesShapes = []string{"square", "ellipse", "heart"}

// NpzOptions say how to read an .npz factorial dataset. The zero value
// reads all of a file in the dSprites layout.
type NpzOptions struct {
	// Factors name the columns of latents_classes; empty means
	// DSpritesFactors for a file with 6 columns, factor0, factor1, …
	// otherwise.
	Factors []string
	// Categorical names factors that are classes only: their
	// latents_values are not stored as continuous values. Empty means
	// color and shape for the dSprites names, none otherwise.
	Categorical []string
	// Limit takes the first Limit images only; 0 means all.
	Limit int
	// Sample takes Sample images drawn at random (with Seed) from those
	// (of the first Limit, when both are given); 0 means all of them.
	Sample int
	Seed   uint64
}

// isNpz reports whether the source names an .npz file.
func isNpz(source string) bool { return strings.EqualFold(filepath.Ext(source), ".npz") }

// npyArray is one array of an npz file, opened for streaming: its header
// has been read, and r is at the first element.
type npyArray struct {
	name  string
	shape []int
	dtype string // the header's descr, such as "|u1" or "<i8"
	size  int    // bytes per element
	r     io.ReadCloser
	buf   *bufio.Reader
}

// openNpyArray opens the member f of an npz file and reads its npy
// header (internal/npy: bounded and never a panic, whatever the bytes).
// Errors wrap ErrBadNpz.
func openNpyArray(path string, f *zip.File) (a *npyArray, err error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrBadNpz, path, f.Name, err)
	}
	defer func() {
		if err != nil {
			rc.Close()
		}
	}()
	buf := bufio.NewReaderSize(rc, 1<<16)
	hdr, err := npy.ReadHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrBadNpz, path, f.Name, err)
	}
	if hdr.Fortran {
		return nil, fmt.Errorf("%w: %s: %s is stored in Fortran order; save it in C order (np.ascontiguousarray)", ErrBadNpz, path, f.Name)
	}
	a = &npyArray{name: strings.TrimSuffix(f.Name, ".npy"), shape: hdr.Shape, dtype: hdr.Descr, r: rc, buf: buf}
	a.size = dtypeSize(a.dtype)
	return a, nil
}

// dtypeSize returns the bytes per element of the little-endian numeric
// dtypes this package reads, or 0 for others.
func dtypeSize(dtype string) int {
	switch dtype {
	case "|u1", "|i1", "|b1", "<u1", "<i1":
		return 1
	case "<u2", "<i2", "<f2":
		return 2
	case "<u4", "<i4", "<f4":
		return 4
	case "<u8", "<i8", "<f8":
		return 8
	}
	return 0
}

// kind returns the dtype's kind letter: u, i, b or f.
func (a *npyArray) kind() byte {
	if len(a.dtype) < 2 {
		return 0
	}
	return a.dtype[1]
}

// rows is the length of the first dimension.
func (a *npyArray) rows() int {
	if len(a.shape) == 0 {
		return 0
	}
	return a.shape[0]
}

// rowLen is the number of elements of one row.
func (a *npyArray) rowLen() int {
	n := 1
	for _, d := range a.shape[1:] {
		n *= d
	}
	return n
}

// readRow reads the next row's raw bytes into dst, which holds rowLen·size
// bytes.
func (a *npyArray) readRow(dst []byte) error {
	if _, err := io.ReadFull(a.buf, dst); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s ends before its %d rows", a.name, a.rows())
		}
		return fmt.Errorf("%s: %w", a.name, err)
	}
	return nil
}

// skipRows skips n rows.
func (a *npyArray) skipRows(n int) error {
	want := int64(n) * int64(a.rowLen()*a.size)
	got, err := io.CopyN(io.Discard, a.buf, want)
	if got < want {
		return fmt.Errorf("%s ends before its %d rows (%v)", a.name, a.rows(), err)
	}
	return nil
}

// value returns element i of a row of raw bytes as a float64.
func (a *npyArray) value(row []byte, i int) float64 {
	b := row[i*a.size:]
	switch a.kind() {
	case 'f':
		switch a.size {
		case 4:
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case 8:
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		return math.NaN() // float16 is not read
	case 'i':
		switch a.size {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(binary.LittleEndian.Uint16(b)))
		case 4:
			return float64(int32(binary.LittleEndian.Uint32(b)))
		}
		return float64(int64(binary.LittleEndian.Uint64(b)))
	default: // u, b
		switch a.size {
		case 1:
			return float64(b[0])
		case 2:
			return float64(binary.LittleEndian.Uint16(b))
		case 4:
			return float64(binary.LittleEndian.Uint32(b))
		}
		return float64(binary.LittleEndian.Uint64(b))
	}
}

func (a *npyArray) Close() error { return a.r.Close() }

// npzDataset is an npz file in the dSprites layout, checked.
type npzDataset struct {
	path     string
	zip      *zip.ReadCloser
	members  map[string]*zip.File
	n        int // images
	h, w, ch int // image height, width, channels (1 or 3)
	factors  []string
	keep     []int // the columns of the factors kept (more than one class)
	classes  [][]float64
	selected []bool // nil: every image up to n
	count    int    // images selected
	schema   index.LabelSchema
	values   bool // latents_values is there
	// continuous[k] tells that factor keep[k] stores its value.
	continuous []bool
}

// openNpz reads the arrays' headers and the latents of an npz file,
// checks them and lists the images to ingest.
func openNpz(ctx context.Context, opts Options) (*source, index.LabelSchema, error) {
	d, err := readNpz(ctx, opts.Source, opts.Npz)
	if err != nil {
		return nil, index.LabelSchema{}, err
	}
	return d.source(opts.Split), d.schema, nil
}

func readNpz(ctx context.Context, path string, o NpzOptions) (*npzDataset, error) {
	if o.Limit < 0 || o.Sample < 0 {
		return nil, fmt.Errorf("%w: limit and sample must not be negative", ErrOptions)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadNpz, path, fmt.Sprintf(format, args...))
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s: no such file", ErrBadSource, path)
		}
		return nil, bad("not an npz (zip) file: %v", err)
	}
	d := &npzDataset{path: path, zip: z, members: map[string]*zip.File{}}
	var names []string
	for _, f := range z.File {
		d.members[strings.TrimSuffix(f.Name, ".npy")] = f
		names = append(names, strings.TrimSuffix(f.Name, ".npy"))
	}
	ok := false
	defer func() {
		if !ok {
			z.Close()
		}
	}()
	if d.members["imgs"] == nil {
		return nil, bad("no imgs array (it holds %s); want the dSprites layout: imgs (N×H×W uint8), latents_classes and latents_values (N×K)", strings.Join(names, ", "))
	}
	if d.members["latents_classes"] == nil {
		return nil, bad("no latents_classes array (it holds %s): the factors of each image are needed", strings.Join(names, ", "))
	}
	imgs, err := openNpyArray(path, d.members["imgs"])
	if err != nil {
		return nil, err
	}
	imgs.Close()
	switch {
	case imgs.kind() != 'u' && imgs.kind() != 'b' || imgs.size != 1:
		return nil, bad("imgs holds %s values; want uint8 (0/1 or 0–255)", imgs.dtype)
	case len(imgs.shape) == 3:
		d.n, d.h, d.w, d.ch = imgs.shape[0], imgs.shape[1], imgs.shape[2], 1
	case len(imgs.shape) == 4 && (imgs.shape[3] == 1 || imgs.shape[3] == 3):
		d.n, d.h, d.w, d.ch = imgs.shape[0], imgs.shape[1], imgs.shape[2], imgs.shape[3]
	default:
		return nil, bad("imgs has shape %v; want N×H×W (gray) or N×H×W×3 (RGB)", imgs.shape)
	}
	if d.h < 1 || d.w < 1 || d.h > 4096 || d.w > 4096 {
		return nil, bad("images of %d×%d pixels; want 1 to 4096 a side", d.w, d.h)
	}
	classes, err := openNpyArray(path, d.members["latents_classes"])
	if err != nil {
		return nil, err
	}
	defer classes.Close()
	if len(classes.shape) != 2 || classes.size == 0 || classes.kind() == 'f' {
		return nil, bad("latents_classes has shape %v and type %s; want N×K integers", classes.shape, classes.dtype)
	}
	if classes.rows() != d.n {
		return nil, bad("imgs holds %d images but latents_classes %d rows", d.n, classes.rows())
	}
	k := classes.shape[1]
	if k < 1 || k > 64 {
		return nil, bad("latents_classes has %d columns; want 1 to 64 factors", k)
	}
	var values *npyArray
	if f := d.members["latents_values"]; f != nil {
		if values, err = openNpyArray(path, f); err != nil {
			return nil, err
		}
		defer values.Close()
		if len(values.shape) != 2 || values.rows() != d.n || values.shape[1] != k || values.size == 0 {
			return nil, bad("latents_values has shape %v and type %s; want %d×%d numbers like latents_classes", values.shape, values.dtype, d.n, k)
		}
		d.values = true
	}
	d.factors = o.Factors
	categorical := o.Categorical
	switch {
	case len(d.factors) == 0 && k == len(DSpritesFactors):
		d.factors = DSpritesFactors
		if len(categorical) == 0 {
			categorical = []string{"color", "shape"}
		}
	case len(d.factors) == 0:
		for i := range k {
			d.factors = append(d.factors, "factor"+strconv.Itoa(i))
		}
	case len(d.factors) != k:
		return nil, fmt.Errorf("%w: %d factor names given (%s), but latents_classes has %d columns", ErrOptions, len(d.factors), strings.Join(d.factors, ", "), k)
	}

	for _, name := range d.factors {
		if err := checkLabelName(name); err != nil {
			return nil, fmt.Errorf("%w: factor name %w", ErrOptions, err)
		}
	}

	// The images to take.
	n := d.n
	if o.Limit > 0 {
		n = min(n, o.Limit)
	}
	d.count = n
	if o.Sample > 0 && o.Sample < n {
		d.selected = make([]bool, d.n)
		rng := rand.New(rand.NewPCG(o.Seed, 0x5a3b1e))
		for _, i := range rng.Perm(n)[:o.Sample] {
			d.selected[i] = true
		}
		d.count = o.Sample
	}
	d.n = n

	// One pass over the latents: each factor's classes, and the value of
	// each class.
	d.classes = make([][]float64, k)
	seen := make([]map[int]float64, k)
	for i := range seen {
		seen[i] = map[int]float64{}
	}
	crow := make([]byte, k*classes.size)
	var vrow []byte
	if values != nil {
		vrow = make([]byte, k*values.size)
	}
	for i := range n {
		if i%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := classes.readRow(crow); err != nil {
			return nil, bad("%v", err)
		}
		if values != nil {
			if err := values.readRow(vrow); err != nil {
				return nil, bad("%v", err)
			}
		}
		if d.selected != nil && !d.selected[i] {
			continue
		}
		for c := range k {
			class := classes.value(crow, c)
			if class < 0 || class >= index.MaxClasses || class != math.Trunc(class) {
				return nil, bad("latents_classes row %d, column %d (%s) is %v; want a class from 0 to %d", i, c, d.factors[c], class, index.MaxClasses-1)
			}
			v := class
			if values != nil {
				v = values.value(vrow, c)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, bad("latents_values row %d, column %d (%s) is %v", i, c, d.factors[c], v)
				}
			}
			if _, ok := seen[c][int(class)]; !ok {
				seen[c][int(class)] = v
			}
		}
	}
	for c := range k {
		if len(seen[c]) < 2 {
			continue // a factor with one value tells nothing apart
		}
		largest := slices.Max(slices.Collect(maps.Keys(seen[c])))
		names := make([]string, largest+1)
		for class := range names {
			v, ok := seen[c][class]
			switch {
			case d.factors[c] == "shape" && slices.Equal(d.factors, DSpritesFactors) && class < len(dSpritesShapes):
				names[class] = dSpritesShapes[class]
			case ok:
				names[class] = strconv.FormatFloat(v, 'g', 4, 64)
			default:
				names[class] = "class " + strconv.Itoa(class)
			}
		}
		d.keep = append(d.keep, c)
		d.continuous = append(d.continuous, d.values && !slices.Contains(categorical, d.factors[c]))
		d.schema.Labels = append(d.schema.Labels, index.LabelInfo{Name: d.factors[c], Kind: index.Categorical, Classes: names, Grid: true})
	}
	ok = true
	return d, nil
}

// checkLabelName checks a name as the store does.
func checkLabelName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("%q: want 1 to 255 bytes", name)
	}
	return nil
}

// source lists the selected images, streamed from the file: the images
// and latents are read in step, one row at a time.
func (d *npzDataset) source(split string) *source {
	return &source{kind: kindNpz, total: d.count, each: func(ctx context.Context, send func(task) error) error {
		defer d.zip.Close()
		return d.stream(ctx, nil, func(i int, img image.Image, labels map[string]int, factors map[string]float64) error {
			t := task{source: npzSource(d.path, i), split: split, img: img, labels: labels, labelFactors: factors}
			t.splitByHash = split == ""
			return send(t)
		})
	}}
}

// npzSource is the stored source of image i of an npz file.
func npzSource(path string, i int) string { return path + "#" + strconv.Itoa(i) }

// parseNpzSource reads a source written by npzSource.
func parseNpzSource(s string) (path string, i int, ok bool) {
	at := strings.LastIndexByte(s, '#')
	if at < 0 || !isNpz(s[:at]) {
		return "", 0, false
	}
	i, err := strconv.Atoi(s[at+1:])
	if err != nil || i < 0 {
		return "", 0, false
	}
	return s[:at], i, true
}

// stream reads the images (those selected, or those of want when not nil)
// and their latents in order, calling fn with each.
func (d *npzDataset) stream(ctx context.Context, want []bool, fn func(i int, img image.Image, labels map[string]int, factors map[string]float64) error) error {
	imgs, err := openNpyArray(d.path, d.members["imgs"])
	if err != nil {
		return err
	}
	defer imgs.Close()
	classes, err := openNpyArray(d.path, d.members["latents_classes"])
	if err != nil {
		return err
	}
	defer classes.Close()
	var values *npyArray
	if d.values {
		if values, err = openNpyArray(d.path, d.members["latents_values"]); err != nil {
			return err
		}
		defer values.Close()
	}
	k := classes.shape[1]
	crow := make([]byte, k*classes.size)
	var vrow []byte
	if values != nil {
		vrow = make([]byte, k*values.size)
	}
	// readLabels reads the next row of the label arrays.
	readLabels := func() error {
		if err := classes.readRow(crow); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadNpz, d.path, err)
		}
		if values != nil {
			if err := values.readRow(vrow); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrBadNpz, d.path, err)
			}
		}
		return nil
	}
	pixels := d.h * d.w * d.ch
	for i := range d.n {
		if want != nil && i >= len(want) {
			return nil
		}
		take := (want == nil && (d.selected == nil || d.selected[i])) || (want != nil && want[i])
		if !take {
			// Skip the row in all three arrays.
			if err := imgs.skipRows(1); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrBadNpz, d.path, err)
			}
			if err := readLabels(); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var img image.Image
		var pix []byte
		if d.ch == 1 {
			g := image.NewGray(image.Rect(0, 0, d.w, d.h))
			img, pix = g, g.Pix
		} else {
			m := image.NewRGBA(image.Rect(0, 0, d.w, d.h))
			img, pix = m, make([]byte, pixels)
		}
		if err := imgs.readRow(pix); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadNpz, d.path, err)
		}
		if err := readLabels(); err != nil {
			return err
		}
		binaryImage(pix)
		if m, ok := img.(*image.RGBA); ok {
			for p := range d.h * d.w {
				copy(m.Pix[4*p:4*p+3], pix[3*p:3*p+3])
				m.Pix[4*p+3] = 0xff
			}
		}
		labels := make(map[string]int, len(d.keep))
		var factors map[string]float64
		for j, c := range d.keep {
			labels[d.factors[c]] = int(classes.value(crow, c))
			if d.continuous[j] {
				if factors == nil {
					factors = make(map[string]float64, len(d.keep))
				}
				factors[d.factors[c]] = values.value(vrow, c)
			}
		}
		if err := fn(i, img, labels, factors); err != nil {
			return err
		}
	}
	return nil
}

// binaryImage scales an image of 0s and 1s (dSprites stores its masks so)
// to 0 and 255; an image with any value above 1 is left as it is.
func binaryImage(pix []byte) {
	for _, v := range pix {
		if v > 1 {
			return
		}
	}
	for i, v := range pix {
		pix[i] = v * 0xff
	}
}
