package render

import (
	"fmt"
	"strings"

	"simsearch/report"
)

// writeProbes writes the linear probes of a space: what a linear map reads
// off its vectors, beside what its neighbours share.
func writeProbes(b *strings.Builder, sr *report.SpaceReport) {
	if len(sr.Probes) == 0 && len(sr.FactorProbes) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Linear probes (decodability)\n\n")
	p("A linear map fitted on training vectors (standardized), scored on validation vectors: multinomial logistic regression for a label, ridge regression for a continuous factor; the L2 penalty is chosen on a held-out fifth of the training items. A factor can be decodable without deciding who is near whom.\n\n")
	if len(sr.Probes) > 0 {
		p("| label | classes | train | validation | L2 | probe accuracy | chance | normalized | k-NN accuracy |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, pr := range sr.Probes {
			knn := "—"
			if a, ok := sr.KNNOf(pr.Label); ok {
				knn = fmt.Sprintf("%.3f", a.Accuracy)
			}
			p("| %s | %d | %d | %d | %g | %.3f | %.3f | %.3f | %s |\n", pr.Label, pr.Classes, pr.Train, pr.Validation, pr.L2, pr.Accuracy, pr.Chance, pr.Normalized, knn)
		}
		p("\n")
	}
	if len(sr.FactorProbes) > 0 {
		p("| factor | target | train | validation | L2 | probe R² | k-NN R² |\n|---|---|---|---|---|---|---|\n")
		for _, pr := range sr.FactorProbes {
			knn := "—"
			for _, r := range sr.Regression {
				if r.Factor == pr.Factor {
					knn = fmt.Sprintf("%.3f", r.R2)
				}
			}
			p("| %s | %s | %d | %d | %g | %.3f | %s |\n", pr.Factor, pr.Target, pr.Train, pr.Validation, pr.L2, pr.R2, knn)
		}
		p("\n")
	}
}

// writeWitnesses writes what the three witnesses of each factor say, the
// disagreements first.
func writeWitnesses(b *strings.Builder, sr *report.SpaceReport) {
	var disagree, agree []string
	for _, v := range sr.Verdicts {
		if v.Witnesses == nil {
			continue
		}
		if v.Witnesses.Disagree {
			disagree = append(disagree, v.Witnesses.Words)
		} else {
			agree = append(agree, v.Witnesses.Words)
		}
	}
	if len(disagree)+len(agree) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Near, moved, decodable\n\n")
	p("Three witnesses per factor: near (neighbours share it: normalized k-NN score), moved (changing it alone moves a vector: intervention sensitivity) and decodable (a linear probe reads it: decodable when its normalized accuracy, or R², is above %g, not below %g; the figure quoted is its accuracy, or R²).", report.DecodableProbe, report.UndecodableProbe)
	if len(disagree) == 0 {
		p(" They agree on every factor.\n\n")
	} else {
		p(" Where they disagree:\n\n")
		for _, w := range disagree {
			p("- %s\n", w)
		}
		p("\n")
	}
	if len(agree) > 0 {
		p("Elsewhere: %s.\n\n", strings.Join(agree, "; "))
	}
}

// writeOverlap writes whether the invariance sets of each intervention and
// of the orbits overlap, so whether the condition of perfect
// discrimination can hold.
func writeOverlap(b *strings.Builder, sr *report.SpaceReport) {
	if len(sr.Overlap) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Overlapping supports\n\n")
	p("Sets overlap in the space when a set's diameter reaches its margin (diameter_i ≥ margin_i): its members are no nearer each other than to another set, and the condition diameter_i < margin_i→j for all i ≠ j cannot hold. For an intervention, overlap means that changing the factor alone moves a vector as far as the other factors separate images (sensitivity), and separated sets that it does not (invariance). For augmentation orbits, the supports of the positive-pair distributions, overlap means no encoder of this geometry tells every image from every other by its augmentations: the instance-discrimination condition is unsatisfiable there.\n\n")
	p("| group | sets | overlapping | worst diameter / margin | condition holds |\n|---|---|---|---|---|\n")
	for _, o := range sr.Overlap {
		ratio := fmt.Sprintf("%.2f", o.WorstRatio)
		if o.WorstRatio >= report.MaxRatio {
			ratio = "∞ (two sets share a point)"
		}
		p("| %s | %d | %d | %s | %s |\n", o.Group, o.Sets, o.Overlapping, ratio, yesNo(o.ConditionHolds))
	}
	p("\n")
}

// writeClassifier writes the check of cross-entropy as dual-encoder
// contrastive learning for a classifying space.
func writeClassifier(b *strings.Builder, sr *report.SpaceReport) {
	c := sr.Classifier
	if c == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Cross-entropy as dual-encoder contrastive\n\n")
	if c.Objective == "dual-encoder" {
		p("Trained as a dual encoder: f₁(x) is the normalized embedding, f₂(c) one learned embedding per class of %s, InfoNCE over the classes. ", c.Label)
		p("The classifier reads the class with the highest score f₁(x)·f₂(c) on re-embedded validation images; the dual encoder takes the class embedding nearest (largest dot product) to the stored vector.\n\n")
	} else {
		p("A supervised classifier g is a dual encoder with f₁(x) = g(x) (its logits) and f₂(c) = e_c (one-hot): g(x)ᵀe_c = g(x)[c], so argmax_c g(x)[c] (the classifier) and argmax_c g(x)ᵀe_c (the dual encoder) are the same class. Both are computed on the logits of re-embedded validation images.\n\n")
	}
	p("| label | items | classifier accuracy | dual-encoder accuracy | same prediction | chance |\n|---|---|---|---|---|---|\n")
	p("| %s | %d | %.3f | %.3f | %d of %d | %.3f |\n\n", c.Label, c.Items, c.ClassifierAccuracy, c.DualEncoderAccuracy, c.Agree, c.Items, c.Chance)
}

// writeNorms writes the output norms of an encoder trained on
// unnormalized outputs, and the warning.
func writeNorms(b *strings.Builder, sr *report.SpaceReport) {
	d := sr.Norms
	if d == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if d.Unnormalized {
		p("### Output norms (trained without normalization)\n\n")
		p("**Warning:** %s.\n\n", d.Warning)
	} else {
		p("### Output norms\n\n")
		p("The encoder's outputs are divided by their L2 norm in training and in the space; before that division their norms are:\n\n")
	}
	p("Norms of the outputs of %d validation images before normalization (mean %.4g):\n\n", d.Items, d.Mean)
	p("| min | 5%% | 25%% | median | 75%% | 95%% | max |\n|---|---|---|---|---|---|---|\n")
	cells := make([]string, len(d.Percentiles))
	for i, v := range d.Percentiles {
		cells[i] = fmt.Sprintf("%.4g", v)
	}
	p("| %s |\n\n", strings.Join(cells, " | "))
}
