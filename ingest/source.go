package ingest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/spaces"
)

// task is one image to ingest: where to get it and what is known about it.
type task struct {
	source  string
	split   string
	factors *dataset.Factors // nil when unknown

	// The image is item specItem of spec when spec is not nil, otherwise
	// the file at path.
	spec     *dataset.Spec
	specItem int
	path     string

	// res, when positive, is the size the image must have (the images of
	// a dataset folder all have the folder's resolution).
	res int
	// hash, when not nil, is the hash the content must have (an item
	// re-read from its stored source).
	hash *index.Hash
	// err, when not nil, makes the task a skip with this reason.
	err error

	// labels and labelFactors are the image's labels and continuous
	// values from a labels file or a factorial dataset (set on a stored
	// item too); line, when positive, is its line of the labels file.
	labels       map[string]int
	labelFactors map[string]float64
	line         int
	// relabel sets labels and labelFactors on the stored item of the
	// same content too (a labels file's row does; a factorial dataset's
	// image, which may repeat another's pixels, does not).
	relabel bool
	// splitByHash draws the split from the content hash (a labelled
	// source that gives none).
	splitByHash bool
	// img, when not nil, is the image itself (decoded from an npz).
	img image.Image
}

// sourceKind names the kinds of source, for the summary.
const (
	kindSpec    = "generator spec"
	kindDataset = "dataset folder"
	kindFolder  = "image folder"
	kindFile    = "image file"
	kindStored  = "stored sources"
	kindLabels  = "labelled folder"
	kindNpz     = "npz dataset"
)

// source lists the tasks of an ingestion.
type source struct {
	kind  string
	total int
	// each sends every task in order, stopping at the first error of send.
	each func(ctx context.Context, send func(task) error) error
}

// imageExtensions are the file name extensions of the images a folder
// source reads, in lower case.
var imageExtensions = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// openSource interprets the source text: an existing file or folder, or
// else a generator spec.
func openSource(ctx context.Context, text, split string) (*source, error) {
	info, statErr := os.Stat(text)
	switch {
	case statErr == nil && info.IsDir():
		return folderSource(ctx, text, split)
	case statErr == nil:
		return fileSource(text, split), nil
	case !errors.Is(statErr, fs.ErrNotExist):
		return nil, statErr
	}
	if !strings.HasPrefix(text, "shapes") {
		return nil, fmt.Errorf("%w: %s: no such file or folder, and not a generator spec such as shapes:n=2000,seed=1,res=32", ErrBadSource, text)
	}
	spec, err := dataset.ParseSpec(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a file or folder, and not a valid generator spec: %w", ErrBadSource, text, err)
	}
	return specSource(spec, split), nil
}

func specSource(spec dataset.Spec, split string) *source {
	prefix := spec.String() + "#"
	return &source{kind: kindSpec, total: spec.N, each: func(ctx context.Context, send func(task) error) error {
		for i := range spec.N {
			f := spec.Factors(i)
			s := split
			if s == "" {
				s = spec.Split(i).String()
			}
			if err := send(task{source: prefix + strconv.Itoa(i), split: s, factors: &f, spec: &spec, specItem: i}); err != nil {
				return err
			}
		}
		return nil
	}}
}

func fileSource(path, split string) *source {
	if split == "" {
		split = index.SplitTrain
	}
	return &source{kind: kindFile, total: 1, each: func(_ context.Context, send func(task) error) error {
		return send(task{source: path, split: split, path: path})
	}}
}

// folderSource reads a dataset folder when dir holds the files of one,
// otherwise every image under dir.
func folderSource(ctx context.Context, dir, split string) (*source, error) {
	_, metaErr := os.Stat(filepath.Join(dir, dataset.MetaFile))
	_, factorsErr := os.Stat(filepath.Join(dir, dataset.FactorsFile))
	if metaErr == nil || factorsErr == nil {
		return datasetSource(dir, split)
	}
	total := 0
	err := walkImages(ctx, dir, func(string, error) error { total++; return nil })
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: %s holds no PNG, JPEG or GIF file", ErrBadSource, dir)
	}
	if split == "" {
		split = index.SplitTrain
	}
	return &source{kind: kindFolder, total: total, each: func(ctx context.Context, send func(task) error) error {
		return walkImages(ctx, dir, func(path string, err error) error {
			return send(task{source: path, split: split, path: path, err: err})
		})
	}}, nil
}

