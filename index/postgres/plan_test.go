package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
	"simsearch/index/storetest"
	"simsearch/index/vectortest"
)

// TestPlans checks that the server runs each method as meant: HNSW as a
// scan of the space's index, Exact as a sequential scan, with and without
// a filter.
func TestPlans(t *testing.T) {
	ctx := context.Background()
	st, _ := open(t, index.Options{})
	const n, dim = 2000, 16
	ids, _, err := st.AddItems(ctx, storetest.Items("p", n, 50, 1))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "p", Dim: dim, Encoder: index.Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	sp := ss.(*Space)
	if _, err := sp.AddVectors(ctx, ids, vectortest.Latent(1, n, dim, 4, 20, 0.3)); err != nil {
		t.Fatal(err)
	}
	if err := sp.SaveGraph(ctx); err != nil {
		t.Fatal(err)
	}
	q := make([]float32, dim)
	q[0] = 1
	for _, c := range []struct {
		name   string
		method index.Method
		filter index.Filter
		want   string
	}{
		{"hnsw", index.HNSW, index.Filter{}, "Index Scan using " + sp.hnswIndex},
		{"hnsw filtered", index.HNSW, index.Filter{Splits: []string{index.SplitVal}, Labels: []index.LabelIs{{Name: "shape", Value: 1}}}, "Index Scan using " + sp.hnswIndex},
		{"exact", index.Exact, index.Filter{}, "Seq Scan"},
		{"exact filtered", index.Exact, index.Filter{Group: "g", ExcludeSets: []uint32{3}}, "Seq Scan"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := sp.prepare(ctx, index.SearchOptions{Method: c.method, Filter: c.filter})
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			err = pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
				set, arg := settings(c.method, p.ef)
				if _, err := tx.Exec(ctx, set, arg); err != nil {
					return err
				}
				self := index.ItemID(3)
				sql, args := sp.statement(p, q, &self, true)
				rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if text := strings.Join(plan, "\n"); !strings.Contains(text, c.want) {
				t.Fatalf("plan lacks %q:\n%s", c.want, text)
			}
		})
	}
}
