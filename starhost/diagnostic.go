package starhost

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// A Diagnostic is an error at a position in an integration's source: the
// file, 1-based line and column, and a message that says what is wrong.
// Its Error method formats it the way compilers and editors expect,
// "file:line:col: message".
type Diagnostic struct {
	// File is the module or library path ("builtin:..." for a default);
	// "" only for an error that concerns no file.
	File string `json:"file"`
	// Line is 1-based; 0 when the position is unknown.
	Line int `json:"line"`
	// Col is 1-based; 0 when the position is unknown.
	Col int `json:"col"`
	// Msg says what is wrong and, where it can, what to do.
	Msg string `json:"message"`
	// Kind classifies the error, so that front ends need not read Msg.
	Kind ErrorKind `json:"kind"`
	// Backtrace is the Starlark call stack at a runtime error, innermost
	// call last; empty for static errors.
	Backtrace string `json:"backtrace,omitempty"`
}

// An ErrorKind classifies a Diagnostic, so that a front end can tell a
// missing file from a syntax error without reading messages. Every
// diagnostic the host makes has one of the kinds below; its JSON form is
// the string.
type ErrorKind string

// The kinds of errors.
const (
	ErrorMissingFile ErrorKind = "missing_file" // a module or a library it loads cannot be found or read
	ErrorSyntax      ErrorKind = "syntax"       // the source does not parse or resolve
	ErrorRuntime     ErrorKind = "runtime"      // the code raised an error while running
	ErrorLimit       ErrorKind = "limit"        // a step budget, timeout, size or depth limit was hit
	ErrorInvalid     ErrorKind = "invalid"      // anything else: a bad declaration, a name clash, a bad return value
	ErrorQuarantined ErrorKind = "quarantined"  // the module brought its worker process down and is not run until it is saved again (Options.Quarantine)
)

// Error returns "file:line:col: message" (or "file: message" when the
// position is unknown).
func (d *Diagnostic) Error() string {
	if d.Line == 0 {
		return d.File + ": " + d.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
}

// Position returns "file:line:col", the part of Error before the message.
func (d *Diagnostic) Position() string {
	if d.Line == 0 {
		return d.File
	}
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col)
}

// A DiagnosticList is an error made of several diagnostics, such as every
// undefined name in a file. The host never returns an empty one.
type DiagnosticList []*Diagnostic

// Error returns one "file:line:col: message" per line.
func (l DiagnosticList) Error() string {
	parts := make([]string, len(l))
	for i, d := range l {
		parts[i] = d.Error()
	}
	return strings.Join(parts, "\n")
}

// diagAt returns an ErrorInvalid diagnostic at pos; set Kind for others.
func diagAt(pos syntax.Position, format string, args ...any) *Diagnostic {
	return &Diagnostic{File: pos.Filename(), Line: int(pos.Line), Col: int(pos.Col), Msg: fmt.Sprintf(format, args...), Kind: ErrorInvalid}
}

// diagFile returns an ErrorInvalid diagnostic at the start of file.
func diagFile(file string, format string, args ...any) *Diagnostic {
	return &Diagnostic{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf(format, args...), Kind: ErrorInvalid}
}

// withKind sets d's kind and returns d.
func (d *Diagnostic) withKind(k ErrorKind) *Diagnostic {
	d.Kind = k
	return d
}

// Diagnose extracts the positioned diagnostics from err: the innermost
// Starlark error in its chain (a syntax or resolve error, a runtime error at
// the innermost user frame, or a host diagnostic), or those of each error
// it joins. Errors without a position become a single ErrorInvalid
// diagnostic for fallbackFile at line 0. It returns nil for a nil err and
// at least one diagnostic otherwise. The diagnostics may be those inside
// err: do not change them.
func Diagnose(err error, fallbackFile string) DiagnosticList {
	if err == nil {
		return nil
	}
	found := diagnoseChain(err)
	if found == nil {
		return DiagnosticList{{File: fallbackFile, Msg: err.Error(), Kind: ErrorInvalid}}
	}
	for _, d := range found {
		if d.File == "" {
			d.File = fallbackFile
		}
	}
	return found
}

// diagnoseChain returns the innermost positioned diagnostics of one
// error chain; an error that joins several (errors.Join) contributes the
// diagnostics of each.
func diagnoseChain(err error) DiagnosticList {
	var found DiagnosticList
	for e := err; e != nil; e = errors.Unwrap(e) {
		if d := diagnoseOne(e); d != nil {
			found = d // keep the innermost positioned error
			continue
		}
		if joined, ok := e.(interface{ Unwrap() []error }); ok {
			var all DiagnosticList
			for _, je := range joined.Unwrap() {
				all = append(all, diagnoseChain(je)...)
			}
			if all != nil {
				found = all
			}
			break
		}
	}
	return found
}

// diagnoseOne returns the diagnostics of e itself (not of the errors it
// wraps) when e is positioned; nil otherwise.
func diagnoseOne(e error) DiagnosticList {
	switch e := e.(type) {
	case *Diagnostic:
		return DiagnosticList{e}
	case DiagnosticList:
		return e
	case syntax.Error:
		return DiagnosticList{diagAt(e.Pos, "%s", e.Msg).withKind(ErrorSyntax)}
	case resolve.ErrorList:
		l := make(DiagnosticList, len(e))
		for i, re := range e {
			l[i] = diagAt(re.Pos, "%s", re.Msg).withKind(ErrorSyntax)
		}
		return l
	case *starlark.EvalError:
		return DiagnosticList{evalDiagnostic(e)}
	}
	return nil
}

// evalDiagnostic positions a runtime error at the innermost frame that is
// in user code, so that an error raised inside a builtin (fail, json.decode)
// points at the user's call of it.
func evalDiagnostic(e *starlark.EvalError) *Diagnostic {
	msg := e.Msg
	// A load failure wraps the inner error's text; the inner error (if
	// positioned) is reported on its own by Diagnose.
	innermost := len(e.CallStack) - 1
	if strings.HasSuffix(msg, "called recursively") && innermost > 0 {
		// The function was just entered; the mistake is the call.
		innermost--
	}
	for i := innermost; i >= 0; i-- {
		fr := e.CallStack[i]
		if fr.Pos.Filename() == "<builtin>" || fr.Pos.Line == 0 {
			if i == len(e.CallStack)-1 && fr.Name != "fail" && fr.Name != "integration" && !strings.HasPrefix(msg, fr.Name) {
				msg = "in " + fr.Name + ": " + msg
			}
			continue
		}
		d := diagAt(fr.Pos, "%s", msg).withKind(evalKind(e, msg))
		if len(e.CallStack) > 1 {
			d.Backtrace = strings.TrimSpace(e.CallStack.String())
		}
		return d
	}
	return &Diagnostic{Msg: msg, Kind: evalKind(e, msg)}
}

// evalKind classifies a runtime error: a limit the sandbox enforced (its
// cancellation reasons, see sandbox.guardWith), a declaration the
// integration builtin refused, or any other runtime error.
func evalKind(e *starlark.EvalError, msg string) ErrorKind {
	if strings.Contains(msg, reasonSteps) || strings.Contains(msg, reasonTimeout) {
		return ErrorLimit
	}
	if n := len(e.CallStack); n > 0 && e.CallStack[n-1].Name == "integration" && e.CallStack[n-1].Pos.Filename() == "<builtin>" {
		return ErrorInvalid
	}
	return ErrorRuntime
}
