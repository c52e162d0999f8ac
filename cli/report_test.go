package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/index"
)

func TestReport(t *testing.T) {
	db := queryFile(t)
	out := filepath.Join(t.TempDir(), "report")
	args := []string{"report", "--db", db, "--out", out, "--bases", "6", "--variants", "3", "--orbits", "4", "--orbit-size", "3", "--aug", "A"}
	stdout, stderr, code := run(t, append(args, "--json")...)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	var res reportResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if len(res.Spaces) != 1 || res.Spaces[0].Name != "p" || res.Spaces[0].Orbit == nil || len(res.Spaces[0].Interventions) != 5 {
		t.Fatalf("report %+v", res.Report)
	}
	for _, name := range []string{"report.md", "report.json", "p-neighbours.png", "p-distances.png"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(stderr, "report p: k-NN") {
		t.Errorf("stderr shows no progress: %q", stderr)
	}

	// The text summary is the comparison table. The probes are stored now:
	// the report only reads, so it runs beside another reader of the file.
	reader, err := index.Open(db, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	stdout, stderr, code = run(t, append(args, "--timeout", "0")...)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"space", "shape", "rotation", "theory agrees", "The seed's claims, measured:", "held     1–2 over the vectors of 1 space(s)", "wrote " + out + "/report.md"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestReportErrors(t *testing.T) {
	db := queryFile(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no database", []string{"report"}, ExitUsage, "--db"},
		{"unknown space", []string{"report", "--db", db, "--space", "nope"}, ExitUsage, "nope"},
		{"thresholds out of order", []string{"report", "--db", db, "--invariant-sensitivity", "0.9", "--sensitive-sensitivity", "0.5"}, ExitUsage, "sensitivity thresholds"},
		{"one variant", []string{"report", "--db", db, "--variants", "1"}, ExitUsage, "variants"},
		{"not a database", []string{"report", "--db", writeFile(t, t.TempDir(), "x.db", "not a database at all, just text")}, ExitBadInput, "not a simsearch database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append(tc.args, "--out", t.TempDir())...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit code %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.want)
			}
		})
	}
}
