package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// memberProblem is the first thing checkMembers found wrong with the
// object members of a document.
type memberProblem struct {
	path      string // the member's JSON path, "lines[1].unit_price"
	duplicate bool   // it appears twice; otherwise its name is a field's only when case is ignored
	tooDeep   bool   // the document nests deeper than maxDepth (path is empty)
}

// maxDepth is encoding/json's own limit: deeper documents are refused by
// the decoder anyway, and the walk stops there rather than follow a body of
// a million brackets.
const maxDepth = 10000

// checkMembers walks doc, whose value is to be decoded into a value of type
// t (nil: unknown), and reports the first member that appears twice in one
// object, names compared as encoding/json compares them, or else the first
// member whose name matches a field of t only when case is ignored.
//
// encoding/json keeps the last of two values and matches names ignoring
// case, with Unicode folding (U+017F "ſ" matches "s", U+212A the Kelvin
// sign matches "k"). Either would let a client send a value that a
// reviewer, a proxy or a log reading the first, exactly spelt member would
// not see. A document that is not valid JSON is left to the decoder.
//
// The walk keeps its own stack rather than recurse, so that its memory
// grows with the depth by a few words per level.
func checkMembers(doc []byte, t reflect.Type) (memberProblem, bool) {
	type level struct {
		path    string
		object  bool
		fields  map[string]reflect.Type // the members a struct has; nil: names not checked
		seen    map[string]bool         // folded names met so far
		elem    reflect.Type            // an array's element type
		index   int                     // the next element of an array
		key     string                  // the member whose value comes next
		wantKey bool
	}
	var stack []*level
	misnamed := ""
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			break // the end, or invalid JSON, which the decoder reports
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path, typ := "", t
			switch {
			case top == nil:
			case top.object:
				path, typ = joinPath(top.path, top.key), top.fields[top.key]
				top.wantKey = true
			default:
				path, typ = fmt.Sprintf("%s[%d]", top.path, top.index), top.elem
				top.index++
			}
			if len(stack) == maxDepth {
				return memberProblem{tooDeep: true}, true
			}
			if tok == json.Delim('{') {
				stack = append(stack, &level{path: path, object: true, fields: jsonFields(typ), seen: map[string]bool{}, wantKey: true})
			} else {
				stack = append(stack, &level{path: path, elem: elemType(typ)})
			}
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			switch {
			case top == nil:
			case top.object && top.wantKey:
				key, _ := tok.(string)
				folded := foldName(key)
				if top.seen[folded] {
					return memberProblem{path: joinPath(top.path, key), duplicate: true}, true
				}
				top.seen[folded] = true
				if top.fields != nil {
					if _, exact := top.fields[key]; !exact && misnamed == "" && foldsOnto(top.fields, folded) {
						misnamed = joinPath(top.path, key)
					}
				}
				top.key, top.wantKey = key, false
			case top.object:
				top.wantKey = true
			default:
				top.index++
			}
		}
	}
	if misnamed != "" {
		return memberProblem{path: misnamed}, true
	}
	return memberProblem{}, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	valueType = reflect.TypeFor[Value]()
	rawType   = reflect.TypeFor[json.RawMessage]()
)

// jsonFields returns the JSON names of the fields of struct type t (through
// pointers) with their types, or nil when t is not a struct whose members
// encoding/json matches by name.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || t == valueType {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for n, ft := range jsonFields(f.Type) {
				out[n] = ft
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		if ft == rawType || ft.Kind() == reflect.Interface {
			ft = nil
		}
		out[name] = ft
	}
	return out
}

// elemType is the element type of an array or slice type, or nil.
func elemType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == rawType || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return nil
	}
	return t.Elem()
}

func foldsOnto(fields map[string]reflect.Type, folded string) bool {
	for name := range fields {
		if foldName(name) == folded {
			return true
		}
	}
	return false
}

// foldName folds a member name as encoding/json does when it matches names:
// ASCII letters upper-cased, any other rune replaced by the smallest rune of
// its Unicode simple-folding orbit.
func foldName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		case r >= utf8.RuneSelf:
			for {
				next := unicode.SimpleFold(r)
				if next <= r {
					r = next
					break
				}
				r = next
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasLoneSurrogate reports whether a JSON text holds a \u escape of a UTF-16
// surrogate that is not part of a high-low pair. encoding/json turns each
// into U+FFFD without a word, so a client could store a replacement
// character it never sent.
func hasLoneSurrogate(doc []byte) bool {
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' {
			continue
		}
		if i+1 >= len(doc) || doc[i+1] != 'u' {
			i++ // an escape of one character, possibly a backslash
			continue
		}
		r, ok := hex4(doc[i+2:])
		switch {
		case !ok:
			i++ // malformed: the decoder says so
		case 0xdc00 <= r && r <= 0xdfff:
			return true
		case 0xd800 <= r && r <= 0xdbff:
			if i+11 >= len(doc) || doc[i+6] != '\\' || doc[i+7] != 'u' {
				return true
			}
			low, ok := hex4(doc[i+8:])
			if !ok || low < 0xdc00 || low > 0xdfff {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
