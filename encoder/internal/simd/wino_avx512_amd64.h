// Code generated from wino_amd64.h by avx512gen_test.go (go test -run TestAVX512Sources -update); DO NOT EDIT.
// The same operations 16 channels at a time, in zmm registers.

// Macros shared by the Winograd transforms (wino_amd64.s, wino22_amd64.s).
// Registers: AX the array of run pointers, CX the byte offset of the
// channels in hand, R13 the end of that offset, BX the stride of the
// matrices ξ in bytes and DX three times it, R12 a scratch pointer.

// PTR loads the run pointer idx of the array at AX into R12.
#define PTR(idx) MOVQ (idx*8)(AX), R12

// LOADD loads the run idx of the array at AX, at offset CX, into reg;
// SUBD and ADDD subtract it from reg and add it to reg.
#define LOADD(idx, reg) PTR(idx); VMOVUPS (R12)(CX*1), reg
#define SUBD(idx, reg) PTR(idx); VSUBPS (R12)(CX*1), reg, reg
#define ADDD(idx, reg) PTR(idx); VADDPS (R12)(CX*1), reg, reg

// STRIDES turns the stride in BX from values into bytes and sets DX.
#define STRIDES SHLQ $2, BX; LEAQ (BX)(BX*2), DX

// GROUPS turns the count of 16-channel groups in R13 into the end offset
// and starts CX at 0.
#define GROUPS SHLQ $6, R13; XORQ CX, CX

// NEXT goes on to the next 16 channels, back to label while any are left.
#define NEXT(label) ADDQ $64, CX; CMPQ CX, R13; JLT label

// LOAD4 loads the 4 runs of the array at AX, at offset CX.
#define LOAD4(r0, r1, r2, r3) \
	PTR(0); VMOVUPS (R12)(CX*1), r0; \
	PTR(1); VMOVUPS (R12)(CX*1), r1; \
	PTR(2); VMOVUPS (R12)(CX*1), r2; \
	PTR(3); VMOVUPS (R12)(CX*1), r3

// STORE4 stores to the 4 runs of the array at AX, at offset CX.
#define STORE4(r0, r1, r2, r3) \
	PTR(0); VMOVUPS r0, (R12)(CX*1); \
	PTR(1); VMOVUPS r1, (R12)(CX*1); \
	PTR(2); VMOVUPS r2, (R12)(CX*1); \
	PTR(3); VMOVUPS r3, (R12)(CX*1)
