package jsonnetlib

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	jsonnet "github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
	"github.com/google/go-jsonnet/toolutils"
)

// Error is a Jsonnet error located in a template: a syntax or static
// error found by Compile, or a run-time error (a failed assertion,
// `error "msg"`, a type error, an undefined external variable...) found by
// Evaluate. Line and Column are 1-based positions in the template, 0 when
// the error has none there.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
	// Trace is the Jsonnet call stack of a run-time error, innermost frame
	// first, each as "file:line:col" followed by the function name when
	// there is one. It is nil for compile errors.
	Trace []string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Template is a compiled Jsonnet template. It is immutable and may be
// evaluated by any number of goroutines at once.
type Template struct {
	name string
	node ast.Node
	// refs are the variable names the template reads with a literal
	// std.extVar("name") / f.extVar("name"), sorted; allVars is set when
	// the template may reach extVar in a way the scan cannot follow, and
	// then every variable is offered.
	refs    []string
	allVars bool
	// nodes caches the external-variable node of each name (see extNode).
	nodes sync.Map // string -> ast.Node
}

// Compile parses and analyses a template once. name is the file name
// used in error positions ("template" for the task parameter). Errors are
// *Error values carrying the position of the first problem.
func Compile(name, source string) (*Template, error) {
	node, err := jsonnet.SnippetToAST(name, source)
	if err != nil {
		return nil, staticError(name, err)
	}
	t := &Template{name: name, node: node}
	s := scanner{aliases: map[ast.Identifier]bool{"std": true}, refs: map[string]bool{}}
	s.collectAliases(node)
	if err := s.walk(node, nil); err != nil {
		return nil, err
	}
	t.allVars = s.all
	for n := range s.refs {
		t.refs = append(t.refs, n)
	}
	sort.Strings(t.refs)
	for _, n := range t.refs {
		t.nodes.Store(n, extNode(n))
	}
	return t, nil
}

// Name returns the file name the template was compiled under.
func (t *Template) Name() string { return t.name }

// Vars reports which variables the template reads: the literal names of
// its extVar calls, and all=true when it may read others (extVar called
// with a computed name, or std / the functions library used as a value),
// in which case every variable is offered to it.
func (t *Template) Vars() (names []string, all bool) {
	return append([]string(nil), t.refs...), t.allVars
}

// staticError turns a go-jsonnet parse or analysis error into an *Error.
func staticError(name string, err error) error {
	e := &Error{File: name, Msg: err.Error()}
	var located interface{ Loc() ast.LocationRange }
	if errors.As(err, &located) {
		loc := located.Loc()
		if loc.IsSet() {
			e.Line, e.Column = loc.Begin.Line, loc.Begin.Column
			e.Msg = strings.TrimSpace(strings.TrimPrefix(e.Msg, loc.String()))
		}
	}
	return e
}

// runtimeError turns an evaluation error into an *Error located at the
// innermost frame that lies in the template itself.
func (t *Template) runtimeError(err error) error {
	var re jsonnet.RuntimeError
	if !errors.As(err, &re) {
		return &Error{File: t.name, Msg: err.Error()}
	}
	e := &Error{File: t.name, Msg: re.Msg}
	for _, f := range re.StackTrace {
		if !f.Loc.IsSet() {
			continue
		}
		frame := f.Loc.String()
		if f.Name != "" {
			frame += " " + f.Name
		}
		e.Trace = append(e.Trace, frame)
		if e.Line == 0 && f.Loc.FileName == t.name {
			e.Line, e.Column = f.Loc.Begin.Line, f.Loc.Begin.Column
		}
	}
	return e
}

// scanner finds the variables a template reads. It accepts
// X.extVar("literal") where X is std or a local bound to
// `import "functions"`; any other use of std, of the library or of a
// field named extVar makes it give up (all=true), because the template
// could then reach extVar with a name the scan cannot see.
type scanner struct {
	aliases map[ast.Identifier]bool // std and the locals bound to the library
	refs    map[string]bool
	all     bool
}

func (s *scanner) collectAliases(n ast.Node) {
	if l, ok := n.(*ast.Local); ok {
		for _, b := range l.Binds {
			if isLibraryImport(b.Body) {
				s.aliases[b.Variable] = true
			}
		}
	}
	for _, c := range toolutils.Children(n) {
		s.collectAliases(c)
	}
}

func isLibraryImport(n ast.Node) bool {
	imp, ok := n.(*ast.Import)
	return ok && imp.File != nil && imp.File.Value == LibraryName
}

// literalIndex returns the field name of x.name / x["name"].
func literalIndex(ix *ast.Index) (string, bool) {
	if ix.Id != nil {
		return string(*ix.Id), true
	}
	if ls, ok := ix.Index.(*ast.LiteralString); ok {
		return ls.Value, true
	}
	return "", false
}

