package mapping

import (
	"fmt"
	"sort"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// reference compiles a referenceValue into e.
func (cc *compiler) reference(s string, lambdaDepth int, e *expr) bool {
	t := strings.TrimSpace(s)
	e.src = t
	if strings.HasPrefix(t, "~") {
		if lambdaDepth == 0 {
			cc.fail("", "%s refers to a lambda element outside a lambda", t)
			return false
		}
		name, rest := t[1:], ""
		if i := strings.IndexAny(name, ".["); i >= 0 {
			name, rest = name[:i], name[i:]
		}
		p, err := value.ParsePath(rest)
		if name == "" || err != nil {
			cc.fail("", "bad lambda element reference %q", t)
			return false
		}
		e.kind, e.path = initElem, p
		return true
	}
	r, err := value.ParseRef(t)
	if err != nil || strings.Contains(r.Name, "$") {
		cc.fail("", "bad reference %q", s)
		return false
	}
	e.kind, e.ref = initRef, r
	return true
}

// expr compiles a TransformExpression. It returns nil after reporting errors.
func (cc *compiler) expr(te *value.Object, lambdaDepth, depth int) *expr {
	if depth > maxDepth {
		cc.fail("", "expression nested deeper than %d levels", maxDepth)
		return nil
	}
	n := len(cc.errs)
	e := &expr{}
	iv, _, err := objField(te, "initialValue")
	switch {
	case err != nil:
		cc.fail("", "%v", err)
	case iv == nil:
		cc.fail("", "transformExpression has no initialValue")
	default:
		cc.initial(iv, e, lambdaDepth, depth)
	}
	fns, err := arrField(te, "transformationFunctions")
	if err != nil {
		cc.fail("", "%v", err)
	}
	for _, f := range fns {
		o, ok := f.(*value.Object)
		if !ok {
			cc.fail("", "transformationFunctions entry must be an object, not %s", value.DescribeJSON(f))
			continue
		}
		if c := cc.call(o, lambdaDepth, depth, false); c != nil {
			e.chain = append(e.chain, c)
		}
	}
	if len(cc.errs) > n {
		return nil
	}
	return e
}

func (cc *compiler) initial(iv *value.Object, e *expr, lambdaDepth, depth int) {
	if rv, ok, err := strField(iv, "referenceValue"); err != nil {
		cc.fail("", "%v", err)
		return
	} else if ok {
		cc.reference(rv, lambdaDepth, e)
		return
	}
	if lv, _, err := objField(iv, "literalValue"); err != nil {
		cc.fail("", "%v", err)
		return
	} else if lv != nil {
		e.kind = initLit
		if pv, _, err := objField(lv, "protoValue"); err != nil {
			cc.fail("", "literalValue.%v", err)
		} else if pv != nil {
			if isLambdaType(pv) {
				cc.fail("", "a lambda (protoValue TransformExpression) is only allowed as the parameter of FOR_EACH, FILTER or FILTER_ELEMENTS")
				return
			}
			v, err := protoLiteral(pv)
			if err != nil {
				cc.fail("", "literalValue: %v", err)
			}
			e.lit = v
			return
		}
		v, err := decodeValueType(lv)
		if err != nil {
			cc.fail("", "literalValue: %v", err)
		}
		e.lit = v
		return
	}
	if bf, _, err := objField(iv, "baseFunction"); err != nil {
		cc.fail("", "%v", err)
		return
	} else if bf != nil {
		e.kind = initBase
		e.base = cc.call(bf, lambdaDepth, depth, true)
		return
	}
	cc.fail("", "initialValue has no referenceValue, literalValue or baseFunction")
}

// lambdaBody returns the TransformExpression of a lambda parameter, if p is one.
func lambdaBody(p *value.Object) (*value.Object, bool) {
	iv, _, _ := objField(p, "initialValue")
	lv, _, _ := objField(iv, "literalValue")
	pv, _, _ := objField(lv, "protoValue")
	if pv == nil || !isLambdaType(pv) {
		return nil, false
	}
	return pv, true
}

// call compiles a Function ({functionType, parameters}). base says whether
// it starts an expression (initialValue.baseFunction).
func (cc *compiler) call(o *value.Object, lambdaDepth, depth int, base bool) *call {
	n := len(cc.errs)
	ft, _, err := objField(o, "functionType")
	if err != nil {
		cc.fail("", "%v", err)
		return nil
	}
	if ft == nil {
		cc.fail("", "function has no functionType")
		return nil
	}
	var fam *family
	var famObj *value.Object
	for _, k := range ft.Keys() {
		f, ok := families[camel(k)]
		if !ok {
			cc.fail("", "unknown function family %q", k)
			continue
		}
		if fam != nil {
			cc.fail("", "functionType names two families (%s and %s)", fam.key, f.key)
			continue
		}
		fam = f
		v, _ := ft.Get(k)
		famObj, _ = v.(*value.Object)
	}
	if fam == nil {
		if len(cc.errs) == n {
			cc.fail("", "functionType names no function family")
		}
		return nil
	}
	name, _, err := strField(famObj, "functionName")
	if err != nil {
		cc.fail(fam.short, "%v", err)
		return nil
	}
	label := fam.short + " " + name
	if name == "" || name == "UNSPECIFIED" {
		cc.fail(fam.short, "functionName is missing")
		return nil
	}
	if fam.unsupported != "" {
		cc.fail(label, "%s", fam.unsupported)
		return nil
	}
	switch {
	case base && fam.key != "baseFunction":
		cc.fail(label, "an expression can start only with a base function, not a %s function", fam.short)
		return nil
	case !base && fam.key == "baseFunction":
		cc.fail(label, "a base function takes no input; use it as an initial value or a parameter")
		return nil
	}
	spec := fam.fns[name]
	if spec == nil {
		if others := familiesWith(name); len(others) > 0 {
			cc.fail(label, "%s is not a %s function (it exists for %s)", name, fam.short, strings.Join(others, ", "))
		} else {
			cc.fail(label, "unknown function %s", name)
		}
		return nil
	}
	if spec.unsupported != "" {
		cc.fail(label, "%s", spec.unsupported)
		return nil
	}
	c := &call{fam: fam, fn: spec}
	params, err := arrField(o, "parameters")
	if err != nil {
		cc.fail(label, "%v", err)
		return nil
	}
	if msg := arity(spec, len(params)); msg != "" {
		cc.fail(label, "%s", msg)
		return nil
	}
	if spec.lambda {
		p, ok := params[0].(*value.Object)
		body, isLambda := lambdaBody(p)
		if !ok || !isLambda {
			cc.fail(label, "the parameter must be a lambda (a protoValue TransformExpression using ~x)")
			return nil
		}
		if fns, _ := arrField(p, "transformationFunctions"); len(fns) > 0 {
			cc.fail(label, "a lambda parameter cannot have transformationFunctions of its own")
			return nil
		}
		c.lambda = cc.expr(body, lambdaDepth+1, depth+1)
	} else {
		c.params = make([]*expr, len(params))
		c.isConst = make([]bool, len(params))
		c.consts = make([]value.Value, len(params))
		for i, p := range params {
			po, ok := p.(*value.Object)
			if !ok {
				cc.fail(label, "parameter %d must be an object, not %s", i+1, value.DescribeJSON(p))
				continue
			}
			pe := cc.expr(po, lambdaDepth, depth+1)
			if pe == nil {
				continue
			}
			c.params[i] = pe
			if pe.kind == initLit && len(pe.chain) == 0 {
				v := pe.lit
				if v.Kind() == value.Null {
					cc.fail(label, "parameter %d is an empty literal", i+1)
					continue
				}
				if k := c.paramKind(i).kind(fam); k != value.Null && v.Kind() != k {
					cv, err := value.Convert(v, k)
					if err != nil || cv.Kind() == value.Null {
						cc.fail(label, "parameter %d: %v", i+1, errOr(err, "null"))
						continue
					}
					v = cv
				}
				c.isConst[i], c.consts[i] = true, v
			}
		}
	}
	if len(cc.errs) > n {
		return nil
	}
	c.allConst = len(c.params) > 0
	for _, k := range c.isConst {
		c.allConst = c.allConst && k
	}
	if spec.prep != nil {
		if err := spec.prep(c); err != nil {
			cc.fail(label, "%v", err)
			return nil
		}
	}
	return c
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func arity(s *fnSpec, n int) string {
	plural := func(k int) string {
		if k == 1 {
			return "1 parameter"
		}
		return fmt.Sprintf("%d parameters", k)
	}
	switch {
	case s.lambda:
		if n != 1 {
			return fmt.Sprintf("takes 1 lambda parameter, got %d", n)
		}
	case s.variadic:
		if min := len(s.params); n < min {
			return fmt.Sprintf("takes at least %s, got %d", plural(min), n)
		}
	default:
		max := len(s.params)
		min := max - s.optional
		if n < min || n > max {
			if min == max {
				return fmt.Sprintf("takes %s, got %d", plural(max), n)
			}
			return fmt.Sprintf("takes %d to %d parameters, got %d", min, max, n)
		}
	}
	return ""
}

// familiesWith lists the families (short names) that have a function name.
func familiesWith(name string) []string {
	var out []string
	for _, k := range familyOrder {
		if f := families[k]; f != nil && f.fns[name] != nil {
			out = append(out, f.short)
		}
	}
	sort.Strings(out)
	return out
}
