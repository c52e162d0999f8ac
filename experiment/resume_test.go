package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	total := 0
	opts := Options{Dir: dir, Size: size, Progress: func(p Progress) {
		if p.Stage == "train contrastive-A" && p.Done == 2 {
			total = p.Total
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
	// The second run's progress counts its own steps, so that its speed
	// and ETA are its own, and its log says where it resumed.
	var first *Progress
	var logged []string
	opts.Progress = func(p Progress) {
		if p.Stage == "train contrastive-A" && first == nil {
			first = &p
		}
	}
	opts.Log = func(line string) { logged = append(logged, line) }
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if first == nil || first.Done != 1 || first.Total != total-2 {
		t.Errorf("the second run's first progress of %s is %+v, want step 1 of %d (the %d steps after the 2 of the state)", a.Name, first, total-2, total-2)
	}
	want := fmt.Sprintf("train %s: resuming at step 2 of %d from its training state", a.Name, total)
	if !slices.Contains(logged, want) {
		t.Errorf("the second run's log %q does not say %q", logged, want)
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
