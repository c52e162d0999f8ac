package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/encoder"
)

func TestTrain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "enc.safetensors")
	stdout, stderr, code := run(t, "train", "--objective", "contrastive", "--aug", "B", "--data", "shapes:n=64,seed=2,res=8,val=0.25",
		"--width", "4", "--latent", "8", "--epochs", "2", "--batch", "16", "--seed", "5", "--out", out, "--json")
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	var res struct {
		Type string `json:"type"`
		trainResult
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q is not one JSON object: %v", stdout, err)
	}
	if res.Type != "train" || res.Path != out || res.Objective != "contrastive" || res.Augmentation != "B" || res.Images != 48 ||
		res.Steps != 6 || res.Epochs != 2 || res.Dim != 8 || res.Seconds <= 0 || res.ImagesPerSecond <= 0 || res.FinalLoss <= 0 ||
		res.LossCSV != filepath.Join(dir, "enc.loss.csv") {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(stderr, "train: 6 steps") {
		t.Errorf("stderr shows no progress summary: %q", stderr)
	}
	m, err := encoder.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); m.ID() != res.ID || info.Seed != 5 || info.Augmentation != "B" || info.Data != "shapes:n=64,seed=2,res=8,val=0.25" {
		t.Errorf("checkpoint info %+v, id %s", info, m.ID())
	}
	csv, err := os.ReadFile(res.LossCSV)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 7 || lines[0] != "step,epoch,loss,images_per_second" {
		t.Errorf("loss CSV:\n%s", csv)
	}

	// Writing again needs --overwrite.
	_, stderr, code = run(t, "train", "--data", "shapes:n=64,res=8", "--batch", "16", "--out", out, "--quiet")
	if code != ExitUsage || !strings.Contains(stderr, "--overwrite") {
		t.Fatalf("writing over a checkpoint: exit code %d, stderr %q", code, stderr)
	}
}

func TestTrainBaselines(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		dim  int
	}{
		{[]string{"--baseline", "pixels", "--res", "32"}, 192},
		{[]string{"--baseline", "pixels", "--data", "shapes:n=10,res=16", "--pool", "4"}, 48},
		{[]string{"--baseline", "random", "--res", "16", "--width", "4", "--latent", "12"}, 12},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out := filepath.Join(dir, tc.args[1]+tc.args[3]+".safetensors")
			stdout, stderr, code := run(t, append(append([]string{"train"}, tc.args...), "--out", out)...)
			if code != ExitOK || !strings.Contains(stdout, "wrote "+out) {
				t.Fatalf("exit code %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			m, err := encoder.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.Dim() != tc.dim || string(m.Info().Objective) != tc.args[1] {
				t.Errorf("%s of dimension %d, want %s of %d", m.Info().Objective, m.Dim(), tc.args[1], tc.dim)
			}
		})
	}
}

