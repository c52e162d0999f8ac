package encoder

import (
	"context"
	"image"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"simsearch/dataset"
)

// TrainingSet is the training split of a dataset, loaded into memory: the
// images and their labels. It is not modified by training and may be used
// by several trainings at once.
type TrainingSet struct {
	// Source is the dataset it was read from, a generator spec
	// ("shapes:n=2000,seed=1,res=32,val=0.375") or a folder path. It is
	// recorded in the checkpoints trained on it.
	Source string
	// Res is the width and height of every image.
	Res    int
	Images []*image.RGBA
	Labels []dataset.Labels
}

// Len returns the number of images.
func (s *TrainingSet) Len() int { return len(s.Images) }

// LoadTrainingSet loads the training split of source: a generator spec such
// as "shapes:n=40000,seed=1,res=64" (its images are rendered, on all cores)
// or a folder written by "simsearch generate" (its images are decoded).
// Errors wrap dataset.ErrBadSpec or dataset.ErrBadFolder for bad input.
func LoadTrainingSet(ctx context.Context, source string) (*TrainingSet, error) {
	if isSpec(source) {
		spec, err := dataset.ParseSpec(source)
		if err != nil {
			return nil, err
		}
		return specTrainingSet(ctx, spec)
	}
	folder, err := dataset.ReadFolder(source)
	if err != nil {
		return nil, err
	}
	return folderTrainingSet(ctx, folder)
}

// isSpec tells whether source is a generator spec ("shapes" or
// "shapes:…") rather than a folder; a folder of that name wins.
func isSpec(source string) bool {
	s := strings.TrimSpace(source)
	if s != "shapes" && !strings.HasPrefix(s, "shapes:") {
		return false
	}
	_, err := os.Stat(source)
	return err != nil
}

func specTrainingSet(ctx context.Context, spec dataset.Spec) (*TrainingSet, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	n, _ := spec.Counts()
	set := &TrainingSet{Source: spec.String(), Res: spec.Res, Images: make([]*image.RGBA, n), Labels: make([]dataset.Labels, n)}
	err := parallelErr(ctx, n, func(i int) error {
		f := spec.Factors(i)
		set.Images[i] = dataset.Render(f, spec.Res)
		set.Labels[i] = f.Labels(spec.Res)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

func folderTrainingSet(ctx context.Context, folder *dataset.Folder) (*TrainingSet, error) {
	var idx []int
	for i, r := range folder.Records {
		if r.Split == dataset.Train {
			idx = append(idx, i)
		}
	}
	set := &TrainingSet{Source: folder.Dir, Res: folder.Res, Images: make([]*image.RGBA, len(idx)), Labels: make([]dataset.Labels, len(idx))}
	err := parallelErr(ctx, len(idx), func(j int) error {
		img, err := folder.Image(idx[j])
		if err != nil {
			return err
		}
		set.Images[j] = img
		set.Labels[j] = folder.Records[idx[j]].Labels
		return nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// parallelErr calls fn(i) for i in [0, n) on all cores, stopping at the
// first error or when ctx is cancelled.
func parallelErr(ctx context.Context, n int, fn func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	const chunk = 64
	for lo := 0; lo < n; lo += chunk {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			for i := lo; i < min(lo+chunk, n); i++ {
				if err := fn(i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func side(area int) int {
	s := 0
	for s*s < area {
		s++
	}
	return s
}
