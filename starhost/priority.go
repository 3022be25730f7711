package starhost

import (
	"fmt"
	"strings"
)

// Priority orders the integrations that handle one event: CRITICAL first,
// LOW last; ties are broken by name. An integration declares it with
// priority = "HIGH" (or the predeclared constant HIGH); the default is
// NORMAL. The zero value is Critical.
type Priority int

// The priorities, most urgent first.
const (
	Critical Priority = iota // "CRITICAL": runs before every other
	High                     // "HIGH"
	Normal                   // "NORMAL": the default of integration()
	Low                      // "LOW": runs after every other
)

// priorityNames are the priorities as written in integrations, by value.
var priorityNames = [...]string{"CRITICAL", "HIGH", "NORMAL", "LOW"}

// String returns the priority's name as written in integrations
// ("HIGH"), or "Priority(N)" for a value out of range.
func (p Priority) String() string {
	if p < Critical || p > Low {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// MarshalText encodes the priority as its name, so that its JSON form is
// a string like "HIGH".
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a priority name; see ParsePriority.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	*p = v
	return err
}

// ParsePriority parses "CRITICAL", "HIGH", "NORMAL" or "LOW" (upper case
// only). For any other string it returns Normal and an error that lists
// the names.
func ParsePriority(s string) (Priority, error) {
	for i, n := range priorityNames {
		if s == n {
			return Priority(i), nil
		}
	}
	return Normal, fmt.Errorf("unknown priority %q; use one of %s", s, strings.Join(priorityNames[:], ", "))
}
