package encoder

import (
	"fmt"
	"os"

	"simsearch/encoder/internal/gemm"
)

// EnvironmentWarnings returns a sentence for each of the environment
// variables that tune the encoder's arithmetic (SIMSEARCH_WINOGRAD,
// SIMSEARCH_GEMM_KERNEL) whose value this build does not know, and which
// therefore leaves the default in place.
func EnvironmentWarnings() []string {
	var out []string
	switch v := os.Getenv(winogradEnv); v {
	case "", winogradOff, winogradSmallTiles:
	default:
		out = append(out, fmt.Sprintf("%s=%s is neither %s nor %s; the convolutions use Winograd's transforms with the larger tiles, as without it", winogradEnv, v, winogradOff, winogradSmallTiles))
	}
	if w := gemm.KernelEnvWarning(); w != "" {
		out = append(out, w)
	}
	return out
}
