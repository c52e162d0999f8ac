// Command indexbench measures simsearch's index on the vectors and queries
// that bench/index_peers.py gives Debian's hnswlib and FAISS, so that the
// figures in BENCHMARKS.md are side by side on the same data.
//
// It is a measurement for BENCHMARKS.md, not part of simsearch:
//
//	go run ./bench/indexbench gen -n 100000 -dir /tmp/idx100k     # vectors, queries, truth
//	go run ./bench/indexbench graph -dir /tmp/idx100k -workers 2  # hnsw.Graph: build, ef sweep, exact
//	go run ./bench/indexbench db -dir /tmp/idx100k -workers 2     # index file: store, build, save, load, search
//	go run ./bench/indexbench search -dir /tmp/idx100k -workers 2 # search the index file db wrote
//	go run ./bench/indexbench first-query -db /tmp/idx100k/index.db
//	go run ./bench/indexbench cold-start -db /tmp/idx1m/index.db   # root: drops the page cache
//	go run ./bench/indexbench store -dir /tmp/idx100k -target /tmp/idx100k/store.db  # any store, through index.Connect
//	go run ./bench/indexbench store -dir /tmp/idx100k -target 'host=/tmp/pg dbname=bench'
//	/usr/bin/python3 bench/index_peers.py /tmp/idx100k
//
// Files (all little-endian): base.f32 and query.f32 hold a 16-byte header
// ("F32V", version 1, count, dimension as uint32s) and the vectors as
// float32; truth.i32 holds the same header ("I32V", …, k) and the ids of
// each query's k exact nearest base vectors, nearest first.
//
// The vectors are unit vectors near a 32-dimensional latent space in
// clusters (n/1000 centres), mapped into 128 dimensions with a little
// isotropic noise (-data latent), or uniform on the sphere (-data
// uniform), the hard case.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/viterin/vek/vek32"

	"simsearch/index"
	"simsearch/index/hnsw"
	"simsearch/index/vectortest"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: indexbench gen|graph|db|search|store|first-query|cold-start [flags]")
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", "/tmp/idx", "folder of base.f32, query.f32 and truth.i32")
	n := fs.Int("n", 100000, "gen: number of base vectors")
	queries := fs.Int("queries", 1000, "gen: number of queries")
	dim := fs.Int("dim", 128, "gen: dimension")
	data := fs.String("data", "latent", "gen: latent (clustered, low intrinsic dimension) or uniform")
	workers := fs.Int("workers", 2, "goroutines for building and searching")
	efs := fs.String("efs", "10,16,24,32,48,64,96,128,256", "search breadths to measure")
	db := fs.String("db", "", "first-query, cold-start: database file; db, search: the file to write and search (default DIR/index.db)")
	quantize := fs.String("quantize", "float32", "db: storage of the space, float32 or int8")
	target := fs.String("target", "", "store: a database file or a PostgreSQL target (postgres://..., host=... dbname=...)")
	searchOnly := fs.Bool("search-only", false, "store: search the space a previous run stored")
	batch := fs.Int("batch", 10000, "store: items and vectors per transaction")
	populate := fs.Bool("populate", false, "first-query: map the file with MAP_POPULATE")
	rounds := fs.Int("rounds", 2, "cold-start: rounds of (sequential read, first query), page cache dropped before each")
	binaries := fs.String("binaries", "", "cold-start: comma-separated indexbench builds whose first-query to time beside this one's")
	repeat := fs.Int("repeat", 1, "search: passes over the queries timed at each ef")
	noExact := fs.Bool("no-exact", false, "search: leave out the exact searches")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	fs.Parse(args)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}

	switch cmd {
	case "gen":
		gen(*dir, *data, *n, *queries, *dim, *workers)
	case "graph":
		graph(*dir, *workers, parseInts(*efs))
	case "db":
		storage, err := index.ParseStorage(*quantize)
		check(err)
		dbBench(*dir, dbPath(*dir, *db), storage, *workers, parseInts(*efs))
	case "search":
		searchBench(*dir, dbPath(*dir, *db), *workers, *repeat, parseInts(*efs), !*noExact)
	case "store":
		storeBench(*dir, *target, *workers, parseInts(*efs), *batch, *searchOnly)
	case "first-query":
		firstQuery(*db, *populate)
	case "cold-start":
		coldStart(*db, *rounds, *binaries)
	default:
		log.Fatalf("unknown command %q", cmd)
	}
}

