package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Unmarshal decodes proto3 JSON into v as a proto3 JSON parser does: field
// names may be lowerCamelCase or snake_case, unknown fields are ignored, and
// the lenient scalar types of this package accept their alternative
// spellings. Keys of maps (parameter names, properties) are never renamed.
func Unmarshal(data []byte, v any) error {
	if !hasSnakeKey(data) {
		return json.Unmarshal(data, v)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	tree = camelize(tree, reflect.TypeOf(v))
	norm, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return json.Unmarshal(norm, v)
}

// hasSnakeKey reports whether data may hold an object key with an
// underscore (a string followed by ':'), the only case in which the slower
// renaming pass is needed. It scans strings once; a false positive only
// costs the slow path.
func hasSnakeKey(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		underscore := false
		j := i + 1
		for ; j < len(data) && data[j] != '"'; j++ {
			switch data[j] {
			case '\\':
				j++
			case '_':
				underscore = true
			}
		}
		i = j
		if !underscore {
			continue
		}
		for k := j + 1; k < len(data); k++ {
			c := data[k]
			if c == ':' {
				return true
			}
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				break
			}
		}
	}
	return false
}

// camelize renames snake_case keys of objects decoded for struct types to
// the struct's JSON names, guided by t.
func camelize(node any, t reflect.Type) any {
	for t != nil && (t.Kind() == reflect.Pointer) {
		t = t.Elem()
	}
	if t == nil {
		return node
	}
	switch n := node.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := structFields(t)
			out := make(map[string]any, len(n))
			for k, val := range n {
				name := k
				if _, ok := fields[name]; !ok && strings.Contains(k, "_") {
					name = lowerCamel(k)
				}
				if ft, ok := fields[name]; ok {
					val = camelize(val, ft)
				}
				if _, dup := out[name]; dup && name != k {
					continue // the lowerCamelCase spelling wins
				}
				out[name] = val
			}
			return out
		case reflect.Map:
			for k, val := range n {
				n[k] = camelize(val, t.Elem())
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, val := range n {
				n[i] = camelize(val, t.Elem())
			}
		}
	}
	return node
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

// lowerCamel turns "trigger_id" into "triggerId".
func lowerCamel(s string) string {
	var b strings.Builder
	up := false
	for i, r := range s {
		switch {
		case r == '_' && i > 0:
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// VersionType is the reflect type of IntegrationVersion, the root for
// ResolveKey when normalizing a version document.
var VersionType = reflect.TypeOf(IntegrationVersion{})

// ResolveKey maps a JSON key of an object decoded for type t to the
// lowerCamelCase name the model uses (snake_case keys are renamed) and
// returns the type of that field. For map types the key is kept and the
// element type returned. ok is false when t has no such field.
func ResolveKey(t reflect.Type, key string) (name string, ft reflect.Type, ok bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return key, nil, false
	}
	switch t.Kind() {
	case reflect.Map:
		return key, t.Elem(), true
	case reflect.Struct:
		fields := structFields(t)
		if ft, ok := fields[key]; ok {
			return key, ft, true
		}
		if strings.Contains(key, "_") {
			c := lowerCamel(key)
			if ft, ok := fields[c]; ok {
				return c, ft, true
			}
		}
	}
	return key, nil, false
}

// ElemType returns the element type of slice and array types, nil otherwise.
func ElemType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}
