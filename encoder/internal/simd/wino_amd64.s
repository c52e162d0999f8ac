//go:build amd64 && !purego

#include "textflag.h"
#include "wino_amd64.h"

// Winograd F(2×2, 3×3) transforms, 8 channels at a time: the additions of
// encoder/winograd.go in the same order, so that the bits are the same.
// Matrix ξ = 4a+b of a transform lies at base + ξ·stride; in the loops
// below R8–R11 point at the rows a = 0…3 (ξ = 4a) and BX, BX·2, DX at the
// offsets of b = 1, 2, 3.


// COLS stores the column transform of the row t0…t3 (Y0–Y3) at the row
// pointer ptr: t0−t2, t1+t2, t2−t1, t1−t3.
#define COLS(ptr) \
	VSUBPS Y2, Y0, Y4; \
	VADDPS Y2, Y1, Y5; \
	VSUBPS Y1, Y2, Y6; \
	VSUBPS Y3, Y1, Y7; \
	VMOVUPS Y4, (ptr); \
	VMOVUPS Y5, (ptr)(BX*1); \
	VMOVUPS Y6, (ptr)(BX*2); \
	VMOVUPS Y7, (ptr)(DX*1)

// func winoIn8(d *[16]*float32, u *float32, stride int, n int)
TEXT ·winoIn8(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), AX
	MOVQ u+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

winoIn8_loop:
	LEAQ (DI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	// a = 0: d0q − d2q.
	LOADD(0, Y0); SUBD(8, Y0)
	LOADD(1, Y1); SUBD(9, Y1)
	LOADD(2, Y2); SUBD(10, Y2)
	LOADD(3, Y3); SUBD(11, Y3)
	COLS(R8)
	// a = 1: d1q + d2q.
	LOADD(4, Y0); ADDD(8, Y0)
	LOADD(5, Y1); ADDD(9, Y1)
	LOADD(6, Y2); ADDD(10, Y2)
	LOADD(7, Y3); ADDD(11, Y3)
	COLS(R9)
	// a = 2: d2q − d1q.
	LOADD(8, Y0); SUBD(4, Y0)
	LOADD(9, Y1); SUBD(5, Y1)
	LOADD(10, Y2); SUBD(6, Y2)
	LOADD(11, Y3); SUBD(7, Y3)
	COLS(R10)
	// a = 3: d1q − d3q.
	LOADD(4, Y0); SUBD(12, Y0)
	LOADD(5, Y1); SUBD(13, Y1)
	LOADD(6, Y2); SUBD(14, Y2)
	LOADD(7, Y3); SUBD(15, Y3)
	COLS(R11)
	NEXT(winoIn8_loop)
	VZEROUPPER
	RET

// ROWS computes, from the column b of the 16 products (offset off of the
// row pointers), s0 = (m0+m1)+m2 into s0 and s1 = (m1−m2)−m3 into s1.
#define ROWS(off, s0, s1) \
	VMOVUPS off(R8), Y8; \
	VMOVUPS off(R9), Y9; \
	VMOVUPS off(R10), Y10; \
	VADDPS Y9, Y8, s0; \
	VADDPS Y10, s0, s0; \
	VSUBPS Y10, Y9, s1; \
	VSUBPS off(R11), s1, s1

// func winoOut8(m *float32, stride int, y *[4]*float32, n int)
TEXT ·winoOut8(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ y+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

winoOut8_loop:
	LEAQ (SI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	// Column b of row a at (Ra)(b·stride): b = 0 plain, then BX, BX·2, DX.
	ROWS(0, Y0, Y4)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Y1, Y5)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Y2, Y6)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Y3, Y7)
	// y00 = (s00+s01)+s02, y01 = (s01−s02)−s03; the same for row 1.
	VADDPS Y1, Y0, Y8
	VADDPS Y2, Y8, Y8
	VSUBPS Y2, Y1, Y9
	VSUBPS Y3, Y9, Y9
	VADDPS Y5, Y4, Y10
	VADDPS Y6, Y10, Y10
	VSUBPS Y6, Y5, Y11
	VSUBPS Y7, Y11, Y11
	STORE4(Y8, Y9, Y10, Y11)
	NEXT(winoOut8_loop)
	VZEROUPPER
	RET

// ADJ stores, for the column b (offset off) with r0 and r1, r0, r0+r1,
// r0−r1 and −r1 to the rows a = 0…3.
#define ADJ(off, r0, r1) \
	VADDPS r1, r0, Y12; \
	VSUBPS r1, r0, Y13; \
	VXORPS Y15, r1, Y14; \
	VMOVUPS r0, off(R8); \
	VMOVUPS Y12, off(R9); \
	VMOVUPS Y13, off(R10); \
	VMOVUPS Y14, off(R11)

// func winoOutAdj8(y *[4]*float32, dm *float32, stride int, n int)
TEXT ·winoOutAdj8(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), AX
	MOVQ dm+8(FP), DI
	MOVQ stride+16(FP), BX
	SHLQ $2, BX
	MOVQ n+24(FP), R13
	GROUPS
	// The sign bit of every lane, to negate as Go does.
	VPCMPEQD Y15, Y15, Y15
	VPSLLD $31, Y15, Y15

winoOutAdj8_loop:
	LOAD4(Y0, Y1, Y2, Y3)
	// Each row (p, q) of outputs: p, p+q, p−q, −q.
	VADDPS Y1, Y0, Y4
	VSUBPS Y1, Y0, Y5
	VXORPS Y15, Y1, Y6
	VADDPS Y3, Y2, Y7
	VSUBPS Y3, Y2, Y8
	VXORPS Y15, Y3, Y9
	LEAQ (DI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	ADJ(0, Y0, Y2)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Y4, Y7)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Y5, Y8)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Y6, Y9)
	NEXT(winoOutAdj8_loop)
	VZEROUPPER
	RET
