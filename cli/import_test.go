package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"simsearch/encoder"
)

func TestImport(t *testing.T) {
	dir := t.TempDir()
	random, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Random, Res: 16, Width: 4, Latent: 8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	// A simsearch checkpoint holds the tensors of a state_dict, by the same
	// names: it serves as the PyTorch file.
	torch := filepath.Join(dir, "torch.safetensors")
	if err := random.Save(torch); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "enc.safetensors")
	stdout, stderr, code := run(t, "import", "--torch", torch, "--objective", "contrastive", "--res", "16", "--width", "4", "--latent", "8", "--aug", "B", "--out", out)
	if code != ExitOK || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
	}
	m, err := encoder.Load(out)
	if err != nil || m.ID() != random.ID() || m.Info().Augmentation != "B" {
		t.Errorf("imported %v, %v", m, err)
	}
	_, stderr, code = run(t, "import", "--torch", torch, "--objective", "contrastive", "--res", "16", "--width", "8", "--latent", "8", "--out", out)
	if code != ExitBadInput || !strings.Contains(stderr, `"encoder.convs.0.weight" has shape [4 3 4 4], want [8 3 4 4]`) {
		t.Errorf("another width: exit %d, %q", code, stderr)
	}
	if _, _, code := run(t, "import", "--torch", torch, "--res", "16", "--out", out); code != ExitUsage {
		t.Errorf("no objective: exit %d", code)
	}
}
