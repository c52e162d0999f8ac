package index

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"simsearch/index/vectortest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/viterin/vek/vek32"
)

// The benchmarks run on 128-d unit vectors from latentVectors (clusters
// in a 32-d latent space, n/1000 of them), 1000 queries from the same
// distribution, and 2 workers. Each size's database is built once per run
// in a temporary folder. Run them with
//
//	go test ./index -run '^$' -bench . -benchtime 1x             # 100,000 vectors
//	go test ./index -run '^$' -bench . -benchtime 1x -index.1m   # and 1,000,000
//
// and read BENCHMARKS.md for the figures and what they were measured
// beside.

var bench1M = flag.Bool("index.1m", false, "also run the index benchmarks on 1,000,000 vectors (several minutes)")

const (
	benchDim     = 128
	benchQueries = 1000
	benchWorkers = 2
)

func benchSizes() []int {
	if *bench1M {
		return []int{100_000, 1_000_000}
	}
	return []int{100_000}
}

// benchSet is a built database and its queries with their exact answers.
type benchSet struct {
	path        string
	n           int
	queries     []float32
	truth       [][]Result
	buildSecs   float64 // inserting every vector into the graph
	storeSecs   float64 // storing items and vectors
	saveSecs    float64
	graphBytes  int64
	fileBytes   int64
	vectorsTime time.Duration
}

var (
	benchSets   = map[int]*benchSet{}
	benchTmpDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(firstQueryEnv) != "" {
		firstQueryChild()
		return
	}
	code := m.Run()
	if benchTmpDir != "" {
		os.RemoveAll(benchTmpDir)
	}
	os.Exit(code)
}

