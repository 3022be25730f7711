// Package plural words a count with its noun, the one way afstudio's
// messages and views say "1 call" and "2 calls".
package plural

import "strconv"

// Count returns "1 noun" for one and "n nouns" otherwise. The noun must
// take a plain "s" in the plural.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
