package cli

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/internal/commandtest"
	"simsearch/internal/npy"
	"simsearch/report"
)

// TestEncoderCommandAndPrecomputedVectors runs, as a user would, a space
// made by an encoder command (ingest, query by image, report with
// interventions and orbits) and a space of precomputed vectors (ingest
// --vectors, report with k-NN only, query --image refused).
func TestEncoderCommandAndPrecomputedVectors(t *testing.T) {
	bin := commandtest.Build(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	spec := "shapes:n=320,seed=1,res=16,val=0.25"

	sum := ingestJSON(t, "--db", db, "--space", "cmd", "--encoder-cmd", bin, "--res", "16", spec)
	if sum.AddedVectors != 320 || !sum.SpaceCreated {
		t.Fatalf("ingest: %+v", sum)
	}
	// Changed: refused with exit code 3; rebuilt with --reembed.
	_, stderr, code := run(t, "ingest", "--db", db, "--space", "cmd", "--encoder-cmd", bin+" -perturb 0.5", "--res", "16", spec)
	if code != ExitBadInput || !strings.Contains(stderr, "the encoder behind this command is not the one this space was built with") {
		t.Errorf("changed command: exit %d, %q", code, stderr)
	}
	if sum := ingestJSON(t, "--db", db, "--space", "cmd", "--encoder-cmd", bin, "--res", "16", "--reembed"); sum.AddedVectors != 320 {
		t.Errorf("reembed: %+v", sum)
	}

	img := filepath.Join(dir, "q.png")
	writeTestPNG(t, img, mustSpec(t, spec).Image(3))
	res := queryJSON(t, "--db", db, "--space", "cmd", "--image", img, "-k", "3")
	if len(res) != 1 || res[0].Neighbours[0].Distance > 1e-5 || res[0].Query.ID == nil || *res[0].Query.ID != 3 {
		t.Errorf("query by image: %+v", res)
	}

	// The space's vectors, written as if computed elsewhere.
	vectors, items := filepath.Join(dir, "emb.npy"), filepath.Join(dir, "emb.items.csv")
	writeExport(t, db, "cmd", vectors, items)
	if sum := ingestJSON(t, "--db", db, "--space", "outside", "--vectors", vectors, "--items", items); sum.AddedVectors != 320 || sum.AddedItems != 0 {
		t.Errorf("ingest --vectors: %+v", sum)
	}
	_, stderr, code = run(t, "query", "--db", db, "--space", "outside", "--image", img)
	if code != ExitUsage || !strings.Contains(stderr, "computed elsewhere") {
		t.Errorf("query --image on precomputed vectors: exit %d, %q", code, stderr)
	}

	out := filepath.Join(dir, "report")
	stdout, stderr, code := run(t, "report", "--json", "-q", "--db", db, "--out", out, "--bases", "8", "--variants", "3", "--orbits", "4", "--orbit-size", "3", "--aug", "A")
	if code != ExitOK {
		t.Fatalf("report: exit %d, %s", code, stderr)
	}
	var r struct {
		report.Report
		Files []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	for _, sr := range r.Spaces {
		switch sr.Name {
		case "cmd":
			if len(sr.Interventions) == 0 || sr.Orbit == nil || len(sr.Verdicts) == 0 {
				t.Errorf("space cmd: %+v", sr)
			}
		case "outside":
			if len(sr.KNN) == 0 || len(sr.Interventions) != 0 || len(sr.Unavailable) == 0 {
				t.Errorf("space outside: %+v", sr)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "Not measured: the space holds precomputed vectors") {
		t.Errorf("report.md does not say what the precomputed space misses")
	}
}

// writeExport writes the vectors of a space as emb.npy and emb.items.csv
// (row, item id, source, split), the layout of simsearch export.
func writeExport(t *testing.T, db, space, vectors, items string) {
	t.Helper()
	st := openTestStore(t, db)
	defer st.Close()
	sp, err := st.Space(space)
	if err != nil {
		t.Fatal(err)
	}
	ids := sp.Items()
	flat, err := sp.Vectors(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	b := npy.AppendHeader(nil, "<f4", []int{len(ids), sp.Dim()})
	for _, v := range flat {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	var csv strings.Builder
	csv.WriteString("row,item id,source,split\n")
	for i, id := range ids {
		it, err := st.Item(id)
		if err != nil {
			t.Fatal(err)
		}
		csv.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(int(id)) + "," + strconv.Quote(it.Source) + "," + it.Split + "\n")
	}
	if err := os.WriteFile(vectors, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(items, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSpec(t *testing.T, s string) dataset.Spec {
	t.Helper()
	spec, err := dataset.ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func openTestStore(t *testing.T, path string) index.Store {
	t.Helper()
	db, err := index.Open(path, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return index.FileStore(db)
}
