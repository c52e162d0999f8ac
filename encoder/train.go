package encoder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"gorgonia.org/tensor"

	"simsearch/dataset"
)

// TrainOptions configure Train. Zero fields take the defaults named in
// their comments; DefaultTrainOptions returns them.
type TrainOptions struct {
	// Data is the training set. Required.
	Data *TrainingSet
	// Objective is Contrastive (the default), Autoencoder or Supervised.
	Objective Objective
	// Augmentation makes the positive pairs of contrastive training: "A"
	// (the default), "B", "C", or primitives such as
	// "pad:24,rotate,crop:0.2-0.6" (see dataset.ParseAugmentation). Both
	// images of a pair are augmented views of one training image.
	Augmentation string
	// Label is the factor label supervised training classifies: "shape",
	// "color", "location" or "size". Required for Supervised.
	Label string
	// Res is the image resolution; 0 means the data's. It must be the
	// data's.
	Res int
	// Width and Latent are the architecture (see Arch); 0 means 32 and 128.
	Width, Latent int
	// Epochs is the number of passes over the data; 0 means 8.
	Epochs int
	// Batch is the number of images per step (pairs, for contrastive); 0
	// means 256. An epoch is ⌈images/Batch⌉ steps, the last of them over
	// the images left, as PyTorch's DataLoader makes batches by default;
	// with DropLast it is ⌊images/Batch⌋ steps, and the rest of the
	// shuffled images are not used in that epoch (drop_last=True).
	Batch int
	// DropLast drops each epoch's last, partial batch (see Batch).
	DropLast bool
	// LearningRate is Adam's; 0 means 2e-4.
	LearningRate float64
	// Tau is the InfoNCE temperature; 0 means 0.07.
	Tau float64
	// Input is the scaling of the pixels the network is fed; "" means
	// Centered, [-1, 1] as PyTorch's Normalize(0.5, 0.5) gives.
	Input Input
	// Seed draws the initial weights, the order of the images and the
	// augmentations: training is deterministic given the seed (and the
	// options), whatever the number of cores.
	Seed uint64
	// Progress, if not nil, is called after every step, from Train's
	// goroutine.
	Progress func(Progress)
	// LossLog, if not nil, receives the loss of every step as CSV with a
	// header row: step,epoch,loss,images_per_second (and, with NoNormalize,
	// mean_output_norm,logit_scale). A resumed training writes the log of
	// the steps done before it first.
	LossLog io.Writer
	// NoNormalize trains the contrastive objective on the encoder's
	// outputs before their L2 normalization: the seed's shortcut, where
	// scaling the outputs up drives the loss toward 0 and overflows exp.
	NoNormalize bool
	// Restart makes TrainToFiles start afresh, replacing a training state
	// beside the checkpoint instead of resuming it.
	Restart bool

	// resume, when not nil, is the state the training goes on from; when
	// saveState is not nil, it receives the state after every epoch but
	// the last and when ctx stops the training. TrainToFiles sets both.
	resume    *trainState
	saveState func(*trainState) error
}

// DefaultTrainOptions returns the defaults of the seed experiment:
// contrastive with augmentation A, 32 base channels, latent 128, 8 epochs,
// batch 256, learning rate 2e-4, τ 0.07, seed 1.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Objective: Contrastive, Augmentation: "A", Width: 32, Latent: 128,
		Epochs: 8, Batch: 256, LearningRate: 2e-4, Tau: 0.07, Seed: 1,
	}
}

// Progress reports a step of training.
type Progress struct {
	// Step counts completed steps, from 1 to Steps.
	Step, Steps int
	// Epoch counts epochs from 1 to Epochs.
	Epoch, Epochs int
	// Loss is the loss of this step.
	Loss float64
	// ImagesPerSecond is the training speed so far, counting each training
	// image once (for contrastive training, once per positive pair).
	ImagesPerSecond float64
	// Elapsed is the time since training started.
	Elapsed time.Duration
}

