package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/afstudio/afstudio/starhost"
)

// An integration set is what a host runs, as its heartbeat says it:
// every integration as NAME@HASH, where HASH covers the content of its
// module and libraries (not their paths, which differ between machines),
// and every reload that failed there. Hosts that share a stream must run
// the same set; Status compares them.

// integrationSet summarises view.
func integrationSet(view starhost.View) (set, failed []string) {
	set = []string{}
	for _, in := range view.Integrations {
		h := sha256.New()
		for _, f := range in.Files {
			h.Write([]byte(f.SHA256))
		}
		set = append(set, in.Name+"@"+hex.EncodeToString(h.Sum(nil))[:12])
		if in.Failed && in.LastError != nil {
			failed = append(failed, fmt.Sprintf("%s: the last reload failed and generation %d serves: %s", in.Name, in.Generation, in.LastError.Error()))
		}
	}
	for _, fm := range view.FailedModules {
		if len(fm.Errors) > 0 {
			failed = append(failed, fmt.Sprintf("%s does not load: %s", fm.Module, fm.Errors[0].Error()))
		}
	}
	sort.Strings(set)
	return set, failed
}

// hostSet summarises the integrations of a host's partitions: the set of
// the first (every partition loads the same files), and the failures of
// all, each once, with a line for each partition whose set differs from
// the first's (a reload that reached some partitions only). nil, nil
// with no partition.
func hostSet(ms []partitionManager) (set, failed []string) {
	for i, pm := range ms {
		s, f := integrationSet(pm.m.Snapshot())
		for _, line := range f {
			if !slices.Contains(failed, line) {
				failed = append(failed, line)
			}
		}
		if i == 0 {
			set = s
			continue
		}
		if !slices.Equal(s, set) {
			failed = append(failed, fmt.Sprintf("partition %d runs %s where partition %d runs %s: a reload did not reach every partition; reload again",
				pm.p, strings.Join(setDiff(s, set), ", "), ms[0].p, strings.Join(setDiff(set, s), ", ")))
		}
	}
	return set, failed
}

// setDiff returns what a has and b lacks ("none" when nothing).
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if out == nil {
		out = []string{"none"}
	}
	return out
}

// compareSets returns one line per difference between the integration
// sets of the hosts that reported one: an integration some host lacks, or
// runs in another version. None when they agree.
func compareSets(hosts []HostStatus) []string {
	versions := map[string]map[string][]string{} // name → version → host ids
	known := 0
	for _, h := range hosts {
		if h.Integrations == nil {
			continue // no partition yet: nothing loaded to compare
		}
		known++
		for _, nv := range h.Integrations {
			name, v, _ := strings.Cut(nv, "@")
			if versions[name] == nil {
				versions[name] = map[string][]string{}
			}
			versions[name][v] = append(versions[name][v], h.ID)
		}
	}
	var out []string
	for _, name := range sortedKeys(versions) {
		byVersion := versions[name]
		n := 0
		var parts []string
		for _, v := range sortedKeys(byVersion) {
			n += len(byVersion[v])
			parts = append(parts, fmt.Sprintf("%s on %s", v, strings.Join(byVersion[v], ", ")))
		}
		switch {
		case len(byVersion) > 1:
			out = append(out, fmt.Sprintf("integration %s differs between hosts: %s; deploy the same files to every host", name, strings.Join(parts, "; ")))
		case n < known:
			var missing []string
			for _, h := range hosts {
				if h.Integrations != nil && !slices.ContainsFunc(h.Integrations, func(nv string) bool { return strings.HasPrefix(nv, name+"@") }) {
					missing = append(missing, h.ID)
				}
			}
			out = append(out, fmt.Sprintf("integration %s is missing on %s; deploy the same files to every host", name, strings.Join(missing, ", ")))
		}
	}
	return out
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
