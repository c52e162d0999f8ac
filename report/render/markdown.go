package render

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/internal/atomicfile"
	"simsearch/report"
)

// factorNames are the report's columns, in the order of dataset.AllFactors.
func factorNames() []string {
	names := make([]string, len(dataset.AllFactors))
	for i, f := range dataset.AllFactors {
		names[i] = f.String()
	}
	return names
}

// cell is a comparison-table cell: the k-NN accuracy of the factor's
// label (the intervention sensitivity for a factor without one) and the
// verdict.
func cell(sr *report.SpaceReport, factor string) string {
	var v *report.FactorVerdict
	for i := range sr.Verdicts {
		if sr.Verdicts[i].Factor == factor {
			v = &sr.Verdicts[i]
		}
	}
	if v == nil {
		// A space without an encoder has k-NN accuracies but no verdicts.
		if a, ok := sr.KNNOf(factor); ok {
			return fmt.Sprintf("%.2f", a.Accuracy)
		}
		return "—"
	}
	if a, ok := sr.KNNOf(factor); ok {
		return fmt.Sprintf("%.2f %s", a.Accuracy, v.Verdict)
	}
	if v.NoIntervention {
		return string(v.Verdict)
	}
	return fmt.Sprintf("s=%.2f %s", v.Sensitivity, v.Verdict)
}

// describe says in a line what the encoder of a space is.
func describe(info encoder.Info) string {
	var b strings.Builder
	switch {
	case info.Command != "":
		fmt.Fprintf(&b, "encoder command `%s`", info.Command)
	case info.Vectors != "":
		fmt.Fprintf(&b, "precomputed vectors (%s)", info.Vectors)
	}
	switch info.Objective {
	case "":
	case encoder.Contrastive:
		fmt.Fprintf(&b, "contrastive, augmentation %s", info.Augmentation)
	case encoder.Supervised, encoder.DualEncoder:
		fmt.Fprintf(&b, "%s on %s", info.Objective, info.Label)
	default:
		b.WriteString(string(info.Objective))
	}
	return b.String()
}

// details describes the architecture and training of an encoder.
func details(info encoder.Info) string {
	if info.Vectors != "" {
		return fmt.Sprintf("%d dimensions, computed outside simsearch", info.Dim)
	}
	if info.Command != "" {
		return fmt.Sprintf("%d px, %d dimensions, run outside simsearch", info.Res, info.Dim)
	}
	parts := []string{fmt.Sprintf("%d px", info.Res)}
	if info.Width > 0 {
		parts = append(parts, fmt.Sprintf("width %d", info.Width))
	}
	parts = append(parts, fmt.Sprintf("%d dimensions", info.Dim))
	if info.Objective == encoder.Contrastive && info.Tau > 0 {
		parts = append(parts, fmt.Sprintf("τ %g", info.Tau))
	}
	if info.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("%d epochs of batch %d", info.Epochs, info.Batch))
	}
	if info.Data != "" {
		parts = append(parts, "trained on "+info.Data)
	}
	if info.FinalLoss != 0 {
		parts = append(parts, fmt.Sprintf("final loss %.4g", info.FinalLoss))
	}
	parts = append(parts, fmt.Sprintf("seed %d", info.Seed))
	return strings.Join(parts, ", ")
}

// FileName returns the base name of a space's pictures: its name with
// every character that is not a letter, digit, dot or dash replaced.
func FileName(space string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, space)
}

