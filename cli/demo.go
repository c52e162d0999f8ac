package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/report"
)

// demoSize is one size of the demo: the dataset, the encoders and the
// report's probes.
type demoSize struct {
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

// demoSizes are the sizes --size offers. small is the default: the
// smallest size whose encoders still show the pattern the theory predicts
// for augmentations A, B and C. full is the seed's own experiment.
var demoSizes = []demoSize{
	{Name: "small", Res: 32, Width: 32, Latent: 128, Train: 2000, Val: 1000, AutoencoderEpochs: 8, ContrastiveEpochs: 8, Batch: 64,
		Bases: 200, Variants: 8, OrbitSets: 100, OrbitSize: 8},
	{Name: "full", Res: 64, Width: 32, Latent: 128, Train: 40000, Val: 24000, AutoencoderEpochs: 30, ContrastiveEpochs: 15, Batch: 256,
		Bases: 400, Variants: 8, OrbitSets: 200, OrbitSize: 8},
	{Name: "tiny", Res: 16, Width: 4, Latent: 16, Train: 128, Val: 64, AutoencoderEpochs: 1, ContrastiveEpochs: 1, Batch: 32,
		Bases: 8, Variants: 3, OrbitSets: 4, OrbitSize: 3},
}

func findDemoSize(name string) (demoSize, bool) {
	for _, s := range demoSizes {
		if s.Name == name {
			return s, true
		}
	}
	return demoSize{}, false
}

// spec is the dataset of the size.
func (s demoSize) spec() dataset.Spec {
	n := s.Train + s.Val
	return dataset.Spec{N: n, Seed: s.Seed, Res: s.Res, ValFrac: float64(s.Val) / float64(n)}
}

// demoEncoder is one encoder of the demo, and the name of its space.
type demoEncoder struct {
	name         string
	objective    encoder.Objective
	augmentation string
}

var demoEncoders = []demoEncoder{
	{"autoencoder", encoder.Autoencoder, ""},
	{"contrastive-A", encoder.Contrastive, "A"},
	{"contrastive-B", encoder.Contrastive, "B"},
	{"contrastive-C", encoder.Contrastive, "C"},
	{"pixels", encoder.Pixels, ""},
	{"random", encoder.Random, ""},
}

func newDemoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "run the whole chain on a small default and print what each encoder is invariant to",
		ArgsUsage: " ",
		Description: `Runs the whole simsearch chain in one folder (--out):

  1. generate a colored-shapes dataset            <out>/shapes/
  2. train an autoencoder and three contrastive    <out>/encoders/
     encoders (augmentations A, B, C), and make
     the pixels and random baselines
  3. ingest the dataset into one database file,    <out>/shapes.db
     one space per encoder
  4. measure what each space is invariant to       <out>/report/

and prints the comparison table. The theory predicts that augmentation A
(colour jitter) makes an encoder invariant to colour, B (rotations and
crops) invariant to location, and C (shears, perspective, crops) invariant
to shape and location; the report says what the encoders really did.

Sizes (--size):
   small  32 px, 2,000 training images, 8 epochs of batch 64: a few minutes
          on 2 cores (the default)
   full   the seed's experiment: 64 px, 40,000 training and 24,000
          validation images, autoencoder 30 epochs, contrastive 15, batch
          256; it measures the training speed first and says how long the
          run will take
   tiny   seconds; checks that everything runs, its numbers mean nothing

Interrupting (Ctrl-C) keeps what is finished; running the same command
again resumes: finished steps are not done twice.

Example:
   simsearch demo --out demo`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "simsearch-demo", Usage: "folder for the dataset, encoders, database and report"},
			&cli.StringFlag{Name: "size", Value: "small", Usage: "small, full or tiny"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the dataset, the training and the report"},
		},
		Action: runDemo,
	}
}

// demoResult is the result of demo.
type demoResult struct {
	Dir      string             `json:"dir"`
	Size     demoSize           `json:"size"`
	Dataset  string             `json:"dataset"`
	Encoders []string           `json:"encoders"`
	Database string             `json:"database"`
	Report   *report.Report     `json:"report"`
	Files    []string           `json:"files"`
	Stages   map[string]float64 `json:"stage_seconds"`
	Seconds  float64            `json:"seconds"`
}

// demoState is <out>/demo.json: the size a folder's demo was made with, so
// that a second run resumes it and a run of another size does not mix with
// it.
type demoState struct {
	Version int      `json:"version"`
	Size    demoSize `json:"size"`
}

