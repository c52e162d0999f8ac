package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// DefaultBatchSize is the number of images stored per transaction unless
// told otherwise: large enough that the file's sync (a few milliseconds)
// costs little per image, small enough that an interrupted run redoes
// little.
const DefaultBatchSize = 256

// Options configure Run. Zero fields take the defaults named in their
// comments; DefaultOptions returns them.
type Options struct {
	// Source is what to ingest:
	//   - a folder written by "simsearch generate" (it holds factors.csv):
	//     its images with their split, factors and labels;
	//   - any other folder: every PNG, JPEG and GIF file under it, in
	//     lexical order, hidden files and folders left out;
	//   - an image file;
	//   - a generator spec such as "shapes:n=64000,seed=1,res=64": its
	//     items rendered in memory, no file written;
	//   - empty: the items already in the database that have no vector in
	//     the space, re-read from their stored sources (to add a space over
	//     existing items). Re-read images must have their stored hash.
	// A file's item keeps the path as written here (joined with the file's
	// place under the folder): relative paths stay relative, so stored
	// sources are re-read relative to the working directory. A spec's
	// item i keeps SpecSource(spec, i).
	Source string

	// Space is the name of the space to fill. Required.
	Space string

	// Encoder embeds the images. When the space does not exist it is created
	// for this encoder (see spaces.Create); when it exists it must hold this
	// encoder's vectors (otherwise the error wraps
	// index.ErrEncoderMismatch). Nil means the space's own stored encoder:
	// the space must exist.
	Encoder encoder.Encoder

	// StoredEncoder says how to run the space's stored encoder when
	// Encoder is nil and it is an encoder command.
	StoredEncoder spaces.EncoderOptions

	// Reembed rebuilds an existing space with Encoder (required): its
	// vectors and graph are dropped, its items kept, and the images are
	// embedded again — those of Source, or with no Source the items the
	// space held. It is how a space follows an encoder that changed.
	Reembed bool

	// Split is the split of new items. Empty means the split the source
	// gives (factors.csv, the spec), or "train" for plain images. Items
	// already stored keep theirs.
	Split string

	// Strict stops at the first image that cannot be ingested, with an
	// error wrapping the reason (dataset.ErrBadImage, ErrImageTooLarge,
	// ErrSourceChanged or the file system's). Otherwise such images are
	// skipped, reported through OnSkip and counted.
	Strict bool

	// BatchSize is the number of images per transaction; 0 means
	// DefaultBatchSize. The first batches are smaller (EmbedBatch, then
	// twice that, …) so that the encoder starts early.
	BatchSize int

	// Workers is the number of images decoded and resized at once, beside
	// the encoder; 0 means runtime.GOMAXPROCS(0).
	Workers int

	// EmbedBatch is the number of images the first batch holds, and the
	// step by which batches grow to BatchSize; 0 means
	// encoder.DefaultEmbedBatch.
	EmbedBatch int

	// MaxPixels is the largest image decoded, in pixels; larger ones are
	// refused from their header (dataset.ErrImageTooLarge). 0 means
	// dataset.DefaultMaxPixels.
	MaxPixels int

	// Progress, when not nil, is called once the source is listed (Done 0)
	// and after each batch is stored, from one goroutine at a time.
	Progress func(Progress)

	// OnSkip, when not nil, is called for each skipped image with its
	// source and the reason, from one goroutine at a time: images that
	// cannot be read in source order, and images the encoder maps to a
	// zero vector (spaces.ErrZeroVector) once their batch is embedded.
	OnSkip func(source, reason string)

	// Labels, when not empty, is a CSV file of labels for the images of
	// the folder Source: a header, then one row per image; a file column
	// (the path, relative to the folder or absolute), an optional split
	// column, and one column per label (see LabelOptions). Only the
	// images it lists are ingested: the folder's others, and rows whose
	// file is missing or unreadable, are skipped with the reason. A row
	// for an image already stored sets its labels (Summary.Relabelled).
	Labels       string
	LabelOptions LabelOptions

	// ValFrac is the share of the items of a labelled source (a labels
	// file without a split column, an npz dataset) that go to the
	// validation split when Split is empty, drawn by content hash; 0
	// means DefaultValFrac.
	ValFrac float64

	// Npz reads an .npz Source (a factorial dataset in the dSprites
	// layout).
	Npz NpzOptions

	// OnWarning, when not nil, is called with each problem of a labels
	// file that does not stop the run (an empty label, a repeated row),
	// naming the line, before the images are read.
	OnWarning func(message string)
}

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{BatchSize: DefaultBatchSize, Workers: runtime.GOMAXPROCS(0),
		EmbedBatch: encoder.DefaultEmbedBatch, MaxPixels: dataset.DefaultMaxPixels}
}

