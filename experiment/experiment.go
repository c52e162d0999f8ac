package experiment

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/internal/atomicfile"
	"simsearch/report"
	"simsearch/report/render"
)

// Size is one size of the experiment: the dataset, the encoders and the
// report's probes. It is a plain value, stored in the folder's state.
type Size struct {
	Name              string `json:"name"`
	Res               int    `json:"res"`
	Width             int    `json:"width"`
	Latent            int    `json:"latent"`
	Train             int    `json:"train"`
	Val               int    `json:"val"`
	AutoencoderEpochs int    `json:"autoencoder_epochs"`
	ContrastiveEpochs int    `json:"contrastive_epochs"`
	Batch             int    `json:"batch"`
	Bases             int    `json:"bases"`
	Variants          int    `json:"variants"`
	OrbitSets         int    `json:"orbit_sets"`
	OrbitSize         int    `json:"orbit_size"`
	Seed              uint64 `json:"seed"`
}

// Sizes are the sizes of the experiment. small is the default of the demo:
// the smallest size whose encoders still show the pattern the theory
// predicts for augmentations A, B and C. full is the seed's own
// experiment. tiny checks that everything runs; its numbers mean nothing.
var Sizes = []Size{
	{Name: "small", Res: 32, Width: 32, Latent: 128, Train: 2000, Val: 1000, AutoencoderEpochs: 8, ContrastiveEpochs: 8, Batch: 64,
		Bases: 200, Variants: 8, OrbitSets: 100, OrbitSize: 8},
	{Name: "full", Res: 64, Width: 32, Latent: 128, Train: 40000, Val: 24000, AutoencoderEpochs: 30, ContrastiveEpochs: 15, Batch: 256,
		Bases: 400, Variants: 8, OrbitSets: 200, OrbitSize: 8},
	{Name: "tiny", Res: 16, Width: 4, Latent: 16, Train: 128, Val: 64, AutoencoderEpochs: 1, ContrastiveEpochs: 1, Batch: 32,
		Bases: 8, Variants: 3, OrbitSets: 4, OrbitSize: 3},
}

// FindSize returns the size called name.
func FindSize(name string) (Size, bool) {
	for _, s := range Sizes {
		if s.Name == name {
			return s, true
		}
	}
	return Size{}, false
}

// Spec is the dataset of the size.
func (s Size) Spec() dataset.Spec {
	n := s.Train + s.Val
	return dataset.Spec{N: n, Seed: s.Seed, Res: s.Res, ValFrac: float64(s.Val) / float64(n)}
}

// epochs returns the training epochs of an encoder of the size.
func (s Size) epochs(e Encoder) int {
	if e.Epochs > 0 {
		return min(e.Epochs, s.ContrastiveEpochs)
	}
	if e.Objective == encoder.Autoencoder {
		return s.AutoencoderEpochs
	}
	return s.ContrastiveEpochs
}

// Encoder is one encoder of the experiment; Name is also its space's.
type Encoder struct {
	Name         string            `json:"name"`
	Objective    encoder.Objective `json:"objective"`
	Augmentation string            `json:"augmentation,omitempty"`
	// Label is the label a supervised or dual encoder classifies.
	Label string `json:"label,omitempty"`
	// NoNormalize trains contrastive on unnormalized outputs (the
	// shortcut); Epochs, when not 0, caps the size's epochs.
	NoNormalize bool `json:"no_normalize,omitempty"`
	Epochs      int  `json:"epochs,omitempty"`
}

// Encoders are the encoders of the experiment, in the order of its report.
var Encoders = []Encoder{
	{Name: "autoencoder", Objective: encoder.Autoencoder},
	{Name: "contrastive-A", Objective: encoder.Contrastive, Augmentation: "A"},
	{Name: "contrastive-B", Objective: encoder.Contrastive, Augmentation: "B"},
	{Name: "contrastive-C", Objective: encoder.Contrastive, Augmentation: "C"},
	{Name: "pixels", Objective: encoder.Pixels},
	{Name: "random", Objective: encoder.Random},
	// The seed's other claims: cross-entropy as dual-encoder contrastive
	// (6) and the normalization shortcut (5), trained briefly.
	{Name: "supervised-color", Objective: encoder.Supervised, Label: "color", Epochs: 4},
	{Name: "dual-encoder-color", Objective: encoder.DualEncoder, Label: "color", Epochs: 4},
	{Name: "shortcut-A", Objective: encoder.Contrastive, Augmentation: "A", NoNormalize: true, Epochs: 2},
}

