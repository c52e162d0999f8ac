package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"simsearch/index"
)

// progress shows the progress of one stage on stderr: a bar redrawn in place
// on a terminal, a plain line every few seconds when stderr is a file or a
// pipe, nothing with --quiet. It is safe for concurrent use.
type progress struct {
	mu       sync.Mutex
	label    string
	unit     string
	total    int64
	done     int64
	detail   string
	start    time.Time
	lastLine time.Time
	bar      *progressbar.ProgressBar // nil unless on a terminal
	w        io.Writer                // nil when quiet
	finished bool
}

// lineInterval is how often a non-terminal progress line is written.
const lineInterval = 5 * time.Second

// newProgress starts showing a stage of total steps counted in unit
// ("images", "steps"). A total of 0 or less means unknown.
func (o *output) newProgress(label, unit string, total int64) *progress {
	p := &progress{label: label, unit: unit, total: total, start: time.Now()}
	p.lastLine = p.start
	if o.quiet {
		return p
	}
	p.w = o.stderr
	if o.stderrTerminal {
		max := total
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(o.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(o.stderr) }),
		)
	}
	return p
}

// Set records that done steps are complete.
func (p *progress) Set(done int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	p.draw()
}

// Add records n more completed steps.
func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw()
}

// Describe sets a detail shown after the counts, such as "loss 2.31".
func (p *progress) Describe(detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.detail = detail
	if p.bar != nil {
		p.bar.Describe(p.label + " " + detail)
	}
}

// Done ends the stage with a summary line.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished || p.w == nil {
		p.finished = true
		return
	}
	p.finished = true
	if p.bar != nil {
		_ = p.bar.Finish()
		return
	}
	elapsed := time.Since(p.start)
	fmt.Fprintf(p.w, "%s: %d %s in %s (%s)%s\n", p.label, p.done, p.unit,
		elapsed.Round(100*time.Millisecond), rate(p.done, elapsed, p.unit), p.suffix())
}

func (p *progress) draw() {
	if p.w == nil || p.finished {
		return
	}
	if p.bar != nil {
		_ = p.bar.Set64(p.done)
		return
	}
	now := time.Now()
	if now.Sub(p.lastLine) < lineInterval {
		return
	}
	p.lastLine = now
	elapsed := now.Sub(p.start)
	if p.total > 0 {
		eta := "?"
		if p.done > 0 {
			remaining := time.Duration(float64(elapsed) * float64(p.total-p.done) / float64(p.done))
			eta = remaining.Round(time.Second).String()
		}
		fmt.Fprintf(p.w, "%s: %d/%d %s (%.0f%%), %s, ETA %s%s\n", p.label, p.done, p.total, p.unit,
			100*float64(p.done)/float64(p.total), rate(p.done, elapsed, p.unit), eta, p.suffix())
		return
	}
	fmt.Fprintf(p.w, "%s: %d %s, %s%s\n", p.label, p.done, p.unit, rate(p.done, elapsed, p.unit), p.suffix())
}

func (p *progress) suffix() string {
	if p.detail == "" {
		return ""
	}
	return ", " + p.detail
}

func rate(done int64, elapsed time.Duration, unit string) string {
	if elapsed <= 0 {
		return "- " + unit + "/s"
	}
	return fmt.Sprintf("%.0f %s/s", float64(done)/elapsed.Seconds(), unit)
}

// stageBars shows a sequence of stages, one progress bar per stage: a new
// stage ends the bar of the one before.
type stageBars struct {
	o     *output
	stage string
	bar   *progress
}

func newStageBars(o *output) *stageBars { return &stageBars{o: o} }

// show shows the progress of stage: done of total units, and detail when
// not empty. A stage that reaches its total ends its bar.
func (b *stageBars) show(stage, unit string, done, total int64, detail string) {
	if stage != b.stage || b.bar == nil {
		b.done()
		b.stage = stage
		b.bar = b.o.newProgress(stage, unit, total)
	}
	b.bar.Set(done)
	if detail != "" {
		b.bar.Describe(detail)
	}
	if total > 0 && done >= total {
		b.done()
	}
}

// done ends the current bar, if any.
func (b *stageBars) done() {
	if b.bar != nil {
		b.bar.Done()
		b.bar = nil
		b.stage = ""
	}
}

// indexProgress returns bars for index.Options.Progress: the index's
// loading, building and saving of graphs.
func indexProgress(o *output) *stageBars { return newStageBars(o) }

// report shows an index.Progress.
func (b *stageBars) report(p index.Progress) {
	label := map[string]string{"load": "load", "build": "build graph", "save": "save graph"}[p.Stage]
	if label == "" {
		label = p.Stage
	}
	b.show(label+" "+p.Space, "vectors", p.Done, p.Total, "")
}
