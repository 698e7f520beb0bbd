package mapping

import (
	"strconv"

	"github.com/integrationd/integrationd/internal/value"
)

func boolOp(op func(a, b bool) bool) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
		return value.Boolean(op(in.Bool(), a[0].Bool())), nil
	}
}

func init() {
	newFamily("booleanFunction", "boolean", value.Bool).add(
		fn("TO_JSON", toJSON),
		fn("NOT", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Boolean(!in.Bool()), nil
		}),
		fn("AND", boolOp(func(a, b bool) bool { return a && b }), pBool),
		fn("NAND", boolOp(func(a, b bool) bool { return !(a && b) }), pBool),
		fn("OR", boolOp(func(a, b bool) bool { return a || b }), pBool),
		fn("XOR", boolOp(func(a, b bool) bool { return a != b }), pBool),
		fn("NOR", boolOp(func(a, b bool) bool { return !(a || b) }), pBool),
		fn("XNOR", boolOp(func(a, b bool) bool { return a == b }), pBool),
		fn("TO_STRING", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(strconv.FormatBool(in.Bool())), nil
		}),
		fn("EQUALS", boolOp(func(a, b bool) bool { return a == b }), pBool),
	)
}