// Options configure Run. Dir and Size are required; the callbacks may be
// nil. Run calls them from one goroutine at a time.
type Options struct {
	// Dir is the experiment's folder: dataset, encoders, database, report
	// and state.
	Dir string
	// Size is the experiment's size, its Seed included.
	Size Size
	// Log, when not nil, receives a line for the user about what happens
	// (a step found done, the time estimate).
	Log func(line string)
	// Progress, when not nil, is called as each stage advances.
	Progress func(Progress)
	// Index and Report, when not nil, receive the progress of the index
	// (loading, building and saving graphs) and of the report.
	Index  func(index.Progress)
	Report func(report.Progress)
}

// Progress reports a stage of Run with a known number of steps.
type Progress struct {
	// Stage names it: "generate", "train contrastive-A", "ingest pixels".
	Stage string
	// Unit is what is counted: "images" or "steps".
	Unit string
	// Done and Total count them.
	Done, Total int
	// Detail says more (epoch, loss, speed), or is empty.
	Detail string
}

// Result says what Run made. Its JSON form is the demo's result.
type Result struct {
	Dir      string         `json:"dir"`
	Size     Size           `json:"size"`
	Dataset  string         `json:"dataset"`
	Encoders []string       `json:"encoders"`
	Database string         `json:"database"`
	Report   *report.Report `json:"report"`
	// Files are the report's files.
	Files []string `json:"files"`
	// Stages are the seconds of each stage; Seconds the whole run's.
	Stages  map[string]float64 `json:"stage_seconds"`
	Seconds float64            `json:"seconds"`
}

// Paths of the experiment's folder.
func (o Options) datasetDir() string  { return filepath.Join(o.Dir, "shapes") }
func (o Options) encodersDir() string { return filepath.Join(o.Dir, "encoders") }
func (o Options) database() string    { return filepath.Join(o.Dir, "shapes.db") }
func (o Options) reportDir() string   { return filepath.Join(o.Dir, "report") }
func (o Options) checkpoint(e Encoder) string {
	return filepath.Join(o.encodersDir(), e.Name+".safetensors")
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, args...))
	}
}

func (o Options) progress(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// Run runs the whole chain in opts.Dir: it generates the dataset, trains
// (or makes) the encoders, ingests the dataset into one database with a
// space per encoder, and reports on every space. Each step that an earlier
// run of the same size finished is not done again, so an interrupted run
// resumes; a folder that holds an experiment of another size, or anything
// else, is an error wrapping ErrFolder.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := Claim(opts.Dir, opts.Size); err != nil {
		return nil, err
	}
	size := opts.Size
	res := &Result{Dir: opts.Dir, Size: size, Stages: map[string]float64{}, Dataset: opts.datasetDir(), Database: opts.database()}
	stage := func(name string) func() {
		begin := time.Now()
		return func() { res.Stages[name] = time.Since(begin).Seconds() }
	}

	var est Estimated
	if size.Name != "tiny" && !trained(opts) {
		var err error
		if est, err = Estimate(ctx, size); err != nil {
			return nil, err
		}
		opts.logf("training the %d encoders on %d images will take about %s on this machine (contrastive %.0f pairs/s, autoencoder %.0f images/s, supervised %.0f images/s)",
			est.Encoders, size.Train, RoughDuration(est.Seconds), est.ContrastivePairsPerSecond, est.AutoencoderImagesPerSecond, est.ClassifierImagesPerSecond)
	}

	done := stage("generate")
	if err := generate(ctx, opts); err != nil {
		return nil, err
	}
	done()

	done = stage("train")
	encoders, err := trainAll(ctx, opts, est)
	if err != nil {
		return nil, err
	}
	for i, e := range Encoders {
		if encoders[i] != nil {
			res.Encoders = append(res.Encoders, opts.checkpoint(e))
		}
	}
	done()

	done = stage("ingest")
	db, err := index.Open(opts.database(), index.Options{Progress: opts.Index})
	if err != nil {
		return nil, err
	}
	st := index.FileStore(db)
	defer st.Close()
	for i, e := range Encoders {
		if encoders[i] == nil {
			continue // a shortcut run that overflowed
		}
		_, err := ingest.Run(ctx, st, ingest.Options{
			Source: opts.datasetDir(), Space: e.Name, Encoder: encoders[i], Strict: true,
			Progress: func(p ingest.Progress) {
				opts.progress(Progress{Stage: "ingest " + e.Name, Unit: "images", Done: p.Done, Total: p.Total})
			},
		})
		if err != nil {
			return nil, fmt.Errorf("ingest into %s: %w", e.Name, err)
		}
	}
	done()

	done = stage("report")
	ropts := report.Options{
		Bases: size.Bases, Variants: size.Variants, OrbitSets: size.OrbitSets, OrbitSize: size.OrbitSize, Seed: size.Seed,
		Progress: opts.Report,
	}
	for i, e := range Encoders {
		if encoders[i] != nil {
			ropts.Spaces = append(ropts.Spaces, e.Name)
		}
	}
	if err := report.Prepare(ctx, st, ropts); err != nil {
		return nil, err
	}
	if res.Report, err = report.Run(ctx, st, ropts); err != nil {
		return nil, err
	}
	if res.Files, err = render.WriteFiles(opts.reportDir(), res.Report, st); err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	done()
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// state is <dir>/demo.json: the size an experiment's folder was made with,
// so that a second run resumes it and a run of another size does not mix
// with it.
type state struct {
	Version int  `json:"version"`
	Size    Size `json:"size"`
}

