// Code generated from wino22_amd64.s by avx512gen_test.go (go test -run TestAVX512Sources -update); DO NOT EDIT.
// The same operations 16 channels at a time, in zmm registers.

//go:build amd64 && !purego

#include "textflag.h"
#include "wino_avx512_amd64.h"

// Winograd F(2×2, 2×2) transforms, 16 channels at a time: the additions of
// encoder/winograd22.go in the same order, so that the bits are the same.
// Matrix ξ = 3a+b lies at base + ξ·stride; R8–R10 point at the rows
// a = 0…2 (ξ = 3a) and BX, BX·2 are the offsets of b = 1, 2.


// COLS3 stores t0−t1, t1, t2−t1 of Z0–Z2 at the row pointer ptr.
#define COLS3(ptr) \
	VSUBPS Z1, Z0, Z3; \
	VSUBPS Z1, Z2, Z4; \
	VMOVUPS Z3, (ptr); \
	VMOVUPS Z1, (ptr)(BX*1); \
	VMOVUPS Z4, (ptr)(BX*2)

// ROWPTRS sets R8–R10 to the rows of ξ = 0, 3, 6 at channel offset CX of
// the base in reg.
#define ROWPTRS(reg) \
	LEAQ (reg)(CX*1), R8; \
	LEAQ (R8)(DX*1), R9; \
	LEAQ (R9)(DX*1), R10

// func wino22In16(d *[9]*float32, u *float32, stride int, n int)
TEXT ·wino22In16(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), AX
	MOVQ u+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

wino22In16_loop:
	ROWPTRS(DI)
	// a = 0: d0q − d1q (rows 0 and 1 of the tile).
	LOADD(0, Z0); SUBD(3, Z0)
	LOADD(1, Z1); SUBD(4, Z1)
	LOADD(2, Z2); SUBD(5, Z2)
	COLS3(R8)
	// a = 1: d1q.
	LOADD(3, Z0)
	LOADD(4, Z1)
	LOADD(5, Z2)
	COLS3(R9)
	// a = 2: d2q − d1q.
	LOADD(6, Z0); SUBD(3, Z0)
	LOADD(7, Z1); SUBD(4, Z1)
	LOADD(8, Z2); SUBD(5, Z2)
	COLS3(R10)
	NEXT(wino22In16_loop)
	VZEROUPPER
	RET

// ADDTO adds reg into the run d[idx] at channel offset CX.
#define ADDTO(idx, reg) PTR(idx); VADDPS (R12)(CX*1), reg, Z15; VMOVUPS Z15, (R12)(CX*1)

// func wino22InAdj16(dv *float32, stride int, d *[9]*float32, n int)
TEXT ·wino22InAdj16(SB), NOSPLIT, $0-32
	MOVQ dv+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ d+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

wino22InAdj16_loop:
	ROWPTRS(SI)
	// s[a] = (v0, (v1−v0)−v2, v2) of the row a.
	VMOVUPS (R8), Z0
	VMOVUPS (R8)(BX*2), Z2
	VMOVUPS (R8)(BX*1), Z1
	VSUBPS Z0, Z1, Z1
	VSUBPS Z2, Z1, Z1
	VMOVUPS (R9), Z3
	VMOVUPS (R9)(BX*2), Z5
	VMOVUPS (R9)(BX*1), Z4
	VSUBPS Z3, Z4, Z4
	VSUBPS Z5, Z4, Z4
	VMOVUPS (R10), Z6
	VMOVUPS (R10)(BX*2), Z8
	VMOVUPS (R10)(BX*1), Z7
	VSUBPS Z6, Z7, Z7
	VSUBPS Z8, Z7, Z7
	// Column q: d[q] += s0q, d[3+q] += (s1q−s0q)−s2q, d[6+q] += s2q.
	ADDTO(0, Z0)
	ADDTO(6, Z6)
	VSUBPS Z0, Z3, Z9
	VSUBPS Z6, Z9, Z9
	ADDTO(3, Z9)
	ADDTO(1, Z1)
	ADDTO(7, Z7)
	VSUBPS Z1, Z4, Z10
	VSUBPS Z7, Z10, Z10
	ADDTO(4, Z10)
	ADDTO(2, Z2)
	ADDTO(8, Z8)
	VSUBPS Z2, Z5, Z11
	VSUBPS Z8, Z11, Z11
	ADDTO(5, Z11)
	NEXT(wino22InAdj16_loop)
	VZEROUPPER
	RET

// func wino22Out16(m *float32, stride int, y *[4]*float32, n int)
TEXT ·wino22Out16(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ y+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

wino22Out16_loop:
	ROWPTRS(SI)
	// Column q: s0q = m0q + m1q, s1q = m1q + m2q.
	VMOVUPS (R9), Z6
	VADDPS (R8), Z6, Z0
	VADDPS (R10), Z6, Z3
	VMOVUPS (R9)(BX*1), Z6
	VADDPS (R8)(BX*1), Z6, Z1
	VADDPS (R10)(BX*1), Z6, Z4
	VMOVUPS (R9)(BX*2), Z6
	VADDPS (R8)(BX*2), Z6, Z2
	VADDPS (R10)(BX*2), Z6, Z5
	// y00 = s00+s01, y01 = s01+s02, y10 = s10+s11, y11 = s11+s12.
	VADDPS Z1, Z0, Z7
	VADDPS Z2, Z1, Z8
	VADDPS Z4, Z3, Z9
	VADDPS Z5, Z4, Z10
	STORE4(Z7, Z8, Z9, Z10)
	NEXT(wino22Out16_loop)
	VZEROUPPER
	RET

// func wino22OutAdj16(y *[4]*float32, dm *float32, stride int, n int)
TEXT ·wino22OutAdj16(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), AX
	MOVQ dm+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

wino22OutAdj16_loop:
	LOAD4(Z0, Z1, Z2, Z3)
	// Rows (p, q) → (p, p+q, q): s0 = (Z0, Z4, Z1), s1 = (Z2, Z5, Z3).
	VADDPS Z1, Z0, Z4
	VADDPS Z3, Z2, Z5
	ROWPTRS(DI)
	// Column q: r0, r0+r1, r1 to the rows a = 0…2.
	VADDPS Z2, Z0, Z6
	VMOVUPS Z0, (R8)
	VMOVUPS Z6, (R9)
	VMOVUPS Z2, (R10)
	VADDPS Z5, Z4, Z7
	VMOVUPS Z4, (R8)(BX*1)
	VMOVUPS Z7, (R9)(BX*1)
	VMOVUPS Z5, (R10)(BX*1)
	VADDPS Z3, Z1, Z8
	VMOVUPS Z1, (R8)(BX*2)
	VMOVUPS Z8, (R9)(BX*2)
	VMOVUPS Z3, (R10)(BX*2)
	NEXT(wino22OutAdj16_loop)
	VZEROUPPER
	RET
