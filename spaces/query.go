package spaces

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"

	"simsearch/dataset"
	"simsearch/index"
)

// Query says what a query was: a stored item, or an image file (then also
// the item that holds the same picture, if one does).
type Query struct {
	// ID is the stored item, nil for an image that is not stored.
	ID     *index.ItemID  `json:"id,omitempty"`
	Image  string         `json:"image,omitempty"`
	Source string         `json:"source,omitempty"`
	Split  string         `json:"split,omitempty"`
	Labels map[string]int `json:"labels,omitempty"`
	// Thumbnail is the query image's thumbnail when it is not stored.
	Thumbnail []byte `json:"-"`
}

// Neighbour is one result of a query, nearest first.
type Neighbour struct {
	Rank     int            `json:"rank"`
	ID       index.ItemID   `json:"id"`
	Distance float32        `json:"distance"`
	Split    string         `json:"split"`
	Source   string         `json:"source"`
	Labels   map[string]int `json:"labels,omitempty"`
}

// Result is the outcome of one query: a plain value owned by the caller.
type Result struct {
	Space      string       `json:"space"`
	Query      Query        `json:"query"`
	K          int          `json:"k"`
	Method     string       `json:"method"`
	Filter     index.Filter `json:"filter"`
	Neighbours []Neighbour  `json:"neighbours"`
}

// Method returns the search method a query with opts uses: opts.Method,
// or what the index chooses for it when that is index.Auto.
func (s *Space) Method(ctx context.Context, opts index.SearchOptions) (index.Method, error) {
	if opts.Method != index.Auto {
		return opts.Method, nil
	}
	m, _, err := s.index.Plan(ctx, opts)
	return m, err
}

// QueryImage embeds the image file at path with the space's encoder and
// finds its nearest items. A file that is not an image wraps
// dataset.ErrBadImage; an image the encoder maps to a zero vector wraps
// ErrZeroVector.
func (s *Space) QueryImage(ctx context.Context, path string, opts index.SearchOptions) (Result, error) {
	enc, err := s.Encoder()
	if err != nil {
		return Result{}, err
	}
	if enc.Res() == 0 {
		// Precomputed vectors: Embed says why no image can be embedded.
		_, err := enc.Embed(ctx, nil)
		return Result{}, fmt.Errorf("space %q: %w; query it with --id or --sample", s.Name(), err)
	}
	img, err := readImageFile(path)
	if err != nil {
		return Result{}, err
	}
	vectors, err := enc.Embed(ctx, []*image.RGBA{AtResolution(img, enc.Res())})
	if err != nil {
		return Result{}, err
	}
	if err := CheckVector(vectors[0]); err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	found, err := s.index.Search(vectors[0], opts)
	if err != nil {
		return Result{}, err
	}
	res, err := s.newResult(ctx, opts, Query{Image: path, Thumbnail: Thumbnail(img)})
	if err != nil {
		return Result{}, err
	}
	// An image that is stored is named by its item.
	if id, ok, err := s.store.LookupHash(ContentHash(img)); err == nil && ok {
		if it, err := s.store.Item(id); err == nil {
			res.Query = Query{ID: &id, Image: path, Source: it.Source, Split: it.Split, Labels: it.Labels}
		}
	}
	if err := s.fill(&res, found); err != nil {
		return Result{}, err
	}
	return res, nil
}

// readImageFile decodes the image file at path, with a sentence for a
// folder or a file that is not an image.
func readImageFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: no such file", ErrNoImageFile, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return nil, fmt.Errorf("%w: %s is a folder; a query is one image file", ErrNoImageFile, path)
	}
	img, err := dataset.DecodeImage(f, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// QueryItem finds the nearest items of stored item id's vector (the item
// itself first, at distance 0, unless the filter leaves it out).
func (s *Space) QueryItem(ctx context.Context, id index.ItemID, opts index.SearchOptions) (Result, error) {
	vector, err := s.index.Vector(id)
	if err != nil {
		return Result{}, err
	}
	found, err := s.index.Search(vector, opts)
	if err != nil {
		return Result{}, err
	}
	return s.itemResult(ctx, id, opts, found)
}

// QuerySample draws n of the space's validation items at random with seed
// (n of all its items when none is a validation item) and finds the
// nearest items of each, itself left out.
func (s *Space) QuerySample(ctx context.Context, n int, seed uint64, opts index.SearchOptions) ([]Result, error) {
	ids, err := s.Sample(n, seed)
	if err != nil {
		return nil, err
	}
	found, err := s.index.SearchItems(ctx, ids, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(ids))
	for i, id := range ids {
		if out[i], err = s.itemResult(ctx, id, opts, found[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Sample draws n items of the space at random with seed: validation items,
// or any when the space has no validation item; fewer when it holds fewer.
// It fails with ErrNoMatch when the space holds no item.
func (s *Space) Sample(n int, seed uint64) ([]index.ItemID, error) {
	pool, err := s.withVectors(index.Filter{Splits: []string{index.SplitVal}})
	if err != nil {
		return nil, err
	}
	if len(pool) == 0 {
		if pool, err = s.withVectors(index.Filter{}); err != nil {
			return nil, err
		}
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("%w: space %s holds no item to sample", ErrNoMatch, s.Name())
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	n = min(n, len(pool))
	for i := range n {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:n], nil
}

// withVectors returns the items matching f that have a vector in the space.
func (s *Space) withVectors(f index.Filter) ([]index.ItemID, error) {
	ids, err := s.store.Select(f)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ids, func(id index.ItemID) bool { return !s.index.Has(id) }), nil
}

// Matching returns how many items of the space a filter keeps, so that a
// filter that keeps none can be told apart from a query without
// neighbours.
func (s *Space) Matching(f index.Filter) (int, error) {
	ids, err := s.withVectors(f)
	return len(ids), err
}

// newResult starts the result of query q searched with opts.
func (s *Space) newResult(ctx context.Context, opts index.SearchOptions, q Query) (Result, error) {
	method, err := s.Method(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	return Result{Space: s.Name(), Query: q, K: opts.K, Method: method.String(), Filter: opts.Filter}, nil
}

// itemResult describes a query by stored item and its results.
func (s *Space) itemResult(ctx context.Context, id index.ItemID, opts index.SearchOptions, found []index.Result) (Result, error) {
	it, err := s.store.Item(id)
	if err != nil {
		return Result{}, err
	}
	res, err := s.newResult(ctx, opts, Query{ID: &id, Source: it.Source, Split: it.Split, Labels: it.Labels})
	if err != nil {
		return Result{}, err
	}
	if err := s.fill(&res, found); err != nil {
		return Result{}, err
	}
	return res, nil
}

// fill describes the search results found in res.
func (s *Space) fill(res *Result, found []index.Result) error {
	ids := make([]index.ItemID, len(found))
	for i, r := range found {
		ids[i] = r.ID
	}
	items, err := s.store.Items(ids)
	if err != nil {
		return err
	}
	res.Neighbours = make([]Neighbour, len(found))
	for i, r := range found {
		res.Neighbours[i] = Neighbour{Rank: i + 1, ID: r.ID, Distance: r.Distance, Split: items[i].Split, Source: items[i].Source, Labels: items[i].Labels}
	}
	return nil
}

// CheckVector returns an error wrapping ErrZeroVector for a vector that
// cannot be normalized, or one that says which value is not finite.
func CheckVector(v []float32) error {
	var norm float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("the encoder gave a vector whose value %d is %v", i, x)
		}
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return ErrZeroVector
	}
	return nil
}