// walk visits n, whose parent is parent (nil at the root). It returns an
// *Error for an import the task cannot satisfy.
func (s *scanner) walk(n, parent ast.Node) error {
	switch x := n.(type) {
	case *ast.Import:
		if x.File == nil || x.File.Value != LibraryName {
			return importError(x.Loc(), x.File)
		}
		if !s.isLibraryUse(x, parent) && !isBindBody(x, parent) {
			s.all = true
		}
	case *ast.ImportStr:
		return importError(x.Loc(), x.File)
	case *ast.ImportBin:
		return importError(x.Loc(), x.File)
	case *ast.Var:
		if s.aliases[x.Id] && !s.isLibraryUse(x, parent) {
			s.all = true
		}
	case *ast.Index:
		// x.extVar on something other than std or the library (say a
		// local alias of either) cannot be told apart from a harmless
		// field: give up unless it is a plain call with a literal name.
		if name, ok := literalIndex(x); ok && name == "extVar" {
			if _, isCall := s.extVarCall(x, parent); !isCall {
				s.all = true
			}
		}
	case *ast.Apply:
		if ix, ok := x.Target.(*ast.Index); ok {
			if name, ok := literalIndex(ix); ok && name == "extVar" {
				if v, ok := s.extVarCall(ix, x); ok {
					s.refs[v] = true
				}
			}
		}
	}
	for _, c := range toolutils.Children(n) {
		if err := s.walk(c, n); err != nil {
			return err
		}
	}
	return nil
}

// isLibraryUse reports whether n (std, an alias of the library or the
// import itself) is used as parent.field with a literal field name, and,
// when that field is extVar, as a call with a literal name.
func (s *scanner) isLibraryUse(n, parent ast.Node) bool {
	ix, ok := parent.(*ast.Index)
	if !ok || ix.Target != n {
		return false
	}
	_, ok = literalIndex(ix)
	return ok // x.extVar is checked when the Index itself is visited
}

// isBindBody reports whether n is the value of a local bound in parent.
func isBindBody(n, parent ast.Node) bool {
	if l, ok := parent.(*ast.Local); ok {
		for _, b := range l.Binds {
			if b.Body == n {
				return true
			}
		}
	}
	return false
}

// extVarCall reports whether the Index ix (a .extVar) is the target of
// the call parent with exactly one positional argument, a literal string,
// and returns that name.
func (s *scanner) extVarCall(ix *ast.Index, parent ast.Node) (string, bool) {
	call, ok := parent.(*ast.Apply)
	if !ok || call.Target != ix || len(call.Arguments.Positional) != 1 || len(call.Arguments.Named) != 0 {
		return "", false
	}
	ls, ok := call.Arguments.Positional[0].Expr.(*ast.LiteralString)
	if !ok {
		return "", false
	}
	return ls.Value, true
}

func importError(loc *ast.LocationRange, file *ast.LiteralString) error {
	path := ""
	if file != nil {
		path = file.Value
	}
	e := &Error{Msg: fmt.Sprintf("cannot import %q: only the %q library can be imported", path, LibraryName)}
	if loc != nil {
		e.File, e.Line, e.Column = loc.FileName, loc.Begin.Line, loc.Begin.Column
	}
	return e
}

// extNode is the expression an external variable is bound to:
// std.native("integrationd.extVar")(name). go-jsonnet evaluates it
// lazily, the first time the template calls extVar(name), so a variable
// the template does not read is never converted.
func extNode(name string) ast.Node {
	return &ast.Apply{
		Target: extVarNative,
		Arguments: ast.Arguments{Positional: []ast.CommaSeparatedExpr{
			{Expr: &ast.LiteralString{Value: name, Kind: ast.StringDouble}},
		}},
	}
}

// extVarNative is $std.native("integrationd.extVar"), shared by every
// external-variable node ($std is the standard library as the desugarer
// sees it; users cannot shadow it).
var extVarNative = &ast.Apply{
	Target: &ast.Index{
		Target: &ast.Var{Id: "$std"},
		Index:  &ast.LiteralString{Value: "native", Kind: ast.StringDouble},
	},
	Arguments: ast.Arguments{Positional: []ast.CommaSeparatedExpr{
		{Expr: &ast.LiteralString{Value: nativeExtVar, Kind: ast.StringDouble}},
	}},
}

// extNodeOf returns the external-variable node of name, building it once.
func (t *Template) extNodeOf(name string) ast.Node {
	if n, ok := t.nodes.Load(name); ok {
		return n.(ast.Node)
	}
	n, _ := t.nodes.LoadOrStore(name, extNode(name))
	return n.(ast.Node)
}
