package cluster

import (
	"fmt"
	"testing"
)

func TestAssign(t *testing.T) {
	tests := []struct {
		partitions int
		hosts      []string
		maxEach    int
	}{
		{12, []string{"a"}, 12},
		{12, []string{"a", "b", "c"}, 4},
		{12, []string{"c", "a", "b", "a"}, 4}, // order and repeats do not matter
		{12, []string{"a", "b", "c", "d", "e"}, 3},
		{3, []string{"a", "b", "c", "d"}, 1},
		{1, []string{"x", "y"}, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.partitions, tt.hosts), func(t *testing.T) {
			got := Assign(tt.partitions, tt.hosts)
			if len(got) != tt.partitions {
				t.Fatalf("%d owners, want %d", len(got), tt.partitions)
			}
			count := map[string]int{}
			for _, h := range got {
				count[h]++
			}
			for h, n := range count {
				if n > tt.maxEach {
					t.Errorf("%s owns %d partitions, more than %d", h, n, tt.maxEach)
				}
			}
			reversed := make([]string, len(tt.hosts))
			for i, h := range tt.hosts {
				reversed[len(tt.hosts)-1-i] = h
			}
			if again := Assign(tt.partitions, reversed); fmt.Sprint(again) != fmt.Sprint(got) {
				t.Errorf("another order of the same hosts gives %v, not %v", again, got)
			}
		})
	}
	if Assign(4, nil) != nil {
		t.Error("no hosts: want nil")
	}
}

// TestAssignMovesFew: a fourth host takes partitions only for itself.
func TestAssignMovesFew(t *testing.T) {
	before := Assign(12, []string{"a", "b", "c"})
	after := Assign(12, []string{"a", "b", "c", "d"})
	moved := 0
	for p := range before {
		if before[p] != after[p] && after[p] != "d" {
			moved++
		}
	}
	if moved > 3 {
		t.Errorf("%d partitions moved between the old hosts when d joined: %v -> %v", moved, before, after)
	}
}
