package index

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestReadaheadRanges(t *testing.T) {
	page := int(pageSize)
	mem, err := unix.Mmap(-1, 0, 16*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))

	var r readahead
	r.add(mem[10 : page+5])         // pages 0–1
	r.add(mem[2*page+1 : 3*page])   // page 2, touching: merged
	r.add(mem[2*page+7 : 2*page+9]) // inside: merged
	r.add(mem[5*page : 5*page+1])   // page 5: a new range
	r.add(mem[4*page : 4*page+1])   // page 4, before the last: a new range
	r.add(nil)
	want := [][2]int{{0, 3 * page}, {5 * page, 6 * page}, {4 * page, 5 * page}}
	if len(r.ranges) != len(want) {
		t.Fatalf("%d ranges, want %d", len(r.ranges), len(want))
	}
	for i, rg := range r.ranges {
		if got := [2]int{int(rg.start - base), int(rg.end() - base)}; got != want[i] {
			t.Errorf("range %d covers bytes %v, want %v", i, got, want[i])
		}
	}
	if got := r.bytes(); got != int64(5*page) {
		t.Errorf("bytes %d, want %d", got, 5*page)
	}
	r.start()
	r.stop()
	r.stop()
	var never readahead
	never.stop()
}
