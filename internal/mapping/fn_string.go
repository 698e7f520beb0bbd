package mapping

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/value"
)

func init() {
	newFamily("stringFunction", "string", value.String).add(
		fn("CONCAT", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Str(in.Str() + a[0].Str()), nil
		}, pString),
		fn("TO_UPPERCASE", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			// Java's full case mapping turns ß into SS; Go's simple mapping keeps it.
			return value.Str(strings.ReplaceAll(strings.ToUpper(in.Str()), "ß", "SS")), nil
		}),
		fn("TO_LOWERCASE", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(strings.ToLower(in.Str())), nil
		}),
		fn("CONTAINS", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Boolean(strings.Contains(in.Str(), a[0].Str())), nil
		}, pString),
		fn("SPLIT", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Strings(strings.Split(in.Str(), a[0].Str())), nil
		}, pString),
		fn("LENGTH", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Integer(int64(utf16Len(in.Str()))), nil
		}),
		fn("EQUALS", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Boolean(in.Str() == a[0].Str()), nil
		}, pString),
		fn("EQUALS_IGNORE_CASE", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Boolean(strings.EqualFold(in.Str(), a[0].Str())), nil
		}, pString),
		fn("TO_INT", strToInt),
		fn("TO_DOUBLE", strToDouble),
		fn("TO_BOOLEAN", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Convert(in, value.Bool)
		}),
		fn("TO_BASE_64", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(base64.StdEncoding.EncodeToString([]byte(in.Str()))), nil
		}),
		fn("DECODE_BASE64_STRING", decodeBase64),
		fn("TO_JSON", strToJSON),
		&fnSpec{name: "REPLACE_ALL", params: []pkind{pString, pString}, impl: replaceAllFn, prep: replaceAllPrep},
		fn("SUBSTRING", substring, pInt, pInt),
		fn("RESOLVE_TEMPLATE", func(_ *call, x *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(value.CompileTemplate(in.Str()).Render(x.env)), nil
		}),
	)
}

// utf16Len is the length of s in UTF-16 code units, as Java's String.length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// substring is Java's String.substring(begin, end) over UTF-16 code units.
func substring(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	s, begin, end := in.Str(), a[0].Int(), a[1].Int()
	var n int64
	ascii := isASCII(s)
	if ascii {
		n = int64(len(s))
	} else {
		n = int64(utf16Len(s))
	}
	if begin < 0 || end > n || begin > end {
		return value.Value{}, fmt.Errorf("begin %d, end %d, length %d", begin, end, n)
	}
	if ascii {
		return value.Str(s[begin:end]), nil
	}
	u := utf16.Encode([]rune(s))
	return value.Str(string(utf16.Decode(u[begin:end]))), nil
}

// strToInt parses a decimal integer as Java's Long.parseLong does
// (surrounding blanks are trimmed); "2.5" and "1e3" are errors.
func strToInt(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	s := strings.TrimSpace(in.Str())
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return value.Value{}, fmt.Errorf("%q is out of the int64 range", s)
		}
		return value.Value{}, fmt.Errorf("%q is not an integer", s)
	}
	return value.Integer(i), nil
}

func strToDouble(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	s := strings.TrimSpace(in.Str())
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return value.Value{}, fmt.Errorf("%q is not a finite number", s)
	}
	return value.Float(f), nil
}

// decodeBase64 accepts the standard and the URL-safe alphabets, with or
// without padding, ignoring line breaks and blanks (MIME).
func decodeBase64(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, in.Str())
	s = strings.TrimRight(s, "=")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return value.Value{}, fmt.Errorf("not base64: %v", err)
	}
	return value.Str(strings.ToValidUTF8(string(b), "\uFFFD")), nil
}

// strToJSON parses the string as lenient JSON. Text that starts like an
// object or array must parse; any other text that is not JSON becomes a
// JSON string.
func strToJSON(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	if t := strings.TrimSpace(in.Str()); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		j, err := value.ParseLenientJSON(t)
		if err != nil {
			return value.Value{}, err
		}
		return value.FromJSON(j), nil
	}
	return value.Convert(in, value.JSON)
}

// REPLACE_ALL: a Go (RE2) regular expression and a Java-style replacement
// ($n, ${name}, \ escapes).

type replacePrep struct {
	re    *regexp.Regexp
	parts []replPart // nil unless the replacement is constant too
}

type replPart struct {
	lit   string
	group int // -1: literal
}

func replaceAllPrep(c *call) error {
	if !c.isConst[0] {
		return nil
	}
	re, err := compileRegexp(c.consts[0].Str())
	if err != nil {
		return err
	}
	p := &replacePrep{re: re}
	if c.isConst[1] {
		if p.parts, err = parseReplacement(c.consts[1].Str(), re); err != nil {
			return err
		}
	}
	c.prep = p
	return nil
}

func compileRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v (patterns use RE2 syntax: no lookaround or backreferences)", s, err)
	}
	return re, nil
}

func replaceAllFn(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	var re *regexp.Regexp
	var parts []replPart
	if p, ok := c.prep.(*replacePrep); ok {
		re, parts = p.re, p.parts
	}
	var err error
	if re == nil {
		if re, err = compileRegexp(a[0].Str()); err != nil {
			return value.Value{}, err
		}
	}
	if parts == nil {
		if parts, err = parseReplacement(a[1].Str(), re); err != nil {
			return value.Value{}, err
		}
	}
	s := in.Str()
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if len(matches) == 0 {
		return in, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		for _, p := range parts {
			if p.group < 0 {
				b.WriteString(p.lit)
			} else if m[2*p.group] >= 0 {
				b.WriteString(s[m[2*p.group]:m[2*p.group+1]])
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return value.Str(b.String()), nil
}

// parseReplacement reads a replacement as Java's Matcher.appendReplacement:
// $n refers to group n (further digits are taken while the group exists),
// ${name} to a named group, and a backslash quotes the next character.
func parseReplacement(s string, re *regexp.Regexp) ([]replPart, error) {
	parts := []replPart{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			if i >= len(s) {
				return nil, fmt.Errorf("replacement %q: character to be escaped is missing", s)
			}
			lit.WriteByte(s[i])
		case '$':
			i++
			if i >= len(s) {
				return nil, fmt.Errorf("replacement %q: illegal group reference: group index is missing", s)
			}
			if s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("replacement %q: named capturing group is missing trailing '}'", s)
				}
				name := s[i+1 : i+end]
				g := re.SubexpIndex(name)
				if g < 0 {
					return nil, fmt.Errorf("replacement %q: no group with name {%s}", s, name)
				}
				flush()
				parts = append(parts, replPart{group: g})
				i += end
				continue
			}
			if s[i] < '0' || s[i] > '9' {
				return nil, fmt.Errorf("replacement %q: illegal group reference", s)
			}
			g := int(s[i] - '0')
			for i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				ng := g*10 + int(s[i+1]-'0')
				if ng > groups {
					break
				}
				g = ng
				i++
			}
			if g > groups {
				return nil, fmt.Errorf("replacement %q: no group %d (the pattern has %d)", s, g, groups)
			}
			flush()
			parts = append(parts, replPart{group: g})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}
