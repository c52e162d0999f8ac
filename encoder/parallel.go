package encoder

import (
	"runtime"
	"sync"
)

// parallel calls fn on consecutive ranges [lo, hi) covering [0, n), on up to
// GOMAXPROCS goroutines, and returns when all calls have. Ranges hold at
// least minChunk items, so small loops run on the calling goroutine. Each
// item is handled by exactly one call, so results do not depend on the
// number of goroutines as long as fn treats items independently.
func parallel(n, minChunk int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if minChunk < 1 {
		minChunk = 1
	}
	workers = min(workers, n/minChunk)
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/workers)
	wg.Wait()
}
