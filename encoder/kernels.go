package encoder

import (
	"math"

	"github.com/viterin/vek/vek32"

	"simsearch/encoder/internal/gemm"
	"simsearch/encoder/internal/simd"
)

// float is the element type of tensors: float32 for training and
// embedding, float64 for the gradient checks of the tests.
type float = gemm.Float

// convGeom is the geometry of a 2-D convolution over a batch of NHWC
// images: square kernels, the same stride and zero padding on both axes.
type convGeom struct {
	Batch, InH, InW, InC int
	OutC                 int
	Kernel, Stride, Pad  int
}

func (g convGeom) OutH() int { return (g.InH+2*g.Pad-g.Kernel)/g.Stride + 1 }
func (g convGeom) OutW() int { return (g.InW+2*g.Pad-g.Kernel)/g.Stride + 1 }

// Rows is the number of output positions: the rows of the im2col matrix.
func (g convGeom) Rows() int { return g.Batch * g.OutH() * g.OutW() }

// K is the length of one im2col row: kernel² input channels.
func (g convGeom) K() int { return g.Kernel * g.Kernel * g.InC }

// Identity tells whether the im2col matrix is the input itself, as for a
// fully connected layer (a 1×1 kernel with stride 1 and no padding).
func (g convGeom) Identity() bool { return g.Kernel == 1 && g.Stride == 1 && g.Pad == 0 }

func (g convGeom) InSize() int  { return g.Batch * g.InH * g.InW * g.InC }
func (g convGeom) OutSize() int { return g.Rows() * g.OutC }

// vekAdd adds src to dst with SIMD instructions.
func vekAdd(dst, src []float32) { vek32.Add_Inplace(dst, src[:len(dst)]) }

