package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"simsearch/index"
)

func newCheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "measure the recall and speed of a space's HNSW index against exact search",
		ArgsUsage: " ",
		Description: `Samples stored vectors of a space as queries, finds each one's k nearest
other items with the HNSW graph and with an exact scan, and prints recall@k
(the share of the exact neighbours the graph found: how far approximate
answers can be trusted) and the queries per second of both. Loading the
space builds the parts of its graph that are not stored yet (in memory only:
the file is opened read-only).

Example:
   simsearch check --db shapes.db --space contrastive-A --queries 1000
   simsearch check --db shapes.db --space contrastive-A --ef 128 -k 10 --split train`,
		Flags: []cli.Flag{
			dbFlag("to read"),
			&cli.StringFlag{Name: "space", Usage: "space to check (may be left out when the file holds one)"},
			&cli.IntFlag{Name: "queries", Value: 1000, Usage: "number of stored vectors sampled as queries"},
			&cli.IntFlag{Name: "k", Value: 10, Usage: "number of neighbours compared"},
			&cli.IntFlag{Name: "ef", Usage: "HNSW search breadth (default: the space's ef_search)"},
			&cli.StringSliceFlag{Name: "split", Usage: "only neighbours from this split (repeat for several)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the query sample"},
			&cli.IntFlag{Name: "workers", Usage: "queries run at once (default: one per core)"},
			timeoutFlag(),
		},
		Action: runCheck,
	}
}

func runCheck(c *cli.Context) error {
	o := newOutput(c)
	switch {
	case c.Int("queries") < 1:
		return usagef("--queries must be at least 1, not %d", c.Int("queries"))
	case c.Int("k") < 1 || c.Int("k") > 10000:
		return usagef("-k must be 1 to 10000, not %d", c.Int("k"))
	case c.Int("ef") < 0:
		return usagef("--ef must be 0 (the space's default) or more, not %d", c.Int("ef"))
	case c.Int("workers") < 0:
		return usagef("--workers must be 0 (one per core) or more, not %d", c.Int("workers"))
	}
	progress := indexProgress(o)
	db, err := openStoreWith(c, o, index.Options{ReadOnly: true, Progress: progress.report, Workers: c.Int("workers")})
	if err != nil {
		return err
	}
	defer db.Close()
	defer progress.done()
	sp, err := openSpace(db, c.String("space"), "check")
	if err != nil {
		return err
	}
	space := sp.Index()
	if err := space.Load(c.Context); err != nil {
		return err
	}
	progress.done()
	filter := index.Filter{Splits: c.StringSlice("split")}
	if n, err := sp.Matching(filter); err != nil {
		return err
	} else if n == 0 {
		return usagef("no item of space %s matches --split %s: nothing to check", sp.Name(), strings.Join(filter.Splits, ", "))
	}
	res, err := space.Check(c.Context, index.CheckOptions{
		Queries: c.Int("queries"),
		K:       c.Int("k"),
		Ef:      c.Int("ef"),
		Filter:  filter,
		Seed:    c.Uint64("seed"),
	})
	if err != nil {
		return err
	}
	return o.result("check", res, func(w io.Writer) error {
		stored := ""
		if res.Storage == index.Int8 {
			stored = " (int8 codes in memory, re-ranked with float32)"
		}
		fmt.Fprintf(w, "space %s: %s vectors%s, %d queries, k %d, ef %d, %d workers\n",
			res.Space, groupDigits(res.Vectors), stored, res.Queries, res.K, res.Ef, res.Workers)
		fmt.Fprintf(w, "recall@%d  %.4f (worst query %.2f)\n", res.K, res.Recall, res.MinRecall)
		fmt.Fprintf(w, "hnsw       %s queries/s\n", groupDigits(int(res.HNSWQueriesPerSecond+0.5)))
		fmt.Fprintf(w, "exact      %s queries/s\n", groupDigits(int(res.ExactQueriesPerSecond+0.5)))
		_, err := fmt.Fprintf(w, "searches with these options use %v by default\n", res.Auto)
		return err
	})
}
