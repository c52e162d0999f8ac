package index

import (
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A load reads a space's vector chunks and graph chunks, which bbolt keeps
// as runs of pages wherever it found room in the file: with the file's
// mapping advised MADV_RANDOM (bbolt's choice, right for the random
// lookups of items and queries) a cold load faults them in one 4 KiB page
// at a time. A readahead collects the ranges a load is about to read and
// asks the kernel for them in pieces, in the order they will be read, from
// a goroutine that runs ahead of the decoding; the decoding then finds
// them in the page cache. Only the ranges the load reads are asked for:
// items, thumbnails and other spaces stay on disk; pages already in the
// cache are not asked for again.

var pageSize = uintptr(os.Getpagesize())

// readahead is the list of mapped ranges a load will read, in that order.
// It must be stopped (stop) before the transaction whose mapping its
// ranges point into ends.
type readahead struct {
	ranges []span // page-aligned runs of the mapping
	done   chan struct{}
	quit   atomic.Bool
	once   sync.Once
}

// span is a run of addresses of the mapping, kept as numbers: widening a
// value to its pages is arithmetic on addresses, never a Go pointer outside
// the value (which the race detector's pointer checks refuse), and only
// the kernel is handed the result.
type span struct{ start, len uintptr }

// end is the first address after s.
func (s span) end() uintptr { return s.start + s.len }

// add appends the pages holding b to the ranges, merged with the previous
// range when they touch it.
func (r *readahead) add(b []byte) {
	if len(b) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := p &^ (pageSize - 1)
	pages := span{first, (p + uintptr(len(b)) - first + pageSize - 1) &^ (pageSize - 1)}
	if n := len(r.ranges); n > 0 {
		if merged, ok := join(r.ranges[n-1], pages); ok {
			r.ranges[n-1] = merged
			return
		}
	}
	r.ranges = append(r.ranges, pages)
}

// join returns the run covering a and b when b starts inside a or where a
// ends.
func join(a, b span) (span, bool) {
	if b.start < a.start || b.start > a.end() {
		return span{}, false
	}
	return span{a.start, max(a.end(), b.end()) - a.start}, true
}

// bytes is the total length of the ranges.
func (r *readahead) bytes() int64 {
	var n int64
	for _, rg := range r.ranges {
		n += int64(rg.len)
	}
	return n
}

// start begins the requests in a goroutine.
func (r *readahead) start() {
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		for _, rg := range r.ranges {
			willNeed(rg, r.quit.Load)
		}
	}()
}

// stop ends the requests not yet made and waits for the goroutine. It is
// safe to call more than once, and before start.
func (r *readahead) stop() {
	r.once.Do(func() {
		if r.done == nil {
			return
		}
		r.quit.Store(true)
		<-r.done
	})
}