// benchData returns the database of n vectors, building it the first time.
func benchData(b *testing.B, n int) *benchSet {
	if s, ok := benchSets[n]; ok {
		return s
	}
	if benchTmpDir == "" {
		dir, err := os.MkdirTemp("", "simsearch-index-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchTmpDir = dir
	}
	set := &benchSet{path: filepath.Join(benchTmpDir, fmt.Sprintf("%d.db", n)), n: n}
	clusters := max(n/1000, 10)
	vectors := vectortest.Latent(1, n, benchDim, 32, clusters, 1.0)
	set.queries = vectortest.Latent(2, benchQueries, benchDim, 32, clusters, 1.0)

	var buildStart time.Time
	db, err := Open(set.path, Options{Workers: benchWorkers, Progress: func(p Progress) {
		if p.Stage == "build" && p.Done == 0 {
			buildStart = time.Now()
		}
		if p.Stage == "build" && p.Done == p.Total {
			set.buildSecs = time.Since(buildStart).Seconds()
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "bench", Dim: benchDim, Encoder: Encoder{ID: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10000
	for i := 0; i < n; i += batch {
		items := make([]Item, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			src := "v/" + strconv.Itoa(j)
			items = append(items, Item{Source: src, Hash: sha256.Sum256([]byte(src)), Split: SplitTrain})
		}
		ids, _, err := db.AddItems(ctx, items)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sp.AddVectors(ctx, ids, vectors[i*benchDim:(i+len(ids))*benchDim]); err != nil {
			b.Fatal(err)
		}
	}
	set.storeSecs = time.Since(start).Seconds()
	start = time.Now()
	if err := sp.SaveGraph(ctx); err != nil { // builds, then saves
		b.Fatal(err)
	}
	set.saveSecs = time.Since(start).Seconds() - set.buildSecs
	set.graphBytes = sp.Info().Stored.Bytes
	set.truth, err = sp.SearchBatch(ctx, set.queries, SearchOptions{K: 10, Method: Exact})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(set.path)
	set.fileBytes = st.Size()
	benchSets[n] = set
	return set
}

// openBench opens a benchmark database read-only and loads its space.
func openBench(b *testing.B, set *benchSet, workers int) (*DB, *Space) {
	db, err := Open(set.path, Options{ReadOnly: true, Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	sp, err := db.Space("bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := sp.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db, sp
}

// BenchmarkBuild reports how the benchmark database was built: graph
// insertions per second (2 workers), storage and save times, sizes.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			set := benchData(b, n)
			for b.Loop() {
			}
			b.ReportMetric(float64(n)/set.buildSecs, "inserts/s")
			b.ReportMetric(float64(n)/set.storeSecs, "stored-vectors/s")
			b.ReportMetric(set.saveSecs, "save-s")
			b.ReportMetric(float64(set.graphBytes)/float64(n), "graph-bytes/vector")
			b.ReportMetric(float64(set.fileBytes)/float64(n), "file-bytes/vector")
		})
	}
}

// BenchmarkLoad measures opening the file and loading the space from the
// stored graph (the page cache is warm), and the memory it takes, against
// rebuilding the graph from the stored vectors (BenchmarkBuild).
func BenchmarkLoad(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			set := benchData(b, n)
			var heap uint64
			for b.Loop() {
				before := heapInUse()
				db, _ := openBench(b, set, benchWorkers)
				heap = heapInUse() - before
				db.Close()
			}
			b.ReportMetric(float64(heap)/float64(n), "heap-bytes/vector")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "load-s")
			b.ReportMetric(set.buildSecs, "rebuild-s")
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkSearch measures queries/s and recall@10 of HNSW searches at a
// few breadths (2 workers over the 1000 queries), and of exact searches.
func BenchmarkSearch(b *testing.B) {
	for _, n := range benchSizes() {
		set := benchData(b, n)
		db, sp := openBench(b, set, benchWorkers)
		for _, ef := range []int{16, 32, 64, 128} {
			b.Run(fmt.Sprintf("n=%d/hnsw/ef=%d", n, ef), func(b *testing.B) {
				benchSearch(b, sp, set, SearchOptions{K: 10, Ef: ef, Method: HNSW}, set.queries)
			})
		}
		exactQueries := set.queries[:64*benchDim]
		b.Run(fmt.Sprintf("n=%d/exact/batch", n), func(b *testing.B) {
			benchSearch(b, sp, set, SearchOptions{K: 10, Method: Exact}, exactQueries)
		})
		b.Run(fmt.Sprintf("n=%d/exact/single", n), func(b *testing.B) {
			q := set.queries[:benchDim]
			for b.Loop() {
				if _, err := sp.Search(q, SearchOptions{K: 10, Method: Exact}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
		})
		b.Run(fmt.Sprintf("n=%d/exact/plain-vek-scan", n), func(b *testing.B) {
			// The yardstick: one vek32.Dot per stored vector, nothing else.
			vectors := sp.graph.Vectors()
			q := set.queries[:benchDim]
			var sink float32
			for b.Loop() {
				for i := 0; i < len(vectors); i += benchDim {
					sink += vek32.Dot(q, vectors[i:i+benchDim])
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			_ = sink
		})
		db.Close()
	}
}

// benchSearch runs the queries as one batch per iteration.
func benchSearch(b *testing.B, sp *Space, set *benchSet, opts SearchOptions, queries []float32) {
	var res [][]Result
	var err error
	for b.Loop() {
		if res, err = sp.SearchBatch(context.Background(), queries, opts); err != nil {
			b.Fatal(err)
		}
	}
	recall, _ := Recall(res, set.truth[:len(res)])
	b.ReportMetric(float64(b.N*len(res))/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(recall, "recall@10")
}

// BenchmarkCrossover times filtered HNSW searches against exact scans of
// the matching vectors for filters keeping a share of the items, on
// spaces of several sizes (one goroutine), to place Auto's cross-over.
func BenchmarkCrossover(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 100000} {
		db, _ := openTest(b, Options{Workers: benchWorkers})
		items := testItems("x", n, 1)
		for i := range items {
			items[i].Split = "s" + strconv.Itoa(i%100) // 100 splits of 1 % each
		}
		sp, _, _ := populate(b, db, items, benchDim, 1)
		if err := sp.Load(ctx); err != nil {
			b.Fatal(err)
		}
		queries := vectortest.Latent(3, 200, benchDim, 16, 20, 1.0)
		for _, share := range []int{100, 30, 10, 3, 1} {
			var filter Filter
			if share < 100 {
				for s := range share {
					filter.Splits = append(filter.Splits, "s"+strconv.Itoa(s))
				}
			}
			planned, matching, err := sp.Plan(ctx, SearchOptions{K: 10, Filter: filter})
			if err != nil {
				b.Fatal(err)
			}
			for _, method := range []Method{HNSW, Exact} {
				b.Run(fmt.Sprintf("n=%d/share=%d%%/%v", n, share, method), func(b *testing.B) {
					opts := SearchOptions{K: 10, Filter: filter, Method: method}
					i := 0
					for b.Loop() {
						q := queries[(i%200)*benchDim : (i%200+1)*benchDim]
						if _, err := sp.Search(q, opts); err != nil {
							b.Fatal(err)
						}
						i++
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
					if method == HNSW {
						approx, _ := sp.SearchBatch(ctx, queries, opts)
						exact, _ := sp.SearchBatch(ctx, queries, SearchOptions{K: 10, Filter: filter, Method: Exact})
						recall, _ := Recall(approx, exact)
						b.ReportMetric(recall, "recall@10")
					}
					b.ReportMetric(float64(matching), "matching")
					b.ReportMetric(map[bool]float64{true: 1, false: 0}[planned == Exact], "auto-exact")
				})
			}
		}
	}
}

// The first-query benchmark runs the test binary again as a child that
// opens the file, loads the space and answers one query, and reports the
// time since its process started.
const firstQueryEnv = "SIMSEARCH_INDEX_FIRST_QUERY"

func firstQueryChild() {
	path, populate, _ := strings.Cut(os.Getenv(firstQueryEnv), "|")
	db, err := Open(path, Options{ReadOnly: true, Populate: populate == "populate"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	sp, err := db.Space("bench")
	if err == nil {
		_, err = sp.SearchItem(ItemID(sp.Len()/2), SearchOptions{K: 10})
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("seconds", sinceProcessStart().Seconds())
}

// sinceProcessStart reads the process start time from /proc (10 ms
// resolution).
func sinceProcessStart() time.Duration {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	startTicks, _ := strconv.ParseFloat(fields[19], 64) // field 22 of the whole line
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return -1
	}
	uptime, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	return time.Duration((uptime - startTicks/100) * float64(time.Second))
}

// BenchmarkFirstQuery measures the time from process start to the first
// answered query on the benchmark file (page cache warm), with and
// without MAP_POPULATE.
func BenchmarkFirstQuery(b *testing.B) {
	for _, n := range benchSizes() {
		set := benchData(b, n)
		for _, populate := range []string{"", "populate"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, map[string]string{"": "plain", "populate": "populate"}[populate]), func(b *testing.B) {
				var secs float64
				for b.Loop() {
					cmd := exec.Command(os.Args[0])
					cmd.Env = append(os.Environ(), firstQueryEnv+"="+set.path+"|"+populate)
					out, err := cmd.StdoutPipe()
					if err != nil {
						b.Fatal(err)
					}
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						if v, ok := strings.CutPrefix(sc.Text(), "seconds "); ok {
							secs, _ = strconv.ParseFloat(v, 64)
						} else {
							b.Log(sc.Text())
						}
					}
					if err := cmd.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(secs, "first-query-s")
			})
		}
	}
}
