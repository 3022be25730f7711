package startest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"

	"go.starlark.net/starlark"
)

// toStarlark converts plain Go data, as the host returns it
// (starhost.Result.Value), to new Starlark values: an int stays an int, a
// float a float; a map's keys are inserted in sorted order.
func toStarlark(v any) starlark.Value {
	switch v := v.(type) {
	case nil:
		return starlark.None
	case bool:
		return starlark.Bool(v)
	case int64:
		return starlark.MakeInt64(v)
	case int:
		return starlark.MakeInt(v)
	case *big.Int:
		return starlark.MakeBigInt(v)
	case float64:
		return starlark.Float(v)
	case json.Number:
		if i, ok := new(big.Int).SetString(string(v), 10); ok {
			return starlark.MakeBigInt(i)
		}
		f, _ := v.Float64()
		return starlark.Float(f)
	case string:
		return starlark.String(v)
	case []any:
		list := make([]starlark.Value, len(v))
		for i, x := range v {
			list[i] = toStarlark(x)
		}
		return starlark.NewList(list)
	case map[string]any:
		d := starlark.NewDict(len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			_ = d.SetKey(starlark.String(k), toStarlark(v[k])) // a new dict: never fails
		}
		return d
	}
	return starlark.String(fmt.Sprint(v)) // not made by the host's converter
}
