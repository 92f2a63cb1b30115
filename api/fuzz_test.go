package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"passd/api/apitest"
	"passd/fault/faulttest"
	"passd/money"
)

// seedBodies seed the body fuzzers: bodies aimed at probe's members
// (case-folded and repeated names, surrogates, bad bytes in a string, huge
// numbers, deep nesting, garbage after a valid object, what an optional
// body may be), then apitest's hostile bodies, which every decoder refuses.
var seedBodies = func() []string {
	bodies := []string{
		`{"name":"a","lines":[{"a":1}],"inner":{"a":"x"}}`,
		`{"name":"a","NAME":"b"}`, `{"Name":"a"}`, `{"lineſ":[]}`, `{"inner":{"A":1}}`, `{"lines":[{"a":1,"A":2}]}`,
		`{"name":"\ud800"}`, `{"name":"\udc00\ud800"}`, `{"name":"\ud83d\ude00"}`, `{"name":"\\ud800"}`,
		"\x00\x00\xfe\xff", "{\"name\":\"caf\xe9\"}", "{\"name\":\"\xc0\xaf\"}",
		"{\"name\":\"a\x00b\"}", `{"name":"a\u0000b"}`,
		`{"name":1e400}`, `{"name":12345678901234567890}`, `{"name":-0}`, `{"lines":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"name":"a"}]`, ``, ` `, `{"name":}`, `{'name':'a'}`, `{"name":"a",}`,
	}
	for _, b := range apitest.HostileBodies {
		bodies = append(bodies, b.Body)
	}
	return bodies
}()

// memberNames returns, object by object, the member names of a valid JSON
// document in their order, repeats included (a map would lose them).
func memberNames(doc []byte) [][]string {
	type frame struct {
		object, wantKey bool
		names           []string
	}
	var stack []*frame
	var out [][]string
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.object {
				out = append(out, f.names)
			}
			valueDone()
		default:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].names = append(stack[n-1].names, tok.(string))
				stack[n-1].wantKey = false
			} else {
				valueDone()
			}
		}
	}
}

// FuzzDecodeBody checks the strict decoding of a JSON request body: no
// input panics, a refusal is a *fault.Error naming a field unless the body
// as a whole is wrong, and an accepted body is JSON in UTF-8 under a JSON
// content type, with no lone surrogate, no member twice in one object (case
// ignored) and only the exact member names of the target.
func FuzzDecodeBody(f *testing.F) {
	for _, b := range seedBodies {
		f.Add("application/json", []byte(b))
	}
	for _, ct := range []string{"", "application/json; charset=utf-8", "application/json; charset=latin1", "text/plain",
		"application/json, text/plain", "multipart/form-data; boundary=x", ";;", "APPLICATION/JSON", "application/json; charset=\"utf-8\""} {
		f.Add(ct, []byte(`{"name":"a"}`))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		var p probe
		err := DecodeBody(contentType, body, &p)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if CheckJSONContentType(contentType) != nil {
			t.Fatalf("accepted under content type %q", contentType)
		}
		if !utf8.Valid(body) || !json.Valid(body) || hasLoneSurrogate(body) {
			t.Fatalf("accepted %q: not valid JSON in UTF-8 without lone surrogates", body)
		}
		if trimmed := bytes.TrimSpace(body); trimmed[0] != '{' {
			t.Fatalf("accepted a body that is not an object: %q", body)
		}
		for _, names := range memberNames(body) {
			for i, a := range names {
				for _, b := range names[i+1:] {
					if strings.EqualFold(a, b) {
						t.Fatalf("accepted %q: members %q and %q in one object", body, a, b)
					}
				}
			}
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			t.Fatal(err)
		}
		for k, v := range top {
			switch k {
			case "name", "lines":
			case "inner":
				var inner map[string]json.RawMessage
				if string(v) != "null" {
					if err := json.Unmarshal(v, &inner); err != nil {
						t.Fatalf("accepted inner %s", v)
					}
				}
				for ik := range inner {
					if ik != "a" {
						t.Fatalf("accepted member inner.%q", ik)
					}
				}
			default:
				t.Fatalf("accepted member %q", k)
			}
		}
	})
}

// FuzzDecodeOptionalBody checks the bodies of actions that carry nothing:
// only an absent body or an empty JSON object is accepted.
func FuzzDecodeOptionalBody(f *testing.F) {
	for _, b := range seedBodies {
		f.Add("application/json", []byte(b))
	}
	for _, ct := range []string{"", "text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded"} {
		f.Add(ct, []byte(`{}`))
		f.Add(ct, []byte(``))
		f.Add(ct, []byte(" \r\n\t"))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		err := DecodeOptionalBody(contentType, body, nil)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return
		}
		var m map[string]json.RawMessage
		if CheckJSONContentType(contentType) != nil || json.Unmarshal(body, &m) != nil || m == nil || len(m) != 0 {
			t.Fatalf("accepted %q under %q: only an empty object may be", body, contentType)
		}
	})
}