// addTo adds src to dst element by element.
func addTo[T float](dst, src []T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// biasActivate adds bias to every row of y (rows of len(bias)) and, if
// relu, replaces negative values with 0. For float32 it does both with SIMD
// instructions in one pass.
func biasActivate[T float](y, bias []T, relu bool) { biasActivateFrom(y, y, bias, relu) }

// biasActivateFrom is biasActivate writing to dst from src, as many values.
func biasActivateFrom[T float](dst, src, bias []T, relu bool) {
	if d32, ok := any(dst).([]float32); ok {
		simd.BiasReLU(d32, any(src).([]float32), any(bias).([]float32), relu)
		return
	}
	simd.BiasReLUGo(dst, src, bias, relu)
}

// reluGrad sets dx to dy where y > 0 and to 0 elsewhere; y is the output
// of a ReLU, so never negative.
func reluGrad[T float](y, dy, dx []T) {
	if y32, ok := any(y).([]float32); ok {
		// Without branches, which the signs of activations would make
		// unpredictable, and with SIMD instructions.
		simd.ReLUGrad(y32, any(dy).([]float32), any(dx).([]float32))
		return
	}
	dy = dy[:len(y)]
	dx = dx[:len(y)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// sumBlock is the number of rows columnSums adds up per block. The blocks
// are fixed, not one per goroutine, so that the sums do not depend on the
// number of cores.
const sumBlock = 512

// columnSums writes the sums over the rows of g (rows of len(sums) values)
// into sums, using partial (len(sums) times the number of blocks of
// sumBlock rows) as scratch: each block is summed on its own, on all cores,
// then the blocks in order.
func columnSums[T float](g, sums, partial []T) {
	n := len(sums)
	rows := len(g) / n
	blocks := (rows + sumBlock - 1) / sumBlock
	add := adder[T]()
	parallel(blocks, 1, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			p := partial[blk*n : (blk+1)*n]
			clear(p)
			for r := blk * sumBlock; r < min(rows, (blk+1)*sumBlock); r++ {
				add(p, g[r*n:(r+1)*n])
			}
		}
	})
	clear(sums)
	for blk := range blocks {
		add(sums, partial[blk*n:(blk+1)*n])
	}
}

// depthToSpace rearranges NHWC images of h×w pixels and 4c channels into
// 2h×2w pixels and c channels, as PyTorch's pixel_shuffle with factor 2:
// input channel 4·ch + 2·dy + dx becomes channel ch of output pixel
// (2y+dy, 2x+dx). With inverse it undoes that (space to depth).
func depthToSpace[T float](batch, h, w, c int, in, out []T, inverse bool) {
	// Each deep pixel's 4c values are read (or written) in order, four
	// at a time, and go to (or come from) the four wide pixels at once.
	for b := range batch {
		for y := range h {
			for x := range w {
				deepAt := ((b*h+y)*w + x) * 4 * c
				top := ((b*2*h+2*y)*2*w + 2*x) * c
				bottom := top + 2*w*c
				var deep, p0, p1, p2, p3 []T
				if inverse {
					deep = out[deepAt : deepAt+4*c]
					p0, p1, p2, p3 = in[top:top+c], in[top+c:top+2*c], in[bottom:bottom+c], in[bottom+c:bottom+2*c]
				} else {
					deep = in[deepAt : deepAt+4*c]
					p0, p1, p2, p3 = out[top:top+c], out[top+c:top+2*c], out[bottom:bottom+c], out[bottom+c:bottom+2*c]
				}
				p1, p2, p3 = p1[:len(p0)], p2[:len(p0)], p3[:len(p0)]
				for ch := range p0 {
					d := deep[4*ch : 4*ch+4 : 4*ch+4]
					if inverse {
						d[0], d[1], d[2], d[3] = p0[ch], p1[ch], p2[ch], p3[ch]
					} else {
						p0[ch], p1[ch], p2[ch], p3[ch] = d[0], d[1], d[2], d[3]
					}
				}
			}
		}
	}
}

// normEpsilon is the smallest norm a vector is divided by, as in PyTorch's
// F.normalize.
const normEpsilon = 1e-12

// l2Normalize divides each row of x (rows of dim values) by its Euclidean
// norm, at least normEpsilon, writing y and the divisors.
func l2Normalize[T float](x, y []T, norms []T, dim int) {
	for r := range norms {
		row := x[r*dim : (r+1)*dim]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		n := math.Max(math.Sqrt(ss), normEpsilon)
		norms[r] = T(n)
		out := y[r*dim : (r+1)*dim]
		for i, v := range row {
			out[i] = T(float64(v) / n)
		}
	}
}

// l2NormalizeGrad is the gradient of l2Normalize: dx = (dy − y·⟨y, dy⟩)/n,
// or dy/n for rows whose norm was below normEpsilon.
func l2NormalizeGrad[T float](y, dy, dx, norms []T, dim int) {
	for r, n := range norms {
		yr, dyr, dxr := y[r*dim:(r+1)*dim], dy[r*dim:(r+1)*dim], dx[r*dim:(r+1)*dim]
		var dot float64
		if float64(n) > normEpsilon {
			for i := range yr {
				dot += float64(yr[i]) * float64(dyr[i])
			}
		}
		for i := range yr {
			dxr[i] = T((float64(dyr[i]) - float64(yr[i])*dot) / float64(n))
		}
	}
}

// crossEntropy returns the mean over rows of logits (rows of classes values)
// of −log softmax(row)[target], computed with log-sum-exp. If grad is not
// nil it also writes the gradient of that mean with respect to the logits,
// times scale. Targets are class numbers stored as floats.
func crossEntropy[T float](logits, targets []T, classes int, grad []T, scale float64) (float64, error) {
	rows := len(targets)
	var total float64
	for r := range rows {
		row := logits[r*classes : (r+1)*classes]
		t := int(targets[r])
		if t < 0 || t >= classes || float64(t) != float64(targets[r]) {
			return 0, errTarget{row: r, target: float64(targets[r]), classes: classes}
		}
		peak := math.Inf(-1)
		for _, v := range row {
			peak = math.Max(peak, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - peak)
		}
		lse := peak + math.Log(sum)
		total += lse - float64(row[t])
		if grad != nil {
			g := grad[r*classes : (r+1)*classes]
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == t {
					p--
				}
				g[j] = T(p * scale / float64(rows))
			}
		}
	}
	return total / float64(rows), nil
}

// meanSquaredError returns the mean of (pred − target)² and, if grad is
// not nil, writes its gradient with respect to pred, times scale.
func meanSquaredError[T float](pred, target, grad []T, scale float64) float64 {
	target = target[:len(pred)]
	var sum float64
	for i, p := range pred {
		sum += (float64(p) - float64(target[i])) * (float64(p) - float64(target[i]))
	}
	if grad != nil {
		grad = grad[:len(pred)]
		f := 2 * scale / float64(len(pred))
		for i, p := range pred {
			grad[i] = T(f * (float64(p) - float64(target[i])))
		}
	}
	return sum / float64(len(pred))
}
