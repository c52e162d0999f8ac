package dataset

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	def := DefaultSpec()
	for _, c := range []struct {
		name, text string
		want       Spec
	}{
		{"bare kind", "shapes", def},
		{"all keys", "shapes:n=64000,seed=1,res=64,val=0.375", def},
		{"missing keys take defaults", "shapes:n=1000,res=32", Spec{N: 1000, Seed: 1, Res: 32, ValFrac: 0.375}},
		{"any order, spaces", " shapes: val=0.5, seed=9 ", Spec{N: 64000, Seed: 9, Res: 64, ValFrac: 0.5}},
		{"no validation", "shapes:val=0", Spec{N: 64000, Seed: 1, Res: 64, ValFrac: 0}},
		{"large seed", "shapes:seed=18446744073709551615", Spec{N: 64000, Seed: math.MaxUint64, Res: 64, ValFrac: 0.375}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSpec(c.text)
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", c.text, err)
			}
			if got != c.want {
				t.Fatalf("ParseSpec(%q) = %+v, want %+v", c.text, got, c.want)
			}
			back, err := ParseSpec(got.String())
			if err != nil || back != got {
				t.Fatalf("String %q does not round-trip: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, c := range []struct {
		name, text, message string
	}{
		{"empty", "", `must start with "shapes"`},
		{"other kind", "circles:n=3", `must start with "shapes"`},
		{"not key=value", "shapes:n", `"n" is not key=value`},
		{"unknown key", "shapes:size=3", `unknown key "size"`},
		{"repeated key", "shapes:n=3,n=4", "n is given twice"},
		{"bad number", "shapes:n=ten", "n=ten is not a number"},
		{"negative seed", "shapes:seed=-1", "seed=-1 is not a number"},
		{"zero items", "shapes:n=0", "n=0, want 1 to"},
		{"too many items", "shapes:n=1000000000", "want 1 to"},
		{"tiny resolution", "shapes:res=4", "res=4, want 8 to 1024 pixels"},
		{"val above 1", "shapes:val=1.5", "val=1.5, want a fraction from 0 to 1"},
		{"val NaN", "shapes:val=NaN", "want a fraction"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec(c.text)
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("ParseSpec(%q) error %v, want ErrBadSpec", c.text, err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Fatalf("ParseSpec(%q) error %q does not say %q", c.text, err, c.message)
			}
		})
	}
}

func TestSplitCounts(t *testing.T) {
	for _, c := range []struct {
		spec       Spec
		train, val int
	}{
		{DefaultSpec(), 40000, 24000},
		{Spec{N: 10, ValFrac: 0.25}, 7, 3}, // round(2.5) = 3
		{Spec{N: 10, ValFrac: 0}, 10, 0},
		{Spec{N: 10, ValFrac: 1}, 0, 10},
	} {
		t.Run(c.spec.String(), func(t *testing.T) {
			train, val := c.spec.Counts()
			if train != c.train || val != c.val {
				t.Fatalf("Counts() = %d, %d, want %d, %d", train, val, c.train, c.val)
			}
			for i := 0; i < c.spec.N; i++ {
				want := Train
				if i >= c.train {
					want = Validation
				}
				if got := c.spec.Split(i); got != want {
					t.Fatalf("Split(%d) = %s, want %s", i, got, want)
				}
			}
		})
	}
	for _, s := range []Split{Train, Validation} {
		if back, err := ParseSplit(s.String()); err != nil || back != s {
			t.Errorf("split %s does not round-trip: %v, %v", s, back, err)
		}
	}
}

func TestFactorsDependOnlyOnSeedAndIndex(t *testing.T) {
	a := Spec{N: 100, Seed: 5, Res: 64}
	b := Spec{N: 7, Seed: 5, Res: 64, ValFrac: 0.9} // other size and split
	other := Spec{N: 100, Seed: 6, Res: 64}
	for _, i := range []int{0, 1, 6, 50} {
		if a.Factors(i) != a.Factors(i) {
			t.Fatalf("item %d differs between two calls", i)
		}
		if a.Factors(i) != b.Factors(i) {
			t.Fatalf("item %d depends on more than (seed, i)", i)
		}
		if a.Factors(i) == other.Factors(i) {
			t.Fatalf("item %d is the same for seeds 5 and 6", i)
		}
	}
	if a.Factors(0) == a.Factors(1) {
		t.Fatal("items 0 and 1 are equal")
	}
}

// TestFactorsCoverTheirRanges checks that the factors are drawn from the
// specified ranges and that every class of every label occurs.
func TestFactorsCoverTheirRanges(t *testing.T) {
	for _, res := range []int{64, 32} {
		spec := Spec{N: 3000, Seed: 11, Res: res}
		r := RangesAt(res)
		counts := map[string][]int{}
		for _, name := range LabelNames {
			counts[name] = make([]int, LabelClasses(name))
		}
		in := func(v float64, rg Range) bool { return v >= rg.Lo && v <= rg.Hi }
		for i := 0; i < spec.N; i++ {
			f := spec.Factors(i)
			if f.Hue < 0 || f.Hue >= 1 || !in(f.Saturation, r.Saturation) || !in(f.Value, r.Value) ||
				!in(f.Radius, r.Radius) || !in(f.CX, r.Centre) || !in(f.CY, r.Centre) || f.Rotation < 0 || f.Rotation >= 2*math.Pi {
				t.Fatalf("res %d item %d: factors %+v outside their ranges %+v", res, i, f, r)
			}
			l := f.Labels(res)
			for _, name := range LabelNames {
				v, _ := l.Get(name)
				counts[name][v]++
			}
		}
		for name, c := range counts {
			for class, n := range c {
				// Uniform draws: each class near N/classes; 0.6 of it is far out.
				if want := spec.N / len(c); float64(n) < 0.6*float64(want) {
					t.Errorf("res %d: label %s class %d occurs %d times, expected about %d", res, name, class, n, want)
				}
			}
		}
	}
}
