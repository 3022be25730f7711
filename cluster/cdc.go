package cluster

// Chunk boundaries are content-defined (a gear rolling hash, as in
// FastCDC): a boundary depends on the 64 bytes before it only, so a change
// in a state moves the boundaries near it and no others, and the chunks
// before and after it keep their content, hence their keys, and are not
// written again. The boundaries matter for that reuse only: a reader
// concatenates whatever chunks a manifest lists.

const (
	// cdcMin is the smallest chunk but the last (smaller when the largest
	// chunk is small).
	cdcMin = 32 << 10
	// cdcBits: a boundary is where the hash's top cdcBits bits are zero,
	// so chunks are about cdcMin + 2^cdcBits bytes (160 KiB) on average.
	cdcBits = 17
)

// gearTable maps a byte to a pseudo-random 64-bit value (splitmix64 from
// a fixed seed). It is made for each state cut (256 steps; the same table
// every time), rather than kept in a package variable.
func gearTable() *[256]uint64 {
	var g [256]uint64
	x := uint64(0x61667374756469) // "afstudi"
	for i := range g {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		g[i] = z ^ z>>31
	}
	return &g
}

// cutChunks splits data into content-defined chunks of at most most bytes
// (most > 0). The chunks share data's memory.
func cutChunks(data []byte, most int) [][]byte {
	least := min(cdcMin, most/4)
	gear := gearTable()
	var out [][]byte
	for len(data) > 0 {
		n := cutPoint(gear, data, least, most)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// cutPoint returns the length of data's first chunk: the first boundary
// at least least bytes in, or most, or all of data.
func cutPoint(gear *[256]uint64, data []byte, least, most int) int {
	end := min(len(data), most)
	if end <= least {
		return end
	}
	var h uint64
	for i := max(least-64, 0); i < end; i++ {
		h = h<<1 + gear[data[i]]
		if i+1 >= least && h>>(64-cdcBits) == 0 {
			return i + 1
		}
	}
	return end
}
