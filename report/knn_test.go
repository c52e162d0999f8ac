package report

import (
	"math"
	"testing"
)

func TestVote(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []int
		want   int
	}{
		{"majority", []int{1, 2, 2, 3, 2}, 2},
		{"tie goes to the nearer", []int{3, 1, 1, 3}, 3},
		{"unknown labels do not vote", []int{-1, -1, 4}, 4},
		{"none known", []int{-1}, -1},
		{"empty", nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := vote(tc.labels); got != tc.want {
				t.Fatalf("vote(%v) = %d, want %d", tc.labels, got, tc.want)
			}
		})
	}
}

func TestTallyAndChance(t *testing.T) {
	var tally knnTally
	tally.record(0, []int{0, 1, 0}) // vote right, 1-NN right
	tally.record(1, []int{0, 1, 1}) // vote right, 1-NN wrong
	tally.record(2, []int{0, 0, 2}) // both wrong
	tally.record(-1, []int{0})      // no label: not counted
	chance := chanceLevel([]int{0, 0, 0, 1, 2}, []int{0, 1, 2})
	if math.Abs(chance-1.0/3) > 1e-12 {
		t.Fatalf("chance = %v, want 1/3", chance)
	}
	a := tally.accuracy("shape", 3, 3, chance)
	if a.Queries != 3 || math.Abs(a.Accuracy-2.0/3) > 1e-12 || math.Abs(a.Accuracy1-1.0/3) > 1e-12 {
		t.Fatalf("accuracy %+v", a)
	}
	if want := (2.0/3 - 1.0/3) / (1 - 1.0/3); math.Abs(a.Normalized-want) > 1e-12 {
		t.Fatalf("normalized = %v, want %v", a.Normalized, want)
	}
}