// FuzzValue puts any JSON value in a member and asks every accessor for
// it: each either refuses with a *fault.Error naming the member, or returns
// what the rule promises.
func FuzzValue(f *testing.F) {
	for _, v := range []string{`"30.00"`, `"30"`, `30.00`, `"1e2"`, `"3.0e1"`, `"-1.00"`, `"0.00"`, `"99999999999999999999"`,
		`"2026-06-15"`, `"2026-02-30"`, `"٢٠٢٦-٠٦-١٥"`, `7`, `-0`, `1e2`, `1E2`, `3.0e1`, `1e400`, `99999999999999999999`,
		`9223372036854775808`, `true`, `false`, `null`, `[]`, `[1,"a",null]`, `{}`, `{"a":1}`, `{"A":1}`, `{"a":1,"a":2}`,
		`"puma"`, `"PUMA"`, `" puma "`, `"puma\u0000"`, `"\u001b[2J"`, `"  "`, `"é"`, `"\ud800"`, `"1' OR '1'='1"`,
		`"<script>alert(1)</script>"`, `"` + strings.Repeat("x", 300) + `"`} {
		f.Add(v, uint8(10))
	}
	f.Fuzz(func(t *testing.T, raw string, max uint8) {
		var doc struct {
			V Value `json:"v"`
		}
		if DecodeBytes([]byte(`{"v":`+raw+`}`), &doc) != nil {
			return
		}
		v := doc.V
		var str string
		isString := v.Present() && json.Unmarshal(v.raw, &str) == nil
		refused := func(err error) bool {
			if err == nil {
				return false
			}
			if fe := faulttest.RequireInvalid(t, err); fe.Field != "v" && !strings.HasPrefix(fe.Field, "v.") && !strings.HasPrefix(fe.Field, "v[") {
				t.Fatalf("%s: the error names %q, not v", raw, fe.Field)
			}
			return true
		}

		limit := int(max%100) + 1
		if s, err := v.String("v", limit); !refused(err) {
			if !isString || s != strings.TrimSpace(str) || !apitest.CleanText(s, limit) {
				t.Fatalf("String(%s, %d) = %q", raw, limit, s)
			}
		}
		if n, err := v.Int("v", 1, 999); !refused(err) {
			if n < 1 || n > 999 || strconv.Itoa(n) != string(v.raw) {
				t.Fatalf("Int(%s) = %d", raw, n)
			}
		}
		if b, err := v.Bool("v"); !refused(err) {
			if want := v.Present() && string(v.raw) == "true"; b != want || (v.Present() && string(v.raw) != "false" && !b) {
				t.Fatalf("Bool(%s) = %v", raw, b)
			}
		}
		if d, err := v.Amount("v"); !refused(err) {
			back, perr := money.ParseAmount(money.Format(d))
			if !isString || !d.IsPositive() || !d.Equal(d.Truncate(2)) || perr != nil || !back.Equal(d) {
				t.Fatalf("Amount(%s) = %s", raw, d)
			}
		}
		if d, err := v.Date("v"); !refused(err) {
			if !isString || d.IsZero() || d.String() != str {
				t.Fatalf("Date(%s) = %v", raw, d)
			}
		}
		if d, err := v.OptDate("v"); !refused(err) {
			if v.Present() != !d.IsZero() || (!d.IsZero() && d.String() != str) {
				t.Fatalf("OptDate(%s) = %v", raw, d)
			}
		}
		if e, err := Enum(v, "v", "puma", "puma_css", "ame"); !refused(err) {
			if e != "puma" && e != "puma_css" && e != "ame" {
				t.Fatalf("Enum(%s) = %q", raw, e)
			}
		}
		if items, err := v.Array("v"); !refused(err) {
			var want []json.RawMessage
			if v.raw[0] != '[' || json.Unmarshal(v.raw, &want) != nil || len(want) != len(items) {
				t.Fatalf("Array(%s) = %d items", raw, len(items))
			}
		}
		var obj struct {
			A Value `json:"a"`
		}
		if err := v.Object("v", &obj); !refused(err) {
			var m map[string]json.RawMessage
			if v.raw[0] != '{' || json.Unmarshal(v.raw, &m) != nil {
				t.Fatalf("Object(%s) accepted a non-object", raw)
			}
			for k := range m {
				if k != "a" {
					t.Fatalf("Object(%s) accepted member %q", raw, k)
				}
			}
		}
	})
}

// linesProbe names the members of probe's lines, so that the walk checks
// names below the top level too.
type linesProbe struct {
	Name  Value `json:"name"`
	Lines []struct {
		Code  Value `json:"code"`
		Price Value `json:"unit_price"`
	} `json:"lines"`
	Inner *struct {
		A Value `json:"a"`
	} `json:"inner"`
}

// FuzzScanTokens: on a valid document, the walk over scanTokens finds what
// the walk over json.Decoder's tokens finds, for a struct of Values, one
// that names nested members, and no type at all.
func FuzzScanTokens(f *testing.F) {
	for _, s := range seedBodies {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{"lines":[{"code":"G","CODE":"x"},{"Unit_Price":"1"}]}`, `{"a\"b":1,"a\u0022b":2}`,
		`{"na\u006de":"x","name":"y"}`, `{"lines":[{"code":"\"}:","code":1}]}`, "{\"\u212a\":1,\"k\":2}", `{"x" : [ 1 , {"y":{}} ] , "Name" : null}`} {
		f.Add([]byte(s))
	}
	types := []reflect.Type{reflect.TypeFor[*probe](), reflect.TypeFor[*linesProbe](), nil}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		for _, typ := range types {
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			want, wantFound := walkMembers(decoderTokens{dec}, typ)
			got, found := walkMembers(&scanTokens{doc: doc}, typ)
			if got != want || found != wantFound {
				t.Fatalf("%q as %v: scanTokens gives %+v %v, json.Decoder %+v %v", doc, typ, got, found, want, wantFound)
			}
		}
	})
}
