package render

import (
	"bytes"
	"strings"
	"testing"

	"simsearch/encoder"
	"simsearch/report"
)

// claimsReport is a report with a space of every kind the seed's claims
// speak of, with made-up figures.
func claimsReport() *report.Report {
	unit := &report.LabelFree{Items: 10, Dim: 4, UnitNormError: 1e-7, IdentityError: 2e-7}
	contrastive := func(name, aug string, agree int) *report.SpaceReport {
		sr := &report.SpaceReport{Name: name, LabelFree: unit,
			Encoder:  encoder.Info{Objective: encoder.Contrastive, Augmentation: aug, Epochs: 8, FinalLoss: 2.5},
			Overlap:  []report.SupportOverlap{{Group: "orbit", Sets: 10, Overlapping: 2}},
			Norms:    &report.NormDistribution{Items: 5, Percentiles: []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1}},
			Verdicts: []report.FactorVerdict{{Factor: "color", Verdict: report.Invariant, Predicted: report.Invariant}, {Factor: "shape", Verdict: report.Partial, Predicted: report.Sensitive}},
		}
		if agree == 2 {
			sr.Verdicts[1].Verdict = report.Sensitive
		}
		return sr
	}
	shortcut := contrastive("shortcut-A", "A", 2)
	shortcut.Encoder.Epochs, shortcut.Encoder.FinalLoss = 2, 0.4
	shortcut.Encoder.FirstLoss, shortcut.Encoder.OutputNormFirst, shortcut.Encoder.OutputNormLast = 6.2, 0.7, 4.5
	shortcut.Norms = &report.NormDistribution{Items: 5, Unnormalized: true, Percentiles: []float64{2, 3, 4, 5, 6, 7, 8}}
	r := &report.Report{Settings: report.Settings{Thresholds: report.DefaultThresholds()}, Spaces: []*report.SpaceReport{
		{Name: "autoencoder", LabelFree: unit, Encoder: encoder.Info{Objective: encoder.Autoencoder},
			Probes: []report.LabelProbe{{Label: "color", Accuracy: 0.93, Chance: 0.13, Normalized: 0.92}},
			KNN:    []report.LabelAccuracy{{Label: "color", Accuracy: 0.15, Chance: 0.13, Normalized: 0.02}}},
		contrastive("contrastive-A", "A", 1),
		shortcut,
		{Name: "supervised-color", LabelFree: unit, Encoder: encoder.Info{Objective: encoder.Supervised, Label: "color"},
			Classifier: &report.ClassifierCheck{Objective: "supervised", Label: "color", Items: 50, ClassifierAccuracy: 0.9, DualEncoderAccuracy: 0.9, Agree: 50}},
		{Name: "dual-encoder-color", LabelFree: unit, Encoder: encoder.Info{Objective: encoder.DualEncoder, Label: "color"},
			Classifier: &report.ClassifierCheck{Objective: "dual-encoder", Label: "color", Items: 50, ClassifierAccuracy: 0.8, DualEncoderAccuracy: 0.8, Agree: 50}},
	}}
	for _, sr := range r.Spaces {
		if sr.Overlap != nil {
			sr.Overlap[0].ConditionHolds = false
		}
	}
	return r
}

func TestClaims(t *testing.T) {
	r := claimsReport()
	held := map[string]bool{}
	measured := map[string]string{}
	for _, c := range Claims(r) {
		held[c.Section], measured[c.Section] = c.Held, c.Measured
	}
	for section, want := range map[string]bool{"1–2": true, "4(f)": true, "5": true, "6": true, "7(a)": true, "8(b)": false} {
		got, ok := held[section]
		if !ok {
			t.Errorf("no claim %s", section)
			continue
		}
		if got != want {
			t.Errorf("claim %s held = %v, want %v (%s)", section, got, want, measured[section])
		}
	}
	for section, want := range map[string]string{
		"7(a)": "colour decodable 0.93 (linear probe; chance 0.13), k-NN colour 0.15 (chance 0.13): kept but not near",
		"6":    "the same prediction for 50 of 50 items; trained as a dual encoder (learned f₂(c)), dual-encoder-color: 0.800",
		"5":    "the mean output norm went from 0.7 at the first step to 4.5 at the last while the loss went from 6.2 to 0.4",
		"8(b)": "contrastive-A 1 of 2",
	} {
		if !strings.Contains(measured[section], want) {
			t.Errorf("claim %s: %q, want it to say %q", section, measured[section], want)
		}
	}
	// Norms that did not grow, or a loss that did not fall, do not show
	// the shortcut.
	for _, e := range []encoder.Info{{FirstLoss: 6.2, OutputNormFirst: 4.5, OutputNormLast: 0.7, FinalLoss: 0.4}, {FirstLoss: 0.3, OutputNormFirst: 0.7, OutputNormLast: 4.5, FinalLoss: 0.4}, {}} {
		r := claimsReport()
		r.Spaces[2].Encoder = e
		for _, c := range Claims(r) {
			if c.Section == "5" && c.Held {
				t.Errorf("claim 5 held for %+v: %s", e, c.Measured)
			}
		}
	}
	// A report without those spaces has none of their claims.
	if got := Claims(&report.Report{}); len(got) != 0 {
		t.Errorf("claims of an empty report: %+v", got)
	}

	var lines bytes.Buffer
	if err := WriteClaims(&lines, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lines.String(), "held     7(a) autoencoder: colour decodable 0.93") || !strings.Contains(lines.String(), "not held 8(b)") {
		t.Errorf("claim lines:\n%s", lines.String())
	}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## The seed's claims, measured") || !strings.Contains(md.String(), "| 7(a) | an autoencoder's code contains colour") {
		t.Errorf("report.md without the claims section")
	}
}
