package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A partition's value in the state bucket (key p.<i>) is a manifest, in
// one of two forms:
//
//   - inline, {"seq": N, "states": {NAME: STATE, ...}}: every value
//     written before states were chunked, and any value that fits in one
//     message of the server;
//   - chunked, {"seq": N, "states": "chunked", "size": BYTES, "chunks":
//     [{"sha256": H, "size": n}, ...]}: the states object's JSON is the
//     concatenation of the chunks, chunk H stored under the key
//     p.<i>.c.<H>, H being the hex of the first 16 bytes of the chunk's
//     SHA-256. "states" is a string so that a host of an older version,
//     which knows the inline form only, fails to read the value instead of
//     taking it for empty states and overwriting them.
//
// A write puts the chunks the new manifest needs that the manifest it is
// based on does not have, then the manifest with the revision it read
// (the one commit point, fenced as before), then removes the chunks the
// old manifest had and the new one has not. A chunk key once removed may
// be written again (same content, same key); removals therefore only take
// the versions older than the new manifest, never a later one (see
// purgeChunks).

// chunkedStates is the "states" of a chunked manifest.
const chunkedStates = `"chunked"`

// manifest is the value of a partition's key in the state bucket.
type manifest struct {
	Seq    uint64          `json:"seq"`
	States json.RawMessage `json:"states"`
	Size   int             `json:"size,omitempty"`
	Chunks []chunkRef      `json:"chunks,omitempty"`
}

// chunkRef names one chunk of a chunked manifest.
type chunkRef struct {
	SHA256 string `json:"sha256"` // hex of the first 16 bytes of the chunk's SHA-256
	Size   int    `json:"size"`
}

// chunkKey is the key of partition p's chunk with hash h.
func chunkKey(p int, h string) string { return "p." + strconv.Itoa(p) + ".c." + h }

// chunkFilter matches the keys of all partition p's chunks.
func chunkFilter(p int) string { return "p." + strconv.Itoa(p) + ".c.*" }

// chunkHash is the hash a chunk is stored under.
func chunkHash(c []byte) string {
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:16])
}

// encodeStates returns the JSON object of states, names in order. Each
// state is valid JSON already (a manager's StateJSON, or a state read from
// the bucket), so it is copied as it is rather than checked again.
func encodeStates(states map[string]json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, name := range sortedKeys(states) {
		if i > 0 {
			b.WriteByte(',')
		}
		n, _ := json.Marshal(name) // a string always encodes
		b.Write(n)
		b.WriteByte(':')
		if s := states[name]; len(s) > 0 {
			b.Write(s)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// inlineValue is the inline manifest of states encoded as blob.
func inlineValue(seq uint64, blob []byte) []byte {
	v := make([]byte, 0, len(blob)+32)
	v = append(v, `{"seq":`...)
	v = strconv.AppendUint(v, seq, 10)
	v = append(v, `,"states":`...)
	v = append(v, blob...)
	return append(v, '}')
}

// decodeManifest parses partition p's value.
func decodeManifest(p int, value []byte) (manifest, error) {
	var m manifest
	err := json.Unmarshal(value, &m)
	if err == nil && len(m.Chunks) > 0 && string(m.States) != chunkedStates {
		err = fmt.Errorf(`"chunks" with "states" %.40s, not "chunked"`, m.States)
	}
	if err == nil && len(m.Chunks) > 0 && !sizesAddUp(m) {
		err = fmt.Errorf(`"size" %d is not the sum of its chunks' sizes (each 0 to 64 MiB)`, m.Size)
	}
	if err != nil {
		return manifest{}, fmt.Errorf("the state of partition %d (bucket key %s) is not JSON of the form {\"seq\": N, \"states\": {...}} "+
			"or {\"seq\": N, \"states\": \"chunked\", \"chunks\": [...]}: %w; fix or delete the key", p, stateKey(p), err)
	}
	return m, nil
}

// sizesAddUp reports whether a chunked manifest's size is the sum of its
// chunks' sizes, each between 0 and maxChunk: a reader allocates by them.
func sizesAddUp(m manifest) bool {
	total := 0
	for _, c := range m.Chunks {
		if c.Size < 0 || c.Size > maxChunk {
			return false
		}
		total += c.Size
	}
	return total == m.Size
}

// decodeStates parses a states object (its JSON null is no state).
func decodeStates(p int, blob []byte) (map[string]json.RawMessage, error) {
	var states map[string]json.RawMessage
	if err := json.Unmarshal(blob, &states); err != nil {
		return nil, fmt.Errorf("the states of partition %d (bucket key %s) are not a JSON object of states by integration: %w; fix or delete the key", p, stateKey(p), err)
	}
	return states, nil
}

// stateSizes describes states for an error message: the total, then the
// largest states, by integration.
func stateSizes(states map[string]json.RawMessage) string {
	names := sortedKeys(states)
	slices.SortStableFunc(names, func(a, b string) int { return len(states[b]) - len(states[a]) })
	var parts []string
	for i, n := range names {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(names)-i))
			break
		}
		parts = append(parts, n+" "+byteSize(len(states[n])))
	}
	return "largest states: " + strings.Join(parts, ", ")
}

// byteSize writes n bytes for people: 512 B, 12.3 KiB, 3.1 MiB.
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