func runDemo(c *cli.Context) error {
	o := newOutput(c)
	size, ok := findDemoSize(c.String("size"))
	if !ok {
		return usagef("--size %q: want small, full or tiny", c.String("size"))
	}
	size.Seed = c.Uint64("seed")
	dir := c.String("out")
	if err := claimDemoFolder(dir, size); err != nil {
		return err
	}
	start := time.Now()
	res := demoResult{Dir: dir, Size: size, Stages: map[string]float64{}}
	stage := func(name string) func() {
		begin := time.Now()
		return func() { res.Stages[name] = time.Since(begin).Seconds() }
	}
	ctx := c.Context

	if size.Name != "tiny" && !demoTrained(dir) {
		if err := demoEstimate(ctx, o, size); err != nil {
			return err
		}
	}

	// 1. The dataset.
	done := stage("generate")
	spec := size.spec()
	res.Dataset = filepath.Join(dir, "shapes")
	if err := demoDataset(ctx, o, res.Dataset, spec); err != nil {
		return err
	}
	done()

	// 2. The encoders.
	done = stage("train")
	models, err := demoTrain(ctx, o, dir, res.Dataset, size)
	if err != nil {
		return err
	}
	for _, e := range demoEncoders {
		res.Encoders = append(res.Encoders, demoCheckpoint(dir, e))
	}
	done()

	// 3. One database, one space per encoder.
	done = stage("ingest")
	res.Database = filepath.Join(dir, "shapes.db")
	db, err := index.Open(res.Database, index.Options{Progress: indexProgress(o).report})
	if err != nil {
		return err
	}
	defer db.Close()
	for i, e := range demoEncoders {
		bar := o.newProgress("ingest "+e.name, "images", int64(spec.N))
		_, err := ingest.Run(ctx, db, ingest.Options{
			Source: res.Dataset, Space: e.name, Encoder: models[i], Strict: true,
			Progress: func(p ingest.Progress) { bar.Set(int64(p.Done)) },
		})
		bar.Done()
		if err != nil {
			return fmt.Errorf("ingest into %s: %w", e.name, err)
		}
	}
	done()

	// 4. The report.
	done = stage("report")
	opts := report.Options{
		Bases: size.Bases, Variants: size.Variants, OrbitSets: size.OrbitSets, OrbitSize: size.OrbitSize, Seed: size.Seed,
	}
	for _, e := range demoEncoders {
		opts.Spaces = append(opts.Spaces, e.name)
	}
	opts.Progress = reportProgress(o)
	r, err := report.Run(ctx, db, opts)
	opts.Progress(report.Progress{})
	if err != nil {
		return err
	}
	if res.Files, err = r.WriteFiles(filepath.Join(dir, "report")); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	done()
	res.Report = r
	res.Seconds = time.Since(start).Seconds()

	return o.result("demo", res, func(w io.Writer) error {
		fmt.Fprintf(w, "What each encoder kept and ignored (k-NN accuracy of the factor's label, and the verdict):\n\n")
		if err := r.WriteSummary(w); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nDataset   %s\nEncoders  %s\nDatabase  %s\nReport    %s\n",
			res.Dataset, filepath.Join(dir, "encoders"), res.Database, filepath.Join(dir, "report", "report.md"))
		_, err := fmt.Fprintf(w, "Done in %s.\n", time.Duration(res.Seconds*float64(time.Second)).Round(time.Second))
		return err
	})
}