// Progress reports how far an ingestion is.
type Progress struct {
	// Done counts the images handled (stored, found already present or
	// skipped) out of Total.
	Done, Total int
	// AddedVectors and Skipped count the images embedded and skipped so far.
	AddedVectors, Skipped int
}

// Summary tells what an ingestion did.
type Summary struct {
	Source string `json:"source"`
	// Kind is "generator spec", "dataset folder", "image folder", "image
	// file" or "stored sources".
	Kind    string `json:"kind"`
	Space   string `json:"space"`
	Encoder string `json:"encoder"`
	// SpaceCreated tells whether the space was created by this run.
	SpaceCreated bool `json:"space_created"`
	// Images counts the images of the source handled (all of them, unless
	// the run stopped early).
	Images int `json:"images"`
	// AddedItems counts items new to the database; AddedVectors the images
	// embedded into the space.
	AddedItems   int `json:"added_items"`
	AddedVectors int `json:"added_vectors"`
	// Present counts the images that were already stored with a vector in
	// the space (or repeated an earlier image of the source).
	Present int `json:"already_present"`
	// Skipped counts the images that could not be read.
	Skipped int `json:"skipped"`
	// Relabelled counts the stored items whose labels a labels file or
	// dataset changed.
	Relabelled int `json:"relabelled,omitempty"`
	// Labels describes the labels the source gives, with their kinds and
	// classes ("species (categorical, 3 classes), age (continuous, 3
	// bins)"); Warnings counts the problems told to OnWarning.
	Labels   string `json:"labels,omitempty"`
	Warnings int    `json:"warnings,omitempty"`
	// Items and Vectors are the totals of the database and space after
	// the run.
	Items   int `json:"items"`
	Vectors int `json:"vectors"`
	// Seconds is the time of the pipeline (reading, embedding, storing);
	// ImagesPerSecond is Images/Seconds; EmbedSeconds the part of it the
	// encoder was busy.
	Seconds         float64 `json:"seconds"`
	ImagesPerSecond float64 `json:"images_per_second"`
	EmbedSeconds    float64 `json:"embed_seconds"`
	// GraphSeconds is the time taken afterwards to bring the space's HNSW
	// graph up to date and store it.
	GraphSeconds float64 `json:"graph_seconds"`
}

