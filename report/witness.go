package report

import (
	"fmt"
	"strings"
)

// Decodability thresholds of a linear probe's score (the normalized
// accuracy of a label's probe, the R² of a factor's): a factor is
// decodable above DecodableProbe and not decodable below
// UndecodableProbe.
const (
	DecodableProbe   = 0.5
	UndecodableProbe = 0.1
)

// Witness answers of Witnesses.
const (
	WitnessYes    = "yes"
	WitnessNo     = "no"
	WitnessPartly = "partly"
)

// Witnesses are the three ways a report judges a factor: how near
// (whether neighbours share it, the k-NN score), how moved (whether
// changing it alone moves a vector, the intervention sensitivity) and how
// decodable (whether a linear probe reads it off the vector). Each is
// WitnessYes, WitnessNo, WitnessPartly, or empty when not measured.
type Witnesses struct {
	Near      string `json:"near,omitempty"`
	Moved     string `json:"moved,omitempty"`
	Decodable string `json:"decodable,omitempty"`
	// Disagree is set when one witness says yes and another no.
	Disagree bool `json:"disagree"`
	// Words says it in a sentence: "color: invariant in distance, but
	// decodable (probe 0.93)".
	Words string `json:"words"`
}

// KNNOf returns the k-NN accuracy of label, and whether the space has one.
func (sr *SpaceReport) KNNOf(label string) (LabelAccuracy, bool) {
	for _, a := range sr.KNN {
		if a.Label == label {
			return a, true
		}
	}
	return LabelAccuracy{}, false
}

// ProbeOf returns the probe score of a factor (the normalized accuracy of
// its label's probe, else the R² of its continuous factor's), the figure
// to quote (the accuracy, or R²), and whether there is one.
func (sr *SpaceReport) ProbeOf(factor string) (score, quoted float64, ok bool) {
	for _, p := range sr.Probes {
		if p.Label == factor {
			return p.Normalized, p.Accuracy, true
		}
	}
	for _, p := range sr.FactorProbes {
		if p.Factor == factor {
			return p.R2, p.R2, true
		}
	}
	return 0, 0, false
}

// witness places a measure against its two thresholds.
func witness(value, low, high float64) string {
	switch {
	case value != value:
		return ""
	case value < low:
		return WitnessNo
	case value > high:
		return WitnessYes
	}
	return WitnessPartly
}

// addWitnesses fills the probe score and the witnesses of each verdict.
func addWitnesses(sr *SpaceReport, t Thresholds) {
	for i := range sr.Verdicts {
		v := &sr.Verdicts[i]
		var w Witnesses
		var near, moved, probe float64
		if v.Score != nil {
			near = *v.Score
			w.Near = witness(near, t.InvariantScore, t.SensitiveScore)
		}
		if !v.NoIntervention {
			moved = v.Sensitivity
			w.Moved = witness(moved, t.InvariantSensitivity, t.SensitiveSensitivity)
		}
		score, quoted, ok := sr.ProbeOf(v.Factor)
		if ok {
			s := score
			v.Probe = &s
			probe = quoted
			w.Decodable = witness(score, UndecodableProbe, DecodableProbe)
		}
		w.Words = witnessWords(v.Factor, w, near, moved, probe)
		w.Disagree = strings.Contains(w.Words, ", but ")
		v.Witnesses = &w
	}
}

// witnessWords says what the witnesses of a factor say, the
// disagreements after "but".
func witnessWords(factor string, w Witnesses, near, moved, probe float64) string {
	type said struct {
		answer, yes, no string
	}
	all := []said{
		{w.Near, fmt.Sprintf("near (k-NN score %.2f)", near), fmt.Sprintf("not near (k-NN score %.2f)", near)},
		{w.Moved, fmt.Sprintf("moved (sensitivity %.2f)", moved), fmt.Sprintf("not moved (sensitivity %.2f)", moved)},
		{w.Decodable, fmt.Sprintf("decodable (probe %.2f)", probe), fmt.Sprintf("not decodable (probe %.2f)", probe)},
	}
	var yes, no, partly []string
	for _, s := range all {
		switch s.answer {
		case WitnessYes:
			yes = append(yes, s.yes)
		case WitnessNo:
			no = append(no, s.no)
		case WitnessPartly:
			partly = append(partly, "partly "+s.yes)
		}
	}
	switch {
	case w.Near == WitnessNo && w.Moved == WitnessNo && w.Decodable == WitnessYes:
		return fmt.Sprintf("%s: invariant in distance, but %s", factor, all[2].yes)
	case w.Near == WitnessYes && w.Moved == WitnessYes && w.Decodable == WitnessYes:
		return fmt.Sprintf("%s: kept (near, moved and decodable)", factor)
	case w.Near == WitnessNo && w.Moved == WitnessNo && w.Decodable == WitnessNo:
		return fmt.Sprintf("%s: ignored (not near, not moved, not decodable)", factor)
	}
	var parts []string
	switch {
	case len(yes) > 0 && len(no) > 0:
		parts = append(parts, strings.Join(yes, " and ")+", but "+strings.Join(no, " and "))
	case len(yes) > 0:
		parts = append(parts, strings.Join(yes, " and "))
	case len(no) > 0:
		parts = append(parts, strings.Join(no, " and "))
	}
	parts = append(parts, partly...)
	if len(parts) == 0 {
		return factor + ": not measured"
	}
	return factor + ": " + strings.Join(parts, "; ")
}

// SupportOverlap says whether the invariance sets of one probe group
// overlap in the space: a set whose diameter is at least its margin
// reaches as far as another set's nearest member, and then the condition
// of perfect discrimination, diameter_i < margin_i→j for all i ≠ j, does
// not hold.
type SupportOverlap struct {
	// Group is a factor's name, or "orbit" for the augmentation orbits.
	Group string `json:"group"`
	Sets  int    `json:"sets"`
	// Overlapping counts the sets whose diameter ≥ margin.
	Overlapping int `json:"overlapping"`
	// ConditionHolds is set when no set overlaps another.
	ConditionHolds bool `json:"condition_holds"`
	// WorstRatio is the largest diameter / margin over the sets (∞ when
	// a margin is 0: two sets share a point).
	WorstRatio float64 `json:"worst_ratio"`
}

// overlapOf reads the overlap of a group from its geometry.
func overlapOf(group string, g Groups) SupportOverlap {
	o := SupportOverlap{Group: group, Sets: g.Sets, Overlapping: g.Sets - g.Separated, ConditionHolds: g.AllSeparated}
	for i, d := range g.Diameters {
		if i >= len(g.Margins) {
			break
		}
		switch m := g.Margins[i]; {
		case m > 0:
			o.WorstRatio = max(o.WorstRatio, d/m)
		case d > 0:
			o.WorstRatio = MaxRatio
		}
	}
	return o
}

// MaxRatio stands for an infinite diameter/margin ratio, which JSON cannot
// hold.
const MaxRatio = 1e9

// overlaps lists the support overlap of each intervention and the orbits.
func overlaps(sr *SpaceReport) []SupportOverlap {
	var out []SupportOverlap
	for _, iv := range sr.Interventions {
		out = append(out, overlapOf(iv.Factor, iv.Groups))
	}
	if sr.Orbit != nil {
		out = append(out, overlapOf("orbit", sr.Orbit.Groups))
	}
	return out
}
