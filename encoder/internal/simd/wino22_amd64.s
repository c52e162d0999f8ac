//go:build amd64 && !purego

#include "textflag.h"
#include "wino_amd64.h"

// Winograd F(2×2, 2×2) transforms, 8 channels at a time: the additions of
// encoder/winograd22.go in the same order, so that the bits are the same.
// Matrix ξ = 3a+b lies at base + ξ·stride; R8–R10 point at the rows
// a = 0…2 (ξ = 3a) and BX, BX·2 are the offsets of b = 1, 2.


// COLS3 stores t0−t1, t1, t2−t1 of Y0–Y2 at the row pointer ptr.
#define COLS3(ptr) \
	VSUBPS Y1, Y0, Y3; \
	VSUBPS Y1, Y2, Y4; \
	VMOVUPS Y3, (ptr); \
	VMOVUPS Y1, (ptr)(BX*1); \
	VMOVUPS Y4, (ptr)(BX*2)

// ROWPTRS sets R8–R10 to the rows of ξ = 0, 3, 6 at channel offset CX of
// the base in reg.
#define ROWPTRS(reg) \
	LEAQ (reg)(CX*1), R8; \
	LEAQ (R8)(DX*1), R9; \
	LEAQ (R9)(DX*1), R10

// func wino22In8(d *[9]*float32, u *float32, stride int, n int)
TEXT ·wino22In8(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), AX
	MOVQ u+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

wino22In8_loop:
	ROWPTRS(DI)
	// a = 0: d0q − d1q (rows 0 and 1 of the tile).
	LOADD(0, Y0); SUBD(3, Y0)
	LOADD(1, Y1); SUBD(4, Y1)
	LOADD(2, Y2); SUBD(5, Y2)
	COLS3(R8)
	// a = 1: d1q.
	LOADD(3, Y0)
	LOADD(4, Y1)
	LOADD(5, Y2)
	COLS3(R9)
	// a = 2: d2q − d1q.
	LOADD(6, Y0); SUBD(3, Y0)
	LOADD(7, Y1); SUBD(4, Y1)
	LOADD(8, Y2); SUBD(5, Y2)
	COLS3(R10)
	NEXT(wino22In8_loop)
	VZEROUPPER
	RET

// ADDTO adds reg into the run d[idx] at channel offset CX.
#define ADDTO(idx, reg) PTR(idx); VADDPS (R12)(CX*1), reg, Y15; VMOVUPS Y15, (R12)(CX*1)

// func wino22InAdj8(dv *float32, stride int, d *[9]*float32, n int)
TEXT ·wino22InAdj8(SB), NOSPLIT, $0-32
	MOVQ dv+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ d+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

wino22InAdj8_loop:
	ROWPTRS(SI)
	// s[a] = (v0, (v1−v0)−v2, v2) of the row a.
	VMOVUPS (R8), Y0
	VMOVUPS (R8)(BX*2), Y2
	VMOVUPS (R8)(BX*1), Y1
	VSUBPS Y0, Y1, Y1
	VSUBPS Y2, Y1, Y1
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(BX*2), Y5
	VMOVUPS (R9)(BX*1), Y4
	VSUBPS Y3, Y4, Y4
	VSUBPS Y5, Y4, Y4
	VMOVUPS (R10), Y6
	VMOVUPS (R10)(BX*2), Y8
	VMOVUPS (R10)(BX*1), Y7
	VSUBPS Y6, Y7, Y7
	VSUBPS Y8, Y7, Y7
	// Column q: d[q] += s0q, d[3+q] += (s1q−s0q)−s2q, d[6+q] += s2q.
	ADDTO(0, Y0)
	ADDTO(6, Y6)
	VSUBPS Y0, Y3, Y9
	VSUBPS Y6, Y9, Y9
	ADDTO(3, Y9)
	ADDTO(1, Y1)
	ADDTO(7, Y7)
	VSUBPS Y1, Y4, Y10
	VSUBPS Y7, Y10, Y10
	ADDTO(4, Y10)
	ADDTO(2, Y2)
	ADDTO(8, Y8)
	VSUBPS Y2, Y5, Y11
	VSUBPS Y8, Y11, Y11
	ADDTO(5, Y11)
	NEXT(wino22InAdj8_loop)
	VZEROUPPER
	RET

// func wino22Out8(m *float32, stride int, y *[4]*float32, n int)
TEXT ·wino22Out8(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ y+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

wino22Out8_loop:
	ROWPTRS(SI)
	// Column q: s0q = m0q + m1q, s1q = m1q + m2q.
	VMOVUPS (R9), Y6
	VADDPS (R8), Y6, Y0
	VADDPS (R10), Y6, Y3
	VMOVUPS (R9)(BX*1), Y6
	VADDPS (R8)(BX*1), Y6, Y1
	VADDPS (R10)(BX*1), Y6, Y4
	VMOVUPS (R9)(BX*2), Y6
	VADDPS (R8)(BX*2), Y6, Y2
	VADDPS (R10)(BX*2), Y6, Y5
	// y00 = s00+s01, y01 = s01+s02, y10 = s10+s11, y11 = s11+s12.
	VADDPS Y1, Y0, Y7
	VADDPS Y2, Y1, Y8
	VADDPS Y4, Y3, Y9
	VADDPS Y5, Y4, Y10
	STORE4(Y7, Y8, Y9, Y10)
	NEXT(wino22Out8_loop)
	VZEROUPPER
	RET

// func wino22OutAdj8(y *[4]*float32, dm *float32, stride int, n int)
TEXT ·wino22OutAdj8(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), AX
	MOVQ dm+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

wino22OutAdj8_loop:
	LOAD4(Y0, Y1, Y2, Y3)
	// Rows (p, q) → (p, p+q, q): s0 = (Y0, Y4, Y1), s1 = (Y2, Y5, Y3).
	VADDPS Y1, Y0, Y4
	VADDPS Y3, Y2, Y5
	ROWPTRS(DI)
	// Column q: r0, r0+r1, r1 to the rows a = 0…2.
	VADDPS Y2, Y0, Y6
	VMOVUPS Y0, (R8)
	VMOVUPS Y6, (R9)
	VMOVUPS Y2, (R10)
	VADDPS Y5, Y4, Y7
	VMOVUPS Y4, (R8)(BX*1)
	VMOVUPS Y7, (R9)(BX*1)
	VMOVUPS Y5, (R10)(BX*1)
	VADDPS Y3, Y1, Y8
	VMOVUPS Y1, (R8)(BX*2)
	VMOVUPS Y8, (R9)(BX*2)
	VMOVUPS Y3, (R10)(BX*2)
	NEXT(wino22OutAdj8_loop)
	VZEROUPPER
	RET