// Run ingests opts.Source into the space opts.Space of db (see Options).
//
// Images are read, decoded, hashed and resized on opts.Workers goroutines
// while the encoder embeds earlier batches. Each batch is stored as by
// AddBatch, in source order: its items in one transaction while it is
// embedded, then its vectors in another. Items are keyed by content hash,
// so running Run again adds nothing new, and a run interrupted at any
// point (even killed) then run again completes with no duplicate and no
// lost item. Images already stored with a vector in the space are hashed
// but not embedded again. At the end, Run brings the space's HNSW graph up
// to date and stores it.
//
// Memory stays bounded whatever the size of the source: about eight
// batches of images at the encoder's resolution are in flight, and each
// worker holds one decoded image (at most MaxPixels).
//
// When ctx is cancelled, Run stops and returns ctx.Err() with the summary
// of the work stored so far; what was stored is kept.
func Run(ctx context.Context, db index.Store, opts Options) (Summary, error) {
	start := time.Now()
	if opts.Space == "" {
		return Summary{}, fmt.Errorf("%w: no space name given", ErrOptions)
	}
	if opts.BatchSize < 0 || opts.Workers < 0 || opts.EmbedBatch < 0 || opts.MaxPixels < 0 {
		return Summary{}, fmt.Errorf("%w: batch size, workers, embed batch and pixel limit must not be negative", ErrOptions)
	}
	if opts.ValFrac < 0 || opts.ValFrac > 1 {
		return Summary{}, fmt.Errorf("%w: the validation share must be 0 (the default) to 1, not %g", ErrOptions, opts.ValFrac)
	}
	opts.ValFrac = cmp.Or(opts.ValFrac, DefaultValFrac)
	def := DefaultOptions()
	opts.BatchSize = cmp.Or(opts.BatchSize, def.BatchSize)
	opts.Workers = cmp.Or(opts.Workers, def.Workers)
	opts.MaxPixels = cmp.Or(opts.MaxPixels, def.MaxPixels)
	opts.EmbedBatch = cmp.Or(opts.EmbedBatch, def.EmbedBatch)

	// A bad source is found before a space is created for it.
	var src *source
	var err error
	var schema index.LabelSchema
	warnings := 0
	warn := func(msg string) {
		warnings++
		if opts.OnWarning != nil {
			opts.OnWarning(msg)
		}
	}
	switch {
	case opts.Labels != "":
		if src, schema, err = openLabelled(ctx, db, opts, warn); err != nil {
			return Summary{}, err
		}
	case isNpz(opts.Source):
		if src, schema, err = openNpz(ctx, opts); err != nil {
			return Summary{}, err
		}
	case opts.Source != "":
		if src, err = openSource(ctx, opts.Source, opts.Split); err != nil {
			return Summary{}, err
		}
	}
	var held []index.ItemID // the items of a space rebuilt
	if opts.Reembed {
		if held, err = dropSpace(ctx, db, opts.Space, opts.Encoder); err != nil {
			return Summary{}, err
		}
	}
	sp, created, err := openSpace(ctx, db, opts.Space, opts.Encoder)
	if err != nil {
		return Summary{}, err
	}
	defer sp.Close()
	sp.SetEncoderOptions(opts.StoredEncoder)
	model, err := sp.Encoder()
	if err != nil {
		return Summary{}, err
	}
	if model.Res() == 0 {
		return Summary{}, fmt.Errorf("%w: space %q: %w", ErrOptions, opts.Space, errPrecomputed)
	}
	space := sp.Index()
	if src == nil {
		if src, err = storedSource(db, space, held); err != nil {
			return Summary{}, err
		}
	}
	sum := Summary{Source: opts.Source, Kind: src.kind, Space: space.Name(), Encoder: model.ID(), SpaceCreated: created,
		Labels: describeLabels(schema), Warnings: warnings}
	if opts.Source == "" {
		sum.Source = db.Path()
	}
	if len(schema.Labels) > 0 {
		// The schema first: items stored with its labels are then never
		// without their class names.
		if _, err := db.SetLabels(ctx, schema, nil); err != nil {
			return sum, err
		}
	}
	p := &pipeline{
		db: db, space: space, emb: model,
		res: model.Res(), opts: opts, src: src, sum: &sum,
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Total: src.total})
	}
	err = p.run(ctx)
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.ImagesPerSecond = float64(sum.Images) / sum.Seconds
	}
	sum.EmbedSeconds = p.embedTime.Seconds()
	if err == nil && !space.Info().Stored.UpToDate {
		graphStart := time.Now()
		err = space.SaveGraph(ctx)
		sum.GraphSeconds = time.Since(graphStart).Seconds()
	}
	sum.Items, sum.Vectors = db.Len(), space.Len()
	return sum, err
}

// errPrecomputed is why images cannot go into a space of precomputed
// vectors.
var errPrecomputed = errors.New("it holds precomputed vectors and has no encoder to embed images with; add vectors with --vectors, or ingest the images into another space with --encoder or --encoder-cmd")

// dropSpace deletes the space called name, if it exists, so that it is made
// again for enc, and returns the items it held.
func dropSpace(ctx context.Context, db index.Store, name string, enc encoder.Encoder) ([]index.ItemID, error) {
	if enc == nil {
		return nil, fmt.Errorf("%w: rebuilding space %q needs the encoder to rebuild it with", ErrOptions, name)
	}
	sp, err := db.Space(name)
	if errors.Is(err, index.ErrNoSpace) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	held := sp.Items()
	if err := db.DeleteSpace(ctx, name); err != nil {
		return nil, err
	}
	return held, nil
}

// openSpace returns the space called name, created for enc if it does not
// exist.
func openSpace(ctx context.Context, db index.Store, name string, enc encoder.Encoder) (*spaces.Space, bool, error) {
	if enc != nil {
		return spaces.Create(ctx, db, name, enc)
	}
	sp, err := spaces.Open(db, name)
	if errors.Is(err, index.ErrNoSpace) {
		return nil, false, fmt.Errorf("%w: space %q does not exist yet; give the encoder to create it with", ErrOptions, name)
	}
	return sp, false, err
}

