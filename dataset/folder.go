package dataset

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/sync/errgroup"

	"simsearch/internal/atomicfile"
)

// File names and format of a dataset folder.
const (
	// FactorsFile lists every image of a folder with its split, factors and labels.
	FactorsFile = "factors.csv"
	// MetaFile describes the folder: format version, generator spec, counts.
	// It is written last, so its presence marks a complete folder.
	MetaFile = "dataset.json"
	// FormatVersion is the version of the folder format written by
	// WriteFolder; ReadFolder refuses any other.
	FormatVersion = 1
	// metaFormat names the format in MetaFile.
	metaFormat = "simsearch-dataset"
)

// factorsHeader is the header row of FactorsFile.
var factorsHeader = []string{
	"id", "file", "split",
	"shape", "hue", "saturation", "value", "radius", "cx", "cy", "rotation",
	"label_shape", "label_color", "label_location", "label_size",
}

// Record is one image of a dataset folder.
type Record struct {
	// ID is the item's index in the generator spec.
	ID int
	// File is the image's file name, relative to the folder.
	File  string
	Split Split
	// Factors are in pixels of the folder's resolution.
	Factors Factors
	Labels  Labels
}

// Folder is a dataset folder read by ReadFolder. It is not modified after
// ReadFolder returns, and is safe for concurrent use.
type Folder struct {
	// Dir is the folder's path.
	Dir string
	// Res is the width and height of every image.
	Res int
	// Spec is the generator spec the folder was written from.
	Spec Spec
	// Records lists the images in the order of FactorsFile.
	Records []Record
}

// meta is the content of MetaFile.
type meta struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Spec    string `json:"spec"`
	Res     int    `json:"res"`
	N       int    `json:"n"`
	Train   int    `json:"train"`
	Val     int    `json:"val"`
	Factors string `json:"factors"`
}

// WriteOptions control WriteFolder. The zero value is valid.
type WriteOptions struct {
	// Overwrite allows writing into a folder that is not empty: its
	// FactorsFile, MetaFile and image files (digits + ".png") are removed
	// first; other files are kept.
	Overwrite bool
	// Workers is the number of images made at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, if not nil, is called from WriteFolder's goroutine, about
	// ten times a second and once at the end, with the number of images
	// written so far.
	Progress func(done, total int)
}

// DefaultWriteOptions returns the zero WriteOptions: no overwriting, one
// worker per core, no progress.
func DefaultWriteOptions() WriteOptions { return WriteOptions{} }

// ImageFile returns the file name of item i in a folder of spec: the index
// with leading zeros to at least six digits, as "000017.png".
func (s Spec) ImageFile(i int) string {
	width := max(6, len(strconv.Itoa(s.N-1)))
	return fmt.Sprintf("%0*d.png", width, i)
}

// Record returns the record of item i in a folder of spec.
func (s Spec) Record(i int) Record {
	f := s.Factors(i)
	return Record{ID: i, File: s.ImageFile(i), Split: s.Split(i), Factors: f, Labels: f.Labels(s.Res)}
}

// WriteFolder writes the dataset of spec into dir: one PNG per item,
// FactorsFile and MetaFile. It creates dir if needed and refuses a dir that
// holds anything (ErrNotEmpty) unless opts.Overwrite. Images are made on
// opts.Workers goroutines; the output does not depend on their number. On
// an error or when ctx is cancelled it stops early and returns the error;
// the folder then has no MetaFile.
func WriteFolder(ctx context.Context, dir string, spec Spec, opts WriteOptions) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if opts.Workers < 0 {
		return fmt.Errorf("%w: %d workers: want 0 (one per core) or more", ErrBadSpec, opts.Workers)
	}
	if err := prepareFolder(dir, opts.Overwrite); err != nil {
		return err
	}
	if err := writeImages(ctx, dir, spec, opts); err != nil {
		return err
	}
	if err := writeFactors(filepath.Join(dir, FactorsFile), spec); err != nil {
		return err
	}
	train, val := spec.Counts()
	body, err := json.MarshalIndent(meta{
		Format: metaFormat, Version: FormatVersion, Spec: spec.String(), Res: spec.Res,
		N: spec.N, Train: train, Val: val, Factors: FactorsFile,
	}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, MetaFile), append(body, '\n'), 0o644)
}

// prepareFolder creates dir, or checks that it is empty, or clears the
// files of an earlier dataset from it.
func prepareFolder(dir string, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create dataset folder: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read dataset folder: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !overwrite {
		return fmt.Errorf("%w: %s holds %d files or folders", ErrNotEmpty, dir, len(entries))
	}
	// The metadata goes first, so an interrupted overwrite never leaves a
	// folder that looks complete.
	for _, name := range []string{MetaFile, FactorsFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clear dataset folder: %w", err)
		}
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isImageFileName(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("clear dataset folder: %w", err)
			}
		}
	}
	return nil
}

