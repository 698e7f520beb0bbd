package jsonnetlib

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones must not depend on the host's zoneinfo
)

// dateFormat(timestamp, format_string, timezone, current_format).
//
// The pattern dialect is Moment.js's (YYYY, MM, DD, HH, mm, ss...), which is
// what the sample templates use ('YYYY', 'M', 'D', 'HH', 'm'); see
// docs/jsonnet.md for the table. timezone names the zone the input is read
// in (when it carries none) and the output is written in. current_format
// says how to read the timestamp: "E" or "X" epoch seconds, "x" epoch
// milliseconds, "" to guess (numbers are epoch seconds, strings RFC 3339 or
// ISO 8601 forms), or a pattern of the same dialect.
func dateFormatNative(args []any) (any, error) {
	const fn = "dateFormat"
	pattern, err := stringArg(fn, "format_string", args[1])
	if err != nil {
		return nil, err
	}
	zone, err := stringArg(fn, "timezone", args[2])
	if err != nil {
		return nil, err
	}
	current, err := stringArg(fn, "current_format", args[3])
	if err != nil {
		return nil, err
	}
	loc, err := location(zone)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	t, err := readTimestamp(args[0], current, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	out, err := formatDate(t.In(loc), pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return out, nil
}

// A piece of a pattern: a token such as "YYYY", or literal text.
type piece struct {
	tok string
	lit string
}

// tokenRuns lists, for each pattern letter, the run lengths that form a
// token, longest first. Other letters, and runs no token matches, are
// literal text.
var tokenRuns = map[byte][]int{
	'Y': {4, 2},
	'M': {4, 3, 2, 1},
	'D': {4, 3, 2, 1},
	'd': {4, 3, 1},
	'H': {2, 1},
	'h': {2, 1},
	'm': {2, 1},
	's': {2, 1},
	'S': {9, 8, 7, 6, 5, 4, 3, 2, 1},
	'A': {1},
	'a': {1},
	'Z': {2, 1},
	'z': {1},
	'X': {1},
	'x': {1},
}

// tokenize splits a pattern; [text] is literal text.
func tokenize(p string) ([]piece, error) {
	var out []piece
	lit := func(s string) {
		if n := len(out); n > 0 && out[n-1].tok == "" {
			out[n-1].lit += s
			return
		}
		out = append(out, piece{lit: s})
	}
	for i := 0; i < len(p); {
		c := p[i]
		if c == '[' {
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in pattern %q", p)
			}
			lit(p[i+1 : i+1+end])
			i += end + 2
			continue
		}
		runs, isTok := tokenRuns[c]
		if !isTok {
			lit(p[i : i+1])
			i++
			continue
		}
		run := 1
		for i+run < len(p) && p[i+run] == c {
			run++
		}
		n := 0
		for _, r := range runs {
			if r <= run {
				n = r
				break
			}
		}
		if n == 0 {
			lit(p[i : i+run])
			i += run
			continue
		}
		out = append(out, piece{tok: p[i : i+n]})
		i += n
	}
	return out, nil
}

// formatDate renders t with a pattern.
func formatDate(t time.Time, pattern string) (string, error) {
	pieces, err := tokenize(pattern)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.tok == "" {
			b.WriteString(p.lit)
			continue
		}
		b.WriteString(formatToken(t, p.tok))
	}
	return b.String(), nil
}

