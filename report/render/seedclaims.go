package render

import (
	"fmt"
	"io"
	"strings"

	"simsearch/encoder"
	"simsearch/report"
)

// Claim is one claim of the seed document and what a report measured of
// it.
type Claim struct {
	// Section is the seed's question ("7(a)"); Statement the claim.
	Section, Statement string
	// Measured says what the report found, in a line.
	Measured string
	// Held is whether the measurement bears the claim out.
	Held bool
}

// Claims returns the seed's claims that a report's spaces can test, with
// what was measured. A claim whose spaces are missing (no autoencoder, no
// supervised space) is left out.
func Claims(r *report.Report) []Claim {
	var out []Claim
	byObjective := func(o encoder.Objective) []*report.SpaceReport {
		var spaces []*report.SpaceReport
		for _, sr := range r.Spaces {
			if sr.Encoder.Objective == o {
				spaces = append(spaces, sr)
			}
		}
		return spaces
	}

	// 1–2: unit vectors.
	var normError, identityError float64
	measured := 0
	for _, sr := range r.Spaces {
		if g := sr.LabelFree; g != nil {
			normError, identityError = max(normError, g.UnitNormError), max(identityError, g.IdentityError)
			measured++
		}
	}
	if measured > 0 {
		out = append(out, Claim{Section: "1–2", Statement: "with unit-norm outputs every logit f(x)·f(y) is a cosine in [−1, 1] and ‖u − v‖² = 2(1 − u·v), so Euclidean and cosine neighbours agree",
			Measured: fmt.Sprintf("over the vectors of %d space(s), the largest |‖v‖ − 1| is %.1g and the largest |‖u − v‖² − 2(1 − u·v)| %.1g", measured, normError, identityError),
			Held:     normError < 1e-4 && identityError < 1e-4})
	}

	// 4(f): overlapping supports.
	var overlapParts []string
	consistent := true
	for _, sr := range byObjective(encoder.Contrastive) {
		for _, o := range sr.Overlap {
			if o.Group != "orbit" {
				continue
			}
			verdict := "the condition holds"
			if !o.ConditionHolds {
				verdict = "the condition fails"
			}
			overlapParts = append(overlapParts, fmt.Sprintf("%s %d of %d orbits overlap (%s)", sr.Name, o.Overlapping, o.Sets, verdict))
			consistent = consistent && (o.Overlapping > 0) == !o.ConditionHolds
		}
	}
	if len(overlapParts) > 0 {
		out = append(out, Claim{Section: "4(f)", Statement: "where the supports of the positive-pair distributions overlap, diameter_i < margin_i→j for all i ≠ j cannot hold",
			Measured: strings.Join(overlapParts, "; "), Held: consistent})
	}

	// 5: the normalization shortcut.
	for _, sr := range r.Spaces {
		n := sr.Norms
		if n == nil || !n.Unnormalized {
			continue
		}
		e := sr.Encoder
		m := fmt.Sprintf("%s (trained on unnormalized outputs, %d epochs): ", sr.Name, e.Epochs)
		held := false
		if e.OutputNormFirst > 0 && e.OutputNormLast > 0 {
			m += fmt.Sprintf("in training the mean output norm went from %.3g at the first step to %.3g at the last while the loss went from %.3g to %.3g (the last epoch's mean); ",
				e.OutputNormFirst, e.OutputNormLast, e.FirstLoss, e.FinalLoss)
			held = e.OutputNormLast > e.OutputNormFirst && e.FinalLoss < e.FirstLoss
		}
		m += fmt.Sprintf("on validation images the norms run from %.3g to %.3g (median %.3g)", n.Percentiles[0], n.Percentiles[len(n.Percentiles)-1], n.Percentiles[3])
		out = append(out, Claim{Section: "5", Statement: "without the unit-norm constraint InfoNCE is lowered by scaling the outputs up (toward 0, and overflow); held when the run's output norms grew while its loss fell",
			Measured: m, Held: held})
	}

	// 6: cross-entropy as dual-encoder contrastive.
	for _, sr := range byObjective(encoder.Supervised) {
		c := sr.Classifier
		if c == nil {
			continue
		}
		m := fmt.Sprintf("%s: classifier accuracy %.3f, dual-encoder accuracy (f₂(c) = e_c) %.3f, the same prediction for %d of %d items",
			sr.Name, c.ClassifierAccuracy, c.DualEncoderAccuracy, c.Agree, c.Items)
		for _, d := range byObjective(encoder.DualEncoder) {
			if d.Classifier != nil && d.Classifier.Label == c.Label {
				m += fmt.Sprintf("; trained as a dual encoder (learned f₂(c)), %s: %.3f", d.Name, d.Classifier.DualEncoderAccuracy)
			}
		}
		out = append(out, Claim{Section: "6", Statement: "supervised cross-entropy is dual-encoder contrastive learning with f₁ = g(x), f₂(c) = e_c, so the accuracies are equal",
			Measured: m, Held: c.Equal() && c.ClassifierAccuracy == c.DualEncoderAccuracy})
	}

	// 7(a)(ii)–(iii): the autoencoder keeps colour without colour deciding
	// who is near.
	for _, sr := range byObjective(encoder.Autoencoder) {
		var probe *report.LabelProbe
		for i := range sr.Probes {
			if sr.Probes[i].Label == "color" {
				probe = &sr.Probes[i]
			}
		}
		knn, ok := sr.KNNOf("color")
		if probe == nil || !ok {
			continue
		}
		decodable := probe.Normalized > report.DecodableProbe
		near := knn.Normalized > r.Settings.Thresholds.SensitiveScore
		words := map[[2]bool]string{{true, false}: "kept but not near", {true, true}: "kept and near", {false, false}: "not kept", {false, true}: "near but not linearly decodable"}
		out = append(out, Claim{Section: "7(a)", Statement: "an autoencoder's code contains colour (some h extracts it), yet colour need not decide who is near whom",
			Measured: fmt.Sprintf("%s: colour decodable %.2f (linear probe; chance %.2f), k-NN colour %.2f (chance %.2f): %s",
				sr.Name, probe.Accuracy, probe.Chance, knn.Accuracy, knn.Chance, words[[2]bool{decodable, near}]),
			Held: decodable})
	}

	// 8(b): what each augmentation makes the encoder invariant to.
	var parts []string
	agreeAll, predictedAll := 0, 0
	for _, sr := range byObjective(encoder.Contrastive) {
		if sr.Norms != nil && sr.Norms.Unnormalized {
			continue // the shortcut's verdicts are not the augmentation's
		}
		agree, predicted := sr.Agreement()
		if predicted == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d of %d", sr.Name, agree, predicted))
		agreeAll, predictedAll = agreeAll+agree, predictedAll+predicted
	}
	if len(parts) > 0 {
		out = append(out, Claim{Section: "8(b)", Statement: "augmentation A gives invariance to colour, B to location, C to shape and location (and sensitivity to the rest)",
			Measured: "verdicts as predicted: " + strings.Join(parts, ", "), Held: agreeAll == predictedAll})
	}
	return out
}

// heldWord is the word for whether a claim held.
func heldWord(held bool) string {
	if held {
		return "held"
	}
	return "not held"
}

// WriteClaims writes one line per claim: whether it held, the seed's
// section and what was measured.
func WriteClaims(w io.Writer, r *report.Report) error {
	for _, c := range Claims(r) {
		if _, err := fmt.Fprintf(w, "%-8s %s %s\n", heldWord(c.Held), c.Section, c.Measured); err != nil {
			return err
		}
	}
	return nil
}

// writeSeedClaims writes the section "The seed's claims, measured".
func writeSeedClaims(b *strings.Builder, r *report.Report) {
	claims := Claims(r)
	if len(claims) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## The seed's claims, measured\n\n")
	p("| seed | claim | measurement | held |\n|---|---|---|---|\n")
	for _, c := range claims {
		// A bar in a cell (|‖v‖ − 1|) would end it.
		escape := strings.NewReplacer("|", `\|`).Replace
		p("| %s | %s | %s | %s |\n", c.Section, escape(c.Statement), escape(c.Measured), heldWord(c.Held))
	}
	p("\n")
}
