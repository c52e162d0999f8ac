package experiment

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"simsearch/encoder"
)

func TestTrainClockCountsTheEncodersLeft(t *testing.T) {
	size := Size{Train: 1000, Batch: 100, AutoencoderEpochs: 3, ContrastiveEpochs: 2}
	// Estimated: contrastive steps 1 s, autoencoder steps 2 s, supervised
	// and dual encoder steps 0.5 s.
	est := Estimated{ContrastivePairsPerSecond: 100, AutoencoderImagesPerSecond: 50, ClassifierImagesPerSecond: 200}
	opts := Options{Dir: filepath.Join(t.TempDir(), "none"), Size: size}
	clock := newTrainClock(opts, est, 1) // contrastive-A; the trained encoders after it
	var later []string
	for _, e := range clock.later {
		later = append(later, e.Name)
	}
	if want := "contrastive-B contrastive-C supervised-color dual-encoder-color shortcut-A"; strings.Join(later, " ") != want {
		t.Fatalf("encoders after contrastive-A: %v, want %s", later, want)
	}
	a := Encoders[1]
	// Resumed from step 3, at step 5 after 10 s: 5 s a step, 5× the
	// estimate; 15 steps left of A, then 3 × 20 estimated steps of 1 s
	// and 2 × 20 of 0.5 s (the shorter encoders' epochs are capped by the
	// size's 2).
	p := encoder.Progress{Step: 5, Steps: 20, Elapsed: 10 * time.Second}
	want := time.Duration((15*5 + 80*5) * float64(time.Second))
	if got := clock.left(a, p, 3); got != want {
		t.Errorf("time left %v, want %v", got, want)
	}
	if got := newTrainClock(opts, Estimated{}, 1).left(a, p, 3); got != 0 {
		t.Errorf("time left without an estimate %v, want 0", got)
	}
	if got := clock.left(a, encoder.Progress{Step: 3, Steps: 20, Elapsed: time.Second}, 3); got != 0 {
		t.Errorf("time left before a step of this run %v, want 0", got)
	}
	// The autoencoder first: all six trained encoders come after it.
	if got := newTrainClock(opts, est, 0).left(Encoders[0], encoder.Progress{Step: 10, Steps: 30, Elapsed: 20 * time.Second}, 0); got != time.Duration((20*2+100*1)*float64(time.Second)) {
		t.Errorf("time left during the autoencoder %v", got)
	}
}

// TestEstimateAddsUpTheEncoders runs the speed probe at the tiny size and
// checks that its total is each trained encoder's steps at the measured
// rates.
func TestEstimateAddsUpTheEncoders(t *testing.T) {
	size, ok := FindSize("tiny")
	if !ok {
		t.Fatal("no size tiny")
	}
	size.Train, size.AutoencoderEpochs, size.ContrastiveEpochs = 1000, 3, 2
	est, err := Estimate(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []float64{est.ContrastivePairsPerSecond, est.AutoencoderImagesPerSecond, est.ClassifierImagesPerSecond} {
		if rate <= 0 || math.IsInf(rate, 0) {
			t.Fatalf("rates %+v, want positive and finite", est)
		}
	}
	trained, want := 0, 0.0
	steps := float64(encoder.StepsPerEpoch(size.Train, size.Batch, false))
	for _, e := range Encoders {
		if !e.Objective.Trained() {
			continue
		}
		trained++
		rate := est.ContrastivePairsPerSecond
		switch e.Objective {
		case encoder.Autoencoder:
			rate = est.AutoencoderImagesPerSecond
		case encoder.Supervised, encoder.DualEncoder:
			rate = est.ClassifierImagesPerSecond
		}
		want += steps * float64(size.epochs(e)) * float64(size.Batch) / rate
	}
	if est.Encoders != trained {
		t.Errorf("%d encoders estimated, want %d", est.Encoders, trained)
	}
	if math.Abs(est.Seconds-want) > 1e-9*want {
		t.Errorf("estimate %.6f s, want %.6f s", est.Seconds, want)
	}
}
