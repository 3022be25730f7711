package screen

import (
	"context"
	"os"
	"testing"
)

func TestZZScratch(t *testing.T) {
	p, err := ReadImage(context.Background(), os.Getenv("SHOT"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][]string{{"analytics", "g1"}, {"alerts", "g1"}, {"afterimage", "g1"}, {"audit", "g1"}, {"greeter", "g1"}, {"opened", "g1"}, {"0 failed"}} {
		t.Logf("%v: %v", r, p.HasRow(context.Background(), r...))
	}
	t.Log(p.Text())
}