// pipeline is one run of Run: a producer lists tasks in batches, workers
// prepare them (read, decode, hash, resize), a collector takes the batches
// in order, and three stages store the items and embed them at the same
// time, then store the vectors, each batch in turn.
type pipeline struct {
	db    index.Store
	space index.SpaceStore
	emb   encoder.Encoder
	res   int
	opts  Options
	src   *source
	sum   *Summary

	embedTime time.Duration
	skipMu    sync.Mutex // serializes OnSkip
}

// skip reports a skipped image.
func (p *pipeline) skip(source string, reason error) {
	if p.opts.OnSkip == nil {
		return
	}
	p.skipMu.Lock()
	defer p.skipMu.Unlock()
	p.opts.OnSkip(source, reason.Error())
}

// prepared is a task made ready to store.
type prepared struct {
	item index.Item
	// update, when not nil, sets the labels of the stored item.
	update *index.LabelUpdate
	// image is the image at the encoder's resolution; nil when present.
	image *image.RGBA
	// present tells that the item is stored with a vector in the space.
	present bool
	// err is why the image is skipped, or, when fatal, why Run stops.
	err   error
	fatal bool
}

// job is one batch of tasks on its way through the workers.
type job struct {
	tasks   []task
	results []prepared
	pending atomic.Int64
	done    chan struct{}
}

// batch is a batch of prepared images on its way to the database and the
// encoder.
type batch struct {
	items  []index.Item
	images []*image.RGBA
	// todo are the positions of the items to embed.
	todo []int
	// ids are set, then itemsStored closed, once the items are stored;
	// vectors are set, then embedded closed, once they are embedded.
	ids         []index.ItemID
	itemsStored chan struct{}
	vectors     []float32
	embedded    chan struct{}
	// embedErr, set before embedded is closed, is the encoder's failure
	// on this batch or an earlier one: it is not stored.
	embedErr error
	// handled and skipped count the batch's images for progress; first is
	// the position of its first image in the source.
	handled, skipped, first int
	// updates set the labels of stored items.
	updates []index.LabelUpdate
}

// queue is the number of batches waiting before a stage: enough to keep
// each busy, few enough to bound memory.
const queue = 2

func (p *pipeline) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Input stops at Strict's first bad image while the batches already
	// accepted are embedded and stored.
	input, stopInput := context.WithCancelCause(ctx)
	defer stopInput(nil)

	jobs := make(chan *job, queue)
	work := make(chan func(), p.opts.Workers*2)
	toItems := make(chan *batch, queue)
	toEmbed := make(chan *batch, queue)
	toStore := make(chan *batch, queue)
	var wg sync.WaitGroup
	goStage := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				cancel(err)
			}
		}()
	}
	// wait waits for a stage to finish with a batch.
	wait := func(done chan struct{}) error {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}

	goStage(func() error { // producer
		defer close(jobs)
		defer close(work)
		err := p.produce(input, jobs, work)
		if input.Err() != nil {
			return nil // stopped by another stage, which gives the reason
		}
		return err
	})
	for range p.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range work {
				fn()
			}
		}()
	}
	var strictErr error
	goStage(func() error { // collector
		defer close(toItems)
		defer close(toEmbed)
		defer close(toStore)
		err := p.collect(ctx, input, jobs, toItems, toEmbed, toStore)
		if errors.Is(err, ErrStrict) {
			strictErr = err
			stopInput(err)
			return nil
		}
		if err != nil && input.Err() != nil && ctx.Err() == nil {
			return nil // the input was stopped by a failing encoder, reported by the vectors stage
		}
		return err
	})
	goStage(func() error { // items
		for b := range toItems {
			ids, added, err := storeItems(ctx, p.db, b.items)
			if err != nil {
				return err
			}
			p.sum.AddedItems += added
			if len(b.updates) > 0 {
				changed, err := p.db.SetLabels(ctx, index.LabelSchema{}, b.updates)
				if err != nil {
					return err
				}
				p.sum.Relabelled += changed
			}
			b.ids = ids
			close(b.itemsStored)
		}
		return nil
	})
	goStage(func() error { // embeddings
		// An encoder that fails stops the input; the batches embedded
		// before are still stored, then the vectors stage reports the
		// failure.
		var failed error
		for b := range toEmbed {
			if failed == nil && len(b.todo) > 0 {
				start := time.Now()
				vectors, err := embedTodo(ctx, p.emb, b.images, b.todo)
				p.embedTime += time.Since(start)
				switch {
				case err != nil && ctx.Err() != nil:
					return err
				case err != nil:
					failed = fmt.Errorf("embedding images %d to %d of the source (%s …): %w", b.first+1, b.first+b.handled, b.items[b.todo[0]].Source, err)
					stopInput(failed)
				default:
					b.todo, b.vectors, err = p.dropZeroVectors(b, vectors)
					if err != nil {
						return err
					}
				}
			}
			b.embedErr = failed
			b.images = nil
			close(b.embedded)
		}
		return nil
	})
	goStage(func() error { // vectors
		done, skipped, added := 0, 0, 0
		for b := range toStore {
			if err := wait(b.itemsStored); err != nil {
				return err
			}
			if err := wait(b.embedded); err != nil {
				return err
			}
			if b.embedErr != nil {
				return b.embedErr
			}
			n, err := storeVectors(ctx, p.space, b.ids, b.todo, b.vectors)
			if err != nil {
				return err
			}
			added += n
			done += b.handled
			skipped += b.skipped
			p.sum.AddedVectors += n
			p.sum.Images += b.handled
			p.sum.Skipped += b.skipped
			p.sum.Present = p.sum.Images - p.sum.Skipped - p.sum.AddedVectors
			if p.opts.Progress != nil {
				p.opts.Progress(Progress{Done: done, Total: p.src.total, AddedVectors: added, Skipped: skipped})
			}
		}
		return nil
	})
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return strictErr
}

