package render

import (
	"fmt"
	"strings"

	"simsearch/report"
)

// writeSeedSpreads writes, for each recipe trained from several seeds, the
// mean ± standard deviation of its cells over the seeds.
func writeSeedSpreads(b *strings.Builder, r *report.Report) {
	if len(r.SeedSpreads) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## How much a cell moves between seeds\n\n")
	p("Spaces whose encoders were trained alike from different seeds: each cell's mean ± standard deviation over the seeds, and its range. Two encoders whose cells differ by less than about two standard deviations of one recipe may differ by the seed alone.\n\n")
	for _, s := range r.SeedSpreads {
		seeds := make([]string, len(s.Seeds))
		for i, seed := range s.Seeds {
			seeds[i] = fmt.Sprint(seed)
		}
		p("%s: %d spaces (%s), seeds %s.\n\n", s.Recipe, len(s.Spaces), strings.Join(s.Spaces, ", "), strings.Join(seeds, ", "))
		p("| cell | mean ± std | range |\n|---|---|---|\n")
		for _, c := range s.Cells {
			name := "k-NN " + c.Factor
			if c.Measure == "sensitivity" {
				name = "sensitivity " + c.Factor
			}
			p("| %s | %.3f ± %.3f | %.3f–%.3f |\n", name, c.Mean, c.Std, c.Min, c.Max)
		}
		p("\n")
	}
}
