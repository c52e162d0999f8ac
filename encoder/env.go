package encoder

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"simsearch/encoder/internal/gemm"
)

// EnvironmentWarnings returns a sentence for each of the environment
// variables that tune the encoder's arithmetic (SIMSEARCH_WINOGRAD,
// SIMSEARCH_GEMM_KERNEL) whose value this build does not know, and which
// therefore leaves the default in place.
func EnvironmentWarnings() []string {
	var out []string
	switch v := os.Getenv("SIMSEARCH_WINOGRAD"); v {
	case "", "off", "2x2":
	default:
		out = append(out, fmt.Sprintf("SIMSEARCH_WINOGRAD=%s is neither off nor 2x2; the convolutions use Winograd's transforms with the larger tiles, as without it", v))
	}
	if v := os.Getenv(gemm.KernelEnv); v != "" && !slices.Contains(gemm.Kernels(), v) {
		out = append(out, fmt.Sprintf("%s=%s names no kernel this machine runs (it runs %s); the products use %s", gemm.KernelEnv, v, strings.Join(gemm.Kernels(), ", "), gemm.Kernel()))
	}
	return out
}