// dropZeroVectors leaves out of a batch the images the encoder mapped to a
// zero vector, which a cosine space cannot hold: they are skipped with
// the reason, and their items stay stored for other spaces.
func (p *pipeline) dropZeroVectors(b *batch, vectors []float32) ([]int, []float32, error) {
	dim := p.emb.Dim()
	todo, kept := b.todo[:0:0], vectors[:0:0]
	for k, pos := range b.todo {
		v := vectors[k*dim : (k+1)*dim]
		switch err := spaces.CheckVector(v); {
		case errors.Is(err, spaces.ErrZeroVector):
			if p.opts.Strict {
				return nil, nil, &strictError{source: b.items[pos].Source, err: err}
			}
			b.skipped++
			p.skip(b.items[pos].Source, err)
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("%s: %w", b.items[pos].Source, err)
		}
		todo = append(todo, pos)
		kept = append(kept, v...)
	}
	return todo, kept, nil
}

// storeItems adds items to db, if any.
func storeItems(ctx context.Context, db index.Store, items []index.Item) ([]index.ItemID, int, error) {
	if len(items) == 0 {
		return nil, 0, nil
	}
	return db.AddItems(ctx, items)
}

// strictError is a bad image that stops a Strict run: it wraps the
// image's own error, and ErrStrict.
type strictError struct {
	source string
	err    error
}

func (e *strictError) Error() string   { return fmt.Sprintf("%s: %v", e.source, e.err) }
func (e *strictError) Unwrap() []error { return []error{e.err, ErrStrict} }

