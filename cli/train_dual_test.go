package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/encoder"
)

func TestTrainDualEncoder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dual.safetensors")
	stdout, stderr, code := run(t, "train", "--objective", "dual-encoder", "--label", "color", "--data", "shapes:n=64,seed=2,res=8,val=0.25",
		"--width", "4", "--latent", "8", "--epochs", "2", "--batch", "16", "--out", out, "--json")
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	m, err := encoder.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); res.Objective != "dual-encoder" || info.Objective != encoder.DualEncoder || info.Label != "color" || info.Classes != 8 || len(m.ClassEmbeddings()) != 8 {
		t.Errorf("result %+v, checkpoint %+v", res, info)
	}
	_, stderr, code = run(t, "train", "--objective", "dual-encoder", "--data", "shapes:n=32,res=8", "--out", filepath.Join(filepath.Dir(out), "other.safetensors"))
	if code != ExitUsage || !strings.Contains(stderr, "--label") {
		t.Errorf("dual-encoder without --label: exit code %d, stderr %q", code, stderr)
	}
}
