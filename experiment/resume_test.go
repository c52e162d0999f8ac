package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"simsearch/encoder"
)

// TestRunResumesInsideAnEncoder stops the tiny experiment in the middle of
// an encoder's training and runs it again: the encoder goes on from its
// training state to the weights of a training that never stopped.
func TestRunResumesInsideAnEncoder(t *testing.T) {
	size, _ := FindSize("tiny")
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Dir: dir, Size: size, Progress: func(p Progress) {
		if p.Stage == "train contrastive-A" && p.Done == 2 {
			cancel()
		}
	}}
	if _, err := Run(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v, want context.Canceled", err)
	}
	a := Encoders[1]
	state := encoder.StatePath(opts.checkpoint(a))
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no training state of %s after the stop: %v", a.Name, err)
	}
	firstStep := 0
	opts.Progress = func(p Progress) {
		if p.Stage == "train contrastive-A" && firstStep == 0 {
			firstStep = p.Done
		}
	}
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if firstStep != 3 {
		t.Errorf("the second run's training of %s began at step %d, want 3 (after the 2 steps of the state)", a.Name, firstStep)
	}
	resumed, err := encoder.Load(opts.checkpoint(a))
	if err != nil {
		t.Fatal(err)
	}
	data, err := encoder.LoadTrainingSet(context.Background(), opts.datasetDir())
	if err != nil {
		t.Fatal(err)
	}
	whole, err := encoder.Train(context.Background(), encoder.TrainOptions{
		Data: data, Objective: a.Objective, Augmentation: a.Augmentation,
		Width: size.Width, Latent: size.Latent, Epochs: size.epochs(a), Batch: size.Batch, Seed: size.Seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ID() != whole.ID() {
		t.Errorf("%s resumed inside its training is %.12s, trained in one go %.12s", a.Name, resumed.ID(), whole.ID())
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the training state is left after the run: %v", err)
	}
}
