package gemm

// packA copies rows [i0, i0+rows) × columns [p0, p0+kk) of alpha·op(A) into
// panels of mr rows, stored column after column, padded with zeros.
func (p *problem[T]) packA(dst []T, i0, rows, p0, kk int) {
	if p.transA {
		p.packATransposed(dst, i0, rows, p0, kk)
		return
	}
	alpha := p.alpha
	for ir := 0; ir < rows; ir += mr {
		panel := dst[ir*kk : (ir+mr)*kk]
		n := min(mr, rows-ir)
		if n < mr {
			clear(panel)
			for i := range n {
				src := p.a[(i0+ir+i)*p.lda+p0 : (i0+ir+i)*p.lda+p0+kk]
				for q, v := range src {
					panel[q*mr+i] = alpha * v
				}
			}
			continue
		}
		// Read six rows side by side and write the panel in order.
		base := (i0+ir)*p.lda + p0
		r0 := p.a[base : base+kk]
		r1 := p.a[base+p.lda : base+p.lda+kk]
		r2 := p.a[base+2*p.lda : base+2*p.lda+kk]
		r3 := p.a[base+3*p.lda : base+3*p.lda+kk]
		r4 := p.a[base+4*p.lda : base+4*p.lda+kk]
		r5 := p.a[base+5*p.lda : base+5*p.lda+kk]
		if alpha == 1 {
			for q := range r0 {
				col := panel[q*mr : q*mr+mr : q*mr+mr]
				col[0], col[1], col[2], col[3], col[4], col[5] = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
			}
			continue
		}
		for q := range r0 {
			col := panel[q*mr : q*mr+mr : q*mr+mr]
			col[0], col[1], col[2] = alpha*r0[q], alpha*r1[q], alpha*r2[q]
			col[3], col[4], col[5] = alpha*r3[q], alpha*r4[q], alpha*r5[q]
		}
	}
}

// packATransposed packs when op(A) = Aᵀ: each row of A gives one column of
// every panel, so A is read in order.
func (p *problem[T]) packATransposed(dst []T, i0, rows, p0, kk int) {
	alpha := p.alpha
	full := rows / mr * mr
	for q := range kk {
		src := p.a[(p0+q)*p.lda+i0 : (p0+q)*p.lda+i0+rows]
		for ir := 0; ir < full; ir += mr {
			s := src[ir : ir+mr : ir+mr]
			col := dst[ir*kk+q*mr : ir*kk+q*mr+mr : ir*kk+q*mr+mr]
			col[0], col[1], col[2] = alpha*s[0], alpha*s[1], alpha*s[2]
			col[3], col[4], col[5] = alpha*s[3], alpha*s[4], alpha*s[5]
		}
		if full < rows {
			col := dst[full*kk+q*mr : full*kk+q*mr+mr]
			for i := range mr {
				if full+i < rows {
					col[i] = alpha * src[full+i]
				} else {
					col[i] = 0
				}
			}
		}
	}
}

// packB copies rows [p0, p0+kk) × columns [j0, j0+cols) of op(B) into
// panels of nr columns, stored row after row, padded with zeros.
func (p *problem[T]) packB(dst []T, p0, kk, j0, cols int) {
	if p.transB {
		p.packBTransposed(dst, p0, kk, j0, cols)
		return
	}
	// Row by row of B, so that B is read in order.
	full := cols / nr * nr
	packRow := packRowFor[T]()
	for q := range kk {
		src := p.b[(p0+q)*p.ldb+j0 : (p0+q)*p.ldb+j0+cols]
		if packRow != nil {
			packRow(dst[q*nr:], kk*nr, src, full/nr)
		}
		for jr := 0; jr < full && packRow == nil; jr += nr {
			s := src[jr : jr+nr : jr+nr]
			row := dst[jr*kk+q*nr : jr*kk+q*nr+nr : jr*kk+q*nr+nr]
			row[0], row[1], row[2], row[3] = s[0], s[1], s[2], s[3]
			row[4], row[5], row[6], row[7] = s[4], s[5], s[6], s[7]
			row[8], row[9], row[10], row[11] = s[8], s[9], s[10], s[11]
			row[12], row[13], row[14], row[15] = s[12], s[13], s[14], s[15]
		}
		if full < cols {
			row := dst[full*kk+q*nr : full*kk+q*nr+nr]
			n := copy(row, src[full:])
			clear(row[n:])
		}
	}
}

// packBTransposed packs when op(B) = Bᵀ: column j of op(B) is row j of B.
func (p *problem[T]) packBTransposed(dst []T, p0, kk, j0, cols int) {
	for jr := 0; jr < cols; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		n := min(nr, cols-jr)
		if n < nr {
			clear(panel)
		}
		for j := range n {
			src := p.b[(j0+jr+j)*p.ldb+p0 : (j0+jr+j)*p.ldb+p0+kk]
			for q, v := range src {
				panel[q*nr+j] = v
			}
		}
	}
}
