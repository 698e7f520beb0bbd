package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// Limits that keep hostile configs from exhausting the stack or the error list.
const (
	maxDepth  = 64  // nesting of parameters and lambdas
	maxErrors = 100 // compile errors reported before giving up
)

// Program is a compiled FieldMappingConfig. It is immutable and safe for
// concurrent use by any number of Runs.
type Program struct {
	rows []*row
}

// row is one compiled mappedFields entry.
type row struct {
	n        int // 1-based
	in       *expr
	optional bool // cardinality OPTIONAL on the input or the output field
	def      value.Value
	hasDef   bool
	out      value.Ref
	outSrc   string
}

type initKind uint8

const (
	initRef  initKind = iota // $var$, $var.a.b$
	initElem                 // ~x, ~x.a.b: the element of the innermost lambda
	initLit                  // literalValue
	initBase                 // baseFunction
)

// expr is a compiled TransformExpression.
type expr struct {
	kind  initKind
	src   string // reference as written
	ref   value.Ref
	path  value.Path // initElem
	lit   value.Value
	base  *call
	chain []*call
}

// call is one compiled function application.
type call struct {
	fam      *family
	fn       *fnSpec
	params   []*expr
	isConst  []bool        // parameter i is a literal, already converted in consts[i]
	consts   []value.Value //
	allConst bool          // every parameter is constant: args = consts
	lambda   *expr         // body of the lambda parameter
	prep     any           // state precomputed by fn.prep
}

func (c *call) label() string { return c.fam.short + " " + c.fn.name }

// paramKind is the declared kind of parameter i (the last kind repeats for
// variadic functions).
func (c *call) paramKind(i int) pkind {
	if i >= len(c.fn.params) {
		i = len(c.fn.params) - 1
	}
	return c.fn.params[i]
}

// Compile parses and checks a FieldMappingConfig: the text of the task's
// FieldMappingConfigTaskParameterKey jsonValue (lenient JSON: single quotes
// are accepted). It reports every problem it finds, joined with
// errors.Join; each is an *Error naming the row and the function.
func Compile(config string) (prog *Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, &Error{Msg: fmt.Sprintf("internal error compiling the config: %v", r)}
		}
	}()
	tree, err := value.ParseLenientJSON(config)
	if err != nil {
		return nil, &Error{Msg: "parse FieldMappingConfig: " + err.Error()}
	}
	if s, ok := tree.(string); ok { // the jsonValue quoted once more
		if tree, err = value.ParseLenientJSON(s); err != nil {
			return nil, &Error{Msg: "parse FieldMappingConfig: " + err.Error()}
		}
	}
	root, ok := tree.(*value.Object)
	if !ok {
		return nil, &Error{Msg: "FieldMappingConfig must be a JSON object, not " + value.DescribeJSON(tree)}
	}
	rows, err := arrField(root, "mappedFields")
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	cc := &compiler{}
	p := &Program{rows: make([]*row, 0, len(rows))}
	for i, r := range rows {
		cc.row = i + 1
		o, ok := r.(*value.Object)
		if !ok {
			cc.fail("", "mappedFields entry must be an object, not %s", value.DescribeJSON(r))
			continue
		}
		if rw := cc.compileRow(o); rw != nil {
			p.rows = append(p.rows, rw)
		}
		if len(cc.errs) >= maxErrors {
			break
		}
	}
	if len(cc.errs) > 0 {
		return nil, errors.Join(cc.errs...)
	}
	return p, nil
}

// Len is the number of rows.
func (p *Program) Len() int { return len(p.rows) }

type compiler struct {
	row  int
	errs []error
}

func (cc *compiler) fail(fn, format string, args ...any) {
	switch {
	case len(cc.errs) < maxErrors:
		cc.errs = append(cc.errs, &Error{Row: cc.row, Function: fn, Msg: fmt.Sprintf(format, args...)})
	case len(cc.errs) == maxErrors:
		cc.errs = append(cc.errs, &Error{Row: cc.row, Msg: "too many errors"})
	}
}

func (cc *compiler) compileRow(o *value.Object) *row {
	n := len(cc.errs)
	rw := &row{n: cc.row}
	in, _, err := objField(o, "inputField")
	if err != nil {
		cc.fail("", "%v", err)
	} else if in == nil {
		cc.fail("", "inputField is missing")
	}
	out, _, err := objField(o, "outputField")
	if err != nil {
		cc.fail("", "%v", err)
	} else if out == nil {
		cc.fail("", "outputField is missing")
	}
	for _, f := range []struct {
		name string
		o    *value.Object
	}{{"inputField", in}, {"outputField", out}} {
		if f.o == nil {
			continue
		}
		if ft, _, err := strField(f.o, "fieldType"); err != nil {
			cc.fail("", "%s.%v", f.name, err)
		} else if _, ok := value.KindOfDataType(ft); !ok {
			cc.fail("", "%s.fieldType: unknown data type %q", f.name, ft)
		}
		card, _, err := strField(f.o, "cardinality")
		switch {
		case err != nil:
			cc.fail("", "%s.%v", f.name, err)
		case card == "OPTIONAL":
			rw.optional = true
		case card == "" || card == "UNSPECIFIED" || card == "CARDINALITY_UNSPECIFIED":
		default:
			cc.fail("", "%s.cardinality: unknown value %q (want UNSPECIFIED or OPTIONAL)", f.name, card)
		}
		if !rw.hasDef {
			if dv, _, err := objField(f.o, "defaultValue"); err != nil {
				cc.fail("", "%s.%v", f.name, err)
			} else if dv != nil {
				v, err := decodeValueType(dv)
				if err != nil {
					cc.fail("", "%s.defaultValue: %v", f.name, err)
				} else if !v.IsNull() {
					rw.def, rw.hasDef = v, true
				}
			}
		}
	}
	if in != nil {
		te, _, err := objField(in, "transformExpression")
		switch {
		case err != nil:
			cc.fail("", "inputField.%v", err)
		case te != nil:
			rw.in = cc.expr(te, 0, 0)
		default:
			rk, _, err := strField(in, "referenceKey")
			switch {
			case err != nil:
				cc.fail("", "inputField.%v", err)
			case strings.TrimSpace(rk) == "":
				cc.fail("", "inputField has neither a transformExpression nor a referenceKey")
			default:
				e := &expr{}
				if cc.reference(rk, 0, e) {
					rw.in = e
				}
			}
		}
	}
	if out != nil {
		rk, _, err := strField(out, "referenceKey")
		switch {
		case err != nil:
			cc.fail("", "outputField.%v", err)
		case strings.TrimSpace(rk) == "":
			cc.fail("", "outputField.referenceKey is missing")
		case strings.HasPrefix(strings.TrimSpace(rk), "~"):
			cc.fail("", "outputField.referenceKey %q: a lambda element cannot be written", rk)
		default:
			r, err := value.ParseRef(rk)
			if err != nil || strings.Contains(r.Name, "$") {
				cc.fail("", "outputField.referenceKey %q is not a variable reference", rk)
			}
			rw.out, rw.outSrc = r, strings.TrimSpace(rk)
		}
	}
	if len(cc.errs) > n {
		return nil
	}
	return rw
}
