// Code generated from wino_amd64.s by avx512gen_test.go (go test -run TestAVX512Sources -update); DO NOT EDIT.
// The same operations 16 channels at a time, in zmm registers.

//go:build amd64 && !purego

#include "textflag.h"
#include "wino_avx512_amd64.h"

// Winograd F(2×2, 3×3) transforms, 16 channels at a time: the additions of
// encoder/winograd.go in the same order, so that the bits are the same.
// Matrix ξ = 4a+b of a transform lies at base + ξ·stride; in the loops
// below R8–R11 point at the rows a = 0…3 (ξ = 4a) and BX, BX·2, DX at the
// offsets of b = 1, 2, 3.


// COLS stores the column transform of the row t0…t3 (Z0–Z3) at the row
// pointer ptr: t0−t2, t1+t2, t2−t1, t1−t3.
#define COLS(ptr) \
	VSUBPS Z2, Z0, Z4; \
	VADDPS Z2, Z1, Z5; \
	VSUBPS Z1, Z2, Z6; \
	VSUBPS Z3, Z1, Z7; \
	VMOVUPS Z4, (ptr); \
	VMOVUPS Z5, (ptr)(BX*1); \
	VMOVUPS Z6, (ptr)(BX*2); \
	VMOVUPS Z7, (ptr)(DX*1)

// func winoIn16(d *[16]*float32, u *float32, stride int, n int)
TEXT ·winoIn16(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), AX
	MOVQ u+8(FP), DI
	MOVQ stride+16(FP), BX
	STRIDES
	MOVQ n+24(FP), R13
	GROUPS

winoIn16_loop:
	LEAQ (DI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	// a = 0: d0q − d2q.
	LOADD(0, Z0); SUBD(8, Z0)
	LOADD(1, Z1); SUBD(9, Z1)
	LOADD(2, Z2); SUBD(10, Z2)
	LOADD(3, Z3); SUBD(11, Z3)
	COLS(R8)
	// a = 1: d1q + d2q.
	LOADD(4, Z0); ADDD(8, Z0)
	LOADD(5, Z1); ADDD(9, Z1)
	LOADD(6, Z2); ADDD(10, Z2)
	LOADD(7, Z3); ADDD(11, Z3)
	COLS(R9)
	// a = 2: d2q − d1q.
	LOADD(8, Z0); SUBD(4, Z0)
	LOADD(9, Z1); SUBD(5, Z1)
	LOADD(10, Z2); SUBD(6, Z2)
	LOADD(11, Z3); SUBD(7, Z3)
	COLS(R10)
	// a = 3: d1q − d3q.
	LOADD(4, Z0); SUBD(12, Z0)
	LOADD(5, Z1); SUBD(13, Z1)
	LOADD(6, Z2); SUBD(14, Z2)
	LOADD(7, Z3); SUBD(15, Z3)
	COLS(R11)
	NEXT(winoIn16_loop)
	VZEROUPPER
	RET

// ROWS computes, from the column b of the 16 products (offset off of the
// row pointers), s0 = (m0+m1)+m2 into s0 and s1 = (m1−m2)−m3 into s1.
#define ROWS(off, s0, s1) \
	VMOVUPS off(R8), Z8; \
	VMOVUPS off(R9), Z9; \
	VMOVUPS off(R10), Z10; \
	VADDPS Z9, Z8, s0; \
	VADDPS Z10, s0, s0; \
	VSUBPS Z10, Z9, s1; \
	VSUBPS off(R11), s1, s1

// func winoOut16(m *float32, stride int, y *[4]*float32, n int)
TEXT ·winoOut16(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), SI
	MOVQ stride+8(FP), BX
	STRIDES
	MOVQ y+16(FP), AX
	MOVQ n+24(FP), R13
	GROUPS

winoOut16_loop:
	LEAQ (SI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	// Column b of row a at (Ra)(b·stride): b = 0 plain, then BX, BX·2, DX.
	ROWS(0, Z0, Z4)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Z1, Z5)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Z2, Z6)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ROWS(0, Z3, Z7)
	// y00 = (s00+s01)+s02, y01 = (s01−s02)−s03; the same for row 1.
	VADDPS Z1, Z0, Z8
	VADDPS Z2, Z8, Z8
	VSUBPS Z2, Z1, Z9
	VSUBPS Z3, Z9, Z9
	VADDPS Z5, Z4, Z10
	VADDPS Z6, Z10, Z10
	VSUBPS Z6, Z5, Z11
	VSUBPS Z7, Z11, Z11
	STORE4(Z8, Z9, Z10, Z11)
	NEXT(winoOut16_loop)
	VZEROUPPER
	RET

// ADJ stores, for the column b (offset off) with r0 and r1, r0, r0+r1,
// r0−r1 and −r1 to the rows a = 0…3.
#define ADJ(off, r0, r1) \
	VADDPS r1, r0, Z12; \
	VSUBPS r1, r0, Z13; \
	VPXORD Z15, r1, Z14; \
	VMOVUPS r0, off(R8); \
	VMOVUPS Z12, off(R9); \
	VMOVUPS Z13, off(R10); \
	VMOVUPS Z14, off(R11)

// func winoOutAdj16(y *[4]*float32, dm *float32, stride int, n int)
TEXT ·winoOutAdj16(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), AX
	MOVQ dm+8(FP), DI
	MOVQ stride+16(FP), BX
	SHLQ $2, BX
	MOVQ n+24(FP), R13
	GROUPS
	// The sign bit of every lane, to negate as Go does.
	VPTERNLOGD $0xff, Z15, Z15, Z15
	VPSLLD $31, Z15, Z15

winoOutAdj16_loop:
	LOAD4(Z0, Z1, Z2, Z3)
	// Each row (p, q) of outputs: p, p+q, p−q, −q.
	VADDPS Z1, Z0, Z4
	VSUBPS Z1, Z0, Z5
	VPXORD Z15, Z1, Z6
	VADDPS Z3, Z2, Z7
	VSUBPS Z3, Z2, Z8
	VPXORD Z15, Z3, Z9
	LEAQ (DI)(CX*1), R8
	LEAQ (R8)(BX*4), R9
	LEAQ (R9)(BX*4), R10
	LEAQ (R10)(BX*4), R11
	ADJ(0, Z0, Z2)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Z4, Z7)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Z5, Z8)
	ADDQ BX, R8; ADDQ BX, R9; ADDQ BX, R10; ADDQ BX, R11
	ADJ(0, Z6, Z9)
	NEXT(winoOutAdj16_loop)
	VZEROUPPER
	RET
