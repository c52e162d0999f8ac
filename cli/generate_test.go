package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
)

func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	stdout, stderr, code := run(t, "generate", "--n", "30", "--seed", "3", "--res", "16", "--val-frac", "0.2", "--out", dir, "--json")
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	var res struct {
		Type string `json:"type"`
		generateResult
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q is not one JSON object: %v", stdout, err)
	}
	want := dataset.Spec{N: 30, Seed: 3, Res: 16, ValFrac: 0.2}
	if res.Type != "generate" || res.Dir != dir || res.Spec != want.String() || res.Images != 30 || res.Train != 24 || res.Val != 6 ||
		res.Seconds <= 0 || res.ImagesPerSecond <= 0 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(stderr, "generate: 30 images") {
		t.Errorf("stderr shows no progress summary: %q", stderr)
	}
	folder, err := dataset.ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if folder.Spec != want || len(folder.Records) != 30 {
		t.Fatalf("folder spec %s with %d records", folder.Spec, len(folder.Records))
	}

	// A second run into the same folder is refused, unless told to overwrite.
	_, stderr, code = run(t, "generate", "--n", "10", "--res", "16", "--out", dir, "--quiet")
	if code != ExitUsage || !strings.Contains(stderr, "--overwrite") {
		t.Fatalf("writing into a full folder: exit code %d, stderr %q", code, stderr)
	}
	if _, stderr, _ := run(t, "generate", "--n", "10", "--res", "16", "--out", dir); strings.Contains(stderr, "0 images") {
		t.Errorf("a refused generate reports progress: %q", stderr)
	}
	stdout, stderr, code = run(t, "generate", "--n", "10", "--res", "16", "--out", dir, "--overwrite", "--quiet")
	if code != ExitOK || !strings.Contains(stdout, "wrote 10 images (6 train, 4 val)") || stderr != "" {
		t.Fatalf("overwrite: exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 12 {
		t.Fatalf("after overwriting, %d files, want 10 images and 2 dataset files", len(entries))
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	for _, c := range []struct {
		name    string
		args    []string
		message string
	}{
		{"no --out", []string{"--n", "5"}, "needs --out"},
		{"no images", []string{"--n", "0", "--out", out}, "n=0, want 1 to"},
		{"tiny images", []string{"--res", "4", "--out", out}, "res=4"},
		{"val-frac above 1", []string{"--val-frac", "1.5", "--out", out}, "val=1.5"},
		{"negative workers", []string{"--workers", "-1", "--out", out}, "--workers"},
		{"not a number", []string{"--n", "many", "--out", out}, "many"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"generate", "--quiet"}, c.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, c.message) {
				t.Fatalf("exit code %d, stderr %q; want %d and %q", code, stderr, ExitUsage, c.message)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused command created %s", out)
	}
}
