package starhost

import (
	"fmt"

	starlarkjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// boundedJSON returns the json module integrations see: Starlark's
// (json.encode, json.decode, json.indent, json.encode_indent) with
// encode refusing values nested deeper or larger than the limits (the
// stock encoder recurses without bound and can overflow the Go stack) and
// decode and indent refusing documents nested deeper than
// Limits.MaxDepth.
func boundedJSON(limits Limits) *starlarkstruct.Module {
	members := starlark.StringDict{}
	for name, v := range starlarkjson.Module.Members {
		members[name] = v
	}
	wrap := func(name string, check func(args starlark.Tuple) error) {
		inner := starlarkjson.Module.Members[name].(*starlark.Builtin)
		members[name] = starlark.NewBuiltin("json."+name, func(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 {
				if err := check(args); err != nil {
					return nil, fmt.Errorf("json.%s: %w", name, err)
				}
			}
			return inner.CallInternal(t, args, kwargs)
		})
	}
	measureArg := func(args starlark.Tuple) error { return newConverter(limits).measure(args[0], 0) }
	textDepth := func(args starlark.Tuple) error {
		if s, ok := args[0].(starlark.String); ok {
			if d := jsonTextDepth(string(s)); d > limits.MaxDepth {
				return fmt.Errorf("document nested deeper than %d levels", limits.MaxDepth)
			}
		}
		return nil
	}
	wrap("encode", measureArg)
	wrap("encode_indent", measureArg)
	wrap("decode", textDepth)
	wrap("indent", textDepth)
	return &starlarkstruct.Module{Name: "json", Members: members}
}

// jsonTextDepth returns the deepest nesting of arrays and objects in a
// JSON text, ignoring brackets inside strings.
func jsonTextDepth(s string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
