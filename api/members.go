package api

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
	// json.Decoder's tokens cost an allocation or more each; a valid
	// document, as nearly every body is, is read by scanTokens instead,
	// which gives the same tokens. An invalid one still goes through the
	// decoder, which stops where it stops.
	if json.Valid(doc) {
		return walkMembers(&scanTokens{doc: doc}, t)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	return walkMembers(decoderTokens{dec}, t)
}

// tokenizer gives the tokens of a document one at a time: kind is the
// delimiter ('{', '}', '[' or ']'), '"' for a string, whose text is name,
// or 0 for any other value. err is io.EOF after the last token, or the
// reason the document is not valid JSON.
type tokenizer interface {
	next() (kind byte, name string, err error)
}

// decoderTokens is a tokenizer over json.Decoder, which stops at the first
// byte that makes the document invalid.
type decoderTokens struct{ dec *json.Decoder }

func (d decoderTokens) next() (byte, string, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return 0, "", err
	}
	switch v := tok.(type) {
	case json.Delim:
		return byte(v), "", nil
	case string:
		return '"', v, nil
	}
	return 0, "", nil
}

// memberLevel is an object or an array that walkMembers is inside.
type memberLevel struct {
	object  bool
	fields  map[string]reflect.Type // the members a struct has; nil: names not checked
	seen    map[string]bool         // folded names met so far
	elem    reflect.Type            // an array's element type
	index   int                     // the next element of an array
	key     string                  // the member whose value comes next
	wantKey bool
}

// levelsPath is the path of the value that the levels lead to. walkMembers
// builds it only when a problem names it: most documents have none.
func levelsPath(levels []memberLevel) string {
	p := ""
	for i := range levels {
		if l := &levels[i]; l.object {
			p = joinPath(p, l.key)
		} else {
			p += "[" + strconv.Itoa(l.index-1) + "]"
		}
	}
	return p
}

// walkMembers is checkMembers on the tokens of tokens.
func walkMembers(tokens tokenizer, t reflect.Type) (memberProblem, bool) {
	var stack []memberLevel
	misnamed := ""
	for {
		kind, name, err := tokens.next()
		if err != nil {
			break // the end, or invalid JSON, which the decoder reports
		}
		var top *memberLevel
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch kind {
		case '{', '[':
			typ := t
			switch {
			case top == nil:
			case top.object:
				typ = top.fields[top.key]
				top.wantKey = true
			default:
				typ = top.elem
				top.index++
			}
			if len(stack) == maxDepth {
				return memberProblem{tooDeep: true}, true
			}
			if kind == '{' {
				stack = append(stack, memberLevel{object: true, fields: jsonFields(typ), seen: map[string]bool{}, wantKey: true})
			} else {
				stack = append(stack, memberLevel{elem: elemType(typ)})
			}
		case '}', ']':
			stack = stack[:len(stack)-1]
		default:
			switch {
			case top == nil:
			case top.object && top.wantKey:
				key := name
				folded := foldName(key)
				if top.seen[folded] {
					return memberProblem{path: joinPath(levelsPath(stack[:len(stack)-1]), key), duplicate: true}, true
				}
				top.seen[folded] = true
				if top.fields != nil {
					if _, exact := top.fields[key]; !exact && misnamed == "" && foldsOnto(top.fields, folded) {
						misnamed = joinPath(levelsPath(stack[:len(stack)-1]), key)
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

// scanTokens is a tokenizer for a document known to be valid JSON. It
// gives the tokens decoderTokens gives, but for the text of string values,
// which the walk never reads: only member names, known by the colon after
// them, are unquoted, and those without escapes or non-ASCII bytes (nearly
// all) without encoding/json.
type scanTokens struct {
	doc []byte
	i   int
}

func (s *scanTokens) next() (byte, string, error) {
	for s.i < len(s.doc) {
		switch c := s.doc[s.i]; c {
		case ' ', '\t', '\n', '\r', ':', ',':
			s.i++
		case '{', '}', '[', ']':
			s.i++
			return c, "", nil
		case '"':
			start, plain := s.i, true
			j := s.i + 1
			for ; s.doc[j] != '"'; j++ {
				switch {
				case s.doc[j] == '\\':
					plain = false
					j++ // the escaped byte, which may be a quote
				case s.doc[j] >= utf8.RuneSelf:
					plain = false
				}
			}
			s.i = j + 1
			// In a valid document, a string followed by a colon is a name.
			k := s.i
			for k < len(s.doc) && isSpace(s.doc[k]) {
				k++
			}
			if k == len(s.doc) || s.doc[k] != ':' {
				return '"', "", nil // a string value, whose text the walk never reads
			}
			if plain {
				return '"', string(s.doc[start+1 : j]), nil
			}
			var name string
			if err := json.Unmarshal(s.doc[start:s.i], &name); err != nil {
				return 0, "", err
			}
			return '"', name, nil
		default:
			for s.i < len(s.doc) && !isSpace(s.doc[s.i]) && s.doc[s.i] != ',' && s.doc[s.i] != ']' && s.doc[s.i] != '}' {
				s.i++
			}
			return 0, "", nil
		}
	}
	return 0, "", io.EOF
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

var (
	valueType = reflect.TypeFor[Value]()
	rawType   = reflect.TypeFor[json.RawMessage]()
)

// fieldsOf caches jsonFields by type: a body of 100 lines would otherwise
// reflect over the same line type 100 times. Its maps are only read.
var fieldsOf sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields returns the JSON names of the fields of struct type t (through
// pointers) with their types, or nil when t is not a struct whose members
// encoding/json matches by name.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil {
		return nil
	}
	if m, ok := fieldsOf.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := fieldsOfType(t)
	fieldsOf.Store(t, m)
	return m
}

func fieldsOfType(t reflect.Type) map[string]reflect.Type {
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

// foldName folds a member name for comparisons as encoding/json matches
// names: any non-ASCII rune replaced by the smallest rune of its Unicode
// simple-folding orbit, then ASCII letters lower-cased. (encoding/json
// upper-cases them; as no orbit's smallest rune is a lower-case ASCII
// letter, lower-casing instead puts the same names together, and leaves
// the usual snake_case name as it is, without a copy.)
func foldName(name string) string {
	folded := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			folded = false
			break
		}
	}
	if folded {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if r >= utf8.RuneSelf {
			for {
				next := unicode.SimpleFold(r)
				if next <= r {
					r = next
					break
				}
				r = next
			}
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
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