// walkImages calls fn with the path of every image file under dir, in
// lexical order, skipping hidden files and folders. A folder that cannot
// be read is passed to fn with its error, as a file to skip. dir itself
// may be a symbolic link to a folder; links inside it are followed to
// files, not to folders (which could loop).
func walkImages(ctx context.Context, dir string, fn func(path string, err error) error) error {
	if info, err := os.Lstat(dir); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not follow a link at its root, but a trailing
		// separator makes the root the folder the link names; the paths
		// below it keep the link's name.
		dir += string(filepath.Separator)
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if path == dir {
				return err
			}
			return fn(path, err)
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !imageExtensions[strings.ToLower(filepath.Ext(path))] {
			return nil
		}
		return fn(path, nil)
	})
}

func datasetSource(dir, split string) (*source, error) {
	folder, err := dataset.ReadFolder(dir)
	if err != nil {
		return nil, err
	}
	return &source{kind: kindDataset, total: len(folder.Records), each: func(ctx context.Context, send func(task) error) error {
		for _, r := range folder.Records {
			f := r.Factors
			s := split
			if s == "" {
				s = r.Split.String()
			}
			path := filepath.Join(folder.Dir, r.File)
			if err := send(task{source: path, split: s, factors: &f, path: path, res: folder.Res}); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// storedSource re-reads, from their stored sources, the ordinary items of
// the database that have no vector in space yet; when only is not nil,
// those of them that only holds.
func storedSource(db index.Store, space index.SpaceStore, only []index.ItemID) (*source, error) {
	all, err := db.Select(index.Filter{})
	if err != nil {
		return nil, err
	}
	if only != nil {
		keep := make(map[index.ItemID]bool, len(only))
		for _, id := range only {
			keep[id] = true
		}
		all = slices.DeleteFunc(all, func(id index.ItemID) bool { return !keep[id] })
	}
	missing := space.Missing(all)
	return &source{kind: kindStored, total: len(missing), each: func(ctx context.Context, send func(task) error) error {
		// The images of an npz file are read in one pass over it, after
		// the others.
		type npzItem struct {
			split string
			hash  index.Hash
		}
		npzItems := map[string]map[int]npzItem{}
		var npzPaths []string
		const chunk = 1024
		for start := 0; start < len(missing); start += chunk {
			items, err := db.Items(missing[start:min(start+chunk, len(missing))])
			if err != nil {
				return err
			}
			for _, it := range items {
				if path, i, ok := parseNpzSource(it.Source); ok {
					if npzItems[path] == nil {
						npzItems[path] = map[int]npzItem{}
						npzPaths = append(npzPaths, path)
					}
					npzItems[path][i] = npzItem{it.Split, it.Hash}
					continue
				}
				if err := send(storedTask(it)); err != nil {
					return err
				}
			}
		}
		for _, path := range npzPaths {
			items := npzItems[path]
			d, err := readNpz(ctx, path, NpzOptions{})
			if err != nil {
				for i := range items {
					if err := send(task{source: npzSource(path, i), err: err}); err != nil {
						return err
					}
				}
				continue
			}
			want := make([]bool, d.n)
			for i := range items {
				if i < d.n {
					want[i] = true
				}
			}
			err = d.stream(ctx, want, func(i int, img image.Image, _ map[string]int, _ map[string]float64) error {
				it := items[i]
				delete(items, i)
				return send(task{source: npzSource(path, i), split: it.split, img: img, hash: &it.hash})
			})
			d.zip.Close()
			if err != nil {
				return err
			}
			for i := range items { // beyond the file's end
				if err := send(task{source: npzSource(path, i), err: ErrSourceChanged}); err != nil {
					return err
				}
			}
		}
		return nil
	}}, nil
}

// storedTask returns the task that re-reads item it from its source.
func storedTask(it index.Item) task {
	t := task{source: it.Source, split: it.Split, hash: &it.Hash}
	if spec, i, ok := spaces.ParseSpecSource(it.Source); ok {
		t.spec, t.specItem = &spec, i
	} else {
		t.path = it.Source
	}
	return t
}
