package hugepages

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestMakeAndGrow(t *testing.T) {
	for _, capacity := range []int{0, 1, 1000, 8 << 20} {
		s := Make[float32](capacity/2, capacity)
		if len(s) != capacity/2 || cap(s) != capacity {
			t.Fatalf("Make(%d, %d): len %d cap %d", capacity/2, capacity, len(s), cap(s))
		}
		for i := range s {
			s[i] = float32(i)
		}
		g := Grow(s, capacity+10)
		if len(g) != len(s) || cap(g) < capacity+10 {
			t.Fatalf("Grow: len %d cap %d", len(g), cap(g))
		}
		for i := range g {
			if g[i] != float32(i) {
				t.Fatalf("Grow lost element %d: %v", i, g[i])
			}
		}
		if same := Grow(g, 1); &same[:1][0] != &g[:1][0] && len(g) > 0 {
			t.Fatal("Grow reallocated a slice with room")
		}
	}
}

// TestHugePages checks, where the kernel offers transparent huge pages to
// advised memory, that a large slice made by Make gets them.
func TestHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("advice only on Linux")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") && !strings.Contains(string(mode), "[always]") {
		t.Skipf("transparent huge pages not offered: %q", mode)
	}
	before := anonHuge(t)
	s := Make[uint64](0, 64<<20/8)
	s = s[:cap(s)]
	for i := range s {
		s[i] = uint64(i)
	}
	after := anonHuge(t)
	runtime.KeepAlive(s)
	// The kernel may have no huge page free, so a shortfall is reported,
	// not failed; the speed benchmarks show what it costs.
	t.Logf("AnonHugePages grew by %d MiB for 64 MiB advised", (after-before)>>20)
}

// anonHuge returns the process's AnonHugePages in bytes.
func anonHuge(t *testing.T) int64 {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "AnonHugePages:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Skip("no AnonHugePages line")
	return 0
}
