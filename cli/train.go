package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/dataset"
	"simsearch/encoder"
)

func newTrainCommand() *cli.Command {
	def := encoder.DefaultTrainOptions()
	return &cli.Command{
		Name:      "train",
		Usage:     "train an encoder and write a checkpoint",
		ArgsUsage: " ",
		Description: `Trains the seed's convolutional encoder on the training split of --data (a
folder written by "generate", or a generator spec rendered in memory) and
writes a safetensors checkpoint to --out, with the loss of every step in a
CSV beside it (enc-A.safetensors → enc-A.loss.csv).

Training keeps a state beside the checkpoint (enc-A.train-state), written
after every epoch and on Ctrl-C: the same command run again, after an
interruption, a kill or a reboot, goes on from it to the weights an
uninterrupted run would have reached, bit for bit. A state of other settings
is refused with the setting that differs; --restart starts afresh instead.

The recipe is the one a PyTorch user writes: pixels centred to [-1, 1]
(ToTensor, Normalize(0.5, 0.5); --input unit feeds [0, 1]), Adam as
torch.optim.Adam, a shuffled order each epoch whose last, partial batch is
a step of its own (DataLoader's default; --drop-last drops it), the
initialization of torch.nn's Conv2d and Linear.

Objectives:
   contrastive   InfoNCE on pairs of views made by --aug (A, B, C or
                 primitives, see "simsearch augment --help"), temperature --tau
   autoencoder   mean squared error of a mirrored decoder's reconstruction
   supervised    cross-entropy on the factor label --label
                 (shape, color, location or size)
   dual-encoder  InfoNCE over the classes of --label: the normalized
                 embedding against one learned embedding per class; the
                 seed's reading of cross-entropy as contrastive learning

--no-normalize trains contrastive on unnormalized outputs, to watch the
shortcut the seed warns of (the loss CSV gains mean_output_norm and
logit_scale; a non-finite loss stops training and says why).

--baseline writes an untrained model instead: pixels (average colours over
an 8×8 grid) or random (a randomly initialized encoder). Every checkpoint
embeds images the same way, so baselines can be ingested and reported beside
trained encoders.

Examples:
   simsearch train --objective contrastive --aug A --data shapes:n=2000,res=32 --batch 64 --out enc-A.safetensors
   simsearch train --objective supervised --label color --data shapes64 --out sup-color.safetensors
   simsearch train --objective dual-encoder --label color --data shapes64 --out dual-color.safetensors
   simsearch train --baseline pixels --res 32 --out pixels.safetensors`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "objective", Value: string(def.Objective), Usage: "contrastive, autoencoder, supervised or dual-encoder"},
			&cli.StringFlag{Name: "baseline", Usage: "write an untrained baseline instead: pixels or random"},
			&cli.StringFlag{Name: "aug", Aliases: []string{"a"}, Value: def.Augmentation, Usage: "augmentation of contrastive training: A, B, C or primitives"},
			&cli.StringFlag{Name: "label", Usage: "label of supervised or dual-encoder training: shape, color, location or size"},
			&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "training data: a dataset folder or a generator spec such as shapes:n=2000,seed=1,res=32"},
			&cli.IntFlag{Name: "res", Usage: "image resolution (default: the data's, or 32 for a baseline without --data)"},
			&cli.IntFlag{Name: "width", Value: def.Width, Usage: "channels of the first convolution; each next one doubles"},
			&cli.IntFlag{Name: "latent", Value: def.Latent, Usage: "size of the encoder's output (the embedding)"},
			&cli.IntFlag{Name: "epochs", Value: def.Epochs, Usage: "passes over the training data"},
			&cli.IntFlag{Name: "batch", Value: def.Batch, Usage: "images per step (pairs, for contrastive)"},
			&cli.BoolFlag{Name: "drop-last", Usage: "drop each epoch's last, partial batch (PyTorch's drop_last=True) instead of training on it"},
			&cli.StringFlag{Name: "input", Value: string(encoder.Centered), Usage: "pixels fed to the network: centered (RGB in [-1, 1], Normalize(0.5, 0.5)) or unit ([0, 1])"},
			&cli.Float64Flag{Name: "lr", Value: def.LearningRate, Usage: "learning rate of Adam"},
			&cli.Float64Flag{Name: "tau", Value: def.Tau, Usage: "temperature of InfoNCE"},
			&cli.BoolFlag{Name: "no-normalize", Usage: "contrastive on the outputs before their L2 normalization (the seed's shortcut: the norms grow, the loss falls toward 0, exp may overflow); the loss CSV adds mean_output_norm and logit_scale"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "seed of the weights, batches and augmentations"},
			&cli.IntFlag{Name: "pool", Value: encoder.DefaultPool, Usage: "grid side of the pixels baseline"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "checkpoint file to write (.safetensors)"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace --out (and its loss CSV) if it exists"},
			&cli.BoolFlag{Name: "restart", Usage: "start afresh, replacing a training state beside --out instead of resuming it"},
		},
		Action: runTrain,
	}
}

