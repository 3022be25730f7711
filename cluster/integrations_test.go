package cluster

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// TestCompareSets: hosts that run the same integrations agree; one
// missing or in another version on some host is said, naming the hosts;
// a host that reported no set yet (no partition) is not compared.
func TestCompareSets(t *testing.T) {
	h := func(id string, set ...string) HostStatus { return HostStatus{ID: id, Integrations: set} }
	for _, tc := range []struct {
		name  string
		hosts []HostStatus
		want  []string
	}{
		{"agree", []HostStatus{h("a", "x@1", "y@2"), h("b", "x@1", "y@2")}, nil},
		{"no set yet", []HostStatus{h("a", "x@1"), {ID: "b"}}, nil},
		{"missing", []HostStatus{h("a", "x@1"), h("b", "x@1", "y@2"), h("c", "x@1")},
			[]string{"integration y is missing on a, c; deploy the same files to every host"}},
		{"other version", []HostStatus{h("a", "x@1"), h("b", "x@9")},
			[]string{"integration x differs between hosts: 1 on a; 9 on b; deploy the same files to every host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compareSets(tc.hosts); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("compareSets = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHostSet: a host's heartbeat sums up its partitions' integrations:
// the same set on each gives no failure; a failed reload on every
// partition is one line; a reload that reached one partition only is
// named.
func TestHostSet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tick.star")
	write := func(src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("integration(name = \"tick\", handlers = {\"tick\": lambda event, ctx: 1})\n")
	var ms []partitionManager
	for _, p := range []int{0, 3} {
		m, err := starhost.New(starhost.Options{Roots: []string{dir}, SkipDefaultIntegrations: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.LoadDefaultIntegrations(context.Background()); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, partitionManager{p, m})
	}
	if set, failed := hostSet(ms); len(set) != 1 || !strings.HasPrefix(set[0], "tick@") || failed != nil {
		t.Fatalf("two partitions of the same files: %v, %v", set, failed)
	}
	write("integration(name = \"tick\", handlers = {\"tick\": lambda event, ctx: 1}\n")
	for _, pm := range ms {
		pm.m.ReloadFiles(context.Background(), []string{file})
	}
	if _, failed := hostSet(ms); len(failed) != 1 || !strings.Contains(failed[0], "tick: the last reload failed") {
		t.Fatalf("a reload failed on both partitions: %q; want one line", failed)
	}
	write("integration(name = \"tick\", handlers = {\"tick\": lambda event, ctx: 2})\n")
	ms[1].m.ReloadFiles(context.Background(), []string{file})
	_, failed := hostSet(ms)
	if len(failed) != 2 || !strings.Contains(failed[1], "partition 3 runs tick@") || !strings.Contains(failed[1], "where partition 0 runs tick@") {
		t.Fatalf("a reload on partition 3 only: %q; want it named", failed)
	}
}
