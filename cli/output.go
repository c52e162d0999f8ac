package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// output is where a command writes: results to stdout (text, or one JSON
// object per result with --json), progress and logs to stderr.
type output struct {
	json   bool
	quiet  bool
	stdout io.Writer
	stderr io.Writer
	// stderrTerminal tells whether progress may redraw a bar in place.
	stderrTerminal bool
}

func newOutput(c *cli.Context) *output {
	o := &output{
		json:   flagInLineage(c, "json"),
		quiet:  flagInLineage(c, "quiet"),
		stdout: c.App.Writer,
		stderr: c.App.ErrWriter,
	}
	if o.stdout == nil {
		o.stdout = os.Stdout
	}
	if o.stderr == nil {
		o.stderr = os.Stderr
	}
	if f, ok := o.stderr.(*os.File); ok {
		o.stderrTerminal = term.IsTerminal(int(f.Fd()))
	}
	return o
}

// flagInLineage reports a boolean flag that may be given before or after the
// command name ("simsearch --json info" and "simsearch info --json").
func flagInLineage(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if slices.Contains(ctx.LocalFlagNames(), name) {
			return ctx.Bool(name)
		}
	}
	return false
}

// result writes one result: with --json, v as one JSON object with a "type"
// field set to kind; otherwise whatever text writes.
func (o *output) result(kind string, v any, text func(w io.Writer) error) error {
	if !o.json {
		return text(o.stdout)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s result: %w", kind, err)
	}
	var line bytes.Buffer
	fmt.Fprintf(&line, `{"type":%q`, kind)
	switch {
	case len(body) > 2 && body[0] == '{':
		line.WriteByte(',')
		line.Write(body[1:])
	case string(body) == "{}":
		line.WriteByte('}')
	default:
		line.WriteString(`,"data":`)
		line.Write(body)
		line.WriteByte('}')
	}
	line.WriteByte('\n')
	_, err = o.stdout.Write(line.Bytes())
	return err
}

// logf writes a line for the user on stderr, unless --quiet.
func (o *output) logf(format string, args ...any) {
	if o.quiet {
		return
	}
	fmt.Fprintf(o.stderr, format+"\n", args...)
}
