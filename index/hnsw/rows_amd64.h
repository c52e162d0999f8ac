// Macros shared by the row kernels (rows_amd64.s, codes_amd64.s). They
// expect DX = the rows' base, R9 = bytes per row, BX = the nodes.

// PREFETCH_ROW(idx) prefetches every 64-byte line of the row of node
// nodes[idx]. It uses AX and R10.
#define PREFETCH_ROW(idx) \
	MOVL (BX)(idx*4), AX; \
	IMULQ R9, AX; \
	ADDQ DX, AX; \
	MOVQ R9, R10; \
	PREFETCHT0 (AX); \
	ADDQ $64, AX; \
	SUBQ $64, R10; \
	JG -3(PC)

// ROW_ADDR(idx) sets AX to the address of node nodes[idx]'s row.
#define ROW_ADDR(idx) \
	MOVL (BX)(idx*4), AX; \
	IMULQ R9, AX; \
	ADDQ DX, AX

// SUM_STORE(i) stores the sum of the lanes of Y0 and Y1 at out[i] (DI). It
// uses X1.
#define SUM_STORE(i) \
	VADDPS Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VHADDPS X0, X0, X0; \
	VHADDPS X0, X0, X0; \
	MOVSS X0, (DI)(i*4)
