package report

import (
	"math"
	"testing"
)

func TestJudge(t *testing.T) {
	th := DefaultThresholds()
	nan := math.NaN()
	for _, tc := range []struct {
		name        string
		sensitivity float64
		score       float64
		hasScore    bool
		want        Verdict
	}{
		{"both low", 0.05, 0.01, true, Invariant},
		{"both high", 0.9, 0.8, true, Sensitive},
		{"low sensitivity, high score", 0.05, 0.8, true, Partial},
		{"between thresholds", 0.35, 0.2, true, Partial},
		{"no label, low", 0.05, 0, false, Invariant},
		{"no label, high", 0.9, 0, false, Sensitive},
		{"score only", nan, 0.9, true, Sensitive},
		{"nothing measured", nan, nan, true, NoVerdict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := th.Judge(tc.sensitivity, tc.score, tc.hasScore); got != tc.want {
				t.Fatalf("Judge(%v, %v, %v) = %q, want %q", tc.sensitivity, tc.score, tc.hasScore, got, tc.want)
			}
		})
	}
}

func TestThresholdsValidate(t *testing.T) {
	if err := DefaultThresholds().Validate(); err != nil {
		t.Fatalf("default thresholds: %v", err)
	}
	bad := DefaultThresholds()
	bad.InvariantSensitivity = 0.9
	if bad.Validate() == nil {
		t.Fatal("invariant threshold above the sensitive one was accepted")
	}
}

func TestPredict(t *testing.T) {
	if got := Predict("contrastive", "A", "")["color"]; got != Invariant {
		t.Errorf("A predicts %q for colour, want invariant", got)
	}
	if got := Predict("contrastive", "C", "")["shape"]; got != Invariant {
		t.Errorf("C predicts %q for shape, want invariant", got)
	}
	if Predict("autoencoder", "", "") != nil || Predict("contrastive", "pad:24,rotate", "") != nil {
		t.Error("a prediction was made where the theory says nothing")
	}
}