// dbPath is the database file of the db and search commands.
func dbPath(dir, db string) string {
	if db != "" {
		return db
	}
	return filepath.Join(dir, "index.db")
}

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// gen writes the vectors, the queries and the exact neighbours.
func gen(dir, data string, n, queries, dim, workers int) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	var base, query []float32
	switch data {
	case "latent":
		clusters := max(n/1000, 10)
		base = vectortest.Latent(1, n, dim, 32, clusters, 1)
		query = vectortest.Latent(2, queries, dim, 32, clusters, 1)
	case "uniform":
		base = uniformVectors(1, n, dim)
		query = uniformVectors(2, queries, dim)
	default:
		log.Fatalf("unknown -data %q", data)
	}
	writeVectors(filepath.Join(dir, "base.f32"), "F32V", base, dim)
	writeVectors(filepath.Join(dir, "query.f32"), "F32V", query, dim)
	start := time.Now()
	truth := exactTruth(base, query, dim, 10, workers)
	log.Printf("exact neighbours of %d queries in %.1f s", queries, time.Since(start).Seconds())
	ids := make([]float32, len(truth)) // written through the same code path
	for i, id := range truth {
		ids[i] = math.Float32frombits(uint32(id))
	}
	writeVectors(filepath.Join(dir, "truth.i32"), "I32V", ids, 10)
	log.Printf("wrote %d %s vectors of dimension %d and %d queries to %s", n, data, dim, queries, dir)
}

// exactTruth returns each query's k nearest base vectors by a plain scan.
func exactTruth(base, query []float32, dim, k, workers int) []int32 {
	nq := len(query) / dim
	out := make([]int32, nq*k)
	parallel(nq, workers, func(q int) {
		type hit struct {
			d  float32
			id int32
		}
		var best []hit
		qv := query[q*dim : (q+1)*dim]
		for i := 0; i < len(base)/dim; i++ {
			d := 1 - vek32.Dot(qv, base[i*dim:(i+1)*dim])
			if len(best) < k || d < best[len(best)-1].d {
				best = append(best, hit{d, int32(i)})
				sort.Slice(best, func(a, b int) bool { return best[a].d < best[b].d })
				if len(best) > k {
					best = best[:k]
				}
			}
		}
		for j, h := range best {
			out[q*k+j] = h.id
		}
	})
	return out
}

// parallel calls fn(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// graph measures hnsw.Graph alone: the algorithm against hnswlib's.
func graph(dir string, workers int, efs []int) {
	base, dim := readVectors(filepath.Join(dir, "base.f32"), "F32V")
	query, _ := readVectors(filepath.Join(dir, "query.f32"), "F32V")
	truth := readTruth(filepath.Join(dir, "truth.i32"))
	n := len(base) / dim
	fmt.Printf("# %s: %d vectors of dimension %d, %d queries, %d workers, load %s\n", dir, n, dim, len(query)/dim, workers, loadAverage())

	before := heapInUse()
	g := hnsw.NewGraph(dim)
	g.Reserve(n)
	start, cpu := time.Now(), cpuSeconds()
	const step = 10000
	for i := 0; i < n; i += step {
		g.AddBatch(base[i*dim:min(i+step, n)*dim], workers)
	}
	build, buildCPU := time.Since(start).Seconds(), cpuSeconds()-cpu
	mem := heapInUse() - before
	fmt.Printf("build: %.1f s, %.0f inserts/s, %.0f inserts/cpu-s, heap %.0f MiB (%.0f bytes/vector, vectors %d)\n",
		build, float64(n)/build, float64(n)/buildCPU, float64(mem)/(1<<20), float64(mem)/float64(n), 4*dim)

	nq := len(query) / dim
	fmt.Printf("%-6s %10s %10s %10s %10s\n", "ef", "recall@10", "q/s", "q/s 1 thr", "q/cpu-s")
	for _, ef := range efs {
		results := make([][]hnsw.Result, nq)
		run := func(w int) (qps, perCPU float64) {
			start, cpu := time.Now(), cpuSeconds()
			parallel(nq, w, func(q int) {
				results[q] = g.Search(query[q*dim:(q+1)*dim], 10, ef, nil, results[q][:0])
			})
			return float64(nq) / time.Since(start).Seconds(), float64(nq) / (cpuSeconds() - cpu)
		}
		run(workers) // warm the searchers' pool
		qps, perCPU := run(workers)
		qps1, perCPU1 := run(1)
		var recall float64
		for q := range nq {
			recall += overlap(results[q], truth[q])
		}
		fmt.Printf("%-6d %10.4f %10.0f %10.0f %10.0f\n", ef, recall/float64(nq), qps, qps1, max(perCPU, perCPU1))
	}

	// Exact search: a plain SIMD scan, one query at a time.
	start, cpu = time.Now(), cpuSeconds()
	plain := 0
	for q := 0; q < nq && time.Since(start) < 5*time.Second; q++ {
		qv := query[q*dim : (q+1)*dim]
		best := float32(2)
		for i := range n {
			if d := 1 - vek32.Dot(qv, base[i*dim:(i+1)*dim]); d < best {
				best = d
			}
		}
		plain++
	}
	fmt.Printf("plain vek scan (1 thread, no top-k): %.1f queries/s, %.1f queries/cpu-s\n", float64(plain)/time.Since(start).Seconds(), float64(plain)/(cpuSeconds()-cpu))
}

