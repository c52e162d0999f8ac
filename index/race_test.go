//go:build race

package index

// raceEnabled shrinks some tests' data under the race detector, which
// slows the graph code about tenfold; the assertions stay the same.
const raceEnabled = true
