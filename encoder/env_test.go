package encoder

import (
	"strings"
	"testing"
)

func TestEnvironmentWarnings(t *testing.T) {
	t.Setenv("SIMSEARCH_WINOGRAD", "")
	t.Setenv("SIMSEARCH_GEMM_KERNEL", "")
	if w := EnvironmentWarnings(); len(w) != 0 {
		t.Fatalf("warnings without the variables: %q", w)
	}
	t.Setenv("SIMSEARCH_WINOGRAD", "2x2")
	t.Setenv("SIMSEARCH_GEMM_KERNEL", "go")
	if w := EnvironmentWarnings(); len(w) != 0 {
		t.Fatalf("warnings for known values: %q", w)
	}
	t.Setenv("SIMSEARCH_WINOGRAD", "4x4")
	t.Setenv("SIMSEARCH_GEMM_KERNEL", "avx1024")
	w := EnvironmentWarnings()
	if len(w) != 2 || !strings.Contains(w[0], "SIMSEARCH_WINOGRAD=4x4") || !strings.Contains(w[1], "SIMSEARCH_GEMM_KERNEL=avx1024") || !strings.Contains(w[1], "go") {
		t.Fatalf("warnings %q", w)
	}
}
