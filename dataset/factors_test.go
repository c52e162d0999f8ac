package dataset

import (
	"math"
	"testing"
)

func TestLabels(t *testing.T) {
	base := Factors{Shape: Square, Hue: 0.3, Saturation: 0.7, Value: 0.8, Radius: 10, CX: 32, CY: 32, Rotation: 1}
	with := func(change func(*Factors)) Factors { f := base; change(&f); return f }
	for _, c := range []struct {
		name string
		f    Factors
		res  int
		want Labels
	}{
		{"centre of everything", base, 64, Labels{Shape: 1, Color: 2, Location: 4, Size: 1}},
		{"triangle", with(func(f *Factors) { f.Shape = Triangle }), 64, Labels{2, 2, 4, 1}},
		{"hue 0 is red, class 0", with(func(f *Factors) { f.Hue = 0 }), 64, Labels{1, 0, 4, 1}},
		{"hue just below 1 is class 7", with(func(f *Factors) { f.Hue = math.Nextafter(1, 0) }), 64, Labels{1, 7, 4, 1}},
		{"hue 1/8 starts class 1", with(func(f *Factors) { f.Hue = 0.125 }), 64, Labels{1, 1, 4, 1}},
		{"top left", with(func(f *Factors) { f.CX, f.CY = 4, 4 }), 64, Labels{1, 2, 0, 1}},
		{"top right", with(func(f *Factors) { f.CX, f.CY = 60, 4 }), 64, Labels{1, 2, 2, 1}},
		{"bottom left", with(func(f *Factors) { f.CX, f.CY = 4, 60 }), 64, Labels{1, 2, 6, 1}},
		{"bottom right, on the edge", with(func(f *Factors) { f.CX, f.CY = 60, 60 }), 64, Labels{1, 2, 8, 1}},
		{"location third boundary (4 + 56/3)", with(func(f *Factors) { f.CX = 4 + 56.0/3 + 1e-9 }), 64, Labels{1, 2, 4, 1}},
		{"smallest", with(func(f *Factors) { f.Radius = 6 }), 64, Labels{1, 2, 4, 0}},
		{"largest", with(func(f *Factors) { f.Radius = 14 }), 64, Labels{1, 2, 4, 2}},
		{"size tertiles at 32 px", with(func(f *Factors) { f.Radius = 5.9; f.CX, f.CY = 16, 16 }), 32, Labels{1, 2, 4, 2}},
		{"location at 32 px", with(func(f *Factors) { f.Radius = 5; f.CX, f.CY = 3, 29 }), 32, Labels{1, 2, 6, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.Labels(c.res); got != c.want {
				t.Fatalf("Labels(%d) of %+v = %+v, want %+v", c.res, c.f, got, c.want)
			}
		})
	}
}

func TestLabelNames(t *testing.T) {
	l := Labels{Shape: 2, Color: 5, Location: 7, Size: 1}
	want := map[string]struct{ value, classes int }{
		"shape": {2, 3}, "color": {5, 8}, "location": {7, 9}, "size": {1, 3},
	}
	if len(LabelNames) != len(want) {
		t.Fatalf("LabelNames = %v", LabelNames)
	}
	for _, name := range LabelNames {
		v, ok := l.Get(name)
		if !ok || v != want[name].value {
			t.Errorf("Get(%q) = %d, %v, want %d", name, v, ok, want[name].value)
		}
		if got := LabelClasses(name); got != want[name].classes {
			t.Errorf("LabelClasses(%q) = %d, want %d", name, got, want[name].classes)
		}
	}
	if _, ok := l.Get("rotation"); ok {
		t.Error(`Get("rotation") found a label`)
	}
	if LabelClasses("rotation") != 0 {
		t.Error(`LabelClasses("rotation") is not 0`)
	}
}

func TestParseFactor(t *testing.T) {
	for _, f := range AllFactors {
		if back, err := ParseFactor(f.String()); err != nil || back != f {
			t.Errorf("factor %s does not round-trip: %v, %v", f, back, err)
		}
	}
	for alias, want := range map[string]Factor{"hue": FactorColor, "Colour": FactorColor, "centre": FactorLocation, "radius": FactorSize} {
		if got, err := ParseFactor(alias); err != nil || got != want {
			t.Errorf("ParseFactor(%q) = %v, %v, want %s", alias, got, err, want)
		}
	}
	if _, err := ParseFactor("texture"); err == nil {
		t.Error(`ParseFactor("texture") did not fail`)
	}
	for _, s := range []Shape{Circle, Square, Triangle} {
		if back, err := ParseShape(s.String()); err != nil || back != s {
			t.Errorf("shape %s does not round-trip: %v, %v", s, back, err)
		}
	}
}
