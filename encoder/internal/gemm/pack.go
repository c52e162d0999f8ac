package gemm

// packA copies rows [i0, i0+rows) × columns [p0, p0+kk) of alpha·op(A) into
// panels of mr rows, stored column after column, padded with zeros.
func (p *problem[T]) packA(dst []T, i0, rows, p0, kk int) {
	if p.transA {
		p.packATransposed(dst, i0, rows, p0, kk)
		return
	}
	mr := p.kern.mr
	alpha := p.alpha
	for ir := 0; ir < rows; ir += mr {
		panel := dst[ir*kk : (ir+mr)*kk]
		n := min(mr, rows-ir)
		if n < mr || mr != 6 {
			if n < mr {
				clear(panel)
			}
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
				col := panel[q*6 : q*6+6 : q*6+6]
				col[0], col[1], col[2], col[3], col[4], col[5] = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
			}
			continue
		}
		for q := range r0 {
			col := panel[q*6 : q*6+6 : q*6+6]
			col[0], col[1], col[2] = alpha*r0[q], alpha*r1[q], alpha*r2[q]
			col[3], col[4], col[5] = alpha*r3[q], alpha*r4[q], alpha*r5[q]
		}
	}
}

// packATransposed packs when op(A) = Aᵀ: each row of A gives one column of
// every panel, so A is read in order.
func (p *problem[T]) packATransposed(dst []T, i0, rows, p0, kk int) {
	mr := p.kern.mr
	alpha := p.alpha
	full := rows / mr * mr
	for q := range kk {
		src := p.a[(p0+q)*p.lda+i0 : (p0+q)*p.lda+i0+rows]
		switch {
		case mr == 12 && alpha == 1:
			for ir := 0; ir < full; ir += 12 {
				copy(dst[ir*kk+q*12:ir*kk+q*12+12], src[ir:ir+12])
			}
		case mr == 6:
			for ir := 0; ir < full; ir += 6 {
				s := src[ir : ir+6 : ir+6]
				col := dst[ir*kk+q*6 : ir*kk+q*6+6 : ir*kk+q*6+6]
				col[0], col[1], col[2] = alpha*s[0], alpha*s[1], alpha*s[2]
				col[3], col[4], col[5] = alpha*s[3], alpha*s[4], alpha*s[5]
			}
		default:
			for ir := 0; ir < full; ir += mr {
				s := src[ir : ir+mr]
				col := dst[ir*kk+q*mr : ir*kk+q*mr+mr]
				for i, v := range s {
					col[i] = alpha * v
				}
			}
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
	nr := p.kern.nr
	full := cols / nr * nr
	packRow := p.kern.packRow
	for q := range kk {
		src := p.b[(p0+q)*p.ldb+j0 : (p0+q)*p.ldb+j0+cols]
		if packRow != nil {
			packRow(dst[q*nr:], kk*nr, src, full/nr)
		} else {
			for jr := 0; jr < full; jr += nr {
				copy(dst[jr*kk+q*nr:jr*kk+q*nr+nr], src[jr:jr+nr])
			}
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
	nr := p.kern.nr
	for jr := 0; jr < cols; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		n := min(nr, cols-jr)
		if n == nr && p.kern.packPanelT != nil {
			p.kern.packPanelT(panel, p.b[(j0+jr)*p.ldb+p0:], p.ldb, kk)
			continue
		}
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
