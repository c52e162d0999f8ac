package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"simsearch/index"
	"simsearch/index/postgres"
)

// storeBench measures any store through index.Connect, the way ingest
// and report use it: items and vectors stored in batches, the index
// built (SaveGraph), then HNSW searches at each ef and a few exact ones.
// target is a database file (made anew) or a PostgreSQL target (its
// simsearch schema is dropped first).
func storeBench(dir, target string, workers int, efs []int, batch int, searchOnly bool) {
	base, dim := readVectors(filepath.Join(dir, "base.f32"), "F32V")
	query, _ := readVectors(filepath.Join(dir, "query.f32"), "F32V")
	truth := readTruth(filepath.Join(dir, "truth.i32"))
	n := len(base) / dim
	ctx := context.Background()
	if searchOnly {
		storeSearch(ctx, target, workers, efs, query, truth, dim)
		return
	}
	if postgres.Claims(target) {
		st, err := postgres.Open(ctx, target, index.Options{})
		check(err)
		_, err = st.Pool().Exec(ctx, "DROP SCHEMA simsearch CASCADE")
		check(err)
		st.Close()
		var settings []string
		st, err = postgres.Open(ctx, target, index.Options{})
		check(err)
		for _, name := range []string{"server_version", "shared_buffers", "maintenance_work_mem", "max_parallel_maintenance_workers",
			"max_parallel_workers_per_gather", "work_mem", "effective_cache_size", "synchronous_commit", "fsync", "wal_level", "max_wal_size"} {
			var v string
			check(st.Pool().QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v))
			settings = append(settings, name+"="+v)
		}
		var ext string
		check(st.Pool().QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&ext))
		st.Close()
		fmt.Printf("# server: %s, pgvector %s\n", strings.Join(settings, " "), ext)
	} else {
		os.Remove(target)
	}
	fmt.Printf("# %s: %d vectors, %d workers, batches of %d, load %s\n", target, n, workers, batch, loadAverage())

	var buildStart time.Time
	var building time.Duration
	st, err := index.Connect(ctx, target, index.Options{Workers: workers, Progress: func(p index.Progress) {
		if p.Stage == "build" && p.Done == 0 && buildStart.IsZero() {
			buildStart = time.Now()
		}
		if p.Stage == "build" && p.Done == p.Total && p.Total > 0 {
			building = time.Since(buildStart)
		}
	}})
	check(err)
	start := time.Now()
	var ids []index.ItemID
	for i := 0; i < n; i += batch {
		items := make([]index.Item, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			src := fmt.Sprintf("vector/%d", j)
			items = append(items, index.Item{Source: src, Hash: sha256.Sum256([]byte(src)), Split: index.SplitTrain})
		}
		got, _, err := st.AddItems(ctx, items)
		check(err)
		ids = append(ids, got...)
	}
	itemsTime := time.Since(start)
	sp, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "bench", Dim: dim, Encoder: index.Encoder{ID: "bench"}})
	check(err)
	start, cpu := time.Now(), cpuSeconds()
	for i := 0; i < n; i += batch {
		_, err := sp.AddVectors(ctx, ids[i:min(i+batch, n)], base[i*dim:min(i+batch, n)*dim])
		check(err)
	}
	vectorsTime, vectorsCPU := time.Since(start), cpuSeconds()-cpu
	fmt.Printf("store items: %.1f s (%.0f items/s); store vectors: %.1f s (%.0f vectors/s, client %.0f cpu-s)\n",
		itemsTime.Seconds(), float64(n)/itemsTime.Seconds(), vectorsTime.Seconds(), float64(n)/vectorsTime.Seconds(), vectorsCPU)
	start = time.Now()
	check(sp.SaveGraph(ctx))
	save := time.Since(start)
	if building == 0 {
		building = save
	}
	info := sp.Info()
	fmt.Printf("build index: %.1f s (%.0f inserts/s); SaveGraph in all %.1f s; index %.0f MiB; load %s\n",
		building.Seconds(), float64(n)/building.Seconds(), save.Seconds(), float64(info.Stored.Bytes)/(1<<20), loadAverage())
	check(st.Close())
	storeSearch(ctx, target, workers, efs, query, truth, dim)
}

// storeSearch measures HNSW searches at each ef and a few exact ones on
// the space storeBench filled.
func storeSearch(ctx context.Context, target string, workers int, efs []int, query []float32, truth [][]int32, dim int) {
	st, err := index.Connect(ctx, target, index.Options{ReadOnly: true, Workers: workers})
	check(err)
	defer st.Close()
	sp, err := st.Space("bench")
	check(err)
	start := time.Now()
	check(sp.Load(ctx))
	fmt.Printf("# search %s: load %.2f s, %d workers, load average %s\n", target, time.Since(start).Seconds(), workers, loadAverage())
	fmt.Printf("%-6s %10s %10s %10s\n", "ef", "recall@10", "q/s", "q/cpu-s")
	nq := len(query) / dim
	for _, ef := range efs {
		opts := index.SearchOptions{K: 10, Ef: ef, Method: index.HNSW}
		_, err := sp.SearchBatch(ctx, query[:min(100, nq)*dim], opts) // warm
		check(err)
		start, cpu := time.Now(), cpuSeconds()
		res, err := sp.SearchBatch(ctx, query, opts)
		check(err)
		el, c := time.Since(start).Seconds(), cpuSeconds()-cpu
		fmt.Printf("%-6d %10.3f %10.0f %10.0f\n", ef, storeRecall(res, truth), float64(nq)/el, float64(nq)/c)
	}
	eq := min(50, nq)
	start = time.Now()
	_, err = sp.SearchBatch(ctx, query[:eq*dim], index.SearchOptions{K: 10, Method: index.Exact})
	check(err)
	fmt.Printf("exact: %.1f q/s over %d queries\n", float64(eq)/time.Since(start).Seconds(), eq)
}

// storeRecall is recall@10 of results whose ids are base vector numbers.
func storeRecall(res [][]index.Result, truth [][]int32) float64 {
	hits, total := 0, 0
	for q, r := range res {
		for _, t := range truth[q][:10] {
			total++
			for _, x := range r {
				if int32(x.ID) == t {
					hits++
					break
				}
			}
		}
	}
	return float64(hits) / float64(total)
}
