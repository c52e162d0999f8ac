package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"simsearch/index"
)

func newInfoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "describe a database file: items, spaces, parameters",
		ArgsUsage: " ",
		Description: `Prints what a database file holds: its size and format version, its items
by split (and how many belong to probe sets), and for each space the
dimension and metric of its vectors, how many there are, its HNSW parameters,
the state of its stored graph and the identity of its encoder. It opens the
file read-only, so it runs beside queries and reports (beside a writer it
waits for it, up to --timeout), and loads no graph.

Example:
   simsearch info --db shapes.db
   simsearch info --db shapes.db --json`,
		Flags: []cli.Flag{
			dbFlag("to read"),
			timeoutFlag(),
		},
		Action: runInfo,
	}
}

func runInfo(c *cli.Context) error {
	o := newOutput(c)
	if c.NArg() > 0 {
		return usagef("info takes no arguments, only flags (got %q)", c.Args().First())
	}
	db, err := openStore(c, o, true, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := db.Info()
	if err != nil {
		return err
	}
	schema, err := db.LabelSchema()
	if err != nil {
		return err
	}
	res := infoResult{Info: info, Labels: schema.Labels}
	return o.result("info", res, func(w io.Writer) error {
		if err := writeInfo(w, info, index.File(db.Store) == nil); err != nil {
			return err
		}
		return writeLabelSchema(w, schema)
	})
}

// infoResult is the JSON result of info: the store's description and the
// labels of its schema.
type infoResult struct {
	index.Info
	Labels []index.LabelInfo `json:"labels,omitempty"`
}

// writeLabelSchema lists the labels of a schema: kind and classes.
func writeLabelSchema(w io.Writer, s index.LabelSchema) error {
	for _, l := range s.Labels {
		classes := l.Classes
		if len(classes) > 8 {
			classes = append(classes[:8:8], fmt.Sprintf("… (%d in all)", len(l.Classes)))
		}
		grid := ""
		if l.Grid {
			grid = ", a factor of a grid"
		}
		if _, err := fmt.Fprintf(w, "label %s (%s%s): %s\n", l.Name, l.Kind, grid, strings.Join(classes, ", ")); err != nil {
			return err
		}
	}
	return nil
}

// writeInfo writes info as text.
func writeInfo(w io.Writer, info index.Info, server bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if server {
		fmt.Fprintf(tw, "database\t%s (%s, schema %d)\n", info.Path, index.FormatBytes(info.FileSize), info.FormatVersion)
	} else {
		fmt.Fprintf(tw, "file\t%s (%s, format %d)\n", info.Path, index.FormatBytes(info.FileSize), info.FormatVersion)
	}
	fmt.Fprintf(tw, "items\t%s\n", itemSummary(info))
	if len(info.Spaces) == 0 {
		fmt.Fprintf(tw, "spaces\tnone\n")
	}
	for _, s := range info.Spaces {
		fmt.Fprintf(tw, "space\t%s\n", s.Name)
		fmt.Fprintf(tw, "  vectors\t%s of dimension %d, %v\n", groupDigits(s.Vectors), s.Dim, s.Metric)
		fmt.Fprintf(tw, "  storage\t%s, %v\n", storageSummary(s.Storage), s.Memory)
		fmt.Fprintf(tw, "  hnsw\tM %d, ef_construction %d, ef_search %d, seed %d\n", s.Graph.M, s.Graph.EfConstruction, s.Graph.EfSearch, s.Graph.Seed)
		fmt.Fprintf(tw, "  graph\t%v\n", s.Stored)
		enc := s.Encoder.ID
		var details []string
		if s.Encoder.Description != "" {
			details = append(details, s.Encoder.Description)
		}
		// Descriptions of most encoders name their resolution already.
		if r := s.Encoder.Resolution; r > 0 && !strings.Contains(s.Encoder.Description, fmt.Sprintf("%d px", r)) &&
			!strings.Contains(s.Encoder.Description, fmt.Sprintf("res %d", r)) {
			details = append(details, fmt.Sprintf("%d px", r))
		}
		details = append(details, index.FormatBytes(s.Encoder.Bytes)+" checkpoint")
		fmt.Fprintf(tw, "  encoder\t%s (%s)\n", enc, strings.Join(details, ", "))
	}
	return tw.Flush()
}

// itemSummary says "64,000: train 40,000, val 24,000; 300 in probe sets".
func itemSummary(info index.Info) string {
	s := groupDigits(info.Items)
	names := make([]string, 0, len(info.Splits))
	for name := range info.Splits {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		parts = append(parts, name+" "+groupDigits(info.Splits[name]))
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if info.ProbeItems > 0 {
		s += fmt.Sprintf("; %s in probe sets", groupDigits(info.ProbeItems))
	}
	return s
}

// groupDigits formats n with comma separators.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// storageSummary says how a space keeps its vectors.
func storageSummary(st index.Storage) string {
	if st == index.Int8 {
		return "int8 in memory (quantized per dimension), float32 in the file for re-ranking"
	}
	return "float32"
}
