/* The FMA peak of one core: 12 independent chains of fused multiply-adds in
 * zmm (AVX-512) or ymm (AVX2) registers, the shape of simsearch's
 * micro-kernels' accumulators without their loads. Prints GFLOP/s.
 *
 *   gcc -O3 -mavx512f -mfma -o /tmp/fma_peak bench/fma_peak.c && /tmp/fma_peak
 *
 * Not run by CI.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define CHAINS(T, SET1, FMA, ADD, STORE, LANES, NAME)                        \
	do {                                                                   \
		T a = SET1(1.0000001f), b = SET1(0.9999999f);                  \
		T c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4), c5 = SET1(5); \
		T c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9), c10 = SET1(10), c11 = SET1(11); \
		long n = 200000000;                                            \
		double t0 = now();                                             \
		for (long i = 0; i < n; i++) {                                 \
			c0 = FMA(a, c0, b); c1 = FMA(a, c1, b); c2 = FMA(a, c2, b); c3 = FMA(a, c3, b); \
			c4 = FMA(a, c4, b); c5 = FMA(a, c5, b); c6 = FMA(a, c6, b); c7 = FMA(a, c7, b); \
			c8 = FMA(a, c8, b); c9 = FMA(a, c9, b); c10 = FMA(a, c10, b); c11 = FMA(a, c11, b); \
		}                                                              \
		double dt = now() - t0;                                        \
		T s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7))); \
		s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));                   \
		float out[16];                                                 \
		STORE(out, s);                                                 \
		printf("%s: %.1f GFLOP/s (checksum %g)\n", NAME, 12.0 * 2 * LANES * n / dt / 1e9, out[0]); \
	} while (0)

int main(void) {
	CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16, "zmm (AVX-512)");
	CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8, "ymm (AVX2)");
	return 0;
}