func formatToken(t time.Time, tok string) string {
	pad := func(n, width int) string {
		s := strconv.Itoa(n)
		for len(s) < width {
			s = "0" + s
		}
		return s
	}
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch tok {
	case "YYYY":
		return pad(t.Year(), 4)
	case "YY":
		return pad(((t.Year()%100)+100)%100, 2)
	case "MMMM":
		return t.Month().String()
	case "MMM":
		return t.Month().String()[:3]
	case "MM":
		return pad(int(t.Month()), 2)
	case "M":
		return strconv.Itoa(int(t.Month()))
	case "DDDD":
		return pad(t.YearDay(), 3)
	case "DDD":
		return strconv.Itoa(t.YearDay())
	case "DD":
		return pad(t.Day(), 2)
	case "D":
		return strconv.Itoa(t.Day())
	case "dddd":
		return t.Weekday().String()
	case "ddd":
		return t.Weekday().String()[:3]
	case "d":
		return strconv.Itoa(int(t.Weekday()))
	case "HH":
		return pad(t.Hour(), 2)
	case "H":
		return strconv.Itoa(t.Hour())
	case "hh":
		return pad(hour12, 2)
	case "h":
		return strconv.Itoa(hour12)
	case "mm":
		return pad(t.Minute(), 2)
	case "m":
		return strconv.Itoa(t.Minute())
	case "ss":
		return pad(t.Second(), 2)
	case "s":
		return strconv.Itoa(t.Second())
	case "A":
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	case "a":
		if t.Hour() < 12 {
			return "am"
		}
		return "pm"
	case "Z":
		return t.Format("-07:00")
	case "ZZ":
		return t.Format("-0700")
	case "z":
		return t.Format("MST")
	case "X":
		return strconv.FormatInt(t.Unix(), 10)
	case "x":
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	if tok[0] == 'S' { // fractional seconds, len(tok) digits
		return pad(t.Nanosecond(), 9)[:len(tok)]
	}
	return tok
}

// goLayout translates a pattern into a layout for time.Parse. Tokens that
// time.Parse cannot read (DDD, d, X, x inside a pattern) and literal text
// it would mistake for layout elements (digits, "_", Jan, Mon, MST, PM,
// pm) are rejected.
func goLayout(pattern string) (string, error) {
	pieces, err := tokenize(pattern)
	if err != nil {
		return "", err
	}
	layouts := map[string]string{
		"YYYY": "2006", "YY": "06", "MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1",
		"DDDD": "002", "DD": "02", "D": "2", "dddd": "Monday", "ddd": "Mon",
		"HH": "15", "H": "15", "hh": "03", "h": "3", "mm": "04", "m": "4", "ss": "05", "s": "5",
		"A": "PM", "a": "pm", "Z": "Z07:00", "ZZ": "Z0700", "z": "MST",
	}
	var b strings.Builder
	for i, p := range pieces {
		if p.tok == "" {
			if strings.ContainsAny(p.lit, "0123456789_") || containsAny(p.lit, "Jan", "Mon", "MST", "PM", "pm") {
				return "", fmt.Errorf("cannot parse with pattern %q: the literal text %q is ambiguous; use an RFC 3339 timestamp or epoch seconds", pattern, p.lit)
			}
			b.WriteString(p.lit)
			continue
		}
		if l, ok := layouts[p.tok]; ok {
			b.WriteString(l)
			continue
		}
		if p.tok[0] == 'S' && i > 0 && pieces[i-1].tok == "" &&
			(strings.HasSuffix(pieces[i-1].lit, ".") || strings.HasSuffix(pieces[i-1].lit, ",")) {
			b.WriteString(strings.Repeat("0", len(p.tok)))
			continue
		}
		return "", fmt.Errorf("cannot parse with pattern %q: %s is not supported for parsing", pattern, p.tok)
	}
	return b.String(), nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// autoLayouts are the forms current_format "" accepts for strings.
var autoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// readTimestamp reads the timestamp argument of dateFormat.
func readTimestamp(v any, current string, loc *time.Location) (time.Time, error) {
	switch current {
	case "E", "X", "x":
		f, err := numericTimestamp(v)
		if err != nil {
			return time.Time{}, err
		}
		if current == "x" {
			return epochMillis(f)
		}
		return epoch(f)
	case "":
		switch x := v.(type) {
		case float64:
			return epoch(x)
		case string:
			s := strings.TrimSpace(x)
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return epoch(f)
			}
			for _, l := range autoLayouts {
				if t, err := time.ParseInLocation(l, s, loc); err == nil {
					return t, nil
				}
			}
			return time.Time{}, fmt.Errorf("cannot read timestamp %q: pass current_format", x)
		}
		return time.Time{}, fmt.Errorf("timestamp must be a number or a string, got %s", typeName(v))
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("timestamp must be a string to be read with pattern %q, got %s", current, typeName(v))
	}
	layout, err := goLayout(current)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot read timestamp %q with pattern %q: %v", s, current, err)
	}
	return t, nil
}

func numericTimestamp(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("timestamp must be a number, got %s", typeName(v))
}

// epoch converts seconds since 1970 to a time. A float64 near today's
// epoch seconds is precise to about 0.2 µs, so the fraction is rounded to
// whole microseconds.
func epoch(sec float64) (time.Time, error) {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e13 {
		return time.Time{}, fmt.Errorf("timestamp %v is out of range", sec)
	}
	whole := math.Floor(sec)
	us := math.Round((sec - whole) * 1e6)
	return time.Unix(int64(whole), int64(us)*1e3).UTC(), nil
}

// epochMillis converts milliseconds since 1970 to a time.
func epochMillis(ms float64) (time.Time, error) {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || math.Abs(ms) > 1e16 {
		return time.Time{}, fmt.Errorf("timestamp %v is out of range", ms)
	}
	whole := math.Floor(ms)
	us := math.Round((ms - whole) * 1e3)
	return time.UnixMilli(int64(whole)).Add(time.Duration(us) * time.Microsecond).UTC(), nil
}

// locations caches time zones (time.LoadLocation reads the database each
// time).
var locations sync.Map // string -> *time.Location

// location resolves a time zone: an IANA name ("Europe/Paris"), "UTC",
// "GMT" or "Z", a fixed offset ("+05:30", "-0800", "+5"), optionally
// after UTC or GMT ("UTC+5", "GMT-03:00"). "" is UTC.
func location(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	switch strings.ToUpper(name) {
	case "", "UTC", "GMT", "Z":
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	loc, err := loadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

func loadLocation(name string) (*time.Location, error) {
	off := name
	for _, prefix := range []string{"UTC", "GMT", "utc", "gmt"} {
		off = strings.TrimPrefix(off, prefix)
	}
	if off != "" && (off[0] == '+' || off[0] == '-') {
		if secs, ok := parseOffset(off); ok {
			return time.FixedZone(name, secs), nil
		}
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// parseOffset reads +HH, +H, +HH:MM or +HHMM.
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	var hh, mm string
	switch {
	case strings.Contains(s, ":"):
		hh, mm, _ = strings.Cut(s, ":")
	case len(s) == 4:
		hh, mm = s[:2], s[2:]
	default:
		hh, mm = s, "0"
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || len(hh) == 0 || len(hh) > 2 || h > 18 || m < 0 || m > 59 || h < 0 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}