// Markdown writes the report as Markdown, the form of report.md.
// Pictures are linked by the names WriteFiles gives them.
func Markdown(w io.Writer, r *report.Report) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := r.Settings
	p("# Invariance report\n\n")
	p("Database `%s`: %d training and %d validation items; %d space(s).\n", r.Database, r.Items["train"], r.Items["val"], len(r.Spaces))
	if ownLabels(r) {
		p("k = %d; up to %d intervention sets per factor of up to %d items, where the items form a factor grid", s.K, s.Bases, s.Variants)
	} else {
		p("k = %d; %d intervention sets per factor of %d variants (shape: the 3 shapes)", s.K, s.Bases, s.Variants)
	}
	if s.OrbitSets > 0 {
		p("; orbits of %d augmentations of %d images", s.OrbitSize, s.OrbitSets)
	}
	p("; seed %d.\n\n", s.Seed)

	p("## What each space is invariant to\n\n")
	if ownLabels(r) {
		p("Each cell is the k-NN accuracy of the label (of its quantile bins, for a continuous one) and the verdict.\n\n")
	} else {
		p("Each cell is the k-NN accuracy of the factor's label (rotation has no label: its intervention sensitivity s instead) and the verdict.\n\n")
	}
	names := columns(r)
	p("| space | encoder | %s |\n|---|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, sr := range r.Spaces {
		cells := make([]string, len(names))
		for i, f := range names {
			cells[i] = cell(sr, f)
		}
		p("| %s | %s | %s |\n", sr.Name, describe(sr.Encoder), strings.Join(cells, " | "))
	}
	p("\n")
	if anyInterventions(r) {
		writeSensitivities(&b, r, names)
	}
	writeSeedSpreads(&b, r)
	var predicted []*report.SpaceReport
	for _, sr := range r.Spaces {
		if _, n := sr.Agreement(); n > 0 {
			predicted = append(predicted, sr)
		}
	}
	if len(predicted) > 0 {
		p("What the theory predicts (augmentation A: invariant to colour, sensitive to shape and location; B: invariant to location, sensitive to colour and shape; C: invariant to shape and location, sensitive to colour):\n\n")
		p("| space | %s | measured agrees |\n|---|%s---|\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
		for _, sr := range predicted {
			cells := make([]string, len(names))
			for i, v := range sr.Verdicts {
				cells[i] = "—"
				if v.Predicted != report.NoVerdict {
					mark := "✗"
					if v.Predicted == v.Verdict {
						mark = "✓"
					}
					cells[i] = fmt.Sprintf("%s %s", v.Predicted, mark)
				}
			}
			agree, n := sr.Agreement()
			p("| %s | %s | %d of %d |\n", sr.Name, strings.Join(cells, " | "), agree, n)
		}
		p("\n")
	}
	p("Verdicts: %s.\n\n", s.Thresholds)
	writeSeedClaims(&b, r)
	writeCKA(&b, r)

	for _, sr := range r.Spaces {
		writeSpace(&b, sr, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSpace(b *strings.Builder, sr *report.SpaceReport, s report.Settings) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## %s\n\n", sr.Name)
	p("Encoder: %s; %s. %d vectors.\n\n", describe(sr.Encoder), details(sr.Encoder), sr.Vectors)

	p("### k-NN factor accuracy\n\n")
	if len(sr.KNN) == 0 {
		p("Not measured: the space has no labelled validation and training items.\n\n")
	} else {
		p("%d validation items each query their %d nearest training items; the majority label wins (ties: the nearer).\n\n", sr.KNN[0].Queries, s.K)
		p("| label | classes | k-NN | 1-NN | chance | normalized |\n|---|---|---|---|---|---|\n")
		for _, a := range sr.KNN {
			p("| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", a.Label, a.Classes, a.Accuracy, a.Accuracy1, a.Chance, a.Normalized)
		}
		p("\n")
		writeKNNDetails(b, sr)
	}

	unavailable := map[string]report.Unavailable{}
	for _, u := range sr.Unavailable {
		unavailable[u.Section] = u
	}
	notMeasured := func(title, section string) bool {
		u, ok := unavailable[section]
		if ok {
			p("### %s\n\nNot measured: %s. To measure it: %s.\n\n", title, u.Reason, u.How)
		}
		return ok
	}

	if notMeasured("Factor interventions", "interventions") {
		notMeasured("Augmentation orbits", "orbits")
		notMeasured("Verdicts", "verdicts")
		writeProbes(b, sr)
		writeLabelFree(b, sr)
		writeTrust(b, sr)
		return
	}
	p("### Factor interventions\n\n")
	if sr.FactorGrid != nil { // the space's own labels (issue 12)
		writeGridIntro(b, sr.FactorGrid)
	} else {
		p("Each set is one base image varied in one factor alone. Sensitivity = mean distance within a set / mean distance between sets: 0 when the factor is ignored. A set is separated when its diameter is below its margin (the distance to the nearest member of another set); \"all\" says whether diameter_i < margin_i→j holds for every pair of sets.\n\n")
	}
	if len(sr.Interventions) > 0 || sr.FactorGrid == nil {
		p("| factor | sets | within | between | sensitivity | mean diameter | mean margin | separated | all |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, iv := range sr.Interventions {
			p("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f%% | %s |\n", iv.Factor, iv.Sets, iv.Within, iv.Between, iv.Sensitivity,
				iv.MeanDiameter, iv.MeanMargin, 100*iv.SeparatedShare, yesNo(iv.AllSeparated))
		}
		p("\n")
	}

	if o := sr.Orbit; o != nil {
		p("### Augmentation orbits\n\n")
		p("Each set is %d augmentations (%s) of one image: the positive pairs the encoder was asked to pull together. Alignment E‖f(x) − f(x⁺)‖² (0 is perfect) and uniformity log E exp(−2‖f(x) − f(y)‖²) (lower spreads more) on normalized vectors.\n\n", s.OrbitSize, o.Augmentation)
		p("| sets | within | between | sensitivity | separated | alignment | uniformity | feature std | 1/√d | collapsed |\n|---|---|---|---|---|---|---|---|---|---|\n")
		p("| %d | %.3f | %.3f | %.3f | %.1f%% | %.3f | %.3f | %.4f | %.4f | %s |\n\n", o.Sets, o.Within, o.Between, o.Sensitivity,
			100*o.SeparatedShare, o.Alignment, o.Uniformity, o.FeatureStd, o.UniformStd, yesNo(o.Collapsed))
	}

	p("### Verdicts\n\n")
	p("| factor | sensitivity | k-NN score | verdict | theory |\n|---|---|---|---|---|\n")
	for _, v := range sr.Verdicts {
		score := "—"
		if v.Score != nil {
			score = fmt.Sprintf("%.3f", *v.Score)
		}
		theory := "—"
		if v.Predicted != report.NoVerdict {
			theory = string(v.Predicted)
		}
		sensitivity := fmt.Sprintf("%.3f", v.Sensitivity)
		if v.NoIntervention {
			sensitivity = "—"
		}
		p("| %s | %s | %s | **%s** | %s |\n", v.Factor, sensitivity, score, v.Verdict, theory)
	}
	p("\n")
	writeProbes(b, sr)
	writeWitnesses(b, sr)
	writeOverlap(b, sr)
	writeClassifier(b, sr)
	writeNorms(b, sr)
	writeLabelFree(b, sr)
	writeTrust(b, sr)
}

// writeTrust writes the trust section of a space and links its pictures.
func writeTrust(b *strings.Builder, sr *report.SpaceReport) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Trust\n\n")
	t := sr.Trust
	if t.Queries > 0 {
		p("Recall@%d of the index against exact search on %d of the k-NN queries: %.4f (worst query %.2f).", t.K, t.Queries, t.Recall, t.MinRecall)
	} else {
		p("No k-NN queries were made.")
	}
	if t.Exact {
		p(" Every figure was recomputed by brute force: the largest difference is %.4g", t.MaxDifference)
		if t.WorstFigure != "" {
			p(" (%s)", t.WorstFigure)
		}
		p("; margins agree on %.1f%% of sets.", 100*t.MarginAgreement)
	}
	p("\n\n")
	if len(sr.Grid) > 0 {
		p("![nearest neighbours of validation queries in %s](%s-neighbours.png)\n\n", sr.Name, FileName(sr.Name))
	}
	if len(sr.Distances) > 0 {
		p("![distances within and between sets in %s](%s-distances.png)\n\n", sr.Name, FileName(sr.Name))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// JSON writes the report as indented JSON, the form of report.json.
func JSON(w io.Writer, r *report.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary writes the comparison table as aligned plain text.
func Summary(w io.Writer, r *report.Report) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	names := columns(r)
	fmt.Fprintf(tw, "space\tencoder\t%s\ttheory agrees\n", strings.Join(names, "\t"))
	for _, sr := range r.Spaces {
		cells := make([]string, len(names))
		for i, f := range names {
			cells[i] = cell(sr, f)
		}
		agreement := "—"
		if agree, n := sr.Agreement(); n > 0 {
			agreement = fmt.Sprintf("%d of %d", agree, n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sr.Name, describe(sr.Encoder), strings.Join(cells, "\t"), agreement)
	}
	return tw.Flush()
}

// WriteFiles writes report.md, report.json and each space's pictures
// (<space>-neighbours.png from thumbs, <space>-distances.png) into dir,
// creating it, and returns the paths written. Each file is replaced
// atomically.
func WriteFiles(dir string, r *report.Report, thumbs Thumbnails) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, fill func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		if err := atomicfile.Write(path, 0o644, fill); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, path)
		return nil
	}
	bytesOf := func(b []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}
	}
	if err := write("report.md", func(w io.Writer) error { return Markdown(w, r) }); err != nil {
		return written, err
	}
	if err := write("report.json", func(w io.Writer) error { return JSON(w, r) }); err != nil {
		return written, err
	}
	if err := writeGeometryFiles(write, r); err != nil {
		return written, err
	}
	for _, sr := range r.Spaces {
		if len(sr.Grid) > 0 {
			grid, err := spaceGrid(sr, thumbs)
			if err != nil {
				return written, err
			}
			if err := write(FileName(sr.Name)+"-neighbours.png", bytesOf(grid)); err != nil {
				return written, err
			}
		}
		if len(sr.Distances) > 0 {
			plot, err := DistancePlot(sr.Name, sr.Distances)
			if err != nil {
				return written, err
			}
			if err := write(FileName(sr.Name)+"-distances.png", bytesOf(plot)); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// spaceGrid draws the neighbour grid of a space's report as a PNG.
func spaceGrid(sr *report.SpaceReport, thumbs Thumbnails) ([]byte, error) {
	rows := make([]NeighbourRow, len(sr.Grid))
	for i, q := range sr.Grid {
		rows[i] = NeighbourRow{Label: fmt.Sprintf("item %d", q.Query), Query: &q.Query, Neighbours: q.Neighbours}
	}
	title := fmt.Sprintf("%s: validation queries and their nearest training items (near -> far)", sr.Name)
	img, err := NeighbourGrid(title, rows, thumbs)
	if err != nil {
		return nil, fmt.Errorf("neighbour grid of %s: %w", sr.Name, err)
	}
	return EncodePNG(img)
}

// writeSensitivities writes the table of intervention sensitivities.
func writeSensitivities(b *strings.Builder, r *report.Report, names []string) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("Intervention sensitivity: the mean distance between images that differ in the factor alone, over the mean distance between unrelated images (0: the factor is ignored; about 1: it moves a vector as far as changing the image altogether).\n\n")
	p("| space | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, sr := range r.Spaces {
		cells := make([]string, len(names))
		for i, f := range names {
			cells[i] = "—"
			for _, iv := range sr.Interventions {
				if iv.Factor == f {
					cells[i] = fmt.Sprintf("%.2f", iv.Sensitivity)
				}
			}
		}
		p("| %s | %s |\n", sr.Name, strings.Join(cells, " | "))
	}
	p("\n")
}
