package starhost

import "time"

// Limits bound what one integration may do. The zero value of each field
// selects its default; see [DefaultLimits].
type Limits struct {
	// Steps is the step budget of one execution (a module's top level
	// with the libraries it loads, one handler call, or one migrate), in
	// Starlark execution steps (about one per bytecode instruction).
	// Default 1,000,000.
	Steps uint64
	// Timeout is the wall-clock limit of one execution, as for Steps.
	// Default 1s.
	Timeout time.Duration
	// MaxDepth is the deepest nesting of a value that crosses the
	// boundary (event data, results, state, emitted data). Default 64.
	MaxDepth int
	// MaxValues is the largest number of values (counting every element
	// of every container) in a value that crosses the boundary, or in an
	// integration's state. Default 100,000.
	MaxValues int
	// MaxSourceBytes is the largest accepted .star file, in bytes.
	// Default 1 MiB.
	MaxSourceBytes int64
	// MaxEmitDepth is how deep a chain of follow-up events (an event
	// emitted by a handler of an event emitted by a handler...) may go
	// before ctx.emit fails. Default 8.
	MaxEmitDepth int
	// MaxEmitsPerCall is how many follow-up events one handler call may
	// emit. Default 64.
	MaxEmitsPerCall int
	// MaxLogBytes truncates one log line (ctx.log or print), in bytes.
	// Default 4096.
	MaxLogBytes int
}

// DefaultLimits returns the limits used for every zero field of Limits,
// each field set.
func DefaultLimits() Limits {
	return Limits{
		Steps:           1_000_000,
		Timeout:         time.Second,
		MaxDepth:        64,
		MaxValues:       100_000,
		MaxSourceBytes:  1 << 20,
		MaxEmitDepth:    8,
		MaxEmitsPerCall: 64,
		MaxLogBytes:     4096,
	}
}

// WithDefaults returns l with every zero field replaced by its default:
// the limits a host given l enforces.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.Steps == 0 {
		l.Steps = d.Steps
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxValues <= 0 {
		l.MaxValues = d.MaxValues
	}
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = d.MaxSourceBytes
	}
	if l.MaxEmitDepth <= 0 {
		l.MaxEmitDepth = d.MaxEmitDepth
	}
	if l.MaxEmitsPerCall <= 0 {
		l.MaxEmitsPerCall = d.MaxEmitsPerCall
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	return l
}
