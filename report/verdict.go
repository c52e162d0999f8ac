package report

import (
	"fmt"
	"strings"
)

// Verdict says what a space does with one factor of variation.
type Verdict string

// The verdicts of a report.
const (
	Invariant Verdict = "invariant" // the factor hardly moves a vector and does not predict neighbours
	Sensitive Verdict = "sensitive" // the factor moves vectors and neighbours share it
	Partial   Verdict = "partial"   // the measures disagree or sit between the thresholds
	NoVerdict Verdict = ""          // nothing was measured for the factor
)

// Thresholds turn measurements into verdicts. A factor is invariant when every
// measure available for it is below its lower threshold, sensitive when every
// one is above its upper threshold, and partial otherwise. The zero value is
// not useful; start from DefaultThresholds.
type Thresholds struct {
	// InvariantSensitivity and SensitiveSensitivity bound the intervention
	// sensitivity (mean within-set distance / mean between-set distance).
	InvariantSensitivity float64 `json:"invariant_sensitivity"`
	SensitiveSensitivity float64 `json:"sensitive_sensitivity"`
	// InvariantScore and SensitiveScore bound the normalized k-NN score
	// (accuracy − chance) / (1 − chance) of the factor's label.
	InvariantScore float64 `json:"invariant_score"`
	SensitiveScore float64 `json:"sensitive_score"`
}

// DefaultThresholds returns the thresholds used unless flags say otherwise.
func DefaultThresholds() Thresholds {
	return Thresholds{
		InvariantSensitivity: 0.25,
		SensitiveSensitivity: 0.5,
		InvariantScore:       0.1,
		SensitiveScore:       0.2,
	}
}

// Validate reports thresholds that cannot order the verdicts.
func (t Thresholds) Validate() error {
	switch {
	case t.InvariantSensitivity < 0 || t.InvariantSensitivity > t.SensitiveSensitivity:
		return fmt.Errorf("sensitivity thresholds must satisfy 0 ≤ invariant (%g) ≤ sensitive (%g)", t.InvariantSensitivity, t.SensitiveSensitivity)
	case t.InvariantScore > t.SensitiveScore || t.SensitiveScore > 1:
		return fmt.Errorf("k-NN score thresholds must satisfy invariant (%g) ≤ sensitive (%g) ≤ 1", t.InvariantScore, t.SensitiveScore)
	}
	return nil
}

// String states the rule and the thresholds, as the report prints them.
func (t Thresholds) String() string {
	return fmt.Sprintf("invariant when sensitivity < %g and normalized k-NN score < %g; "+
		"sensitive when sensitivity > %g and normalized k-NN score > %g; partial otherwise "+
		"(a factor without a label, such as rotation, is judged on sensitivity alone)",
		t.InvariantSensitivity, t.InvariantScore, t.SensitiveSensitivity, t.SensitiveScore)
}

// Judge returns the verdict for a factor from its intervention sensitivity
// and, when the factor has a label, its normalized k-NN score. A NaN
// measure counts as not measured.
func (t Thresholds) Judge(sensitivity, score float64, hasScore bool) Verdict {
	type measure struct{ value, low, high float64 }
	var measures []measure
	if sensitivity == sensitivity {
		measures = append(measures, measure{sensitivity, t.InvariantSensitivity, t.SensitiveSensitivity})
	}
	if hasScore && score == score {
		measures = append(measures, measure{score, t.InvariantScore, t.SensitiveScore})
	}
	if len(measures) == 0 {
		return NoVerdict
	}
	low, high := 0, 0
	for _, m := range measures {
		switch {
		case m.value < m.low:
			low++
		case m.value > m.high:
			high++
		}
	}
	switch len(measures) {
	case low:
		return Invariant
	case high:
		return Sensitive
	}
	return Partial
}

// Prediction is what the theory expects of a space for each factor.
type Prediction map[string]Verdict

// Predict returns what the seed's analysis predicts for an encoder trained
// with the given objective, augmentation and label, or nil when it predicts
// nothing. Augmentation A (colour jitter and grayscale) should give
// invariance to colour and sensitivity to shape and location; B (pad,
// rotate, resized crop) invariance to location and sensitivity to colour and
// shape; C (rotation, shear, perspective, crop) invariance to shape and
// location and sensitivity to colour. A supervised encoder should be
// sensitive to its label.
func Predict(objective, augmentation, label string) Prediction {
	switch objective {
	case "contrastive":
		switch strings.ToUpper(augmentation) {
		case "A":
			return Prediction{"color": Invariant, "shape": Sensitive, "location": Sensitive}
		case "B":
			return Prediction{"location": Invariant, "color": Sensitive, "shape": Sensitive}
		case "C":
			return Prediction{"shape": Invariant, "location": Invariant, "color": Sensitive}
		}
	case "supervised", "dual-encoder":
		if label != "" {
			return Prediction{label: Sensitive}
		}
	}
	return nil
}
