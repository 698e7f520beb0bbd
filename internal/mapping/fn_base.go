package mapping

import (
	"fmt"

	"github.com/integrationd/integrationd/internal/value"
)

// maxIntList bounds INT_LIST so that a typo cannot allocate gigabytes.
const maxIntList = 100_000

func init() {
	str := func(get func(b *BaseContext) string) fnImpl {
		return func(_ *call, x *evalCtx, _ value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(get(x.base)), nil
		}
	}
	newFamily("baseFunction", "base", value.Null).add(
		fn("NOW_IN_MILLIS", func(_ *call, x *evalCtx, _ value.Value, _ []value.Value) (value.Value, error) {
			return value.Integer(x.base.Now().UnixMilli()), nil
		}),
		fn("INT_LIST", intList, pInt, pInt),
		fn("ENVIRONMENT", str(func(b *BaseContext) string { return b.Environment })),
		fn("GET_EXECUTION_ID", str(func(b *BaseContext) string { return b.ExecutionID })),
		fn("GET_INTEGRATION_NAME", str(func(b *BaseContext) string { return b.IntegrationName })),
		fn("GET_REGION", str(func(b *BaseContext) string { return b.Region })),
		fn("GET_UUID", str(func(b *BaseContext) string { return b.NewUUID() })),
		fn("GET_PROJECT_ID", str(func(b *BaseContext) string { return b.ProjectID })),
	)
}

// intList is INT_LIST(start, end): start, start+1, ..., end-1 (end
// exclusive, empty when end <= start).
func intList(_ *call, _ *evalCtx, _ value.Value, args []value.Value) (value.Value, error) {
	start, end := args[0].Int(), args[1].Int()
	if end <= start {
		return value.Ints(nil), nil
	}
	if n := uint64(end) - uint64(start); n > maxIntList {
		return value.Value{}, fmt.Errorf("list of %d elements is longer than the limit of %d", n, maxIntList)
	}
	out := make([]int64, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, i)
	}
	return value.Ints(out), nil
}
