package encoder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/internal/atomicfile"
)

// trainFilesUntil runs TrainToFiles and cancels it once stop steps are done
// (never when stop is 0). It returns the model of a finished training.
func trainFilesUntil(t *testing.T, opts TrainOptions, path string, stop int) (*Model, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.Progress = func(p Progress) {
		if p.Step == stop {
			cancel()
		}
	}
	return TrainToFiles(ctx, opts, path)
}

// sameWeights fails t unless a and b have the same weights, bit for bit;
// the message says how each was trained.
func sameWeights(t *testing.T, a, b *Model, howA, howB string) {
	t.Helper()
	for i, p := range a.w.params {
		x, y := p.value.Data().([]float32), b.w.params[i].value.Data().([]float32)
		for j := range x {
			if x[j] != y[j] {
				t.Fatalf("%s[%d] = %v %s, %v %s", p.name, j, x[j], howA, y[j], howB)
			}
		}
	}
}

func TestTrainResumesBitForBit(t *testing.T) {
	cases := append([]Objective(nil), Objectives...)
	cases = append(cases, "unnormalized")
	for _, objective := range cases {
		t.Run(string(objective), func(t *testing.T) {
			unnormalized := objective == "unnormalized"
			if unnormalized {
				objective = Contrastive
			}
			opts := tinyOptions(t, objective)
			opts.NoNormalize = unnormalized
			opts.Epochs = 3 // 6 steps an epoch
			dir := t.TempDir()
			whole, err := TrainToFiles(context.Background(), opts, filepath.Join(dir, "whole.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			wholeLog, _ := os.ReadFile(filepath.Join(dir, "whole.loss.csv"))

			// Stopped in the middle of epoch 2 (a state at step 8, as
			// Ctrl-C leaves it), then again right after epoch 2 had
			// ended, then resumed to the end.
			path := filepath.Join(dir, "resumed.safetensors")
			for _, stop := range []int{8, 12} {
				if _, err := trainFilesUntil(t, opts, path, stop); !errors.Is(err, context.Canceled) {
					t.Fatalf("stopped at step %d: %v, want context.Canceled", stop, err)
				}
				s, err := readState(StatePath(path))
				if err != nil || s == nil {
					t.Fatalf("no state after a stop at step %d: %v", stop, err)
				}
				if s.step != stop {
					t.Errorf("the state after a stop at step %d is at step %d", stop, s.step)
				}
				if _, err := os.Stat(path); err == nil {
					t.Fatalf("a stopped training wrote the checkpoint")
				}
			}
			resumed, err := trainFilesUntil(t, opts, path, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameWeights(t, whole, resumed, "after an uninterrupted training", "after a resumed one")
			if whole.Info().FinalLoss != resumed.Info().FinalLoss || whole.Info().Steps != resumed.Info().Steps {
				t.Errorf("final loss %v in %d steps uninterrupted, %v in %d resumed",
					whole.Info().FinalLoss, whole.Info().Steps, resumed.Info().FinalLoss, resumed.Info().Steps)
			}
			w, r := whole.Info(), resumed.Info()
			if w.FirstLoss != r.FirstLoss || w.OutputNormFirst != r.OutputNormFirst || w.OutputNormLast != r.OutputNormLast {
				t.Errorf("first loss and output norms %v %v %v uninterrupted, %v %v %v resumed",
					w.FirstLoss, w.OutputNormFirst, w.OutputNormLast, r.FirstLoss, r.OutputNormFirst, r.OutputNormLast)
			}
			if unnormalized && !(w.OutputNormFirst > 0 && w.OutputNormLast > 0) {
				t.Errorf("no output norms recorded: %v %v", w.OutputNormFirst, w.OutputNormLast)
			}
			resumedLog, _ := os.ReadFile(LossPath(path))
			if !equalLosses(string(wholeLog), string(resumedLog)) {
				t.Errorf("loss logs differ:\n%s\n%s", wholeLog, resumedLog)
			}
			if _, err := os.Stat(StatePath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the state is still there after the training finished: %v", err)
			}
		})
	}
}

// TestTrainResumesAfterKill resumes from the state of an epoch's end while
// a later state was being written when the process died: the killed
// write's temporary file is never taken for the state.
func TestTrainResumesAfterKill(t *testing.T) {
	opts := tinyOptions(t, Contrastive)
	opts.Epochs = 3
	dir := t.TempDir()
	whole, err := Train(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "enc.safetensors")
	// A training killed during epoch 2 has left the state of epoch 1.
	if _, err := trainFilesUntil(t, opts, path, 6); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	good, err := os.ReadFile(StatePath(path))
	if err != nil {
		t.Fatal(err)
	}
	// The kill came in the middle of writing the next state: half of it
	// is in the temporary file, and nothing cleans it up.
	f, err := atomicfile.Create(StatePath(path), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(good[:len(good)/2]); err != nil {
		t.Fatal(err)
	}
	resumed, err := trainFilesUntil(t, opts, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, whole, resumed, "after an uninterrupted training", "after a resumed one")
}

func TestTrainRefusesDamagedState(t *testing.T) {
	opts := tinyOptions(t, Contrastive)
	opts.Epochs = 2
	path := filepath.Join(t.TempDir(), "enc.safetensors")
	if _, err := trainFilesUntil(t, opts, path, 6); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	good, err := os.ReadFile(StatePath(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 10, len(stateMagic) + 8, len(good) / 3, len(good) - 40, len(good) - 1} {
		if err := os.WriteFile(StatePath(path), good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := TrainToFiles(context.Background(), opts, path); !errors.Is(err, ErrBadState) {
			t.Errorf("a state cut to %d of %d bytes: %v, want ErrBadState", n, len(good), err)
		}
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	if _, err := decodeState(flipped); !errors.Is(err, ErrBadState) {
		t.Errorf("a state with a flipped bit: %v, want ErrBadState", err)
	}
	if _, err := decodeState(good); err != nil {
		t.Errorf("the state as written: %v", err)
	}
	// Restart ignores the damaged state.
	opts.Restart = true
	if _, err := TrainToFiles(context.Background(), opts, path); err != nil {
		t.Errorf("restart over a damaged state: %v", err)
	}
}

func TestTrainRefusesStateOfOtherSettings(t *testing.T) {
	base := tinyOptions(t, Contrastive)
	base.Epochs = 2
	other, err := LoadTrainingSet(context.Background(), "shapes:n=96,seed=4,res=8,val=0")
	if err != nil {
		t.Fatal(err)
	}
	other.Source = base.Data.Source // the same name, other images
	cases := []struct {
		name   string
		change func(*TrainOptions)
		want   string
	}{
		{"batch", func(o *TrainOptions) { o.Batch = 32 }, "batch is 16, this training's is 32"},
		{"augmentation", func(o *TrainOptions) { o.Augmentation = "B" }, "augmentation is A, this training's is B"},
		{"seed", func(o *TrainOptions) { o.Seed = 2 }, "seed is 1, this training's is 2"},
		{"epochs", func(o *TrainOptions) { o.Epochs = 5 }, "number of epochs is 2, this training's is 5"},
		{"learning rate", func(o *TrainOptions) { o.LearningRate = 1e-3 }, "learning rate is 0.003, this training's is 0.001"},
		{"images", func(o *TrainOptions) { o.Data = other }, "training images are not these"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "enc.safetensors")
			if _, err := trainFilesUntil(t, base, path, 3); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			opts := base
			c.change(&opts)
			_, err := TrainToFiles(context.Background(), opts, path)
			if !errors.Is(err, ErrStateMismatch) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("resumed with another %s: %v, want ErrStateMismatch saying %q", c.name, err, c.want)
			}
			if _, err := os.Stat(StatePath(path)); err != nil {
				t.Errorf("the refused state is gone: %v", err)
			}
			opts.Restart = true
			if _, err := TrainToFiles(context.Background(), opts, path); err != nil {
				t.Errorf("restart: %v", err)
			}
		})
	}
}