// stateFile is the name of the state in an experiment's folder.
const stateFile = "demo.json"

// Claim creates dir for an experiment of size, or checks that the
// experiment already in it has that size, so that a run resumes it. A
// folder that holds something else, or an experiment of another size or
// seed, is an error wrapping ErrFolder.
func Claim(dir string, size Size) error {
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		var s state
		if err := json.Unmarshal(b, &s); err != nil || s.Version != 1 {
			return fmt.Errorf("%w: %s is not a demo state file; give another folder", ErrFolder, path)
		}
		if s.Size != size {
			return fmt.Errorf("%w: %s holds a demo of size %s (seed %d); give another folder, or the same size and seed to resume it",
				ErrFolder, dir, s.Size.Name, s.Size.Seed)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: %s is not empty and holds no demo; give another folder", ErrFolder, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err = json.MarshalIndent(state{Version: 1, Size: size}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// generate writes the dataset folder unless a complete one is there.
func generate(ctx context.Context, opts Options) error {
	spec := opts.Size.Spec()
	dir := opts.datasetDir()
	if folder, err := dataset.ReadFolder(dir); err == nil && folder.Spec == spec {
		opts.logf("dataset: %s already holds %s", dir, spec)
		return nil
	}
	return dataset.WriteFolder(ctx, dir, spec, dataset.WriteOptions{
		Overwrite: true,
		Progress: func(done, total int) {
			opts.progress(Progress{Stage: "generate", Unit: "images", Done: done, Total: total})
		},
	})
}

// trained reports whether every trained encoder of the experiment is there
// from an earlier run.
func trained(opts Options) bool {
	for _, e := range Encoders {
		if _, err := os.Stat(opts.checkpoint(e)); e.Objective.Trained() && err != nil {
			return false
		}
	}
	return true
}

// trainAll trains (or loads, when an earlier run finished them) the
// experiment's encoders, in the order of Encoders. An encoder whose
// training stopped goes on from its training state.
func trainAll(ctx context.Context, opts Options, est Estimated) ([]encoder.Encoder, error) {
	if err := os.MkdirAll(opts.encodersDir(), 0o755); err != nil {
		return nil, err
	}
	size := opts.Size
	var training *encoder.TrainingSet
	models := make([]encoder.Encoder, len(Encoders))
	for i, e := range Encoders {
		path := opts.checkpoint(e)
		if m, err := encoder.Load(path); err == nil {
			opts.logf("train %s: %s already trained", e.Name, path)
			models[i] = m
			continue
		}
		var m *encoder.Model
		var err error
		if !e.Objective.Trained() {
			m, err = encoder.NewBaseline(encoder.BaselineOptions{
				Objective: e.Objective, Res: size.Res, Width: size.Width, Latent: size.Latent, Seed: size.Seed,
			})
		} else {
			if training == nil {
				if training, err = encoder.LoadTrainingSet(ctx, opts.datasetDir()); err != nil {
					return nil, err
				}
			}
			m, err = trainOne(ctx, opts, training, e, newTrainClock(opts, est, i))
		}
		if err != nil && e.NoNormalize && errors.Is(err, encoder.ErrNonFiniteLoss) {
			// The shortcut may overflow: that is the seed's point, not a
			// failure of the experiment.
			opts.logf("train %s: %v; the space is left out", e.Name, err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", e.Name, err)
		}
		if err := m.Save(path); err != nil {
			return nil, err
		}
		models[i] = m
	}
	return models, nil
}

// trainOne trains one encoder, going on from its training state if an
// earlier run left one, and writes its loss CSV beside its checkpoint. The
// progress tells the time all the training has left.
func trainOne(ctx context.Context, opts Options, data *encoder.TrainingSet, e Encoder, clock *trainClock) (*encoder.Model, error) {
	size := opts.Size
	stage := "train " + e.Name
	begin := -1
	return encoder.TrainToFiles(ctx, encoder.TrainOptions{
		Data: data, Objective: e.Objective, Augmentation: e.Augmentation, Label: e.Label, NoNormalize: e.NoNormalize,
		Width: size.Width, Latent: size.Latent, Epochs: size.epochs(e), Batch: size.Batch, Seed: size.Seed,
		Progress: func(p encoder.Progress) {
			if begin < 0 {
				begin = p.Step - 1
				if begin > 0 {
					opts.logf("train %s: resuming at step %d of %d from its training state", e.Name, begin, p.Steps)
				}
			}
			detail := fmt.Sprintf("epoch %d/%d, loss %.4f, %.0f images/s", p.Epoch, p.Epochs, p.Loss, p.ImagesPerSecond)
			if left := clock.left(e, p, begin); left > 0 {
				detail += ", all training done in about " + RoughDuration(left.Seconds())
			}
			// This run's steps, as train counts them, so that the bar's
			// speed and ETA are this run's.
			opts.progress(Progress{Stage: stage, Unit: "steps", Done: p.Step - begin, Total: p.Steps - begin, Detail: detail})
		},
	}, opts.checkpoint(e))
}

// Estimated is the training time of an experiment on this machine,
// measured on a few steps of its networks.
type Estimated struct {
	// Encoders counts the encoders to train.
	Encoders int
	// ContrastivePairsPerSecond, AutoencoderImagesPerSecond and
	// ClassifierImagesPerSecond are the measured speeds: of the steps of
	// pairs of views, of the autoencoder, and of the one-view steps of the
	// supervised and dual encoders (which take the classifier's).
	ContrastivePairsPerSecond  float64
	AutoencoderImagesPerSecond float64
	ClassifierImagesPerSecond  float64
	// Seconds is the estimated time of all the training.
	Seconds float64
}

// rate is the measured speed of a step of the objective's training, in
// images (pairs) per second; 0 when not measured.
func (est Estimated) rate(o encoder.Objective) float64 {
	switch o {
	case encoder.Autoencoder:
		return est.AutoencoderImagesPerSecond
	case encoder.Supervised, encoder.DualEncoder:
		return est.ClassifierImagesPerSecond
	}
	return est.ContrastivePairsPerSecond
}

// Estimate measures the training speed of this machine on a few steps of
// the size's networks and estimates how long the experiment's training
// takes.
func Estimate(ctx context.Context, size Size) (Estimated, error) {
	const steps = 3
	spec := dataset.Spec{N: steps * size.Batch, Seed: size.Seed, Res: size.Res}
	data, err := encoder.LoadTrainingSet(ctx, spec.String())
	if err != nil {
		return Estimated{}, err
	}
	// The images (pairs) a second of a step, from the second step on (the
	// first builds the graph).
	perSecond := func(objective encoder.Objective, augmentation, label string) (float64, error) {
		var first, last time.Duration
		_, err := encoder.Train(ctx, encoder.TrainOptions{
			Data: data, Objective: objective, Augmentation: augmentation, Label: label,
			Width: size.Width, Latent: size.Latent, Epochs: 1, Batch: size.Batch, Seed: size.Seed,
			Progress: func(p encoder.Progress) {
				if p.Step == 1 {
					first = p.Elapsed
				}
				last = p.Elapsed
			},
		})
		seconds := (last - first).Seconds() / (steps - 1)
		return float64(size.Batch) / cmp.Or(seconds, 1e-9), err
	}
	var est Estimated
	if est.ContrastivePairsPerSecond, err = perSecond(encoder.Contrastive, "A", ""); err != nil {
		return Estimated{}, err
	}
	if est.AutoencoderImagesPerSecond, err = perSecond(encoder.Autoencoder, "", ""); err != nil {
		return Estimated{}, err
	}
	// The supervised step stands for the dual encoder's too: the same
	// network over one view, as fast (BENCHMARKS.md).
	if est.ClassifierImagesPerSecond, err = perSecond(encoder.Supervised, "", "color"); err != nil {
		return Estimated{}, err
	}
	stepsPerEpoch := float64(encoder.StepsPerEpoch(size.Train, size.Batch, false))
	for _, e := range Encoders {
		if !e.Objective.Trained() {
			continue
		}
		est.Encoders++
		est.Seconds += stepsPerEpoch * float64(size.epochs(e)) * float64(size.Batch) / est.rate(e.Objective)
	}
	return est, nil
}

// RoughDuration writes seconds as a person would say them: "40 s",
// "12 min", "5 h 10 min".
func RoughDuration(seconds float64) string {
	switch {
	case seconds < 90:
		return fmt.Sprintf("%.0f s", seconds)
	case seconds < 90*60:
		return fmt.Sprintf("%.0f min", seconds/60)
	}
	minutes := int(seconds/60 + 0.5)
	return fmt.Sprintf("%d h %d min", minutes/60, minutes%60)
}