// withDefaults fills in the zero fields of o and checks them.
func (o TrainOptions) withDefaults() (TrainOptions, error) {
	d := DefaultTrainOptions()
	if o.Data == nil || o.Data.Len() == 0 {
		return o, fmt.Errorf("no training data")
	}
	if o.Objective == "" {
		o.Objective = d.Objective
	}
	if !o.Objective.Trained() {
		return o, fmt.Errorf("objective %q cannot be trained (want autoencoder, contrastive or supervised)", o.Objective)
	}
	if o.Objective == Contrastive && o.Augmentation == "" {
		o.Augmentation = d.Augmentation
	}
	if o.Objective != Contrastive {
		o.Augmentation = ""
		if o.NoNormalize {
			return o, fmt.Errorf("only contrastive training normalizes its outputs, so only it can leave them unnormalized (objective %s)", o.Objective)
		}
	}
	if o.Objective.Classifies() {
		if dataset.LabelClasses(o.Label) == 0 {
			return o, fmt.Errorf("%s training needs a label: shape, color, location or size (got %q)", o.Objective, o.Label)
		}
	} else {
		o.Label = ""
	}
	o.Res = cmp.Or(o.Res, o.Data.Res)
	if o.Res != o.Data.Res {
		return o, fmt.Errorf("the training images are %d px but the resolution asked for is %d: make the data at %d px or train at %d", o.Data.Res, o.Res, o.Res, o.Data.Res)
	}
	o.Width = cmp.Or(o.Width, d.Width)
	o.Latent = cmp.Or(o.Latent, d.Latent)
	o.Epochs = cmp.Or(o.Epochs, d.Epochs)
	o.Batch = cmp.Or(o.Batch, d.Batch)
	o.LearningRate = cmp.Or(o.LearningRate, d.LearningRate)
	o.Tau = cmp.Or(o.Tau, d.Tau)
	in, err := ParseInput(string(o.Input))
	if err != nil {
		return o, err
	}
	o.Input = in
	switch {
	case o.Epochs < 0 || o.Epochs > 100000:
		return o, fmt.Errorf("%d epochs: want 1 to 100000", o.Epochs)
	case o.Batch < 2:
		return o, fmt.Errorf("batch of %d: want at least 2", o.Batch)
	case o.Batch > o.Data.Len():
		return o, fmt.Errorf("batch of %d is larger than the %d training images: lower the batch size", o.Batch, o.Data.Len())
	case !(o.LearningRate > 0 && o.LearningRate < 10):
		return o, fmt.Errorf("learning rate %g: want a positive value below 10", o.LearningRate)
	case o.Objective == Contrastive && !(o.Tau > 0 && o.Tau <= 100):
		return o, fmt.Errorf("temperature τ %g: want a positive value up to 100", o.Tau)
	}
	if err := (Arch{Res: o.Res, Width: o.Width, Latent: o.Latent}).Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// Train trains an encoder on opts.Data and returns the model. It runs on
// all cores. On a NaN or infinite loss it stops with an error wrapping
// ErrNonFiniteLoss that names the step; when ctx is cancelled it stops
// after the current step and returns ctx.Err(). Bad options are errors
// that say what to change.
func Train(ctx context.Context, opts TrainOptions) (*Model, error) {
	t, err := newTrainer(opts)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.train(ctx)
}

// newTrainer checks opts and builds the network and its graph.
func newTrainer(opts TrainOptions) (*trainer, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("train: %w: %w", ErrOptions, err)
	}
	var aug dataset.Augmentation
	if o.Objective == Contrastive {
		if aug, err = dataset.ParseAugmentation(o.Augmentation); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	classes := dataset.LabelClasses(o.Label)
	arch := Arch{Res: o.Res, Width: o.Width, Latent: o.Latent}
	w := newWeights(arch, o.Objective, classes, tensor.Float32)
	w.init(initRand(o.Seed))
	w.zeroFrozen(o.Objective)
	t := &trainer{o: o, aug: aug, arch: arch, classes: classes, w: w, solver: newAdam(o.LearningRate)}
	if o.resume != nil || o.saveState != nil {
		t.settings = settingsOf(o)
	}
	if o.resume != nil {
		if diff := o.resume.settings.difference(t.settings); diff != "" {
			return nil, fmt.Errorf("train: %w: %s", ErrStateMismatch, diff)
		}
		if err := t.restore(o.resume); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	config := graphConfig{arch: arch, objective: o.Objective, classes: classes, tau: o.Tau, batch: o.Batch, unnormalized: o.NoNormalize}
	if t.gr, err = buildStep(config, w); err != nil {
		return nil, err
	}
	if rest := o.Data.Len() % o.Batch; rest > 0 && !o.DropLast {
		config.batch = rest
		if t.rest, err = buildStep(config, w); err != nil {
			t.gr.close()
			return nil, err
		}
	}
	return t, nil
}

// train runs the training loop and returns the model.
func (t *trainer) train(ctx context.Context) (*Model, error) {
	o := t.o
	info, err := t.run(ctx)
	if err != nil {
		return nil, err
	}
	info.Objective = o.Objective
	info.Augmentation = o.Augmentation
	if o.Objective == Contrastive {
		info.Tau = o.Tau
	}
	info.Label, info.Classes = o.Label, t.classes
	info.Unnormalized = o.NoNormalize
	a := t.arch
	info.Res, info.Width, info.Latent, info.Layers, info.Dim = a.Res, a.Width, a.Latent, a.Layers(), a.Latent
	info.Data = o.Data.Source
	info.Seed, info.Epochs, info.Batch, info.LearningRate = o.Seed, o.Epochs, o.Batch, o.LearningRate
	info.Input = o.Input
	return newModel(info, t.w)
}

type trainer struct {
	o       TrainOptions
	aug     dataset.Augmentation
	arch    Arch
	classes int
	gr      *stepGraphs
	// rest are the lanes of an epoch's last, partial batch, or nil.
	rest   *stepGraphs
	w      *weights
	solver *adam
	// settings are those of a training that resumes or keeps a state.
	settings trainSettings

	// outputStats are those of the last step (with NoNormalize).
	outputStats outputStats
}

// close frees the trainer's graphs.
func (t *trainer) close() {
	t.gr.close()
	if t.rest != nil {
		t.rest.close()
	}
}

// batch is the input of one step, prepared while the previous step runs.
type batch struct {
	images  int
	input   *tensor.Dense
	targets []float32
	err     error
}

func (t *trainer) run(ctx context.Context) (Info, error) {
	o := t.o
	perEpoch := StepsPerEpoch(o.Data.Len(), o.Batch, o.DropLast)
	steps := perEpoch * o.Epochs
	first, earlier, logHead := 0, 0.0, []byte(t.lossHeader())
	var epochLoss float64
	if o.resume != nil {
		first, earlier, logHead, epochLoss = o.resume.step, o.resume.seconds, o.resume.lossLog, o.resume.epochLoss
	}
	if t.o.LossLog != nil {
		if _, err := t.o.LossLog.Write(logHead); err != nil {
			return Info{}, fmt.Errorf("write loss log: %w", err)
		}
	}
	// Two input tensors take turns: one is filled for the next step while
	// the graphs read the other. A partial batch has one of its own.
	newInput := func(s *stepGraphs) *tensor.Dense {
		return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(s.inputShape()...))
	}
	inputs := [2]*tensor.Dense{newInput(t.gr), newInput(t.gr)}
	var restInput *tensor.Dense
	if t.rest != nil {
		restInput = newInput(t.rest)
	}
	order := t.order(perEpoch)
	prepare := func(step int) <-chan batch {
		ch := make(chan batch, 1)
		dst, lanes := inputs[step%2], t.gr
		if t.rest != nil && step%perEpoch == perEpoch-1 {
			dst, lanes = restInput, t.rest
		}
		go func() { ch <- t.prepare(step, perEpoch, order, dst, lanes) }()
		return ch
	}
	images := 0
	start := time.Now()
	// opening is the first step of the whole training, resumed or not: its
	// loss and, with NoNormalize, the mean norm of its outputs.
	var opening firstStep
	if o.resume != nil {
		opening = o.resume.opening
	}
	save := func(done int) error {
		if o.saveState == nil || done == first {
			return nil
		}
		s := t.capture(done, epochLoss, earlier+time.Since(start).Seconds())
		s.opening = opening
		return o.saveState(s)
	}
	next := prepare(first)
	var info Info
	for step := first; step < steps; step++ {
		b := <-next
		if b.err != nil {
			return Info{}, b.err
		}
		if err := ctx.Err(); err != nil {
			return Info{}, errors.Join(err, save(step))
		}
		gr := t.gr
		if b.images < o.Batch {
			gr = t.rest
		}
		if err := gr.bind(b.input, b.targets); err != nil {
			return Info{}, fmt.Errorf("train: %w", err)
		}
		if step+1 < steps {
			next = prepare(step + 1)
		}
		if err := gr.run(); err != nil {
			return Info{}, fmt.Errorf("train: step %d: %w", step+1, err)
		}
		loss := gr.loss()
		epoch := step/perEpoch + 1
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return Info{}, t.nonFinite(step+1, steps, epoch, loss, t.outputStats)
		}
		t.measureOutputs(gr)
		if err := t.solver.Step(gr.gradients()); err != nil {
			return Info{}, fmt.Errorf("train: step %d: %w", step+1, err)
		}
		if step == 0 {
			opening = firstStep{loss: loss, norm: t.outputStats.meanNorm}
		}
		elapsed := time.Since(start)
		images += b.images
		rate := float64(images) / elapsed.Seconds()
		if step%perEpoch == 0 {
			epochLoss = 0
		}
		epochLoss += loss
		if o.LossLog != nil {
			if _, err := fmt.Fprintf(o.LossLog, "%d,%d,%.6g,%.1f%s\n", step+1, epoch, loss, rate, t.lossColumns()); err != nil {
				return Info{}, fmt.Errorf("write loss log: %w", err)
			}
		}
		if o.Progress != nil {
			o.Progress(Progress{Step: step + 1, Steps: steps, Epoch: epoch, Epochs: o.Epochs, Loss: loss, ImagesPerSecond: rate, Elapsed: elapsed})
		}
		info.FinalLoss = epochLoss / float64(step%perEpoch+1)
		if (step+1)%perEpoch == 0 && step+1 < steps {
			if err := save(step + 1); err != nil {
				return Info{}, err
			}
		}
	}
	if o.NoNormalize {
		info.FirstLoss, info.OutputNormFirst, info.OutputNormLast = opening.loss, opening.norm, t.outputStats.meanNorm
	}
	info.Steps = steps
	info.TrainSeconds = earlier + time.Since(start).Seconds()
	return info, nil
}