// produce lists the source's tasks in batches: each batch goes to jobs,
// in order, and each of its tasks to the workers.
func (p *pipeline) produce(ctx context.Context, jobs chan<- *job, work chan<- func()) error {
	var tasks []task
	// The first batch is one run of the network; each next one doubles, up
	// to BatchSize: the encoder starts as soon as a few images are ready
	// instead of waiting for a whole batch.
	size := min(p.opts.EmbedBatch, p.opts.BatchSize)
	flush := func() error {
		if len(tasks) == 0 {
			return nil
		}
		size = min(2*size, p.opts.BatchSize)
		j := &job{tasks: tasks, results: make([]prepared, len(tasks)), done: make(chan struct{})}
		j.pending.Store(int64(len(tasks)))
		tasks = nil
		select {
		case jobs <- j:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		for i := range j.tasks {
			fn := func() {
				j.results[i] = p.prepare(ctx, j.tasks[i])
				if j.pending.Add(-1) == 0 {
					close(j.done)
				}
			}
			select {
			case work <- fn:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return nil
	}
	err := p.src.each(ctx, func(t task) error {
		tasks = append(tasks, t)
		if len(tasks) < size {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	return flush()
}

// collect takes the prepared jobs in order, reports their skips and sends
// what is left to store and embed to the three stages.
func (p *pipeline) collect(ctx, input context.Context, jobs <-chan *job, toItems, toEmbed, toStore chan<- *batch) error {
	first := 0
	for j := range jobs {
		select {
		case <-j.done:
		case <-input.Done():
		}
		if input.Err() != nil {
			return context.Cause(input)
		}
		b := &batch{handled: len(j.results), first: first, itemsStored: make(chan struct{}), embedded: make(chan struct{})}
		first += len(j.results)
		for i, r := range j.results {
			if r.err != nil && !r.fatal && j.tasks[i].line > 0 {
				r.err = fmt.Errorf("%w (line %d of %s)", r.err, j.tasks[i].line, filepath.Base(p.opts.Labels))
			}
			if r.update != nil {
				b.updates = append(b.updates, *r.update)
			}
			switch {
			case r.fatal:
				return r.err
			case r.err != nil:
				if p.opts.Strict {
					return &strictError{source: j.tasks[i].source, err: r.err}
				}
				b.skipped++
				p.skip(j.tasks[i].source, r.err)
			case !r.present:
				b.items = append(b.items, r.item)
				b.images = append(b.images, r.image)
			}
		}
		need := make([]bool, len(b.items))
		for i := range need {
			need[i] = true
		}
		b.todo = embedPositions(b.items, need)
		for _, out := range []chan<- *batch{toItems, toEmbed, toStore} {
			select {
			case out <- b:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
	}
	return nil
}

// prepare reads a task's image and makes its item. It runs on the workers.
func (p *pipeline) prepare(ctx context.Context, t task) prepared {
	if t.err != nil {
		return prepared{err: t.err}
	}
	if ctx.Err() != nil {
		return prepared{err: context.Cause(ctx), fatal: true}
	}
	var img image.Image
	var raw []byte
	switch {
	case t.img != nil:
		img = t.img
	case t.spec != nil:
		img = t.spec.Image(t.specItem)
	default:
		var err error
		img, raw, err = readImage(t.path, p.opts.MaxPixels)
		if err != nil {
			return prepared{err: err}
		}
	}
	size := img.Bounds().Size()
	if t.res > 0 && (size.X != t.res || size.Y != t.res) {
		return prepared{err: fmt.Errorf("%w: %d×%d pixels, not the %d×%d of the dataset folder's images", dataset.ErrBadImage, size.X, size.Y, t.res, t.res)}
	}
	hash := spaces.ContentHash(img)
	if t.hash != nil && hash != *t.hash {
		return prepared{err: ErrSourceChanged}
	}
	split := t.split
	if t.splitByHash {
		split = splitOf(hash, p.opts.ValFrac)
	}
	it := index.Item{Source: t.source, Split: split, Hash: hash}
	id, found, err := p.db.LookupHash(hash)
	if err != nil {
		return prepared{err: err, fatal: true}
	}
	var update *index.LabelUpdate
	if found && t.relabel && (t.labels != nil || t.labelFactors != nil) {
		update = &index.LabelUpdate{ID: id, Labels: t.labels, Factors: t.labelFactors}
	}
	if found && p.space.Has(id) {
		return prepared{item: it, present: true, update: update}
	}
	if !found {
		it = spaces.NewItem(img, spaces.Origin{Source: t.source, Split: split, Factors: t.factors, File: raw, Hash: &hash})
		it.Labels = withValues(it.Labels, t.labels)
		it.Factors = withValues(it.Factors, t.labelFactors)
	}
	return prepared{item: it, image: spaces.AtResolution(img, p.res), update: update}
}

// withValues returns m with the values of add set (m itself when add is
// empty).
func withValues[V any](m, add map[string]V) map[string]V {
	if len(add) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string]V, len(add))
	}
	for k, v := range add {
		m[k] = v
	}
	return m
}

// readImage reads and decodes the image file at path. It returns the
// file's bytes too when the file is small enough to serve as a thumbnail.
func readImage(path string, maxPixels int) (image.Image, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("%w: a folder", dataset.ErrBadImage)
	}
	var r io.Reader = f
	var raw []byte
	if info.Size() <= spaces.MaxThumbnailFile {
		raw, err = io.ReadAll(f)
		if err != nil {
			return nil, nil, err
		}
		r = bytes.NewReader(raw)
	}
	img, err := dataset.DecodeImage(r, maxPixels)
	if err != nil {
		return nil, nil, err
	}
	return img, raw, nil
}
