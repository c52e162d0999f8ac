//go:build amd64 && !purego

#include "textflag.h"

// Each operation below is the one of the Go version, in the same order and
// without fused multiply-adds, so that the bits are the same.

// func adam8(w, grad, m, v *float32, n int, c *[8]float32)
TEXT ·adam8(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VBROADCASTSS 24(AX), Y14

adam8_loop:
	VMOVUPS (SI), Y0
	VMULPS (R8), Y8, Y1
	VMULPS Y0, Y9, Y2
	VADDPS Y2, Y1, Y1
	VMOVUPS Y1, (R8)
	VMULPS (R9), Y10, Y3
	VMULPS Y0, Y11, Y4
	VMULPS Y0, Y4, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (R9)
	VSQRTPS Y3, Y5
	VMULPS Y14, Y5, Y5
	VADDPS Y12, Y5, Y5
	VMULPS Y1, Y13, Y6
	VDIVPS Y5, Y6, Y6
	VMOVUPS (DI), Y7
	VSUBPS Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ adam8_loop
	VZEROUPPER
	RET

// func reluGrad8(y, dy, dx *float32, n int)
TEXT ·reluGrad8(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15

reluGrad8_loop:
	VMOVUPS (SI), Y0
	// Not equal (unordered): all ones where y is neither +0 nor -0, NaN
	// included, as in the Go version.
	VCMPPS $4, Y15, Y0, Y1
	VANDPS (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ reluGrad8_loop
	VZEROUPPER
	RET

// func biasAct8(dst, src, bias *float32, rows, n int, relu bool)
// dst = src + bias over rows of n·8 values, then with relu max(0, ·) with 0
// as the first operand, so that NaN and −0 pass as in the Go version.
TEXT ·biasAct8(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ bias+16(FP), BX
	MOVQ rows+24(FP), CX
	MOVQ n+32(FP), R8
	MOVBLZX relu+40(FP), R9
	VXORPS Y15, Y15, Y15

biasAct8_row:
	MOVQ BX, DX
	MOVQ R8, R10

biasAct8_col:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	TESTQ R9, R9
	JZ biasAct8_store
	VMAXPS Y0, Y15, Y0

biasAct8_store:
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ R10
	JNZ biasAct8_col
	DECQ CX
	JNZ biasAct8_row
	VZEROUPPER
	RET
