package encoder

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestInputScaling(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{0, 128, 255, 255})
	img.Set(1, 0, color.RGBA{51, 204, 1, 255})
	for _, c := range []struct {
		in   Input
		want []float32
	}{
		{Unit, []float32{0, 128.0 / 255, 1, 51.0 / 255, 204.0 / 255, 1.0 / 255}},
		{"", []float32{0, 128.0 / 255, 1, 51.0 / 255, 204.0 / 255, 1.0 / 255}}, // a checkpoint that does not say
		{Centered, []float32{-1, 1.0 / 255, 1, -153.0 / 255, 153.0 / 255, -253.0 / 255}},
	} {
		got := make([]float32, 6)
		if err := toTensor(img, got, c.in); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if d := got[i] - c.want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%q: value %d is %v, want %v", c.in, i, got[i], c.want[i])
			}
		}
	}
	for _, s := range []string{"", "centered", "-1..1"} {
		if in, err := ParseInput(s); err != nil || in != Centered {
			t.Errorf("ParseInput(%q) = %q, %v; want centered", s, in, err)
		}
	}
	if _, err := ParseInput("imagenet"); !errors.Is(err, ErrOptions) {
		t.Errorf("ParseInput(imagenet): %v, want ErrOptions", err)
	}
}

// TestTrainRecordsInput trains with each input scaling: the checkpoint
// says which, a checkpoint without the key reads as unit, and the scaling
// is part of the identity.
func TestTrainRecordsInput(t *testing.T) {
	ids := map[Input]string{}
	for _, in := range Inputs {
		opts := tinyOptions(t, Contrastive)
		opts.Epochs, opts.Input = 1, in
		m, err := Train(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := Decode(m.Bytes())
		if err != nil || loaded.Info().Input.orUnit() != in || loaded.ID() != m.ID() {
			t.Fatalf("trained with input %q, decoded %+v (%v)", in, loaded.Info(), err)
		}
		ids[in] = m.ID()
	}
	if ids[Centered] == ids[Unit] {
		t.Errorf("the same identity %.12s with either input scaling", ids[Unit])
	}
	// The default of training is centered.
	opts := tinyOptions(t, Contrastive)
	opts.Epochs = 1
	m, err := Train(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info().Input != Centered || m.ID() != ids[Centered] {
		t.Errorf("default input %q, id %.12s", m.Info().Input, m.ID())
	}
	// Without the metadata key, the unit model of before.
	unit, err := Train(context.Background(), TrainOptions{Data: opts.Data, Width: 4, Latent: 8, Epochs: 1, Batch: 16, LearningRate: 3e-3, Seed: 1, Input: Unit})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unit.Info().metadata()["input"]; ok {
		t.Errorf("a unit checkpoint writes the input key: old readers would refuse nothing, but the bytes of old checkpoints would change")
	}
	info := unit.Info()
	info.Input = ""
	if modelIdentity(info, unit.w) != unit.ID() {
		t.Errorf("a checkpoint without the input key is not the unit model")
	}
}
