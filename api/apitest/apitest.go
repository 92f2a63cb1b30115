package apitest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A HostileBody is a request body that no route may accept, named for the
// test that sends it.
type HostileBody struct {
	Name, Body string
}

// HostileBodies are whole bodies that api.DecodeBody refuses whatever its
// target, and api.DecodeOptionalBody too: other JSON types, odd encodings,
// surrogates, deep nesting, trailing garbage, members no target has. They
// spoil no particular request, so every body fuzzer seeds its corpus with
// them and the hostile suite sends them to every JSON route. (An absent
// body and {} are not among them: an optional body may be either.)
var HostileBodies = []HostileBody{
	{"JSON null", `null`},
	{"an empty array", `[]`},
	{"a JSON string", `"x"`},
	{"a number", `1`},
	{"true", `true`},
	{"an empty object then garbage", `{} x`},
	{"two empty objects", `{}{}`},
	{"an unclosed brace", `{`},
	{"a lone NUL", "\x00"},
	{"an empty object after a UTF-8 BOM", "\xef\xbb\xbf{}"},
	{"an empty object in UTF-16LE with a BOM", "\xff\xfe{\x00}\x00"},
	{"an empty object in UTF-32BE with a BOM", "\x00\x00\xfe\xff\x00\x00\x00{\x00\x00\x00}"},
	{"an overlong brace", "\xc0\xbb\xc0\xbd"},
	{"a member name in Latin-1", "{\"caf\xe9\":1}"},
	{"a value in Latin-1", "{\"zz\":\"caf\xe9\"}"},
	{"a lone surrogate in a member name", `{"\ud800":1}`},
	{"a lone surrogate in a value", `{"zz":"\ud800"}`},
	{"300 nested arrays in a member", `{"zz":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`},
	{"only an unknown member", `{"zz":1}`},
	{"only a __proto__ member", `{"__proto__":{}}`},
	{"an object in single quotes", `{'zz':'a'}`},
	{"an object with a trailing comma", `{"zz":1,}`},
	{"form data", `reason=x`},
}

// CleanText reports whether s is what api.Value.String returns: trimmed,
// non-empty, valid UTF-8 of at most max characters, without a control
// character.
func CleanText(s string, max int) bool {
	return s != "" && s == strings.TrimSpace(s) && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// InvoiceBody returns a valid POST /invoices body of n lines, mixing NGAP
// and CCAM codes, for the benchmarks of its decoding and of the contract's
// guard.
func InvoiceBody(n int) string {
	codes := []string{"G", "AMI", "YYYY010", "IFD", "B", "C"}
	var sb strings.Builder
	sb.WriteString(`{"patient_file_number": "2026-000123", "birth_date": "1980-04-12", "external_ref": "FAC-2026-11-0042", "care_date": "2026-11-20", "lines": [`)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, `{"code": %q, "label": "Acte n° %d", "quantity": %d, "unit_price": "%d.%02d"}`, codes[i%len(codes)], i+1, 1+i%3, 3+i*7%90, i*13%100)
	}
	sb.WriteString("]}")
	return sb.String()
}
