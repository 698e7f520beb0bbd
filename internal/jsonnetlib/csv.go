package jsonnetlib

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseCsvWithHeader(input, delimiter, overwrite_duplicate_headers) and
// manifestCsv(json, headers), on encoding/csv (RFC 4180 quoting).

func parseCSVNative(args []any) (any, error) {
	const fn = "parseCsvWithHeader"
	input, err := stringArg(fn, "input", args[0])
	if err != nil {
		return nil, err
	}
	delim, err := stringArg(fn, "delimiter", args[1])
	if err != nil {
		return nil, err
	}
	overwrite, err := boolArg(fn, "overwrite_duplicate_headers", args[2])
	if err != nil {
		return nil, err
	}
	comma, err := delimiterRune(delim)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(input, "\ufeff")))
	r.Comma = comma
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	out := make([]any, 0, max(len(records)-1, 0))
	if len(records) == 0 {
		return out, nil
	}
	header := records[0]
	for _, rec := range records[1:] {
		row := make(map[string]any, len(header))
		for i, h := range header {
			cell := ""
			if i < len(rec) {
				cell = rec[i]
			}
			if _, dup := row[h]; dup && !overwrite {
				continue
			}
			row[h] = cell
		}
		out = append(out, row)
	}
	return out, nil
}

func delimiterRune(d string) (rune, error) {
	r, size := utf8.DecodeRuneInString(d)
	if size == 0 || size != len(d) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, fmt.Errorf("delimiter must be a single character other than a quote or a line break, got %q", d)
	}
	return r, nil
}

func manifestCSVNative(args []any) (any, error) {
	const fn = "manifestCsv"
	rows, ok := args[0].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: json must be an array of objects, got %s", fn, typeName(args[0]))
	}
	objs := make([]map[string]any, len(rows))
	for i, r := range rows {
		o, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: element %d must be an object, got %s", fn, i, typeName(r))
		}
		objs[i] = o
	}
	var headers []string
	switch h := args[1].(type) {
	case nil:
		seen := map[string]any{}
		for _, o := range objs {
			for k := range o {
				seen[k] = nil
			}
		}
		headers = sortedKeys(seen)
	case []any:
		for i, e := range h {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: headers[%d] must be a string, got %s", fn, i, typeName(e))
			}
			headers = append(headers, s)
		}
	default:
		return nil, fmt.Errorf("%s: headers must be an array of strings or null, got %s", fn, typeName(args[1]))
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.Write(headers); err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	cells := make([]string, len(headers))
	for _, o := range objs {
		for i, h := range headers {
			cells[i] = csvCell(o[h])
		}
		if err := w.Write(cells); err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return b.String(), nil
}

// csvCell: strings as they are, numbers and booleans as text, null and
// missing fields empty, objects and arrays as compact JSON.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return formatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return compactJSON(v)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
