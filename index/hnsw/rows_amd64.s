//go:build amd64 && !purego

#include "textflag.h"
#include "rows_amd64.h"

// func prefetchRows(base unsafe.Pointer, rowBytes int, nodes *uint32, n int)
TEXT ·prefetchRows(SB), NOSPLIT, $0-32
	MOVQ base+0(FP), DX
	MOVQ rowBytes+8(FP), R9
	MOVQ nodes+16(FP), BX
	MOVQ n+24(FP), CX
	XORQ R13, R13
	TESTQ CX, CX
	JE pdone
ploop:
	PREFETCH_ROW(R13)
	INCQ R13
	CMPQ R13, CX
	JL ploop
pdone:
	RET

// func prefetch(p unsafe.Pointer)
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	RET

// func dotRows(q, base *float32, dim int, nodes *uint32, n int, out *float32, ahead int)
//
// out[i] = Σ q[j]·base[nodes[i]·dim + j] for i < n, dim a multiple of 16.
// Before the first row and with each row it prefetches the rows ahead
// positions further on, so that their cache misses overlap the products.
TEXT ·dotRows(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ base+8(FP), DX
	MOVQ dim+16(FP), R8
	MOVQ nodes+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DI
	MOVQ ahead+48(FP), R14
	MOVQ R8, R9
	SHLQ $2, R9
	SHRQ $4, R8
	TESTQ CX, CX
	JE ddone
	XORQ R12, R12
dpre:
	CMPQ R12, R14
	JGE dstart
	CMPQ R12, CX
	JGE dstart
	PREFETCH_ROW(R12)
	INCQ R12
	JMP dpre
dstart:
	XORQ R13, R13
dloop:
	LEAQ (R13)(R14*1), R12
	CMPQ R12, CX
	JGE dnopre
	PREFETCH_ROW(R12)
dnopre:
	ROW_ADDR(R13)
	MOVQ SI, R10
	MOVQ R8, R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
dinner:
	VMOVUPS (AX), Y2
	VMOVUPS 32(AX), Y3
	VFMADD231PS (R10), Y2, Y0
	VFMADD231PS 32(R10), Y3, Y1
	ADDQ $64, AX
	ADDQ $64, R10
	DECQ R11
	JNZ dinner
	SUM_STORE(R13)
	INCQ R13
	CMPQ R13, CX
	JL dloop
ddone:
	VZEROUPPER
	RET

// func squaredRows(q, base *float32, dim int, nodes *uint32, n int, out *float32, ahead int)
//
// out[i] = Σ (q[j] − base[nodes[i]·dim + j])², as dotRows.
TEXT ·squaredRows(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ base+8(FP), DX
	MOVQ dim+16(FP), R8
	MOVQ nodes+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DI
	MOVQ ahead+48(FP), R14
	MOVQ R8, R9
	SHLQ $2, R9
	SHRQ $4, R8
	TESTQ CX, CX
	JE sdone
	XORQ R12, R12
spre:
	CMPQ R12, R14
	JGE sstart
	CMPQ R12, CX
	JGE sstart
	PREFETCH_ROW(R12)
	INCQ R12
	JMP spre
sstart:
	XORQ R13, R13
sloop:
	LEAQ (R13)(R14*1), R12
	CMPQ R12, CX
	JGE snopre
	PREFETCH_ROW(R12)
snopre:
	ROW_ADDR(R13)
	MOVQ SI, R10
	MOVQ R8, R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
sinner:
	VMOVUPS (R10), Y2
	VMOVUPS 32(R10), Y3
	VSUBPS (AX), Y2, Y2
	VSUBPS 32(AX), Y3, Y3
	VFMADD231PS Y2, Y2, Y0
	VFMADD231PS Y3, Y3, Y1
	ADDQ $64, AX
	ADDQ $64, R10
	DECQ R11
	JNZ sinner
	SUM_STORE(R13)
	INCQ R13
	CMPQ R13, CX
	JL sloop
sdone:
	VZEROUPPER
	RET