// trainResult is the result of train.
type trainResult struct {
	Path            string  `json:"path"`
	ID              string  `json:"id"`
	Objective       string  `json:"objective"`
	Augmentation    string  `json:"augmentation,omitempty"`
	Label           string  `json:"label,omitempty"`
	Description     string  `json:"description"`
	Dim             int     `json:"dim"`
	Params          int     `json:"params"`
	Images          int     `json:"images,omitempty"`
	Epochs          int     `json:"epochs,omitempty"`
	Steps           int     `json:"steps,omitempty"`
	Seconds         float64 `json:"seconds"`
	ImagesPerSecond float64 `json:"images_per_second,omitempty"`
	FinalLoss       float64 `json:"final_loss,omitempty"`
	LossCSV         string  `json:"loss_csv,omitempty"`
}

func runTrain(c *cli.Context) error {
	o := newOutput(c)
	out := c.String("out")
	switch {
	case out == "":
		return usagef("train needs --out, the checkpoint file to write")
	case c.NArg() > 0:
		return usagef("train takes no arguments, only flags (got %q)", strings.Join(c.Args().Slice(), " "))
	}
	// A number the user typed is used as it is: where 0 makes no sense it
	// is an error, never the default.
	for _, flag := range []string{"width", "latent", "epochs", "batch", "pool"} {
		if c.Int(flag) < 1 {
			return usagef("--%s must be at least 1, not %d", flag, c.Int(flag))
		}
	}
	for _, flag := range []string{"lr", "tau"} {
		if v := c.Float64(flag); !(v > 0) || math.IsInf(v, 0) {
			return usagef("--%s must be a positive number, not %v", flag, v)
		}
	}
	if c.IsSet("res") && c.Int("res") < 1 {
		return usagef("--res must be at least 1, not %d", c.Int("res"))
	}
	lossPath := encoder.LossPath(out)
	if !c.Bool("overwrite") {
		for _, p := range []string{out, lossPath} {
			if _, err := os.Stat(p); err == nil {
				return usagef("%s exists; add --overwrite to replace it", p)
			}
		}
	}
	if c.String("baseline") != "" {
		return runBaseline(c, o, out)
	}
	objective, err := encoder.ParseObjective(c.String("objective"))
	if err != nil || !objective.Trained() {
		return usagef("--objective %q: want contrastive, autoencoder, supervised or dual-encoder (use --baseline for pixels and random)", c.String("objective"))
	}
	if c.String("data") == "" {
		return usagef("train needs --data: a dataset folder, or a generator spec such as shapes:n=2000,seed=1,res=32")
	}
	if objective.Classifies() && dataset.LabelClasses(c.String("label")) == 0 {
		if l := c.String("label"); l != "" {
			return usagef("--label %q: want shape, color, location or size", l)
		}
		return usagef("--objective %s needs --label: shape, color, location or size", objective)
	}
	if c.Bool("no-normalize") && objective != encoder.Contrastive {
		return usagef("--no-normalize is for --objective contrastive, whose outputs are normalized")
	}
	if objective == encoder.Contrastive {
		if _, err := dataset.ParseAugmentation(c.String("aug")); err != nil {
			return usagef("--aug: %v", err)
		}
	}
	input, err := encoder.ParseInput(c.String("input"))
	if err != nil {
		return usagef("--input %q: want centered or unit", c.String("input"))
	}

	o.logf("loading training data from %s", c.String("data"))
	data, err := encoder.LoadTrainingSet(c.Context, c.String("data"))
	if err != nil {
		return err
	}
	opts := encoder.TrainOptions{
		Data: data, Objective: objective, Augmentation: c.String("aug"), Label: c.String("label"),
		Res: c.Int("res"), Width: c.Int("width"), Latent: c.Int("latent"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LearningRate: c.Float64("lr"), Tau: c.Float64("tau"),
		Seed: c.Uint64("seed"), NoNormalize: c.Bool("no-normalize"), Restart: c.Bool("restart"), DropLast: c.Bool("drop-last"), Input: input,
	}
	if _, err := os.Stat(encoder.StatePath(out)); err == nil && !opts.Restart {
		o.logf("resuming from the training state %s", encoder.StatePath(out))
	}
	var bar *progress
	var resumed int64 // steps done before this run, so that the speed and ETA are this run's
	opts.Progress = func(p encoder.Progress) {
		if bar == nil {
			resumed = int64(p.Step - 1)
			bar = o.newProgress("train", "steps", int64(p.Steps)-resumed)
		}
		bar.Set(int64(p.Step) - resumed)
		bar.Describe(fmt.Sprintf("epoch %d/%d, loss %.4f, %.0f images/s", p.Epoch, p.Epochs, p.Loss, p.ImagesPerSecond))
	}
	defer func() {
		if bar != nil {
			bar.Done()
		}
	}()

	start := time.Now()
	model, err := encoder.TrainToFiles(c.Context, opts, out)
	if errors.Is(err, encoder.ErrStateMismatch) {
		return usagef("%v (--restart)", err)
	}
	if errors.Is(err, encoder.ErrBadState) {
		return fmt.Errorf("%w; --restart starts afresh", err)
	}
	if errors.Is(err, context.Canceled) {
		if _, serr := os.Stat(encoder.StatePath(out)); serr == nil {
			o.logf("stopped; the same command resumes from %s", encoder.StatePath(out))
		}
	}
	if err != nil {
		return err
	}
	info := model.Info()
	res := trainResult{
		Path: out, ID: model.ID(), Objective: string(info.Objective), Augmentation: info.Augmentation, Label: info.Label,
		Description: model.String(), Dim: model.Dim(), Params: model.Params(),
		Images: data.Len(), Epochs: info.Epochs, Steps: info.Steps, Seconds: time.Since(start).Seconds(),
		ImagesPerSecond: float64(trainedImages(data.Len(), opts)) / info.TrainSeconds, FinalLoss: info.FinalLoss, LossCSV: lossPath,
	}
	return o.result("train", res, func(w io.Writer) error {
		epochs := fmt.Sprintf("%d epochs", res.Epochs)
		if res.Epochs == 1 {
			epochs = "1 epoch"
		}
		_, err := fmt.Fprintf(w, "trained %s on %d images: %s, %d steps in %.1f s (%.0f images/s), final loss %.4f\nwrote %s (id %.12s) and %s\n",
			res.Description, res.Images, epochs, res.Steps, res.Seconds, res.ImagesPerSecond, res.FinalLoss, res.Path, res.ID, res.LossCSV)
		return err
	})
}

// trainedImages counts the images (pairs) all the epochs of opts train on.
func trainedImages(images int, opts encoder.TrainOptions) int {
	perEpoch := images
	if opts.DropLast {
		perEpoch = images / opts.Batch * opts.Batch
	}
	return perEpoch * opts.Epochs
}

// runBaseline writes an untrained baseline.
func runBaseline(c *cli.Context, o *output, out string) error {
	objective, err := encoder.ParseObjective(c.String("baseline"))
	if err != nil || objective.Trained() {
		return usagef("--baseline %q: want pixels or random", c.String("baseline"))
	}
	if c.IsSet("objective") {
		return usagef("give either --objective or --baseline, not both")
	}
	res := c.Int("res")
	if res == 0 && c.String("data") != "" {
		if res, err = dataResolution(c.String("data")); err != nil {
			return err
		}
	}
	start := time.Now()
	model, err := encoder.NewBaseline(encoder.BaselineOptions{
		Objective: objective, Res: res, Width: c.Int("width"), Latent: c.Int("latent"), Pool: c.Int("pool"), Seed: c.Uint64("seed"),
	})
	if err != nil {
		return err
	}
	if err := model.Save(out); err != nil {
		return err
	}
	result := trainResult{
		Path: out, ID: model.ID(), Objective: string(objective), Description: model.String(),
		Dim: model.Dim(), Params: model.Params(), Seconds: time.Since(start).Seconds(),
	}
	return o.result("train", result, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %s: %s, %d dimensions (id %.12s)\n", out, result.Description, result.Dim, result.ID)
		return err
	})
}

// dataResolution returns the resolution of a dataset folder or spec without
// loading its images.
func dataResolution(source string) (int, error) {
	if spec, err := dataset.ParseSpec(source); err == nil {
		return spec.Res, nil
	}
	folder, err := dataset.ReadFolder(source)
	if err != nil {
		return 0, err
	}
	return folder.Res, nil
}
