package mapping

import (
	"fmt"
	"strings"
)

// Error is a compile or run failure of a mapping. Row is the 1-based index
// of the mappedFields row (0 for a problem with the config as a whole);
// Function names the failing function with its family and, at run time, its
// evaluated arguments ("stringArray GET(5)"); it is empty for row-level
// problems such as a null required input or a failed write.
type Error struct {
	Row      int
	Function string
	Msg      string

	err error // cause, for errors.Is (context cancellation)
}

// Error formats the error as "mapping row N: FUNCTION: MSG".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "mapping row %d: ", e.Row)
	} else {
		b.WriteString("mapping: ")
	}
	if e.Function != "" {
		b.WriteString(e.Function)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the cause, such as context.Canceled.
func (e *Error) Unwrap() error { return e.err }

// nullError reports that a parameter of a function evaluated to null. The
// row treats it like a null input: defaultValue, then cardinality.
type nullError struct {
	fn  string
	idx int
	src string
}

func (e *nullError) Error() string {
	return fmt.Sprintf("%s: parameter %d (%s) is null or not found", e.fn, e.idx+1, e.src)
}
