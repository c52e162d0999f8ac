package experiment

import (
	"os"
	"time"

	"simsearch/encoder"
)

// trainClock estimates how long the experiment's training has left while
// an encoder trains: that encoder at the speed it is measured at, and the
// encoders still to train after it at the speeds Estimate measured, scaled
// by how far the current encoder's speed is from its own estimate.
type trainClock struct {
	est  Estimated // the zero value: no estimate, no time left shown
	size Size
	// later are the encoders to train after the current one.
	later []Encoder
}

// newTrainClock returns the clock of the training of Encoders[i], with the
// encoders after it whose checkpoints are not written yet.
func newTrainClock(opts Options, est Estimated, i int) *trainClock {
	c := &trainClock{est: est, size: opts.Size}
	for _, e := range Encoders[i+1:] {
		if _, err := os.Stat(opts.checkpoint(e)); e.Objective.Trained() && err != nil {
			c.later = append(c.later, e)
		}
	}
	return c
}

// stepSeconds is the estimated time of a step of e's training.
func (c *trainClock) stepSeconds(e Encoder) float64 {
	rate := c.est.rate(e.Objective)
	if rate <= 0 {
		return 0
	}
	return float64(c.size.Batch) / rate
}

// left returns the time the training of all encoders has left when e is at
// p, begin being the step e's training started from in this run (more
// than 0 when it resumed a state); 0 when unknown.
func (c *trainClock) left(e Encoder, p encoder.Progress, begin int) time.Duration {
	estimated := c.stepSeconds(e)
	if estimated <= 0 || p.Step <= begin || p.Elapsed <= 0 {
		return 0
	}
	measured := p.Elapsed.Seconds() / float64(p.Step-begin)
	seconds := float64(p.Steps-p.Step) * measured
	steps := float64(encoder.StepsPerEpoch(c.size.Train, c.size.Batch, false))
	for _, l := range c.later {
		seconds += steps * float64(c.size.epochs(l)) * c.stepSeconds(l) * measured / estimated
	}
	return time.Duration(seconds * float64(time.Second))
}
