package encoder

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestNoNormalizeNormsGrow trains a tiny contrastive encoder on
// unnormalized outputs: the loss CSV records the mean output norm and the
// logit scale of every step, and the norms grow as the loss falls (the
// seed's shortcut).
func TestNoNormalizeNormsGrow(t *testing.T) {
	opts := tinyOptions(t, Contrastive)
	opts.NoNormalize, opts.Epochs, opts.LearningRate = true, 60, 1e-2
	var log bytes.Buffer
	opts.LossLog = &log
	m, err := Train(context.Background(), opts)
	if err != nil && !errors.Is(err, ErrNonFiniteLoss) {
		t.Fatal(err)
	}
	if err != nil && !strings.Contains(err.Error(), "outputs were not normalized") {
		t.Fatalf("non-finite loss without the reason: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if lines[0] != "step,epoch,loss,images_per_second,mean_output_norm,logit_scale" {
		t.Fatalf("header %q", lines[0])
	}
	column := func(line string, i int) float64 {
		v, err := strconv.ParseFloat(strings.Split(line, ",")[i], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first, last := lines[1], lines[len(lines)-1]
	t.Logf("seed %d: first step %s, last %s", opts.Seed, first, last)
	if !(column(last, 4) > 2*column(first, 4)) {
		t.Errorf("mean output norm %v at the last step, %v at the first: want growth", column(last, 4), column(first, 4))
	}
	if !(column(last, 5) > column(first, 5)) || !(column(last, 2) < column(first, 2)) {
		t.Errorf("logit scale %v → %v and loss %v → %v: want the scale up and the loss down", column(first, 5), column(last, 5), column(first, 2), column(last, 2))
	}
	if m != nil && !m.Info().Unnormalized {
		t.Error("the checkpoint does not say its outputs were unnormalized")
	}
	if m != nil {
		i := m.Info()
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5*math.Abs(b) } // the log keeps 6 digits
		if !near(i.FirstLoss, column(first, 2)) || !near(i.OutputNormFirst, column(first, 4)) {
			t.Errorf("first loss %v and norm %v recorded, the log's first step has %v and %v", i.FirstLoss, i.OutputNormFirst, column(first, 2), column(first, 4))
		}
		if !(i.OutputNormLast > i.OutputNormFirst) {
			t.Errorf("recorded norms %v → %v: want growth", i.OutputNormFirst, i.OutputNormLast)
		}
		back, err := infoFromMetadata(i.metadata())
		if err != nil || back.OutputNormFirst != i.OutputNormFirst || back.OutputNormLast != i.OutputNormLast || back.FirstLoss != i.FirstLoss {
			t.Errorf("the checkpoint's metadata gives %+v (%v), want the norms and loss of %+v", back, err, i)
		}
	}
	if _, err := Train(context.Background(), TrainOptions{Data: opts.Data, Objective: Autoencoder, NoNormalize: true, Batch: 16}); err == nil {
		t.Error("an autoencoder trained with NoNormalize")
	}
}

func TestNonFiniteUnnormalizedSaysWhy(t *testing.T) {
	tr := &trainer{o: TrainOptions{NoNormalize: true}}
	err := tr.nonFinite(7, 10, 2, 0, outputStats{meanNorm: 3e18, logitScale: 1e38})
	if !errors.Is(err, ErrNonFiniteLoss) || !strings.Contains(err.Error(), "outputs were not normalized") || !strings.Contains(err.Error(), "3e+18") {
		t.Errorf("error %v", err)
	}
}
