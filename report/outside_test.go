package report_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/internal/commandtest"
	"simsearch/internal/npy"
	"simsearch/report"
	"simsearch/report/render"
)

// TestReportOnOutsideEncoders reports on a space made by an encoder
// command (everything is measured) and on a space of the same vectors
// ingested as precomputed (k-NN only, and the report says what is missing
// and how to get it).
func TestReportOnOutsideEncoders(t *testing.T) {
	bin := commandtest.Build(t)
	ctx := context.Background()
	db, err := index.Open(filepath.Join(t.TempDir(), "r.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := index.FileStore(db)
	cmd, err := encoder.StartCommand(ctx, encoder.CommandOptions{Command: bin, Res: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Close()
	spec := dataset.Spec{N: 240, Seed: 4, Res: 16, ValFrac: 0.25}
	if _, err := ingest.Run(ctx, st, ingest.Options{Source: spec.String(), Space: "cmd", Encoder: cmd}); err != nil {
		t.Fatal(err)
	}
	// The same vectors, as if exported and computed elsewhere.
	space, _ := st.Space("cmd")
	ids, _ := st.Select(index.Filter{})
	flat, err := space.Vectors(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	b := npy.AppendHeader(nil, "<f4", []int{len(ids), space.Dim()})
	for _, v := range flat {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	dir := t.TempDir()
	vectors, items := filepath.Join(dir, "emb.npy"), filepath.Join(dir, "emb.items.csv")
	csv := "row,item id,source,split\n"
	all, _ := st.Items(ids)
	for i, it := range all {
		csv += strings.Join([]string{itoa(i), itoa(int(it.ID)), `"` + it.Source + `"`, it.Split}, ",") + "\n"
	}
	os.WriteFile(vectors, b, 0o644)
	os.WriteFile(items, []byte(csv), 0o644)
	if _, err := ingest.RunVectors(ctx, st, ingest.VectorsOptions{Vectors: vectors, Items: items, Space: "pre"}); err != nil {
		t.Fatal(err)
	}

	opts := report.Options{Bases: 6, Variants: 3, OrbitSets: 4, OrbitSize: 3, Augmentation: "A", Seed: 2}
	if err := report.Prepare(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	r, err := report.Run(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	bySpace := map[string]*report.SpaceReport{}
	for _, sr := range r.Spaces {
		bySpace[sr.Name] = sr
	}
	c, p := bySpace["cmd"], bySpace["pre"]
	if len(c.Interventions) != len(dataset.AllFactors) || c.Orbit == nil || len(c.Verdicts) == 0 || len(c.Unavailable) != 0 || c.Encoder.Command != bin {
		t.Errorf("command space: %d interventions, orbit %v, %d verdicts, unavailable %v, encoder %+v", len(c.Interventions), c.Orbit, len(c.Verdicts), c.Unavailable, c.Encoder)
	}
	if len(p.KNN) == 0 || len(p.Interventions) != 0 || p.Orbit != nil || len(p.Verdicts) != 0 || len(p.Unavailable) != 3 || p.Encoder.Vectors != "emb.npy" {
		t.Errorf("precomputed space: %d k-NN, %d interventions, orbit %v, %d verdicts, unavailable %v", len(p.KNN), len(p.Interventions), p.Orbit, len(p.Verdicts), p.Unavailable)
	}
	// The same vectors give the same k-NN accuracies.
	for i := range p.KNN {
		if math.Abs(p.KNN[i].Accuracy-c.KNN[i].Accuracy) > 1e-9 {
			t.Errorf("%s: k-NN %.3f from the command's space, %.3f from the precomputed one", p.KNN[i].Label, c.KNN[i].Accuracy, p.KNN[i].Accuracy)
		}
	}
	var md bytes.Buffer
	if err := render.Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"encoder command `" + bin + "`", "precomputed vectors (emb.npy)", "### Factor interventions\n\nNot measured: the space holds precomputed vectors", "--encoder-cmd"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md does not say %q", want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
