package cluster

import (
	"hash/fnv"
	"slices"
	"strconv"
)

// Assign returns the owner every partition 0..partitions-1 should have
// among hosts: each host gets at most ceil(partitions/len(hosts)), and a
// partition goes to the host that ranks it highest by rendezvous hashing
// among those with room. Every host computes it from the same list and
// gets the same answer; a host joining or leaving moves few partitions.
// It returns nil when there are no hosts.
func Assign(partitions int, hosts []string) []string {
	if len(hosts) == 0 || partitions <= 0 {
		return nil
	}
	hosts = slices.Clone(hosts)
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	room := (partitions + len(hosts) - 1) / len(hosts)
	count := make(map[string]int, len(hosts))
	out := make([]string, partitions)
	for p := range partitions {
		best, bestScore := "", uint64(0)
		for _, h := range hosts {
			if count[h] >= room {
				continue
			}
			if s := score(p, h); best == "" || s > bestScore {
				best, bestScore = h, s
			}
		}
		out[p] = best
		count[best]++
	}
	return out
}

// score is the rendezvous hash of a partition and a host.
func score(p int, host string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strconv.Itoa(p)))
	h.Write([]byte{0})
	h.Write([]byte(host))
	x := h.Sum64()
	// fnv's low bits mix poorly for short inputs: finish with a mixer.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}
