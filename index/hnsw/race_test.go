//go:build race

package hnsw

// raceEnabled shrinks the tests' data under the race detector, which
// slows this package's code about tenfold; the assertions stay the same.
const raceEnabled = true
