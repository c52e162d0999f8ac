package encoder

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrainKeepsTheLastPartialBatch trains on 96 images in batches of 20:
// 5 steps an epoch, the last over 16 images, as PyTorch's DataLoader makes
// them; with DropLast 4 steps over the first 80 images of the same order.
func TestTrainKeepsTheLastPartialBatch(t *testing.T) {
	for _, objective := range Objectives {
		for _, dropLast := range []bool{false, true} {
			opts := tinyOptions(t, objective)
			opts.Epochs, opts.Batch, opts.DropLast = 2, 20, dropLast
			perEpoch := StepsPerEpoch(96, 20, dropLast)
			if want := map[bool]int{false: 5, true: 4}[dropLast]; perEpoch != want {
				t.Fatalf("StepsPerEpoch(96, 20, %v) = %d, want %d", dropLast, perEpoch, want)
			}
			var log bytes.Buffer
			opts.LossLog = &log
			m, err := Train(context.Background(), opts)
			if err != nil {
				t.Fatalf("%s, drop last %v: %v", objective, dropLast, err)
			}
			if m.Info().Steps != 2*perEpoch {
				t.Errorf("%s, drop last %v: %d steps, want %d", objective, dropLast, m.Info().Steps, 2*perEpoch)
			}
			if rows := strings.Count(log.String(), "\n") - 1; rows != 2*perEpoch {
				t.Errorf("%s, drop last %v: %d rows in the loss log, want %d", objective, dropLast, rows, 2*perEpoch)
			}
		}
	}

	// The orders: every image once an epoch, or the first 80 of the same
	// permutation.
	keep, err := newTrainer(TrainOptions{Data: tinyData(t), Width: 4, Latent: 8, Epochs: 3, Batch: 20, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer keep.close()
	drop, err := newTrainer(TrainOptions{Data: tinyData(t), Width: 4, Latent: 8, Epochs: 3, Batch: 20, Seed: 7, DropLast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer drop.close()
	kept, dropped := keep.order(5), drop.order(4)
	for e := range kept {
		sorted := slices.Sorted(slices.Values(kept[e]))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch %d does not use every image once: %v", e, sorted)
			}
		}
		if !slices.Equal(kept[e][:80], dropped[e]) {
			t.Errorf("epoch %d: the order with the last batch dropped is not the first 80 of the order that keeps it", e)
		}
	}
}

// TestTrainResumesAroundThePartialBatch stops just before and just after an
// epoch's partial batch and resumes to the weights of an uninterrupted run.
func TestTrainResumesAroundThePartialBatch(t *testing.T) {
	opts := tinyOptions(t, Supervised)
	opts.Epochs, opts.Batch = 3, 20
	whole, err := Train(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "enc.safetensors")
	for _, stop := range []int{4, 5, 9} {
		if _, err := trainFilesUntil(t, opts, path, stop); err == nil {
			t.Fatalf("a training stopped at step %d finished", stop)
		}
	}
	resumed, err := trainFilesUntil(t, opts, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, whole, resumed, "after an uninterrupted training", "after a resumed one")
}