// isImageFileName tells whether name is one that ImageFile makes.
func isImageFileName(name string) bool {
	digits, ok := strings.CutSuffix(name, ".png")
	if !ok || digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pngEncoder favours speed: the images are small and mostly black, so the
// fastest zlib level costs little in size (see BenchmarkEncodePNG).
var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// EncodePNG writes img to w as dataset folders store images: a PNG at the
// fastest compression level, reusing zlib state between calls. It may be
// called from several goroutines at once.
func EncodePNG(w io.Writer, img image.Image) error { return pngEncoder.Encode(w, img) }

// pngBuffers lets concurrent encoders reuse their zlib state.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}
func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// writeImages renders and writes every image of spec into dir.
func writeImages(ctx context.Context, dir string, spec Spec, opts WriteOptions) error {
	workers := min(cmp.Or(opts.Workers, runtime.GOMAXPROCS(0)), spec.N)
	var next, done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			img := image.NewRGBA(image.Rect(0, 0, spec.Res, spec.Res))
			var buf bytes.Buffer
			for {
				if err := gctx.Err(); err != nil {
					return err
				}
				i := int(next.Add(1) - 1)
				if i >= spec.N {
					return nil
				}
				RenderInto(img, spec.Factors(i))
				buf.Reset()
				if err := pngEncoder.Encode(&buf, img); err != nil {
					return fmt.Errorf("encode image %d: %w", i, err)
				}
				if err := os.WriteFile(filepath.Join(dir, spec.ImageFile(i)), buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write image: %w", err)
				}
				done.Add(1)
			}
		})
	}
	finished := make(chan error, 1)
	go func() { finished <- g.Wait() }()
	err := error(nil)
	if opts.Progress != nil {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case err = <-finished:
				break wait
			case <-tick.C:
				opts.Progress(int(done.Load()), spec.N)
			}
		}
	} else {
		err = <-finished
	}
	if err != nil {
		return err
	}
	if opts.Progress != nil {
		opts.Progress(spec.N, spec.N)
	}
	return nil
}

// writeFactors writes FactorsFile for spec at path.
func writeFactors(path string, spec Spec) error {
	var buf bytes.Buffer
	buf.Grow(spec.N * 160)
	w := csv.NewWriter(&buf)
	_ = w.Write(factorsHeader)
	row := make([]string, len(factorsHeader))
	for i := 0; i < spec.N; i++ {
		_ = w.Write(recordRow(spec.Record(i), row))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write %s: %w", FactorsFile, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// recordRow formats r as a row of FactorsFile into row. Floats are written
// with the fewest digits that read back to the same value.
func recordRow(r Record, row []string) []string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	f, l := r.Factors, r.Labels
	row[0], row[1], row[2] = strconv.Itoa(r.ID), r.File, r.Split.String()
	row[3], row[4], row[5], row[6] = f.Shape.String(), g(f.Hue), g(f.Saturation), g(f.Value)
	row[7], row[8], row[9], row[10] = g(f.Radius), g(f.CX), g(f.CY), g(f.Rotation)
	row[11], row[12] = strconv.Itoa(l.Shape), strconv.Itoa(l.Color)
	row[13], row[14] = strconv.Itoa(l.Location), strconv.Itoa(l.Size)
	return row
}

// ReadFolder reads the dataset folder dir written by WriteFolder: its
// MetaFile and FactorsFile, not the images (see Folder.Image). Errors about
// the folder's content wrap ErrBadFolder and name the file and line.
func ReadFolder(dir string) (*Folder, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file, not a folder written by simsearch generate", ErrBadFolder, dir)
	}
	metaPath := filepath.Join(dir, MetaFile)
	body, err := os.ReadFile(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s: it is not a dataset written by simsearch generate, or the writing did not finish", ErrBadFolder, dir, MetaFile)
	}
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(body, &m); err != nil || m.Format != metaFormat {
		return nil, fmt.Errorf("%w: %s is not a simsearch dataset description", ErrBadFolder, metaPath)
	}
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("%w: %s has format version %d; this build reads version %d", ErrBadFolder, metaPath, m.Version, FormatVersion)
	}
	spec, err := ParseSpec(m.Spec)
	if err != nil || spec.Res != m.Res || spec.N != m.N {
		return nil, fmt.Errorf("%w: %s: spec %q does not match res %d and n %d", ErrBadFolder, metaPath, m.Spec, m.Res, m.N)
	}
	records, err := readFactors(filepath.Join(dir, FactorsFile), spec)
	if err != nil {
		return nil, err
	}
	return &Folder{Dir: dir, Res: spec.Res, Spec: spec, Records: records}, nil
}