// TestTrainLeavesNothingWhenItFails checks that a training that fails
// writes neither the checkpoint, nor its loss CSV, nor a temporary file.
func TestTrainLeavesNothingWhenItFails(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.safetensors")
	_, stderr, code := run(t, "train", "--quiet", "--data", "shapes:n=32,res=8", "--batch", "8", "--epochs", "1", "--lr", "1e300", "--out", out)
	if code == ExitOK {
		t.Fatalf("training with a learning rate of 1e300 succeeded: %s", stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("a failed training left %v", names)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.safetensors")
	data := "shapes:n=32,res=8"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"--data", data}, "--out"},
		{"no data", []string{"--out", out}, "--data"},
		{"unknown objective", []string{"--objective", "magic", "--data", data, "--out", out}, "--objective"},
		{"baseline as objective", []string{"--objective", "pixels", "--data", data, "--out", out}, "--baseline"},
		{"supervised without label", []string{"--objective", "supervised", "--data", data, "--out", out}, "--label"},
		{"dual encoder of an unknown label", []string{"--objective", "dual-encoder", "--label", "mood", "--data", data, "--out", out}, `--label "mood": want shape`},
		{"bad augmentation", []string{"--aug", "spin:9", "--data", data, "--out", out}, "--aug"},
		{"bad spec", []string{"--data", "shapes:n=0", "--out", out}, "n=0"},
		{"batch above data", []string{"--data", data, "--batch", "64", "--out", out}, "lower the batch"},
		{"other resolution", []string{"--data", data, "--res", "16", "--batch", "8", "--out", out}, "8 px"},
		{"unknown baseline", []string{"--baseline", "noise", "--out", out}, "--baseline"},
		{"baseline and objective", []string{"--baseline", "pixels", "--objective", "contrastive", "--out", out}, "not both"},
		{"bad pool", []string{"--baseline", "pixels", "--res", "32", "--pool", "5", "--out", out}, "pool"},
		// A number typed is never silently replaced by a default.
		{"zero epochs", []string{"--data", data, "--epochs", "0", "--out", out}, "--epochs must be at least 1"},
		{"zero batch", []string{"--data", data, "--batch", "0", "--out", out}, "--batch must be at least 1"},
		{"zero width", []string{"--data", data, "--width", "0", "--out", out}, "--width must be at least 1"},
		{"zero latent", []string{"--data", data, "--latent", "0", "--out", out}, "--latent must be at least 1"},
		{"zero tau", []string{"--data", data, "--tau", "0", "--out", out}, "--tau must be a positive number"},
		{"negative lr", []string{"--data", data, "--lr", "-1", "--out", out}, "--lr must be a positive number"},
		{"an argument", []string{"--data", data, "--out", out, "extra"}, "no arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"train", "--quiet"}, c.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit code %d, stderr %q; want %d and a mention of %q", code, stderr, ExitUsage, c.want)
			}
		})
	}
}

func TestTrainResumesAndRefusesOtherSettings(t *testing.T) {
	const spec = "shapes:n=64,seed=2,res=8,val=0.25"
	out := filepath.Join(t.TempDir(), "enc.safetensors")
	data, err := encoder.LoadTrainingSet(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	// A training of 3 epochs of 3 steps, stopped after 4 steps.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := encoder.TrainOptions{Data: data, Augmentation: "B", Width: 4, Latent: 8, Epochs: 3, Batch: 16, Seed: 5,
		Progress: func(p encoder.Progress) {
			if p.Step == 4 {
				cancel()
			}
		}}
	if _, err := encoder.TrainToFiles(ctx, opts, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped training: %v", err)
	}
	args := []string{"train", "--aug", "B", "--data", spec, "--width", "4", "--latent", "8", "--epochs", "3", "--seed", "5", "--out", out}

	_, stderr, code := run(t, append(args, "--batch", "8")...)
	if code != ExitUsage || !strings.Contains(stderr, "batch is 16, this training's is 8") || !strings.Contains(stderr, "--restart") {
		t.Fatalf("resuming with another batch: exit code %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, append(args, "--batch", "16")...)
	if code != ExitOK || !strings.Contains(stderr, "resuming from the training state") {
		t.Fatalf("resuming: exit code %d, stderr %q", code, stderr)
	}
	resumed, err := encoder.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	opts.Progress = nil
	whole, err := encoder.Train(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ID() != whole.ID() {
		t.Errorf("the resumed training's checkpoint %.12s is not the uninterrupted one's %.12s", resumed.ID(), whole.ID())
	}
	if _, err := os.Stat(encoder.StatePath(out)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the training state is left after the training finished: %v", err)
	}
}

func TestTrainSaysOneEpoch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "enc.safetensors")
	stdout, stderr, code := run(t, "train", "--quiet", "--data", "shapes:n=16,res=8", "--batch", "8", "--epochs", "1", "--width", "4", "--latent", "8", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, ": 1 epoch, ") {
		t.Errorf("stdout %q does not say 1 epoch", stdout)
	}
}
