package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/experiment"
)

func TestDemoTinyRunsTheWholeChainAndResumes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	stdout, stderr, code := run(t, "demo", "--size", "tiny", "--out", dir, "--json")
	if code != ExitOK {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr)
	}
	var res experiment.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	for _, path := range append([]string{
		res.Database, filepath.Join(res.Dataset, "factors.csv"),
		filepath.Join(dir, "report", "report.md"), filepath.Join(dir, "report", "report.json"),
		filepath.Join(dir, "report", "contrastive-A-neighbours.png"), filepath.Join(dir, "report", "contrastive-A-distances.png"),
		filepath.Join(dir, "encoders", "contrastive-B.loss.csv"),
	}, res.Encoders...) {
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("%s is missing or empty (%v)", path, err)
		}
	}
	if len(res.Report.Spaces) != len(experiment.Encoders) {
		t.Fatalf("report of %d spaces, want %d", len(res.Report.Spaces), len(experiment.Encoders))
	}
	for _, sr := range res.Report.Spaces {
		if len(sr.KNN) != len(dataset.LabelNames) || len(sr.Verdicts) != len(dataset.AllFactors) {
			t.Fatalf("%s: %d k-NN labels and %d verdicts", sr.Name, len(sr.KNN), len(sr.Verdicts))
		}
		for _, a := range sr.KNN {
			if a.Classes != dataset.LabelClasses(a.Label) {
				t.Errorf("%s: %s has %d classes, want %d", sr.Name, a.Label, a.Classes, dataset.LabelClasses(a.Label))
			}
			// The majority-class rate of a few dozen items is near 1/classes.
			if a.Chance <= 0 || a.Chance > 3.0/float64(a.Classes) {
				t.Errorf("%s: %s chance %.3f for %d classes", sr.Name, a.Label, a.Chance, a.Classes)
			}
			for _, acc := range []float64{a.Accuracy, a.Accuracy1} {
				if acc < 0 || acc > 1 {
					t.Errorf("%s: %s accuracy %v", sr.Name, a.Label, acc)
				}
			}
		}
		for _, iv := range sr.Interventions {
			if iv.Sensitivity < 0 || iv.SeparatedShare < 0 || iv.SeparatedShare > 1 {
				t.Errorf("%s: %s intervention %+v", sr.Name, iv.Factor, iv)
			}
		}
		if sr.Trust.Recall < 0.9 {
			t.Errorf("%s: recall %v", sr.Name, sr.Trust.Recall)
		}
	}

	// A second run resumes: nothing is trained again and the report is the same.
	stdout2, stderr2, code := run(t, "demo", "--size", "tiny", "--out", dir, "--json")
	if code != ExitOK {
		t.Fatalf("second run: exit code %d\nstderr:\n%s", code, stderr2)
	}
	if !strings.Contains(stderr2, "already trained") {
		t.Errorf("second run trained again:\n%s", stderr2)
	}
	var res2 experiment.Result
	if err := json.Unmarshal([]byte(stdout2), &res2); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*experiment.Result{&res, &res2} {
		for _, sr := range r.Report.Spaces {
			sr.Seconds, sr.StageSeconds = 0, nil // the figures that may differ
		}
	}
	a, _ := json.MarshalIndent(res.Report, "", " ")
	b, _ := json.MarshalIndent(res2.Report, "", " ")
	if string(a) != string(b) {
		t.Errorf("the resumed run's report differs from the first:\n%s\n%s", a, b)
	}

	// The text output ends with the seed's claims, which report.md has too.
	stdout3, _, code := run(t, "demo", "--size", "tiny", "--out", dir)
	if code != ExitOK || !strings.Contains(stdout3, "The seed's claims, measured:") || !strings.Contains(stdout3, "held     6 supervised-color: classifier accuracy") {
		t.Errorf("demo's text output without the seed's claims (exit code %d):\n%s", code, stdout3)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "report.md"))
	if err != nil || !strings.Contains(string(md), "## The seed's claims, measured") || !strings.Contains(string(md), "![linear CKA between spaces](cka.png)") {
		t.Errorf("report.md without the seed's claims or the CKA heat map (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "cka.png")); err != nil {
		t.Error(err)
	}

	// Another size in the same folder is refused.
	if _, stderr, code := run(t, "demo", "--size", "small", "--out", dir); code != ExitUsage || !strings.Contains(stderr, "tiny") {
		t.Errorf("demo of another size in %s: exit code %d, stderr %q", dir, code, stderr)
	}
}
