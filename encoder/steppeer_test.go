package encoder

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

// TestStepPeer runs simsearch's contrastive training graph and Adam through
// the steps bench/step_peer.py ran in PyTorch, from the same initial weights
// on the same views, and compares every step's loss, the first step's
// gradients and the final weights with PyTorch's float64 run of the same
// steps, next to PyTorch's float32 run: simsearch must stay as close to it
// as PyTorch's float32 does. It is a peer check: it runs only when
// SIMSEARCH_STEP_PEER names the folder step_peer.py wrote.
func TestStepPeer(t *testing.T) {
	dir := os.Getenv("SIMSEARCH_STEP_PEER")
	if dir == "" {
		t.Skip("SIMSEARCH_STEP_PEER is not set (see bench/step_peer.py)")
	}
	var peer struct {
		Aug              string             `json:"aug"`
		Steps            int                `json:"steps"`
		Batch            int                `json:"batch"`
		Res              int                `json:"res"`
		Width            int                `json:"width"`
		Latent           int                `json:"latent"`
		LR               float64            `json:"lr"`
		Tau              float64            `json:"tau"`
		Input            string             `json:"input"`
		Losses           []float64          `json:"losses"`
		FirstGradNorms   map[string]float64 `json:"first_grad_norms"`
		Losses64         []float64          `json:"losses64"`
		FirstGradNorms64 map[string]float64 `json:"first_grad_norms64"`
	}
	body, err := os.ReadFile(filepath.Join(dir, "torch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &peer); err != nil {
		t.Fatal(err)
	}
	imported := func(name string) *weights {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := ImportTorch(b, ImportOptions{Objective: Contrastive, Res: peer.Res, Width: peer.Width, Latent: peer.Latent, Input: peer.Input})
		if err != nil {
			t.Fatal(err)
		}
		return m.w
	}
	initial, final, final64 := imported("init.safetensors"), imported("final.safetensors"), imported("final64.safetensors")
	views, err := os.ReadFile(filepath.Join(dir, "views.u8"))
	if err != nil {
		t.Fatal(err)
	}
	per := peer.Res * peer.Res * 3
	if len(views) != peer.Steps*2*peer.Batch*per {
		t.Fatalf("views.u8 holds %d bytes, want %d", len(views), peer.Steps*2*peer.Batch*per)
	}
	input, err := ParseInput(peer.Input)
	if err != nil {
		t.Fatal(err)
	}

	data := &TrainingSet{Res: peer.Res}
	for range peer.Batch {
		data.Images = append(data.Images, image.NewRGBA(image.Rect(0, 0, peer.Res, peer.Res)))
	}
	tr, err := newTrainer(TrainOptions{
		Data: data, Objective: Contrastive, Augmentation: peer.Aug, Width: peer.Width, Latent: peer.Latent,
		Epochs: 1, Batch: peer.Batch, LearningRate: peer.LR, Tau: peer.Tau, Input: input, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	for i, p := range tr.w.params {
		copy(p.value.Data().([]float32), initial.params[i].value.Data().([]float32))
	}
	start := make(map[string][]float32)
	for _, p := range tr.w.params {
		start[p.name] = append([]float32(nil), p.value.Data().([]float32)...)
	}

	vg := tr.gr.gradients()
	batch := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(tr.gr.inputShape()...))
	in := batch.Data().([]float32)
	view := image.NewRGBA(image.Rect(0, 0, peer.Res, peer.Res))
	// Every figure is measured from PyTorch's float64 run: simsearch's
	// float32 against it, next to PyTorch's float32 against it.
	var lossOff, torchLossOff, worstGrad, torchWorstGrad float64
	for step := range peer.Steps {
		for v := range 2 * peer.Batch {
			src := views[(step*2*peer.Batch+v)*per:]
			for px := range peer.Res * peer.Res {
				copy(view.Pix[4*px:4*px+3], src[3*px:3*px+3])
				view.Pix[4*px+3] = 255
			}
			at := tr.gr.slot(v/peer.Batch, v%peer.Batch) * per
			if err := toTensor(view, in[at:at+per], input); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.gr.bind(batch, nil); err != nil {
			t.Fatal(err)
		}
		if err := tr.gr.run(); err != nil {
			t.Fatal(err)
		}
		loss := tr.gr.loss()
		lossOff += math.Abs(loss - peer.Losses64[step])
		torchLossOff += math.Abs(peer.Losses[step] - peer.Losses64[step])
		if step == 0 {
			if math.Abs(loss-peer.Losses64[0]) > 1e-5*peer.Losses64[0] {
				t.Errorf("first step: loss %.7f, PyTorch %.7f (float64)", loss, peer.Losses64[0])
			}
			for i, n := range tr.gr.lanes[0].params {
				g, err := vg[i].Grad()
				if err != nil {
					t.Fatal(err)
				}
				norm := l2(g.Data().([]float32))
				want, torch := peer.FirstGradNorms64[n.Name()], peer.FirstGradNorms[n.Name()]
				worstGrad = max(worstGrad, math.Abs(norm-want)/want)
				torchWorstGrad = max(torchWorstGrad, math.Abs(torch-want)/want)
				// 1e-3 of the norm: the rounding of a float32 sum, as
				// PyTorch's own float32 run strays on some draws (the last
				// bias, whose gradient is a small sum of cancelling terms).
				if math.Abs(norm-want) > max(1e-3*want, 2*math.Abs(torch-want)) {
					t.Errorf("first step: gradient norm of %s %.7g, PyTorch %.7g (float64), %.7g (float32)", n.Name(), norm, want, torch)
				}
			}
		}
		if err := tr.solver.Step(vg); err != nil {
			t.Fatal(err)
		}
	}
	lossOff, torchLossOff = lossOff/float64(peer.Steps), torchLossOff/float64(peer.Steps)
	t.Logf("first step: largest relative gradient-norm difference from PyTorch float64: simsearch %.2g, PyTorch float32 %.2g", worstGrad, torchWorstGrad)
	t.Logf("%d steps of %d pairs (augmentation %s): mean loss difference from PyTorch float64: simsearch %.2g, PyTorch float32 %.2g",
		peer.Steps, peer.Batch, peer.Aug, lossOff, torchLossOff)
	if lossOff > 2*torchLossOff+1e-5 {
		t.Errorf("simsearch's losses stray %.2g from PyTorch's float64 run, PyTorch's float32 run %.2g", lossOff, torchLossOff)
	}

	// Adam's first steps move each weight by about ±lr whatever its
	// gradient's size, so the updates are compared, not the weights: each
	// float32 run's distance from the float64 run's update, against that
	// update's size. The training is chaotic: two float32 runs that differ
	// only in rounding stray from the float64 one by 0.02 to 0.5 of the
	// update within 20 steps, one tensor more, another less, from draw to
	// draw (seeds 1–4 of step_peer.py, with and without Winograd's
	// transform), so a tensor may stray twice as far as PyTorch's float32
	// run and 0.05 more.
	for i, p := range tr.w.params {
		got, torch, want, from := p.value.Data().([]float32), final.params[i].value.Data().([]float32),
			final64.params[i].value.Data().([]float32), start[p.name]
		var off, torchOff, moved float64
		for j := range got {
			d, e, m := float64(got[j])-float64(want[j]), float64(torch[j])-float64(want[j]), float64(want[j])-float64(from[j])
			off += d * d
			torchOff += e * e
			moved += m * m
		}
		rel, torchRel := math.Sqrt(off/moved), math.Sqrt(torchOff/moved)
		t.Logf("%-22s update off the float64 one by %.2g (PyTorch float32: %.2g)", p.name, rel, torchRel)
		if rel > 2*torchRel+0.05 {
			t.Errorf("%s: after %d steps the update is %.3g off PyTorch's float64 one, PyTorch's float32 update %.3g", p.name, peer.Steps, rel, torchRel)
		}
	}
}

func l2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
