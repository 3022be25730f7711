package cluster

import (
	"reflect"
	"testing"
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