// claimDemoFolder creates dir for a demo of size, or checks that the demo
// already in it has that size, so that a second run resumes it.
func claimDemoFolder(dir string, size demoSize) error {
	path := filepath.Join(dir, "demo.json")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		var state demoState
		if err := json.Unmarshal(b, &state); err != nil || state.Version != 1 {
			return usagef("%s is not a demo state file; give another --out", path)
		}
		if state.Size != size {
			return usagef("%s holds a demo of size %s (seed %d); give another --out, or the same --size and --seed to resume it",
				dir, state.Size.Name, state.Size.Seed)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return usagef("%s is not empty and holds no demo; give another --out", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err = json.MarshalIndent(demoState{Version: 1, Size: size}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// demoDataset writes the dataset folder unless a complete one is there.
func demoDataset(ctx context.Context, o *output, dir string, spec dataset.Spec) error {
	if folder, err := dataset.ReadFolder(dir); err == nil && folder.Spec == spec {
		o.logf("dataset: %s already holds %s", dir, spec)
		return nil
	}
	bar := o.newProgress("generate", "images", int64(spec.N))
	defer bar.Done()
	return dataset.WriteFolder(ctx, dir, spec, dataset.WriteOptions{
		Overwrite: true,
		Progress:  func(done, _ int) { bar.Set(int64(done)) },
	})
}

// demoTrained reports whether every trained encoder of the demo in dir is
// there from an earlier run.
func demoTrained(dir string) bool {
	for _, e := range demoEncoders {
		if _, err := os.Stat(demoCheckpoint(dir, e)); e.objective.Trained() && err != nil {
			return false
		}
	}
	return true
}

func demoCheckpoint(dir string, e demoEncoder) string {
	return filepath.Join(dir, "encoders", e.name+".safetensors")
}

// demoTrain trains (or loads, when a previous run finished them) the
// demo's encoders, in the order of demoEncoders.
func demoTrain(ctx context.Context, o *output, dir, data string, size demoSize) ([]*encoder.Model, error) {
	if err := os.MkdirAll(filepath.Join(dir, "encoders"), 0o755); err != nil {
		return nil, err
	}
	var training *encoder.TrainingSet
	models := make([]*encoder.Model, len(demoEncoders))
	for i, e := range demoEncoders {
		path := demoCheckpoint(dir, e)
		if m, err := encoder.Load(path); err == nil {
			o.logf("train %s: %s already trained", e.name, path)
			models[i] = m
			continue
		}
		var m *encoder.Model
		var err error
		if !e.objective.Trained() {
			m, err = encoder.NewBaseline(encoder.BaselineOptions{
				Objective: e.objective, Res: size.Res, Width: size.Width, Latent: size.Latent, Seed: size.Seed,
			})
		} else {
			if training == nil {
				if training, err = encoder.LoadTrainingSet(ctx, data); err != nil {
					return nil, err
				}
			}
			m, err = demoTrainOne(ctx, o, path, training, e, size)
		}
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", e.name, err)
		}
		if err := m.Save(path); err != nil {
			return nil, err
		}
		models[i] = m
	}
	return models, nil
}

// demoTrainOne trains one encoder, writing its loss CSV beside path.
func demoTrainOne(ctx context.Context, o *output, path string, data *encoder.TrainingSet, e demoEncoder, size demoSize) (*encoder.Model, error) {
	epochs := size.ContrastiveEpochs
	if e.objective == encoder.Autoencoder {
		epochs = size.AutoencoderEpochs
	}
	lossPath := strings.TrimSuffix(path, ".safetensors") + ".loss.csv"
	lossFile, err := os.Create(lossPath)
	if err != nil {
		return nil, err
	}
	defer lossFile.Close()
	steps := int64(data.Len() / size.Batch * epochs)
	bar := o.newProgress("train "+e.name, "steps", steps)
	defer bar.Done()
	return encoder.Train(ctx, encoder.TrainOptions{
		Data: data, Objective: e.objective, Augmentation: e.augmentation,
		Width: size.Width, Latent: size.Latent, Epochs: epochs, Batch: size.Batch, Seed: size.Seed,
		LossLog: lossFile,
		Progress: func(p encoder.Progress) {
			bar.Set(int64(p.Step))
			bar.Describe(fmt.Sprintf("epoch %d/%d, loss %.4f, %.0f images/s", p.Epoch, p.Epochs, p.Loss, p.ImagesPerSecond))
		},
	})
}

// demoEstimate measures the training speed of this machine on a few steps
// of the size's networks and says how long the demo's training will take.
func demoEstimate(ctx context.Context, o *output, size demoSize) error {
	const steps = 3
	spec := dataset.Spec{N: steps * size.Batch, Seed: size.Seed, Res: size.Res}
	data, err := encoder.LoadTrainingSet(ctx, spec.String())
	if err != nil {
		return err
	}
	// The seconds of one step, from the second step on (the first builds
	// the graph).
	stepSeconds := func(objective encoder.Objective, augmentation string) (float64, error) {
		var first, last time.Duration
		_, err := encoder.Train(ctx, encoder.TrainOptions{
			Data: data, Objective: objective, Augmentation: augmentation,
			Width: size.Width, Latent: size.Latent, Epochs: 1, Batch: size.Batch, Seed: size.Seed,
			Progress: func(p encoder.Progress) {
				if p.Step == 1 {
					first = p.Elapsed
				}
				last = p.Elapsed
			},
		})
		return (last - first).Seconds() / (steps - 1), err
	}
	o.logf("measuring the training speed of this machine at %d px, batch %d ...", size.Res, size.Batch)
	contrastive, err := stepSeconds(encoder.Contrastive, "A")
	if err != nil {
		return err
	}
	autoencoder, err := stepSeconds(encoder.Autoencoder, "")
	if err != nil {
		return err
	}
	stepsPerEpoch := float64(size.Train / size.Batch)
	total := stepsPerEpoch * (float64(size.AutoencoderEpochs)*autoencoder + 3*float64(size.ContrastiveEpochs)*contrastive)
	o.logf("training the 4 encoders on %d images will take about %s on this machine (contrastive %.0f pairs/s, autoencoder %.0f images/s)",
		size.Train, roughDuration(total), float64(size.Batch)/contrastive, float64(size.Batch)/autoencoder)
	return nil
}

// roughDuration writes seconds as a person would say them: "40 s",
// "12 min", "5 h 10 min".
func roughDuration(seconds float64) string {
	switch {
	case seconds < 90:
		return fmt.Sprintf("%.0f s", seconds)
	case seconds < 90*60:
		return fmt.Sprintf("%.0f min", seconds/60)
	}
	minutes := int(seconds/60 + 0.5)
	return fmt.Sprintf("%d h %d min", minutes/60, minutes%60)
}
