package encoder

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// TestLanesGiveTheWholeBatchGradient runs one step of each objective as
// lanes and as one graph of the whole batch, on the same images, and
// expects the same loss and weight gradients up to float32 rounding: the
// lanes' InfoNCE compares every image with the whole batch, their means
// are shares of the whole mean, and their images are where slot puts them.
func TestLanesGiveTheWholeBatchGradient(t *testing.T) {
	arch := Arch{Res: 8, Width: 4, Latent: 8}
	const batch, classes = 37, 3 // lanes of 18 and 19
	if n := lanesFor(batch); n < 2 {
		t.Fatalf("a batch of %d runs as %d lane", batch, n)
	}
	for _, objective := range Objectives {
		for _, unnormalized := range []bool{false, true} {
			if unnormalized && objective != Contrastive {
				continue
			}
			name := string(objective)
			if unnormalized {
				name += "/unnormalized"
			}
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(17, 4))
				w := newWeights(arch, objective, classes, tensor.Float32)
				w.init(rng)
				config := graphConfig{arch: arch, objective: objective, classes: classes, tau: 0.5, batch: batch, unnormalized: unnormalized}
				whole, err := buildGraph(config, w)
				if err != nil {
					t.Fatal(err)
				}
				defer whole.close()
				lanes, err := buildStep(config, w)
				if err != nil {
					t.Fatal(err)
				}
				defer lanes.close()

				views := 1
				if objective == Contrastive {
					views = 2
				}
				per := arch.Res * arch.Res * 3
				in := whole.input.Value().Data().([]float32)
				laned := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(lanes.inputShape()...))
				for v := range views {
					for i := range batch {
						img := in[(v*batch+i)*per : (v*batch+i+1)*per]
						for j := range img {
							img[j] = rng.Float32()
						}
						at := lanes.slot(v, i) * per
						copy(laned.Data().([]float32)[at:at+per], img)
					}
				}
				var targets []float32
				if objective.Classifies() {
					targets = make([]float32, batch)
					for i := range targets {
						targets[i] = float32(rng.IntN(classes))
					}
					copy(whole.targets.Value().Data().([]float32), targets)
				}
				if err := lanes.bind(laned, targets); err != nil {
					t.Fatal(err)
				}
				if err := whole.run(); err != nil {
					t.Fatal(err)
				}
				if err := lanes.run(); err != nil {
					t.Fatal(err)
				}

				want, got := scalarOf(whole.cost.Value()), lanes.loss()
				if math.Abs(got-want) > 1e-5*math.Abs(want) {
					t.Errorf("loss %v in lanes, %v in one graph", got, want)
				}
				wholeGrads := trainable(whole, objective)
				for i, vg := range lanes.gradients() {
					g, err := vg.Grad()
					if err != nil {
						t.Fatal(err)
					}
					w, err := wholeGrads[i].Grad()
					if err != nil {
						t.Fatal(err)
					}
					a, b := g.Data().([]float32), w.Data().([]float32)
					var peak float64
					for _, x := range b {
						peak = max(peak, math.Abs(float64(x)))
					}
					if peak == 0 {
						t.Fatalf("%s: the whole batch's gradient is 0", wholeGrads[i].Name())
					}
					for j := range b {
						if d := math.Abs(float64(a[j]) - float64(b[j])); d > 1e-4*peak {
							t.Fatalf("%s[%d]: gradient %v in lanes, %v in one graph (largest %v)", wholeGrads[i].Name(), j, a[j], b[j], peak)
						}
					}
				}
			})
		}
	}
}

// TestLanesSharingChangesNoBit trains a few steps with the lanes sharing
// their layers' packed weights and with each lane packing its own, and
// expects the same weights: a packing made once a step for both lanes is
// the one each would make, never one of an earlier step. The network has
// a layer of each kind (the stem, Winograd's F(4×4, 2×2), F(2×2, 2×2),
// F(2×2, 3×3) and F(4×4, 3×3), tap classes).
func TestLanesSharingChangesNoBit(t *testing.T) {
	data, err := LoadTrainingSet(context.Background(), "shapes:n=80,seed=9,res=32,val=0")
	if err != nil {
		t.Fatal(err)
	}
	for _, objective := range []Objective{Autoencoder, Contrastive} {
		t.Run(string(objective), func(t *testing.T) {
			// 80 images in batches of 32: two steps of two lanes and a
			// partial batch of 16 (one lane), twice.
			opts := TrainOptions{Data: data, Objective: objective, Width: 8, Latent: 16, Epochs: 2, Batch: 32, Seed: 4}
			var models []*Model
			for _, share := range []bool{true, false} {
				shareLanePreps = share
				m, err := Train(context.Background(), opts)
				shareLanePreps = true
				if err != nil {
					t.Fatal(err)
				}
				models = append(models, m)
			}
			sameWeights(t, models[0], models[1], "with shared packings", "with each lane's own")
		})
	}
}

// TestLaneSetAbortReleasesTheWaiting checks that a lane that fails before
// the barrier does not leave the others waiting for ever.
func TestLaneSetAbortReleasesTheWaiting(t *testing.T) {
	s := newLaneSet([]int{2, 2})
	done := make(chan error)
	go func() { done <- s.wait() }()
	time.Sleep(10 * time.Millisecond)
	cause := errors.New("lane 1 failed")
	s.abort(cause)
	select {
	case err := <-done:
		if !errors.Is(err, cause) {
			t.Errorf("the waiting lane got %v, want an error wrapping %v", err, cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting lane was not released")
	}
	if err := s.wait(); !errors.Is(err, cause) {
		t.Errorf("a lane that came later got %v, want an error wrapping %v", err, cause)
	}

	// Without an abort, the barrier lets both through, round after round.
	s = newLaneSet([]int{1, 1})
	for range 3 {
		go func() { done <- s.wait() }()
		if err := s.wait(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestLaneSizes(t *testing.T) {
	for _, c := range []struct {
		batch int
		want  []int
	}{{1, []int{1}}, {31, []int{31}}, {32, []int{16, 16}}, {37, []int{18, 19}}, {256, []int{128, 128}}} {
		got := laneSizes(c.batch, lanesFor(c.batch))
		if len(got) != len(c.want) {
			t.Errorf("batch %d: lanes %v, want %v", c.batch, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("batch %d: lanes %v, want %v", c.batch, got, c.want)
			}
		}
	}
}
