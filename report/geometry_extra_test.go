package report

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestEffectiveRank(t *testing.T) {
	const seed = 3
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Isotropic vectors use every direction: RankMe near d.
	if got := EffectiveRank(gaussianMatrix(rng, 4000, 8)); got < 7.8 || got > 8 {
		t.Errorf("isotropic 8-d: effective rank %.3f, want about 8", got)
	}
	// Vectors on one line: rank 1.
	line := mat.NewDense(50, 4, nil)
	for r := range 50 {
		s := rng.NormFloat64()
		line.SetRow(r, []float64{s, 2 * s, -s, 0.5 * s})
	}
	if got := EffectiveRank(line); math.Abs(got-1) > 1e-6 {
		t.Errorf("vectors on a line: effective rank %.6f, want 1", got)
	}
}

func TestLinearCKA(t *testing.T) {
	const seed = 4
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	x := gaussianMatrix(rng, 500, 6)
	// A rotation and a scaling of x: CKA 1.
	q := gaussianMatrix(rng, 6, 6)
	var qr mat.QR
	qr.Factorize(q)
	var rotation mat.Dense
	qr.QTo(&rotation)
	var y mat.Dense
	y.Mul(x, &rotation)
	y.Scale(3, &y)
	// The products run in float32: about 6 significant digits.
	if got := LinearCKA(x, &y); math.Abs(got-1) > 1e-5 {
		t.Errorf("CKA of a rotation = %.9f, want 1", got)
	}
	// Independent representations: near 0 (about d/n).
	if got := LinearCKA(x, gaussianMatrix(rng, 500, 6)); got > 0.05 {
		t.Errorf("CKA of independent vectors = %.4f, want near 0", got)
	}
	// Symmetric.
	z := gaussianMatrix(rng, 500, 3)
	if a, b := LinearCKA(x, z), LinearCKA(z, x); math.Abs(a-b) > 1e-6 {
		t.Errorf("CKA(x, z) = %v, CKA(z, x) = %v", a, b)
	}
}

func TestPCA2(t *testing.T) {
	const seed = 5
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Variances 9, 1 and 0.01 along three axes: PC1 is the first axis.
	x := mat.NewDense(2000, 3, nil)
	for r := range 2000 {
		x.SetRow(r, []float64{3 * rng.NormFloat64(), rng.NormFloat64(), 0.1 * rng.NormFloat64()})
	}
	points, explained := PCA2(x)
	if math.Abs(explained[0]-9/10.01) > 0.03 || math.Abs(explained[1]-1/10.01) > 0.02 {
		t.Errorf("explained %v, want about [0.90 0.10]", explained)
	}
	// PC1 is the first coordinate (up to the sign convention).
	if got := math.Abs(points[7][0]); math.Abs(got-math.Abs(x.At(7, 0)-mat.Sum(x.ColView(0))/2000)) > 0.05 {
		t.Errorf("point 7 on PC1 = %v, want ±%v", points[7][0], x.At(7, 0))
	}
}

func TestAxisAlignedScores(t *testing.T) {
	const seed = 6
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const n = 3000
	// The label is the sign of coordinate 0: one coordinate carries it.
	x := gaussianMatrix(rng, n, 4)
	y := make([]int, n)
	for r := range n {
		if x.At(r, 0) > 0 {
			y[r] = 1
		}
	}
	aligned := MIG(x, y, 2)
	if aligned.Best != 0 || aligned.Score < 0.5 {
		t.Errorf("axis-aligned label: MIG %+v, want high on coordinate 0", aligned)
	}
	sap := SAP(x, y, x, y, 2)
	if sap.Best != 0 || sap.Score < 0.3 {
		t.Errorf("axis-aligned label: SAP %+v, want high on coordinate 0", sap)
	}
	// The same label on the diagonal of coordinates 0 and 1: just as
	// decodable, but no coordinate stands out, so the gap is small.
	for r := range n {
		y[r] = 0
		if x.At(r, 0)+x.At(r, 1) > 0 {
			y[r] = 1
		}
	}
	if rotated := MIG(x, y, 2); rotated.Score > aligned.Score/3 {
		t.Errorf("rotated label: MIG %.3f, want well below the aligned %.3f", rotated.Score, aligned.Score)
	}
}
