package gemm

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
)

// Names of the float32 micro-kernels.
const (
	// KernelAVX512 computes 12×32 tiles with AVX-512F (amd64).
	KernelAVX512 = "avx512"
	// KernelAVX2 computes 6×16 tiles with AVX2 and FMA (amd64).
	KernelAVX2 = "avx2"
	// KernelGo is the portable kernel, 6×16 tiles in Go.
	KernelGo = "go"
)

// KernelEnv is the environment variable that, when it names one of
// Kernels, selects that kernel at start instead of the fastest.
const KernelEnv = "SIMSEARCH_GEMM_KERNEL"

// selected is the index in float32Kernels of the kernel in use.
var selected atomic.Int32

func init() {
	if name := os.Getenv(KernelEnv); name != "" {
		_ = UseKernel(name) // an unknown name leaves the default
	}
}

// KernelEnvWarning returns a sentence saying that KernelEnv names no
// kernel this machine runs, so that the default is in use, or "" when it
// is unset or names one.
func KernelEnvWarning() string {
	name := os.Getenv(KernelEnv)
	if name == "" || slices.Contains(Kernels(), name) {
		return ""
	}
	return fmt.Sprintf("%s=%s names no kernel this machine runs (it runs %s); the products use %s", KernelEnv, name, strings.Join(Kernels(), ", "), Kernel())
}

// Kernels returns the names of the float32 micro-kernels this machine and
// build can run, fastest first. Float64 products always use the portable
// kernel.
func Kernels() []string {
	names := make([]string, len(float32Kernels))
	for i, k := range float32Kernels {
		names[i] = k.name
	}
	return names
}

// Kernel returns the name of the float32 micro-kernel in use.
func Kernel() string { return float32Kernels[selected.Load()].name }

// UseKernel makes float32 products use the named micro-kernel, one of
// Kernels; "" selects the fastest. Results of one kernel do not depend on
// the shapes or the split of the work, but two kernels may differ in the
// last bits. Call it before products start, not while they run (tests and
// benchmarks switch kernels between products).
func UseKernel(name string) error {
	if name == "" {
		selected.Store(0)
		return nil
	}
	for i, k := range float32Kernels {
		if k.name == name {
			selected.Store(int32(i))
			return nil
		}
	}
	return fmt.Errorf("gemm: no kernel %q on this machine (there are %s)", name, strings.Join(Kernels(), ", "))
}