// readFactors reads FactorsFile at path for a folder of spec.
func readFactors(path string, spec Spec) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrBadFolder, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = len(factorsHeader)
	r.ReuseRecord = true
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: %s line %d: %s", ErrBadFolder, path, line, fmt.Sprintf(format, args...))
	}
	header, err := r.Read()
	if err != nil {
		return nil, csvError(path, err)
	}
	if strings.Join(header, ",") != strings.Join(factorsHeader, ",") {
		return nil, bad(1, "the header is not %q", strings.Join(factorsHeader, ","))
	}
	records := make([]Record, 0, spec.N)
	seen := make(map[int]bool, spec.N)
	for {
		row, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		rec, err := parseRecord(row, spec)
		if err != nil {
			return nil, bad(line, "%v", err)
		}
		if seen[rec.ID] {
			return nil, bad(line, "id %d appears twice", rec.ID)
		}
		seen[rec.ID] = true
		records = append(records, rec)
	}
	return records, nil
}

// csvError wraps an error of the CSV reader, naming the line where the
// faulty record starts.
func csvError(path string, err error) error {
	var parseErr *csv.ParseError
	if errors.As(err, &parseErr) {
		return fmt.Errorf("%w: %s line %d: %v", ErrBadFolder, path, parseErr.StartLine, parseErr.Err)
	}
	return fmt.Errorf("%w: %s: %v", ErrBadFolder, path, err)
}

// parseRecord parses one row of FactorsFile and checks it against spec.
func parseRecord(row []string, spec Spec) (Record, error) {
	var rec Record
	var err error
	number := func(column int, parse func(string) error) {
		if err == nil {
			if e := parse(row[column]); e != nil {
				err = fmt.Errorf("%s %q is not valid", factorsHeader[column], row[column])
			}
		}
	}
	float := func(column int, v *float64) {
		number(column, func(s string) error {
			f, e := strconv.ParseFloat(s, 64)
			if e == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				e = errors.New("not finite")
			}
			*v = f
			return e
		})
	}
	integer := func(column int, v *int) {
		number(column, func(s string) (e error) { *v, e = strconv.Atoi(s); return e })
	}
	integer(0, &rec.ID)
	rec.File = row[1]
	number(2, func(s string) (e error) { rec.Split, e = ParseSplit(s); return e })
	number(3, func(s string) (e error) { rec.Factors.Shape, e = ParseShape(s); return e })
	float(4, &rec.Factors.Hue)
	float(5, &rec.Factors.Saturation)
	float(6, &rec.Factors.Value)
	float(7, &rec.Factors.Radius)
	float(8, &rec.Factors.CX)
	float(9, &rec.Factors.CY)
	float(10, &rec.Factors.Rotation)
	integer(11, &rec.Labels.Shape)
	integer(12, &rec.Labels.Color)
	integer(13, &rec.Labels.Location)
	integer(14, &rec.Labels.Size)
	switch {
	case err != nil:
		return Record{}, err
	case rec.ID < 0 || rec.ID >= spec.N:
		return Record{}, fmt.Errorf("id %d is outside the spec's 0 to %d", rec.ID, spec.N-1)
	case filepath.Base(rec.File) != rec.File || !strings.HasSuffix(rec.File, ".png") || filepath.IsAbs(rec.File):
		return Record{}, fmt.Errorf("file %q is not the name of a PNG file in the folder", rec.File)
	case rec.Labels != rec.Factors.Labels(spec.Res):
		return Record{}, fmt.Errorf("the labels %+v do not match the factors, which give %+v", rec.Labels, rec.Factors.Labels(spec.Res))
	}
	return rec, nil
}

// Image reads the image of record i (an index into Records, not an ID).
// Errors wrap ErrBadFolder when the file is not an image of the folder's
// resolution. It panics if i is out of range.
func (f *Folder) Image(i int) (*image.RGBA, error) {
	path := filepath.Join(f.Dir, f.Records[i].File)
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	img, err := DecodeImage(bufio.NewReader(file), f.Res*f.Res)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadFolder, path, err)
	}
	if b := img.Bounds(); b.Dx() != f.Res || b.Dy() != f.Res {
		return nil, fmt.Errorf("%w: %s is %d×%d pixels, want %d×%d", ErrBadFolder, path, b.Dx(), b.Dy(), f.Res, f.Res)
	}
	if rgba, ok := img.(*image.RGBA); ok && rgba.Rect.Min == (image.Point{}) {
		return rgba, nil
	}
	rgba := image.NewRGBA(image.Rect(0, 0, f.Res, f.Res))
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba, nil
}
