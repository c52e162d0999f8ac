package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/index"
)

func TestIngestQuantizeInt8(t *testing.T) {
	dir := t.TempDir()
	images := shapesFolder(t, dir, 40, 2, 16)
	pixels := pixelsBaseline(t, filepath.Join(dir, "pix.safetensors"), 16)
	db := filepath.Join(dir, "q.db")
	if _, stderr, code := run(t, "ingest", "--quiet", "--db", db, "--encoder", pixels, "--quantize", "bf16", images); code != ExitUsage || !strings.Contains(stderr, "--quantize") {
		t.Errorf("--quantize bf16: exit code %d, stderr %q", code, stderr)
	}
	if sum := ingestJSON(t, "--db", db, "--encoder", pixels, "--quantize", "int8", images); sum.AddedItems != 40 {
		t.Fatalf("ingest --quantize int8: %+v", sum)
	}

	stdout, stderr, code := run(t, "info", "--db", db)
	if code != ExitOK || !strings.Contains(stdout, "storage") || !strings.Contains(stdout, "int8 in memory") {
		t.Errorf("info: exit code %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	stdout, _, code = run(t, "info", "--db", db, "--json")
	var info index.Info
	if code != ExitOK || json.Unmarshal([]byte(stdout), &info) != nil || len(info.Spaces) != 1 || info.Spaces[0].Storage != index.Int8 {
		t.Errorf("info --json: exit code %d, %s", code, stdout)
	}

	stdout, stderr, code = run(t, "check", "--db", db, "--queries", "20", "--json")
	if code != ExitOK {
		t.Fatalf("check: exit code %d, stderr %q", code, stderr)
	}
	var res index.CheckResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("check --json: %v\n%s", err, stdout)
	}
	if res.Queries != 20 || res.Recall < 0.9 || res.Storage != index.Int8 {
		t.Errorf("check of the int8 space: %+v", res)
	}

	// Ingesting again keeps the space's storage.
	if sum := ingestJSON(t, "--db", db, "--encoder", pixels, "--quantize", "none", images); sum.AddedItems != 0 {
		t.Errorf("second ingest: %+v", sum)
	}
	if stdout, _, _ := run(t, "info", "--db", db); !strings.Contains(stdout, "int8 in memory") {
		t.Errorf("info after a second ingest:\n%s", stdout)
	}
}