// order returns the order of the images for each epoch: a permutation drawn
// from the seed, all of it used, or its first perEpoch·Batch with DropLast.
func (t *trainer) order(perEpoch int) [][]int {
	rng := rand.New(rand.NewPCG(t.o.Seed, 0x6f72646572))
	orders := make([][]int, t.o.Epochs)
	for e := range orders {
		orders[e] = rng.Perm(t.o.Data.Len())
		if t.o.DropLast {
			orders[e] = orders[e][:perEpoch*t.o.Batch]
		}
	}
	return orders
}

// prepare fills dst with the images of step (augmented pairs for
// contrastive training: in each lane, its first views, then their second
// views) and returns the step's targets for supervised training.
func (t *trainer) prepare(step, perEpoch int, order [][]int, dst *tensor.Dense, lanes *stepGraphs) batch {
	o := t.o
	epoch := order[step/perEpoch]
	idx := epoch[(step%perEpoch)*o.Batch : min((step%perEpoch+1)*o.Batch, len(epoch))]
	data := dst.Data().([]float32)
	per := o.Res * o.Res * 3
	var errs = make([]error, len(idx))
	if t.aug == nil {
		parallel(len(idx), 16, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				at := lanes.slot(0, i) * per
				errs[i] = toTensor(o.Data.Images[idx[i]], data[at:at+per], o.Input)
			}
		})
	} else {
		parallel(len(idx), 4, func(lo, hi int) {
			view := image.NewRGBA(image.Rect(0, 0, o.Res, o.Res))
			for i := lo; i < hi; i++ {
				src := o.Data.Images[idx[i]]
				for v := range 2 {
					// Each view has its own stream, so the result does not
					// depend on which goroutine makes it.
					rng := rand.New(rand.NewPCG(o.Seed^0x61756700, uint64(step)<<32|uint64(i)<<1|uint64(v)))
					dataset.ApplyInto(t.aug, view, src, rng)
					at := lanes.slot(v, i) * per
					if err := toTensor(view, data[at:at+per], o.Input); err != nil {
						errs[i] = err
					}
				}
			}
		})
	}
	for _, err := range errs {
		if err != nil {
			return batch{err: fmt.Errorf("train: %w", err)}
		}
	}
	b := batch{images: len(idx), input: dst}
	if o.Objective.Classifies() {
		b.targets = make([]float32, len(idx))
		for i, j := range idx {
			label, _ := o.Data.Labels[j].Get(o.Label)
			b.targets[i] = float32(label)
		}
	}
	return b
}

// nonFinite returns the error for a NaN or infinite loss at step.
func (t *trainer) nonFinite(step, steps, epoch int, loss float64, last outputStats) error {
	if t.o.NoNormalize {
		return t.nonFiniteUnnormalized(step, steps, epoch, loss, last)
	}
	hint := fmt.Sprintf("lower the learning rate (now %g)", t.o.LearningRate)
	if t.o.Objective == Contrastive {
		hint += fmt.Sprintf(", or raise the temperature τ (now %g: the logits are similarities of unit vectors divided by τ)", t.o.Tau)
	}
	hint += fmt.Sprintf("; the inputs are pixels scaled to %s and the contrastive outputs are L2-normalized, so a loss that stays NaN at small learning rates points to broken input images", t.o.Input.interval())
	return fmt.Errorf("%w: the loss became %v at step %d of %d (epoch %d): %s", ErrNonFiniteLoss, loss, step, steps, epoch, hint)
}