// overlap is the share of truth found in got.
func overlap(got []hnsw.Result, truth []int32) float64 {
	hits := 0
	for _, t := range truth {
		for _, r := range got {
			if int32(r.Node) == t {
				hits++
				break
			}
		}
	}
	return float64(hits) / float64(len(truth))
}

// dbBench measures the index file: storing vectors, building and saving
// the graph, loading it back, and searching through the index package.
func dbBench(dir, path string, storage index.Storage, workers int, efs []int) {
	base, dim := readVectors(filepath.Join(dir, "base.f32"), "F32V")
	n := len(base) / dim
	os.Remove(path)
	fmt.Printf("# %s: %d vectors, %v storage, %d workers, load %s\n", path, n, storage, workers, loadAverage())
	ctx := context.Background()

	var buildStart time.Time
	var building time.Duration
	var buildCPU, buildCPUStart float64
	var lastDone int64
	var lastTime time.Time
	db, err := index.Open(path, index.Options{Workers: workers, Progress: func(p index.Progress) {
		if p.Stage == "build" && p.Done == 0 {
			buildStart, buildCPUStart = time.Now(), cpuSeconds()
			lastDone, lastTime = 0, buildStart
		}
		if p.Stage == "build" && p.Total >= 1000000 && p.Done >= lastDone+p.Total/10 {
			// A long build says how its rate changes as the graph grows.
			now := time.Now()
			fmt.Printf("build: %d of %d after %.0f s, %.0f inserts/s since the last line\n",
				p.Done, p.Total, now.Sub(buildStart).Seconds(), float64(p.Done-lastDone)/now.Sub(lastTime).Seconds())
			lastDone, lastTime = p.Done, now
		}
		if p.Stage == "build" && p.Done == p.Total {
			building, buildCPU = time.Since(buildStart), cpuSeconds()-buildCPUStart
		}
	}})
	check(err)
	start := time.Now()
	const batch = 10000
	var ids []index.ItemID
	for i := 0; i < n; i += batch {
		items := make([]index.Item, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			src := fmt.Sprintf("vector/%d", j)
			items = append(items, index.Item{Source: src, Hash: sha256.Sum256([]byte(src)), Split: index.SplitTrain})
		}
		got, _, err := db.AddItems(ctx, items)
		check(err)
		ids = append(ids, got...)
	}
	itemsTime := time.Since(start)
	sp, err := db.CreateSpace(ctx, index.SpaceConfig{Name: "bench", Dim: dim, Storage: storage, Encoder: index.Encoder{ID: "bench"}})
	check(err)
	start = time.Now()
	for i := 0; i < n; i += batch {
		_, err := sp.AddVectors(ctx, ids[i:min(i+batch, n)], base[i*dim:min(i+batch, n)*dim])
		check(err)
	}
	vectorsTime := time.Since(start)
	start = time.Now()
	check(sp.SaveGraph(ctx))
	buildSave := time.Since(start)
	check(db.Close())
	st, _ := os.Stat(path)
	info := sp.Info()
	fmt.Printf("store items: %.1f s (%.0f items/s); store vectors: %.1f s (%.0f vectors/s)\n",
		itemsTime.Seconds(), float64(n)/itemsTime.Seconds(), vectorsTime.Seconds(), float64(n)/vectorsTime.Seconds())
	fmt.Printf("build graph from stored vectors: %.1f s (%.0f inserts/s, %.0f inserts/cpu-s); save: %.1f s; graph %.0f MiB (%.0f bytes/vector); file %.0f MiB\n",
		building.Seconds(), float64(n)/building.Seconds(), float64(n)/buildCPU, (buildSave - building).Seconds(),
		float64(info.Stored.Bytes)/(1<<20), float64(info.Stored.Bytes)/float64(n), float64(st.Size())/(1<<20))

	searchBench(dir, path, workers, 1, efs, true)
}

