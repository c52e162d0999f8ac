//go:build amd64 && !purego

#include "textflag.h"
#include "rows_amd64.h"

// func codeDot16(a *float32, c *uint8, n int) float32
TEXT ·codeDot16(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ c+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
dotloop:
	VPMOVZXBD (DI), Y2
	VPMOVZXBD 8(DI), Y3
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VFMADD231PS (SI), Y2, Y0
	VFMADD231PS 32(SI), Y3, Y1
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ dotloop
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func codeSquared16(a, scale *float32, c *uint8, n int) float32
TEXT ·codeSquared16(SB), NOSPLIT, $0-36
	MOVQ a+0(FP), SI
	MOVQ scale+8(FP), DX
	MOVQ c+16(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
sqloop:
	VPMOVZXBD (DI), Y2
	VPMOVZXBD 8(DI), Y3
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS (DX), Y2, Y2
	VMULPS 32(DX), Y3, Y3
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VSUBPS Y2, Y4, Y4
	VSUBPS Y3, Y5, Y5
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $16, DI
	DECQ CX
	JNZ sqloop
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func codeDotRows(a *float32, codes *uint8, dim int, nodes *uint32, n int, out *float32, ahead int)
//
// out[i] = Σ a[j]·codes[nodes[i]·dim + j] for i < n, dim a multiple of 16,
// prefetching the codes of the node ahead positions further on.
TEXT ·codeDotRows(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ codes+8(FP), DX
	MOVQ dim+16(FP), R9
	MOVQ nodes+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DI
	MOVQ ahead+48(FP), R14
	MOVQ R9, R8
	SHRQ $4, R8
	TESTQ CX, CX
	JE cdone
	XORQ R12, R12
cpre:
	CMPQ R12, R14
	JGE cstart
	CMPQ R12, CX
	JGE cstart
	PREFETCH_ROW(R12)
	INCQ R12
	JMP cpre
cstart:
	XORQ R13, R13
cloop:
	LEAQ (R13)(R14*1), R12
	CMPQ R12, CX
	JGE cnopre
	PREFETCH_ROW(R12)
cnopre:
	ROW_ADDR(R13)
	MOVQ SI, R10
	MOVQ R8, R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
cinner:
	VPMOVZXBD (AX), Y2
	VPMOVZXBD 8(AX), Y3
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VFMADD231PS (R10), Y2, Y0
	VFMADD231PS 32(R10), Y3, Y1
	ADDQ $16, AX
	ADDQ $64, R10
	DECQ R11
	JNZ cinner
	SUM_STORE(R13)
	INCQ R13
	CMPQ R13, CX
	JL cloop
cdone:
	VZEROUPPER
	RET
