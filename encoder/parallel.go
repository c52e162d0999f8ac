package encoder

import (
	"sync"
	"sync/atomic"

	"simsearch/encoder/internal/gemm"
)

// parallel calls fn on consecutive ranges [lo, hi) covering [0, n), on up to
// gemm.Workers() goroutines (GOMAXPROCS, or a lane's share of it), and
// returns when all calls have. Ranges hold at least minChunk items, so
// small loops run on the calling goroutine. Each item is handled by exactly
// one call, so results do not depend on the number of goroutines as long as
// fn treats items independently.
func parallel(n, minChunk int, fn func(lo, hi int)) {
	workers := gemm.Workers()
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

// clearAll sets s to zeros, on every core: an input gradient the size of
// a layer's input is cleared before tiles add into it.
func clearAll[T any](s []T) {
	parallel(len(s), 1<<16, func(lo, hi int) { clear(s[lo:hi]) })
}

// blockWorkers returns the number of goroutines parallelBlocks would use
// for blocks, or 0 if there are too few blocks to share them out well: then
// the caller should rather split each block's work.
func blockWorkers(blocks int) int {
	workers := gemm.Workers()
	if workers <= 1 {
		return 1
	}
	if blocks < 2*workers {
		return 0
	}
	return workers
}

// parallelBlocks calls fn(worker, block) for every block in [0, blocks),
// on workers goroutines (worker in [0, workers)) that take the next block
// as they finish one, and returns when all calls have. A worker's calls run
// one at a time, so fn may use memory of its own per worker. Waiting once
// for the whole set, rather than once per block, is what matters when the
// cores are shared with other work.
func parallelBlocks(blocks, workers int, fn func(worker, block int)) {
	var next atomic.Int64
	work := func(w int) {
		for {
			b := int(next.Add(1) - 1)
			if b >= blocks {
				return
			}
			fn(w, b)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0)
	wg.Wait()
}
