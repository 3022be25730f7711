package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 calls"}, {1, "1 call"}, {2, "2 calls"}, {-1, "-1 calls"}} {
		if got := Count(c.n, "call"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
