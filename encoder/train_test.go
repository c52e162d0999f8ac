package encoder

import (
	"bytes"
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	tinyOnce sync.Once
	tinySet  *TrainingSet
	tinyErr  error
)

// tinyData is a fixed training set small enough for tests: 96 images of
// 8×8 pixels.
func tinyData(t testing.TB) *TrainingSet {
	t.Helper()
	tinyOnce.Do(func() {
		tinySet, tinyErr = LoadTrainingSet(context.Background(), "shapes:n=96,seed=3,res=8,val=0")
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinySet
}

// tinyOptions trains a small network on tinyData for a few epochs.
func tinyOptions(t testing.TB, objective Objective) TrainOptions {
	return TrainOptions{
		Data: tinyData(t), Objective: objective, Label: "color",
		Width: 4, Latent: 8, Epochs: 6, Batch: 16, LearningRate: 3e-3, Seed: 1,
	}
}

func TestTrainLossDecreases(t *testing.T) {
	for _, objective := range Objectives {
		t.Run(string(objective), func(t *testing.T) {
			opts := tinyOptions(t, objective)
			opts.Epochs = 60
			epochLoss := map[int]float64{}
			epochSteps := map[int]int{}
			opts.Progress = func(p Progress) {
				epochLoss[p.Epoch] += p.Loss
				epochSteps[p.Epoch]++
			}
			m, err := Train(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			first := epochLoss[1] / float64(epochSteps[1])
			last := epochLoss[opts.Epochs] / float64(epochSteps[opts.Epochs])
			t.Logf("seed %d: mean loss %.4f in the first epoch, %.4f in the last", opts.Seed, first, last)
			if !(last < 0.9*first) {
				t.Errorf("mean loss of the last epoch %.4f is not below 0.9 × the first's %.4f", last, first)
			}
			if math.Abs(m.Info().FinalLoss-last) > 1e-6 {
				t.Errorf("Info().FinalLoss = %v, want the last epoch's mean %v", m.Info().FinalLoss, last)
			}
		})
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	for _, objective := range Objectives {
		t.Run(string(objective), func(t *testing.T) {
			opts := tinyOptions(t, objective)
			opts.Epochs = 2
			var logs [2]bytes.Buffer
			var models [2]*Model
			for i := range models {
				opts.LossLog = &logs[i]
				m, err := Train(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				models[i] = m
			}
			if logs[0].Len() == 0 || !equalLosses(logs[0].String(), logs[1].String()) {
				t.Errorf("two trainings with seed %d logged different losses:\n%s\n%s", opts.Seed, logs[0].String(), logs[1].String())
			}
			for i, p := range models[0].w.params {
				a := p.value.Data().([]float32)
				b := models[1].w.params[i].value.Data().([]float32)
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("%s[%d] = %v and %v after two trainings with seed %d", p.name, j, a[j], b[j], opts.Seed)
					}
				}
			}
		})
	}
}

// TestTrainSameOnAnyNumberOfCores trains on one core and on four and
// expects the same weights: every parallel loop splits work so that each
// number is computed in the same order.
func TestTrainSameOnAnyNumberOfCores(t *testing.T) {
	// Large enough for the matrix products to be split between goroutines.
	data, err := LoadTrainingSet(context.Background(), "shapes:n=64,seed=5,res=16,val=0")
	if err != nil {
		t.Fatal(err)
	}
	for _, objective := range []Objective{Contrastive, Autoencoder} {
		t.Run(string(objective), func(t *testing.T) {
			opts := TrainOptions{Data: data, Objective: objective, Width: 16, Latent: 16, Epochs: 1, Batch: 32, Seed: 3}
			var models []*Model
			for _, procs := range []int{1, 4} {
				old := runtime.GOMAXPROCS(procs)
				m, err := Train(context.Background(), opts)
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				models = append(models, m)
			}
			sameWeights(t, models[0], models[1], "on one core", "on four")
		})
	}
}

// equalLosses compares loss logs without their speed column.
func equalLosses(a, b string) bool {
	strip := func(s string) string {
		var out []string
		for _, line := range strings.Split(s, "\n") {
			// Every column but images_per_second (the fourth).
			if f := strings.Split(line, ","); len(f) >= 4 {
				line = strings.Join(append(f[:3:3], f[4:]...), ",")
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	return strip(a) == strip(b)
}

func TestTrainStopsWhenCancelled(t *testing.T) {
	opts := tinyOptions(t, Contrastive)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	opts.Progress = func(p Progress) {
		steps = p.Step
		if p.Step == 3 {
			cancel()
		}
	}
	_, err := Train(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Train returned %v, want context.Canceled", err)
	}
	if steps != 3 {
		t.Errorf("Train ran %d steps after being cancelled at step 3", steps-3)
	}
}

func TestTrainStopsOnNonFiniteLoss(t *testing.T) {
	tr, err := newTrainer(tinyOptions(t, Contrastive))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	// A weight that is not a number makes every embedding NaN.
	tr.w.params[0].value.Data().([]float32)[0] = float32(math.NaN())
	_, err = tr.train(context.Background())
	if !errors.Is(err, ErrNonFiniteLoss) {
		t.Fatalf("training with a NaN weight returned %v, want ErrNonFiniteLoss", err)
	}
	for _, want := range []string{"step 1 ", "learning rate", "τ", "L2-normalized"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestTrainRejectsBadOptions(t *testing.T) {
	data := tinyData(t)
	for _, tc := range []struct {
		name string
		edit func(o *TrainOptions)
		want string
	}{
		{"no data", func(o *TrainOptions) { o.Data = nil }, "no training data"},
		{"baseline objective", func(o *TrainOptions) { o.Objective = Pixels }, "cannot be trained"},
		{"supervised without label", func(o *TrainOptions) { o.Objective, o.Label = Supervised, "" }, "needs a label"},
		{"unknown label", func(o *TrainOptions) { o.Objective, o.Label = Supervised, "weight" }, "needs a label"},
		{"other resolution", func(o *TrainOptions) { o.Res = 16 }, "8 px"},
		{"batch above data", func(o *TrainOptions) { o.Batch = 97 }, "lower the batch"},
		{"batch of one", func(o *TrainOptions) { o.Batch = 1 }, "at least 2"},
		{"negative learning rate", func(o *TrainOptions) { o.LearningRate = -1 }, "learning rate"},
		{"negative temperature", func(o *TrainOptions) { o.Tau = -0.1 }, "temperature"},
		{"bad augmentation", func(o *TrainOptions) { o.Augmentation = "wobble" }, "wobble"},
		{"huge width", func(o *TrainOptions) { o.Width = 5000 }, "width"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := TrainOptions{Data: data, Batch: 16, Epochs: 1}
			tc.edit(&opts)
			_, err := Train(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Train returned %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestTrainWritesLossLog(t *testing.T) {
	opts := tinyOptions(t, Supervised)
	opts.Epochs = 1
	var log bytes.Buffer
	opts.LossLog = &log
	m, err := Train(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if lines[0] != "step,epoch,loss,images_per_second" {
		t.Errorf("header %q", lines[0])
	}
	if got, want := len(lines)-1, m.Info().Steps; got != want || want != 96/16 {
		t.Errorf("%d loss rows for %d steps, want %d", got, want, 96/16)
	}
}
