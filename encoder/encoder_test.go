package encoder

import (
	"testing"
)

// TestIdentity checks that a model's identity follows what decides its
// vectors and nothing else.
func TestIdentity(t *testing.T) {
	base := tinyModel(t, Autoencoder)
	info := base.Info()

	t.Run("training metadata does not count", func(t *testing.T) {
		other := info
		other.TrainSeconds, other.FinalLoss, other.Data, other.Epochs = info.TrainSeconds+17, 0.5, "elsewhere", 99
		m, err := newModel(other, base.w)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID() != base.ID() {
			t.Fatalf("identity changed with training metadata: %s, was %s", m.ID(), base.ID())
		}
		if FileID(m.Bytes()) == FileID(base.Bytes()) {
			t.Fatal("the checkpoint bytes should differ (the metadata does)")
		}
	})
	t.Run("the decoder does not count", func(t *testing.T) {
		w := newWeights(info.Arch(), info.Objective, info.Classes, base.w.params[0].value.Dtype())
		for i, p := range w.params {
			copyTensor(t, p, base.w.params[i])
		}
		p := w.byName["decoder.linear.bias"]
		p.value.Data().([]float32)[0] += 1
		m, err := newModel(info, w)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID() != base.ID() {
			t.Fatal("identity changed with a decoder weight, which does not change the vectors")
		}
	})
	t.Run("an encoder weight counts", func(t *testing.T) {
		w := newWeights(info.Arch(), info.Objective, info.Classes, base.w.params[0].value.Dtype())
		for i, p := range w.params {
			copyTensor(t, p, base.w.params[i])
		}
		w.byName["encoder.linear.bias"].value.Data().([]float32)[0] += 1e-6
		m, err := newModel(info, w)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID() == base.ID() {
			t.Fatal("identity unchanged after an encoder weight changed")
		}
	})
	t.Run("baselines", func(t *testing.T) {
		a := tinyModel(t, Pixels)
		b, err := NewBaseline(BaselineOptions{Objective: Pixels, Res: 8, Pool: 4})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID() == b.ID() {
			t.Fatal("pixels baselines of different pools share an identity")
		}
	})
}

func copyTensor(t *testing.T, dst, src *param) {
	t.Helper()
	copy(dst.value.Data().([]float32), src.value.Data().([]float32))
}
