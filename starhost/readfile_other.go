//go:build !linux

package starhost

// readFile returns the content of the file at p, at most limit+1 bytes
// of it (so that an oversized file is detected without reading all of
// it), or isDir when p is a folder.
func readFile(p string, limit int64) (data []byte, isDir bool, err error) {
	return readFileOS(p, limit)
}