// searchBench loads the index file that dbBench wrote and measures HNSW
// and exact searches through the index package.
func searchBench(dir, path string, workers, repeat int, efs []int, exact bool) {
	query, dim := readVectors(filepath.Join(dir, "query.f32"), "F32V")
	truth := readTruth(filepath.Join(dir, "truth.i32"))
	nq := len(query) / dim
	ctx := context.Background()
	fmt.Printf("# search %s: %d workers, load %s\n", path, workers, loadAverage())
	before := heapInUse()
	db, err := index.Open(path, index.Options{ReadOnly: true, Workers: workers})
	check(err)
	defer db.Close()
	sp, err := db.Space("bench")
	check(err)
	start := time.Now()
	check(sp.Load(ctx))
	info := sp.Info()
	fmt.Printf("load (vectors + stored graph, warm page cache): %.2f s; heap %.0f MiB; %v storage, graph holds %.0f MiB (%.0f bytes/vector)\n",
		time.Since(start).Seconds(), float64(heapInUse()-before)/(1<<20), info.Storage, float64(info.Memory.Bytes)/(1<<20), float64(info.Memory.Bytes)/float64(info.Vectors))

	fmt.Printf("%-6s %10s %10s %10s\n", "ef", "recall@10", "q/s", "q/cpu-s")
	for _, ef := range efs {
		opts := index.SearchOptions{K: 10, Ef: ef, Method: index.HNSW}
		sp.SearchBatch(ctx, query, opts)
		start, cpu := time.Now(), cpuSeconds()
		var res [][]index.Result
		for range repeat {
			var err error
			res, err = sp.SearchBatch(ctx, query, opts)
			check(err)
		}
		qps, perCPU := float64(repeat*nq)/time.Since(start).Seconds(), float64(repeat*nq)/(cpuSeconds()-cpu)
		var recall float64
		for q := range nq {
			hits := 0
			for _, t := range truth[q] {
				for _, r := range res[q] {
					if int32(r.ID) == t {
						hits++
						break
					}
				}
			}
			recall += float64(hits) / float64(len(truth[q]))
		}
		fmt.Printf("%-6d %10.4f %10.0f %10.0f\n", ef, recall/float64(nq), qps, perCPU)
	}
	if !exact {
		return
	}
	n := sp.Len()
	exactQueries := query[:min(nq, max(64, 2_000_000_000/(n*dim)))*dim]
	for _, w := range []int{1, workers} {
		db.Close()
		db, err = index.Open(path, index.Options{ReadOnly: true, Workers: w})
		check(err)
		sp, err = db.Space("bench")
		check(err)
		check(sp.Load(ctx))
		start, cpu := time.Now(), cpuSeconds()
		_, err := sp.SearchBatch(ctx, exactQueries, index.SearchOptions{K: 10, Method: index.Exact})
		check(err)
		fmt.Printf("exact search, batch of %d queries, %d workers: %.1f queries/s, %.1f queries/cpu-s\n", len(exactQueries)/dim, w,
			float64(len(exactQueries)/dim)/time.Since(start).Seconds(), float64(len(exactQueries)/dim)/(cpuSeconds()-cpu))
		start = time.Now()
		for q := range 8 {
			_, err := sp.Search(exactQueries[q*dim:(q+1)*dim], index.SearchOptions{K: 10, Method: index.Exact})
			check(err)
		}
		if w == 1 {
			fmt.Printf("exact search, one query at a time: %.1f queries/s\n", 8/time.Since(start).Seconds())
		}
	}
}

