package mapping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/integrationd/integrationd/internal/value"
)

// Env is what a Run reads and writes: the execution's variables and its
// context. *value.Vars provides Lookup, Set and SetPath; the engine wraps it
// to add Base.
type Env interface {
	value.Getter
	// Set writes a whole variable, converting v to the variable's declared
	// kind (value.Convert); a failed conversion is an error.
	Set(name string, v value.Value) error
	// SetPath writes v at path p inside the JSON variable name, creating
	// the missing objects on the way.
	SetPath(name string, p value.Path, v value.Value) error
	// Base returns what the base functions report.
	Base() BaseContext
}

// BaseContext is the execution context read by the base functions
// (GET_EXECUTION_ID, GET_REGION...). Now defaults to time.Now and NewUUID
// to a random (version 4) UUID.
type BaseContext struct {
	ExecutionID, IntegrationName, Region, ProjectID, Environment string
	Now                                                          func() time.Time
	NewUUID                                                      func() string
}

// evalCtx carries one Run through the expression tree.
type evalCtx struct {
	ctx  context.Context
	env  Env
	base *BaseContext
	elem value.Value // ~x of the innermost lambda
}

// Run applies the rows in order; a row sees the writes of the rows before
// it. It stops at the first failing row and returns an *Error. A row whose
// result is null (or whose input reference is not found) writes its
// defaultValue when it has one, is skipped when its cardinality is
// OPTIONAL, and fails otherwise.
func (p *Program) Run(ctx context.Context, env Env) error {
	base := env.Base()
	if base.Now == nil {
		base.Now = time.Now
	}
	if base.NewUUID == nil {
		base.NewUUID = uuid.NewString
	}
	x := &evalCtx{ctx: ctx, env: env, base: &base}
	for _, r := range p.rows {
		if err := ctx.Err(); err != nil {
			return &Error{Row: r.n, Msg: err.Error(), err: err}
		}
		if err := r.run(x); err != nil {
			return err
		}
	}
	return nil
}

func (r *row) run(x *evalCtx) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = &Error{Row: r.n, Msg: fmt.Sprintf("internal error: %v", rec)}
		}
	}()
	v, err := r.in.eval(x)
	why := ""
	if err != nil {
		var ne *nullError
		if !errors.As(err, &ne) {
			var me *Error
			if errors.As(err, &me) && me.Row == 0 {
				me.Row = r.n
			}
			return err
		}
		v, why = value.Value{}, ne.Error()
	}
	if v.IsNull() {
		switch {
		case r.hasDef:
			v = r.def
		case r.optional:
			return nil
		default:
			if why == "" {
				why = "input " + r.in.String() + " is null or not found"
			}
			return &Error{Row: r.n, Msg: why + " (the row is required: set cardinality OPTIONAL or a defaultValue)"}
		}
	}
	return r.write(x.env, v)
}

func (r *row) write(env Env, v value.Value) error {
	ref := r.out
	if ref.Alt != nil {
		if _, ok := env.Lookup(ref.Name); !ok {
			if _, ok := env.Lookup(ref.Alt.Name); ok {
				ref = *ref.Alt
			}
		}
	}
	var err error
	if len(ref.Path) == 0 {
		err = env.Set(ref.Name, v)
	} else {
		err = env.SetPath(ref.Name, ref.Path, v)
	}
	if err != nil {
		return &Error{Row: r.n, Msg: "write " + r.outSrc + ": " + err.Error(), err: err}
	}
	return nil
}

// eval evaluates an expression. A null value stops the chain: the result
// is null and the row's null rules apply.
func (e *expr) eval(x *evalCtx) (value.Value, error) {
	var v value.Value
	switch e.kind {
	case initRef:
		v, _ = e.ref.Resolve(x.env)
	case initElem:
		v = x.elem
		if len(e.path) > 0 && !v.IsNull() {
			j, ok := value.GetPath(v.ToJSON(), e.path)
			if !ok {
				return value.Value{}, nil
			}
			v = value.FromJSON(j)
		}
	case initLit:
		v = e.lit
	case initBase:
		var err error
		if v, err = e.base.eval(x, value.Value{}); err != nil {
			return value.Value{}, err
		}
	}
	for _, c := range e.chain {
		if v.IsNull() && !c.fn.nullIn {
			return v, nil
		}
		var err error
		if v, err = c.eval(x, v); err != nil {
			return value.Value{}, err
		}
	}
	return v, nil
}

// eval applies the function to in.
func (c *call) eval(x *evalCtx, in value.Value) (value.Value, error) {
	if k := c.fam.kind; k != value.Null && in.Kind() != k && !in.IsNull() {
		cv, err := value.Convert(in, k)
		if err != nil {
			return value.Value{}, c.errorf(nil, "the input is %s, not %s: %v", in.Kind(), k, err)
		}
		in = cv
	}
	var args []value.Value
	if c.allConst {
		args = c.consts // shared and read-only: functions never modify args
	} else if len(c.params) > 0 {
		args = make([]value.Value, len(c.params))
		for i, p := range c.params {
			if c.isConst[i] {
				args[i] = c.consts[i]
				continue
			}
			v, err := p.eval(x)
			if err != nil {
				return value.Value{}, err
			}
			if k := c.paramKind(i).kind(c.fam); k != value.Null && v.Kind() != k && !v.IsNull() {
				cv, err := value.Convert(v, k)
				if err != nil {
					return value.Value{}, c.errorf(args[:i], "parameter %d: %v", i+1, err)
				}
				v = cv
			}
			if v.Kind() == value.Null || (v.IsNull() && c.paramKind(i) != pAny) {
				return value.Value{}, &nullError{fn: c.label(), idx: i, src: p.String()}
			}
			args[i] = v
		}
	}
	out, err := c.fn.impl(c, x, in, args)
	if err == nil {
		err = checkSize(out)
	}
	if err != nil {
		var me *Error
		if errors.As(err, &me) {
			return value.Value{}, err
		}
		var ne *nullError
		if errors.As(err, &ne) {
			return value.Value{}, err
		}
		e := c.errorf(args, "%v", err)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e.err = err
		}
		return value.Value{}, e
	}
	return out, nil
}

// errorf builds an *Error naming the call with the arguments known so far.
func (c *call) errorf(args []value.Value, format string, a ...any) *Error {
	return &Error{Function: c.describe(args), Msg: fmt.Sprintf(format, a...)}
}

// lambdaCtx returns the context in which the lambda of c runs; apply binds
// ~x in it for each element.
func (c *call) lambdaCtx(x *evalCtx) *evalCtx {
	y := *x
	return &y
}

// apply evaluates the lambda with ~x bound to elem.
func (c *call) apply(y *evalCtx, elem value.Value) (value.Value, error) {
	y.elem = elem
	return c.lambda.eval(y)
}

// Limits on the values a function may produce, so that a config cannot
// exhaust memory (REPLACE_ALL or CONCAT chains, SPLIT of huge text).
const (
	maxStringBytes = 16 << 20
	maxArrayLen    = 1 << 20
)

func checkSize(v value.Value) error {
	switch {
	case v.Kind() == value.String && len(v.Str()) > maxStringBytes:
		return fmt.Errorf("the result is %d bytes long, more than the limit of %d", len(v.Str()), maxStringBytes)
	case v.Len() > maxArrayLen:
		return fmt.Errorf("the result has %d elements, more than the limit of %d", v.Len(), maxArrayLen)
	}
	return nil
}