// firstQuery opens a database, loads its space and answers one query, and
// prints the time since the process started.
func firstQuery(path string, populate bool) {
	db, err := index.Open(path, index.Options{ReadOnly: true, Populate: populate})
	check(err)
	names, err := db.SpaceNames()
	check(err)
	if len(names) == 0 {
		log.Fatal("no space")
	}
	sp, err := db.Space(names[0])
	check(err)
	items := sp.Items()
	res, err := sp.SearchItem(items[len(items)/2], index.SearchOptions{K: 10})
	check(err)
	fmt.Printf("first query answered %.2f s after the process started (%d results, %d vectors, populate %v, load %s)\n",
		sinceProcessStart().Seconds(), len(res), len(items), populate, loadAverage())
}

// coldStart times, with the page cache dropped before each, a sequential
// read of the whole file (what cat does) and the first query of a new
// process (first-query) of this build and of other builds, so that they
// are side by side under the same load. It needs root to drop the cache.
func coldStart(path string, rounds int, binaries string) {
	self, err := os.Executable()
	check(err)
	builds := []string{self}
	if binaries != "" {
		builds = append(builds, strings.Split(binaries, ",")...)
	}
	st, err := os.Stat(path)
	check(err)
	fmt.Printf("# cold start of %s (%.0f MiB), load %s\n", path, float64(st.Size())/(1<<20), loadAverage())
	for round := range rounds {
		dropCaches()
		start := time.Now()
		f, err := os.Open(path)
		check(err)
		buf := make([]byte, 1<<20)
		var read int64
		for {
			n, err := f.Read(buf)
			read += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			check(err)
		}
		f.Close()
		seq := time.Since(start).Seconds()
		fmt.Printf("round %d: sequential read %.2f s (%.0f MiB/s)\n", round, seq, float64(read)/(1<<20)/seq)
		for _, b := range builds {
			dropCaches()
			out, err := exec.Command(b, "first-query", "-db", path).CombinedOutput()
			if err != nil {
				log.Fatalf("%s first-query: %v: %s", b, err, out)
			}
			fmt.Printf("round %d: %s: %s", round, b, out)
		}
	}
}

// dropCaches writes the file system's dirty pages and drops the page cache.
func dropCaches() {
	syscall.Sync()
	check(os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200))
}

// sinceProcessStart reads the process start time from /proc (10 ms
// resolution).
func sinceProcessStart() time.Duration {
	stat, err := os.ReadFile("/proc/self/stat")
	check(err)
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	startTicks, _ := strconv.ParseFloat(fields[19], 64) // field 22 overall
	up, err := os.ReadFile("/proc/uptime")
	check(err)
	uptime, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	return time.Duration((uptime - startTicks/100) * float64(time.Second))
}

// cpuSeconds returns the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func writeVectors(path, magic string, v []float32, dim int) {
	b := make([]byte, 16, 16+4*len(v))
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(v)/dim))
	binary.LittleEndian.PutUint32(b[12:], uint32(dim))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	check(os.WriteFile(path, b, 0o644))
}

func readVectors(path, magic string) ([]float32, int) {
	b, err := os.ReadFile(path)
	check(err)
	if len(b) < 16 || string(b[:4]) != magic || binary.LittleEndian.Uint32(b[4:]) != 1 {
		check(errors.New(path + ": not a " + magic + " version 1 file"))
	}
	n, dim := int(binary.LittleEndian.Uint32(b[8:])), int(binary.LittleEndian.Uint32(b[12:]))
	if len(b) != 16+4*n*dim {
		check(fmt.Errorf("%s: %d bytes for %d×%d values", path, len(b), n, dim))
	}
	out := make([]float32, n*dim)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[16+4*i:]))
	}
	return out, dim
}

func readTruth(path string) [][]int32 {
	v, k := readVectors(path, "I32V")
	out := make([][]int32, len(v)/k)
	for q := range out {
		for j := range k {
			out[q] = append(out[q], int32(math.Float32bits(v[q*k+j])))
		}
	}
	return out
}

// uniformVectors returns n vectors uniform on the unit sphere.
func uniformVectors(seed uint64, n, dim int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x0ff))
	out := make([]float32, n*dim)
	for i := range n {
		v := out[i*dim : (i+1)*dim]
		var norm float64
		for j := range v {
			x := rng.NormFloat64()
			v[j] = float32(x)
			norm += x * x
		}
		scale := float32(1 / math.Sqrt(norm))
		for j := range v {
			v[j] *= scale
		}
	}
	return out
}
