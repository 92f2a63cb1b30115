package main

// The hostile suite sends every write route under /api/v1 what a careless
// or malicious client might: wrong JSON types, odd encodings, huge and
// exponent numbers, duplicated keys, deep nesting, trailing garbage,
// injection strings in validated fields, oversize bodies, wrong content
// types, malformed ids in the path and tokens in odd places.
//
// Each case spoils, in one way, a request the route would accept (the
// control subtest at the end sends those requests and expects them to
// succeed), so a refusal shows that the spoilt part is refused. Every case
// must answer a 4xx with a JSON error and store nothing; a case the server
// accepts is a bug in the server, not in the table.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"passd/api"
	"passd/api/apitest"
	"passd/auth"
)

// minHostileCases keeps the table from shrinking without anyone noticing.
const minHostileCases = 200

// hostileRoute is one write route and a request it accepts, which the
// cases spoil one way at a time.
type hostileRoute struct {
	method  string
	pattern string // as registered with Echo, e.g. "/api/v1/invoices/:id/cancel"
	label   string // tells apart two uses of one route (the JSON and CSV returns)
	id      string // the :id or :name of the accepted request ("" when the path has none)
	did     string // the :did (a rights decision of :id) of the accepted request
	token   string // a token of a role the route accepts
	other   string // a token of a role the route refuses
	body    string // a body the route accepts ("" = none)
	ctype   string // the body's content type ("" = application/json)
	// text is the path of a free-text member of body, where encoding
	// cases put their bytes ("" = the route has none).
	text   string
	fields []hostileField
}

func (r hostileRoute) name() string {
	n := r.method + " " + strings.TrimPrefix(r.pattern, "/api/v1")
	if r.label != "" {
		n += " (" + r.label + ")"
	}
	return n
}

func (r hostileRoute) path(id string) string {
	return strings.NewReplacer(":did", r.did, ":id", id, ":name", id, ":code", id, ":cip13", id).Replace(r.pattern)
}

func (r hostileRoute) contentType() string {
	if r.ctype == "" {
		return "application/json"
	}
	return r.ctype
}

// hostileField is a member of a route's body and what it holds.
type hostileField struct {
	path     string // "name", or "lines[0].unit_price" in an array's element
	kind     valueKind
	required bool
}

type valueKind int

const (
	freeText    valueKind = iota // a string checked for length, control and format characters only
	enumValue                    // one of a few words
	idString                     // an identifier: NIR, RPPS, FINESS, IBAN, BIC, act code, file number, id
	numericID                    // an id of ours, written as a string of digits
	claimRef                     // a claim id: digits in a string or a JSON integer
	dateValue                    // YYYY-MM-DD
	amountValue                  // "30.00"
	countValue                   // a JSON integer in a range
	flagValue                    // a JSON boolean
)

// hostileCase is one request of the table.
type hostileCase struct {
	route   string
	name    string
	method  string
	path    string
	token   string   // sent as "Authorization: Bearer <token>", unless auth is set
	auth    []string // Authorization header lines sent instead of the bearer token
	body    string
	ctype   string   // Content-Type of a body; "" = the route's
	noCtype bool     // send no Content-Type at all
	headers []string // further header lines, name, value pairs
	// want lists the acceptable statuses; empty means any 4xx.
	want []int
	// field is the member the case spoils: when the answer names a field,
	// it must be this one (the wording of other fields may change).
	field string
}

// hostileValue is a JSON value put where a field's value goes.
type hostileValue struct {
	label string
	value any // a Go value, or json.RawMessage for JSON sent as written
}

// ---- the values ----

// nonStrings are values of every JSON type but a string, built around the
// field's valid value.
func nonStrings(valid any) []hostileValue {
	return []hostileValue{
		{"a number", raw("7")},
		{"1e400", raw("1e400")},
		{"a 20-digit integer", raw("12345678901234567890")},
		{"true", raw("true")},
		{"an empty array", raw("[]")},
		{"the value in an array", []any{valid}},
		{"the value in an object", map[string]any{"value": valid}},
	}
}

// nonScalars are arrays and objects where a number or a boolean goes.
func nonScalars(valid any) []hostileValue {
	return []hostileValue{
		{"an empty array", raw("[]")},
		{"the value in an array", []any{valid}},
		{"an object", raw("{}")},
		{"the value in an object", map[string]any{"value": valid}},
	}
}

// injections are strings a validated field must refuse whatever its rule.
var injections = []hostileValue{
	{"SQL injection", "1' OR '1'='1"},
	{"SQL statement", "1; DROP TABLE invoices; --"},
	{"script", "<script>alert(1)</script>"},
	{"path traversal", "../../etc/passwd"},
	{"format verbs", "%s%s%n%x"},
	{"Arabic-Indic digits", "١٢٣"},
}

func hostileValues(f hostileField, valid any) []hostileValue {
	s, _ := valid.(string)
	var vs []hostileValue
	switch f.kind {
	case freeText:
		vs = append(nonStrings(valid),
			hostileValue{"a control character", s + "\u0007"},
			hostileValue{"an escaped NUL", s + "\u0000"},
			hostileValue{"an escape character", "\u001b[2J" + s},
			hostileValue{"a C1 control", s + "\u0085x"},
			hostileValue{"a right-to-left override", s + "\u202egpj.exe"},
			hostileValue{"a zero-width space", s + "\u200b"},
			hostileValue{"a byte order mark", "\ufeff" + s},
			hostileValue{"5000 characters", strings.Repeat("x", 5000)},
		)
	case enumValue:
		vs = append(nonStrings(valid), injections[:3]...)
		vs = append(vs,
			hostileValue{"upper case", strings.ToUpper(s)},
			hostileValue{"a NUL after the word", s + "\u0000"},
			hostileValue{"an injection after the word", s + "' OR '1'='1"},
			hostileValue{"a prefix of the word", s[:len(s)-1]},
		)
	case idString:
		vs = append(nonStrings(valid), injections...)
		vs = append(vs,
			hostileValue{"a NUL after the value", s + "\u0000"},
			hostileValue{"full-width digits", "１２３４５６７８９０１"},
		)
	case numericID:
		vs = append(nonStrings(valid), injections...)
		vs = append(vs,
			hostileValue{"exponent 1e2", "1e2"},
			hostileValue{"exponent 1E2", "1E2"},
			hostileValue{"exponent 3.0e1", "3.0e1"},
			hostileValue{"negative", "-1"},
			hostileValue{"zero", "0"},
			hostileValue{"a leading zero", "0" + s},
			hostileValue{"a plus sign", "+" + s},
			hostileValue{"above int64", "9223372036854775808"},
			hostileValue{"22 digits", "9999999999999999999999"},
		)
	case claimRef:
		vs = []hostileValue{
			{"true", raw("true")}, {"an empty array", raw("[]")}, {"the value in an array", []any{valid}},
			{"the value in an object", map[string]any{"value": valid}},
			{"a JSON exponent 1e0", raw("1e0")}, {"a JSON exponent 1E2", raw("1E2")}, {"a JSON fraction", raw("1.0")},
			{"a negative JSON integer", raw("-1")}, {"a JSON zero", raw("0")}, {"a JSON integer above int64", raw("9223372036854775808")},
			{"1e400", raw("1e400")},
			{"exponent 1e0", "1e0"}, {"negative", "-1"}, {"zero", "0"}, {"a leading zero", "0" + s}, {"a plus sign", "+" + s},
			{"22 digits", "9999999999999999999999"}, {"a formula", "=1+1"},
		}
		vs = append(vs, injections...)
	case dateValue:
		vs = append(nonStrings(valid), injections[:4]...)
		vs = append(vs,
			hostileValue{"30 February", "2026-02-30"},
			hostileValue{"a timestamp", s + "T00:00:00Z"},
			hostileValue{"no dashes", strings.ReplaceAll(s, "-", "")},
			hostileValue{"a French date", s[8:10] + "/" + s[5:7] + "/" + s[0:4]},
			hostileValue{"Arabic-Indic digits", "٢٠٢٦-٠٦-٠١"},
			hostileValue{"a sign", "+" + s},
			hostileValue{"year 0", "0000-01-01"},
			hostileValue{"year 99999", "99999-01-01"},
			hostileValue{"the date then an injection", s + "' OR '1'='1"},
		)
	case amountValue:
		vs = append(nonStrings(valid), injections[:3]...)
		vs = append(vs,
			hostileValue{"a JSON number", raw(s)},
			hostileValue{"a JSON exponent", raw("1e2")},
			hostileValue{"exponent 1e2", "1e2"},
			hostileValue{"exponent 1E2", "1E2"},
			hostileValue{"exponent 3.0e1", "3.0e1"},
			hostileValue{"1e400", "1e400"},
			hostileValue{"negative", "-" + s},
			hostileValue{"zero", "0"},
			hostileValue{"zero with cents", "0.00"},
			hostileValue{"20 digits", "99999999999999999999"},
			hostileValue{"three decimals", s + "1"},
			hostileValue{"NaN", "NaN"},
			hostileValue{"Infinity", "Infinity"},
			hostileValue{"hexadecimal", "0x1E"},
			hostileValue{"full-width digits", "３０.００"},
			hostileValue{"the amount then an injection", s + "' OR '1'='1"},
		)
	case countValue:
		vs = append(nonScalars(valid),
			hostileValue{"a string", fmt.Sprint(valid)},
			hostileValue{"a fraction", raw("1.5")},
			hostileValue{"exponent 1e2", raw("1e2")},
			hostileValue{"exponent 1E2", raw("1E2")},
			hostileValue{"exponent 3.0e1", raw("3.0e1")},
			hostileValue{"1e400", raw("1e400")},
			hostileValue{"20 digits", raw("99999999999999999999")},
			hostileValue{"above int64", raw("9223372036854775808")},
			hostileValue{"negative", raw("-1")},
			hostileValue{"zero", raw("0")},
			hostileValue{"minus zero", raw("-0")},
			hostileValue{"true", raw("true")},
		)
	case flagValue:
		vs = append(nonScalars(valid),
			hostileValue{"a string", "true"},
			hostileValue{"a number", raw("1")},
			hostileValue{"zero", raw("0")},
			hostileValue{"yes", "yes"},
		)
	}
	if f.required {
		vs = append(vs, hostileValue{"null", nil})
		if f.kind != countValue && f.kind != flagValue && f.kind != claimRef {
			vs = append(vs, hostileValue{"empty", ""}, hostileValue{"blank", "   "})
		}
	}
	return vs
}

// ---- editing a body ----

// pathKeys splits "lines[0].unit_price" into its steps: "lines", 0,
// "unit_price".
func pathKeys(path string) []any {
	var out []any
	for _, part := range strings.Split(path, ".") {
		name, index, ok := strings.Cut(part, "[")
		out = append(out, name)
		if ok {
			i, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
			if err != nil {
				panic("bad path " + path)
			}
			out = append(out, i)
		}
	}
	return out
}

// lookup returns the container holding the last step of path, and that
// step.
func lookup(doc map[string]any, path string) (container any, last any) {
	keys := pathKeys(path)
	var cur any = doc
	for _, k := range keys[:len(keys)-1] {
		switch k := k.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur, keys[len(keys)-1]
}

func setPath(path string, v any) edit {
	return func(m map[string]any) {
		c, last := lookup(m, path)
		c.(map[string]any)[last.(string)] = v
	}
}

func deletePath(path string) edit {
	return func(m map[string]any) {
		c, last := lookup(m, path)
		delete(c.(map[string]any), last.(string))
	}
}

func valueAt(t *testing.T, body, path string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	c, last := lookup(m, path)
	return c.(map[string]any)[last.(string)]
}

// placeholder marks where a case splices bytes that json.Marshal would
// not write (invalid UTF-8, lone surrogates, deep nesting).
const placeholder = `"@@HOSTILE@@"`

func splice(t *testing.T, valid, path, bytes string) string {
	t.Helper()
	return strings.Replace(withEdits(t, valid, setPath(path, raw(placeholder))), placeholder, bytes, 1)
}

// ---- encodings ----

func utf16Body(s string, order binary.ByteOrder) string {
	var b bytes.Buffer
	_ = binary.Write(&b, order, uint16(0xfeff))
	for _, u := range utf16.Encode([]rune(s)) {
		_ = binary.Write(&b, order, u)
	}
	return b.String()
}

func utf32Body(s string, order binary.ByteOrder) string {
	var b bytes.Buffer
	_ = binary.Write(&b, order, uint32(0xfeff))
	for _, r := range s {
		_ = binary.Write(&b, order, uint32(r))
	}
	return b.String()
}

// ---- the case generators ----

// framingCases spoil the body as a whole: its JSON, its encoding, its
// size. valid is a body the route accepts.
func framingCases(t *testing.T, r hostileRoute, valid string) []hostileCase {
	t.Helper()
	c := func(name, body string) hostileCase { return hostileCase{name: name, body: body} }
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObjects := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	tooLarge := func(name, body string) hostileCase {
		return hostileCase{name: name, body: body, want: []int{http.StatusRequestEntityTooLarge}}
	}
	cases := []hostileCase{
		c("the body in an array", "["+valid+"]"),
		c("the body as a JSON string", strconv.Quote(valid)),
		c("trailing garbage", valid+"x"),
		c("a trailing bracket", valid+"]"),
		c("two objects", valid+valid),
		c("a trailing NUL", valid+"\x00"),
		c("a leading NUL", "\x00"+valid),
		c("truncated", valid[:len(valid)-1]),
		c("a UTF-8 BOM", "\xef\xbb\xbf"+valid),
		c("UTF-16LE with a BOM", utf16Body(valid, binary.LittleEndian)),
		c("UTF-16BE with a BOM", utf16Body(valid, binary.BigEndian)),
		c("UTF-32LE with a BOM", utf32Body(valid, binary.LittleEndian)),
		c("UTF-32BE with a BOM", utf32Body(valid, binary.BigEndian)),
		c("UTF-16 without a BOM", utf16Body(valid, binary.LittleEndian)[2:]),
		c("10 000 nested arrays", `{"zz":`+deep+`,`+valid[1:]),
		c("10 000 nested objects", `{"zz":`+deepObjects+`,`+valid[1:]),
		c("a million brackets", `{"zz":`+strings.Repeat("[", api.MaxBody-10)),
		c("an unknown member", `{"zz_unknown":1,`+valid[1:]),
		c("an id smuggled in", `{"id":"1",`+valid[1:]),
		c("a __proto__ member", `{"__proto__":{"admin":true},`+valid[1:]),
		tooLarge("over 1 MiB of padding", valid+strings.Repeat(" ", api.MaxBody)),
		tooLarge("one byte over 1 MiB", valid+strings.Repeat(" ", api.MaxBody+1-len(valid))),
		tooLarge("a 2 MiB member", `{"zz":"`+strings.Repeat("a", 2<<20)+`",`+valid[1:]),
		c("single quotes", strings.ReplaceAll(valid, `"`, `'`)),
		c("a comment", "/* x */"+valid),
		c("a trailing comma", valid[:len(valid)-1]+",}"),
	}
	cases = append(cases, hostileBodyCases()...)
	if slices.ContainsFunc(r.fields, func(f hostileField) bool { return f.required }) {
		cases = append(cases, c("no body", ""), c("a blank body", " \r\n\t"), c("an empty object", "{}"))
	}
	if r.text != "" {
		enc := func(name, bytes string) hostileCase {
			hc := c(name, splice(t, valid, r.text, bytes))
			return hc
		}
		cases = append(cases,
			enc("Latin-1 bytes", `"Caf`+"\xe9"+`"`),
			enc("an overlong slash", `"a`+"\xc0\xaf"+`b"`),
			enc("an overlong NUL", `"a`+"\xc0\x80"+`b"`),
			enc("a surrogate encoded in UTF-8", `"a`+"\xed\xa0\x80"+`b"`),
			enc("a truncated sequence", `"a`+"\xe2\x82"+`"`),
			enc("bytes never in UTF-8", `"a`+"\xff\xfe"+`"`),
			enc("a code point above U+10FFFF", `"a`+"\xf4\x90\x80\x80"+`"`),
			enc("a raw NUL in a string", `"a`+"\x00"+`b"`),
			enc("a raw newline in a string", "\"a\nb\""),
			enc("a lone high surrogate", `"a\ud800b"`),
			enc("a lone low surrogate", `"a\udc00b"`),
			enc("surrogates in the wrong order", `"a\udc00\ud800b"`),
			enc("a bad escape", `"a\x41"`),
			enc("10 000 nested arrays in a member", deep),
			enc("100 nested arrays in a member", strings.Repeat("[", 100)+strings.Repeat("]", 100)),
			enc("a huge array in a member", "["+strings.Repeat("1,", 50000)+"1]"),
			enc("a 100 000-digit number", strings.Repeat("9", 100000)),
			enc("a 900 KiB string", `"`+strings.Repeat("é", 450<<10)+`"`),
		)
	}
	// Duplicated members: the same value twice, and a second spelling that
	// encoding/json would fold onto the same field.
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(valid), &top); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := string(top[k])
		cases = append(cases,
			hostileCase{name: "duplicated " + k, body: fmt.Sprintf(`{%q:%s,`, k, v) + valid[1:], field: k},
			hostileCase{name: "duplicated " + k + " in upper case", body: fmt.Sprintf(`{%q:%s,`, strings.ToUpper(k), v) + valid[1:], field: k},
			hostileCase{name: k + " in upper case", body: strings.Replace(valid, strconv.Quote(k)+":", strconv.Quote(strings.ToUpper(k))+":", 1)},
		)
		if strings.Contains(k, "s") {
			// U+017F LONG S folds to 's' in encoding/json's matching.
			odd := strings.Replace(k, "s", "ſ", 1)
			cases = append(cases, hostileCase{name: k + " with a long s", body: strings.Replace(valid, strconv.Quote(k)+":", strconv.Quote(odd)+":", 1)})
		}
	}
	return cases
}

// hostileBodyCases send the bodies that no route accepts, whatever it
// takes (apitest.HostileBodies, which the fuzzers start from too).
func hostileBodyCases() []hostileCase {
	cases := make([]hostileCase, len(apitest.HostileBodies))
	for i, b := range apitest.HostileBodies {
		cases[i] = hostileCase{name: b.Name, body: b.Body}
	}
	return cases
}

// optionalBodyCases are for routes whose body may be absent or {}: anything
// else must be refused.
func optionalBodyCases() []hostileCase {
	c := func(name, body string) hostileCase { return hostileCase{name: name, body: body} }
	return append(hostileBodyCases(),
		c("a reason", `{"reason":"because"}`),
		c("an id smuggled in", `{"id":"1"}`),
		c("an actor smuggled in", `{"by":"someone else"}`),
		c("10 000 nested arrays", `{"zz":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`}`),
		hostileCase{name: "over 1 MiB of padding", body: "{}" + strings.Repeat(" ", api.MaxBody), want: []int{http.StatusRequestEntityTooLarge}},
		hostileCase{name: "a 2 MiB member", body: `{"zz":"` + strings.Repeat("a", 2<<20) + `"}`, want: []int{http.StatusRequestEntityTooLarge}},
	)
}

// contentTypeCases send an acceptable body under a content type that does
// not say JSON in UTF-8.
func contentTypeCases(body string) []hostileCase {
	c := func(name, ct string) hostileCase { return hostileCase{name: name, body: body, ctype: ct} }
	return []hostileCase{
		c("text/plain", "text/plain"),
		c("form-encoded", "application/x-www-form-urlencoded"),
		c("multipart", "multipart/form-data; boundary=x"),
		c("JSON in Latin-1", "application/json; charset=latin1"),
		c("JSON in ISO-8859-1", "application/json; charset=ISO-8859-1"),
		c("JSON in UTF-16", "application/json; charset=utf-16"),
		c("text/json", "text/json"),
		c("a JSON lookalike", "application/jsonx"),
		c("JSON patch", "application/json-patch+json"),
		c("two types in one header", "application/json, text/plain"),
		c("a garbled type", ";;"),
		c("XML", "application/xml"),
		{name: "no content type", body: body, noCtype: true},
		{name: "two Content-Type headers", body: body, headers: []string{"Content-Type", "text/plain"}},
	}
}

// pathCases name the thing acted on with something that is not an id.
func pathCases(r hostileRoute) []hostileCase {
	ids := []struct{ name, id string }{
		{"path traversal", "..%2f..%2fetc%2fpasswd"},
		{"dot-dot", ".."},
		{"a NUL after the id", r.id + "%00"},
		{"negative", "-1"},
		{"zero", "0"},
		{"a fraction", "1.5"},
		{"an exponent", "1e3"},
		{"22 digits", "9999999999999999999999"},
		{"above int64", "9223372036854775808"},
		{"Arabic-Indic digit", "%D9%A1"},
		{"full-width digit", "%EF%BC%91"},
		{"a leading zero", "0" + r.id},
		{"a plus sign", "%2B" + r.id},
		{"a trailing space", r.id + "%20"},
		{"SQL injection", "1%27%20OR%20%271%27%3D%271"},
		{"script", "%3Cscript%3E"},
		{"invalid UTF-8", "%FF%FE"},
	}
	if r.pattern == "/api/v1/jobs/:name/run" {
		ids = append(ids,
			struct{ name, id string }{"upper case", strings.ToUpper(r.id)},
			struct{ name, id string }{"a job name then another", r.id + "%3Bdeadline"},
			struct{ name, id string }{"an id", "1"},
		)
	}
	var out []hostileCase
	for _, x := range ids {
		out = append(out, hostileCase{name: "path " + x.name, path: r.path(x.id), body: r.body})
	}
	return out
}

// tokenCases carry the credentials where passd does not read them, or a
// token that is not quite right. A 429 is accepted where a token is
// wrong: repeated failed authentication may be throttled.
func tokenCases(r hostileRoute) []hostileCase {
	failed := []int{http.StatusUnauthorized, http.StatusTooManyRequests}
	forbidden := []int{http.StatusForbidden}
	c := func(name string, auth []string, want []int) hostileCase {
		return hostileCase{name: name, auth: auth, body: r.body, want: want}
	}
	withQuery := func(name, query string) hostileCase {
		sep := "?"
		if strings.Contains(r.path(r.id), "?") {
			sep = "&"
		}
		return hostileCase{name: name, auth: []string{}, path: r.path(r.id) + sep + query, body: r.body, want: failed}
	}
	tok := r.token
	other := []hostileCase{c("lower-case bearer with another role's token", []string{"bearer " + r.other}, forbidden),
		c("another role's token", []string{"Bearer " + r.other}, forbidden)}
	if r.other == "" { // every role may call it
		other = nil
	}
	return append(other, []hostileCase{
		withQuery("token in the query", "token="+tok),
		withQuery("access_token in the query", "access_token="+tok),
		{name: "token in a cookie", auth: []string{}, body: r.body, headers: []string{"Cookie", "token=" + tok}, want: failed},
		c("Basic credentials", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+tok))}, failed),
		c("Token scheme", []string{"Token " + tok}, failed),
		c("no scheme", []string{tok}, failed),
		c("two Authorization headers, the token first", []string{"Bearer " + tok, "Bearer passd_x"}, failed),
		c("two Authorization headers, the token second", []string{"Bearer passd_x", "Bearer " + tok}, failed),
		c("two tokens in one header", []string{"Bearer " + tok + ", Bearer " + tok}, failed),
		c("trailing spaces", []string{"Bearer " + tok + "   "}, failed),
		c("a trailing newline", []string{"Bearer " + tok + "\n"}, failed),
		c("a trailing tab", []string{"Bearer " + tok + "\t"}, failed),
		c("a tab after Bearer", []string{"Bearer\t" + tok}, failed),
		c("a non-breaking space after Bearer", []string{"Bearer\u00a0" + tok}, failed),
		c("a NUL in the token", []string{"Bearer " + tok + "\x00"}, failed),
		c("a truncated token", []string{"Bearer " + tok[:len(tok)-1]}, failed),
		c("the token upper-cased", []string{"Bearer " + strings.ToUpper(tok)}, failed),
		c("an empty bearer", []string{"Bearer "}, failed),
		c("the token as a JSON string", []string{`Bearer "` + tok + `"`}, failed),
	}...)
}

// fieldCases put hostile values in each member of the body, and take the
// required ones away.
func fieldCases(t *testing.T, r hostileRoute) []hostileCase {
	t.Helper()
	var out []hostileCase
	for _, f := range r.fields {
		valid := valueAt(t, r.body, f.path)
		for _, v := range hostileValues(f, valid) {
			out = append(out, hostileCase{name: f.path + " " + v.label, body: withEdits(t, r.body, setPath(f.path, v.value)), field: f.path})
		}
		if f.required {
			out = append(out, hostileCase{name: f.path + " missing", body: withEdits(t, r.body, deletePath(f.path)), field: f.path})
		}
		if strings.Contains(f.path, ".") {
			// The member twice in its own object, as written and in
			// another case (the top-level ones are framing cases).
			key := f.path[strings.LastIndex(f.path, ".")+1:]
			v := mustJSON(t, valid)
			for _, twin := range []string{key, strings.ToUpper(key)} {
				name := "duplicated " + f.path
				if twin != key {
					name += " in upper case"
				}
				out = append(out, hostileCase{name: name, body: splice(t, r.body, f.path, v+","+strconv.Quote(twin)+":"+v), field: f.path})
			}
		}
	}
	return out
}

// casesFor builds every case of a route, filling in what each leaves to
// the route.
func casesFor(t *testing.T, r hostileRoute) []hostileCase {
	t.Helper()
	var cases []hostileCase
	switch {
	case r.contentType() != "application/json":
		// The CSV returns have their own table.
	case r.body == "" || r.body == "{}":
		cases = append(cases, optionalBodyCases()...)
		cases = append(cases, contentTypeCases("{}")...)
	default:
		cases = append(cases, framingCases(t, r, r.body)...)
		cases = append(cases, contentTypeCases(r.body)...)
		cases = append(cases, fieldCases(t, r)...)
	}
	if r.id != "" {
		cases = append(cases, pathCases(r)...)
	}
	cases = append(cases, tokenCases(r)...)
	for i := range cases {
		c := &cases[i]
		c.route, c.method = r.name(), r.method
		if c.path == "" {
			c.path = r.path(r.id)
		}
		if c.token == "" && c.auth == nil {
			c.token = r.token
		}
		if c.ctype == "" {
			c.ctype = r.contentType()
		}
	}
	return cases
}

// ---- sending ----

// sendHostile sends one case through the real handler, from its own
// address, so that throttling of failed authentication by address does not
// turn one case's answer into another's.
func (h *harness) sendHostile(t *testing.T, c hostileCase, n int) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", n>>16&0xff, n>>8&0xff, n&0xff)
	if c.body != "" && !c.noCtype {
		req.Header.Set("Content-Type", c.ctype)
	}
	if c.auth != nil {
		for _, a := range c.auth {
			req.Header.Add("Authorization", a)
		}
	} else if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Add(c.headers[i], c.headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.app.echo.ServeHTTP(rec, req)
	return rec
}

// checkRefusal asserts a 4xx answered with {"error":{"code","message"}}.
func checkRefusal(t *testing.T, c hostileCase, rec *httptest.ResponseRecorder) {
	t.Helper()
	excerpt := rec.Body.String()
	if len(excerpt) > 300 {
		excerpt = excerpt[:300] + "…"
	}
	switch {
	case rec.Code >= 500:
		t.Errorf("status %d: a server error is never an answer to a client's request: %s", rec.Code, excerpt)
	case rec.Code < 400:
		t.Errorf("status %d: the request was accepted: %s", rec.Code, excerpt)
	case len(c.want) > 0 && !slices.Contains(c.want, rec.Code):
		t.Errorf("status %d, want one of %v: %s", rec.Code, c.want, excerpt)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil {
		t.Errorf("the body is not a JSON error object (%v): %s", err, excerpt)
		return
	}
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Errorf("the error lacks a code or a message: %s", excerpt)
	}
	if c.field != "" && body.Error.Field != "" && !strings.HasPrefix(dottedPath(body.Error.Field), dottedPath(c.field)) {
		t.Errorf("the error blames %q, but the case spoils %q: %s", body.Error.Field, c.field, excerpt)
	}
}

// dottedPath writes a member's path one way, whether it came as
// "lines[0].code", as a JSON pointer "/lines/0/code" or spelt in capitals.
func dottedPath(p string) string {
	p = strings.NewReplacer("/", ".", "[", ".", "]", "").Replace(strings.ToLower(p))
	return strings.TrimPrefix(p, ".")
}

// ---- the fixture ----

// hostileFixture builds a database in which every write route has
// something to act on, and returns the routes with a request each would
// accept.
func hostileFixture(t *testing.T, h *harness) []hostileRoute {
	t.Helper()
	gp := h.newProvider(t, "Dr Hostile", "general_practitioner", "10000000001")
	patient := h.newPatient(t, "Diallo")
	h.setRegie(t, "10000.00", "50000.00")
	pending := str(t, h.submit(t, gp, patient, "H-PENDING", "2026-06-01"), "id")
	// An invoice over the act's ceiling, held for the coordinator's review
	// while the settings say so; then they refuse again, so that no case
	// of POST /invoices is held rather than refused.
	overCeiling := func(action string) {
		h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Régie PASS de la Ville d'Évry",
			"regie_iban": validIBAN2, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00", "over_ceiling": action}))
	}
	overCeiling("review")
	flagged := str(t, h.submit(t, gp, patient, "H-FLAGGED", "2026-06-01", line{"G", "45.00", 1}), "id")
	overCeiling("refuse")
	fresh := h.newPatient(t, "Fresh")
	requested := h.newPatient(t, "Requested")
	h.requestRights(t, requested, "puma", "2026-06-01")
	refused := h.newPatient(t, "Refused")
	h.refuseRights(t, refused)
	refusal := latestDecision(t, h, refused)

	// A claim transmitted in a batch (its return is the returns' request)
	// and a queued one (which POST /claim-batches would send).
	_, sent := h.releasedClaim(t, gp, "Ba", "ame", "H-SENT", "30.00")
	claimBatch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	h.releasedClaim(t, gp, "Sy", "ame", "H-QUEUED", "30.00")

	// One due payout per provider, so that batches can be made one by one:
	// a draft, a submitted batch, an approved batch, and a payout left due.
	var due [4]providerFixture
	for i := range due {
		due[i] = h.newProvider(t, fmt.Sprintf("Cabinet %c", 'A'+i), "nurse", fmt.Sprintf("1000000010%d", i))
		h.cityDue(t, due[i], h.newPatient(t, fmt.Sprintf("Due %c", 'A'+i)), fmt.Sprintf("H-DUE-%d", i), "40.00")
	}
	draft := str(t, h.pbDraftFor(t, h.finance, due[0].id), "id")
	submitted := str(t, h.pbDraftFor(t, h.finance, due[1].id), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(submitted, "submit"), h.finance, "")
	approved := str(t, h.pbApproved(t, h.checker, due[2].id), "id")

	// Money under four eyes: payouts to hold, release and void, voids to
	// decide, and changes of bank details to decide.
	held := h.newProvider(t, "Cabinet H", "nurse", "10000000200")
	var payouts [5]string
	for i, inv := range h.cityDue(t, held, h.newPatient(t, "Payé"), "H-HOLD", "11.00", "12.00", "13.00", "14.00", "15.00") {
		payouts[i] = str(t, h.payoutsOf(t, inv)[0], "id")
	}
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/payouts/"+payouts[1]+"/hold", h.finance, `{"reason": "à vérifier"}`)
	var voids [2]string
	for i, p := range payouts[3:] {
		voids[i] = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payouts/"+p+"/void", h.finance, `{"reason": "doublon"}`), "id")
	}
	var changes [2]string
	for i, pr := range []providerFixture{due[0], due[1]} {
		patched := h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/providers/"+pr.id, h.finance, mustJSON(t, map[string]any{"iban": validIBAN2}))
		changes[i] = str(t, patched["pending_bank_change"].(map[string]any), "id")
	}
	renews := h.user(t, "renews", auth.Coordinator, 0)

	invoice := invoiceBody(t, patient.fileNumber, "H-NEW", "2026-06-01", line{"G", "30.00", 1})
	returnBody := mustJSON(t, map[string]any{"lines": []any{map[string]any{
		"claim_id": str(t, sent, "id"), "outcome": "paid", "paid_amount": str(t, sent, "amount"), "paid_on": "2026-06-10"}}})
	returnCSV := "claim_id;outcome;paid_amount;paid_on\r\n" + str(t, sent, "id") + ";paid;" +
		strings.Replace(str(t, sent, "amount"), ".", ",", 1) + ";2026-06-10\r\n"

	return append([]hostileRoute{
		{method: "POST", pattern: "/api/v1/providers", token: h.admin, other: h.finance, text: "name",
			body: mustJSON(t, map[string]any{"kind": "nurse", "name": "Cabinet des Lilas", "rpps": "10004567890", "finess": "930012345",
				"iban": validIBAN, "bic": validBIC}),
			fields: []hostileField{{"kind", enumValue, true}, {"name", freeText, true}, {"rpps", idString, false},
				{"finess", idString, false}, {"iban", idString, true}, {"bic", idString, true}}},
		{method: "POST", pattern: "/api/v1/invoices", token: gp.token, other: h.coordinator, text: "external_ref", body: invoice,
			fields: []hostileField{{"patient_file_number", idString, true}, {"birth_date", dateValue, true}, {"external_ref", freeText, true},
				{"care_date", dateValue, true}, {"lines[0].code", idString, true}, {"lines[0].label", freeText, true},
				{"lines[0].quantity", countValue, true}, {"lines[0].unit_price", amountValue, true}}},
		{method: "POST", pattern: "/api/v1/invoices/:id/cancel", id: pending, token: gp.token, other: h.finance},
		{method: "POST", pattern: "/api/v1/patients", token: h.coordinator, other: h.referent, text: "last_name",
			body: mustJSON(t, map[string]any{"last_name": "Hostile", "first_name": "Test", "birth_date": "1990-04-12", "nir": nir("2900499350123"),
				"commune_code": "56121"}),
			fields: []hostileField{{"last_name", freeText, true}, {"first_name", freeText, true}, {"birth_date", dateValue, true},
				{"nir", idString, false}, {"commune_code", idString, false}}},
		{method: "PATCH", pattern: "/api/v1/patients/:id", id: fresh.id, token: h.coordinator, other: h.referent,
			body: `{"commune_code": "2A004"}`, fields: []hostileField{{"commune_code", idString, false}}},
		{method: "POST", pattern: "/api/v1/patients/:id/rights-request", id: fresh.id, token: h.coordinator, other: h.referent,
			body:   mustJSON(t, map[string]any{"regime": "puma", "filed_on": "2026-06-01"}),
			fields: []hostileField{{"regime", enumValue, true}, {"filed_on", dateValue, true}}},
		{method: "POST", pattern: "/api/v1/patients/:id/rights-decision", id: requested.id, token: h.referent, other: h.coordinator,
			text: "reference",
			body: mustJSON(t, map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-05-01",
				"effective_to": "2027-04-30", "reference": "PUMA-93-1"}),
			fields: []hostileField{{"decision", enumValue, true}, {"regime", enumValue, true}, {"effective_from", dateValue, true},
				{"effective_to", dateValue, false}, {"reference", freeText, true}}},
		{method: "POST", pattern: "/api/v1/patients/:id/rights-decisions/:did/correct", id: refused.id, did: refusal, token: h.referent,
			other: h.coordinator, text: "correction_reason",
			body: mustJSON(t, map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-05-01",
				"reference": "PUMA-93-2", "correction_reason": "la résidence est établie"}),
			fields: []hostileField{{"decision", enumValue, true}, {"regime", enumValue, true}, {"effective_from", dateValue, true},
				{"reference", freeText, true}, {"correction_reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/claim-batches", token: h.referent, other: h.finance},
		{method: "POST", pattern: "/api/v1/claim-batches/:id/returns", label: "JSON", id: claimBatch, token: h.referent, other: h.finance,
			body: returnBody,
			fields: []hostileField{{"lines[0].claim_id", claimRef, true}, {"lines[0].outcome", enumValue, true},
				{"lines[0].paid_amount", amountValue, true}, {"lines[0].paid_on", dateValue, true}}},
		{method: "POST", pattern: "/api/v1/claim-batches/:id/returns", label: "CSV", id: claimBatch, token: h.referent, other: h.finance,
			body: returnCSV, ctype: "text/csv"},
		{method: "PUT", pattern: "/api/v1/settings", token: h.admin, other: h.finance, text: "regie_name",
			body: mustJSON(t, map[string]any{"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
				"regie_ceiling": "10000.00", "annual_budget": "50000.00", "deadline_days": 90}),
			fields: []hostileField{{"regie_name", freeText, true}, {"regie_iban", idString, true}, {"regie_bic", idString, true},
				{"regie_ceiling", amountValue, true}, {"annual_budget", amountValue, true}, {"deadline_days", countValue, false}}},
		{method: "POST", pattern: "/api/v1/payout-batches", token: h.finance, other: h.admin,
			body:   mustJSON(t, map[string]any{"provider_id": due[3].id}),
			fields: []hostileField{{"provider_id", numericID, false}}},
		{method: "POST", pattern: "/api/v1/payout-batches/:id/submit", id: draft, token: h.finance, other: h.admin},
		{method: "POST", pattern: "/api/v1/payout-batches/:id/budget-override", id: submitted, token: h.admin, other: h.finance, text: "reason",
			body: `{"reason": "épidémie hivernale"}`, fields: []hostileField{{"reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/payout-batches/:id/approve", id: submitted, token: h.checker, other: h.coordinator},
		{method: "PATCH", pattern: "/api/v1/providers/:id", id: held.id, token: h.admin, other: h.coordinator, text: "name",
			body:   mustJSON(t, map[string]any{"kind": "nurse", "name": "Cabinet H bis", "iban": validIBAN2, "bic": validBIC}),
			fields: []hostileField{{"kind", enumValue, false}, {"name", freeText, false}, {"iban", idString, false}, {"bic", idString, false}}},
		{method: "POST", pattern: "/api/v1/bank-changes/:id/confirm", id: changes[0], token: h.checker, other: h.coordinator},
		{method: "POST", pattern: "/api/v1/bank-changes/:id/reject", id: changes[1], token: h.admin, other: h.coordinator, text: "reason",
			body: `{"reason": "RIB illisible"}`, fields: []hostileField{{"reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/payouts/:id/hold", id: payouts[0], token: h.finance, other: h.admin, text: "reason",
			body: `{"reason": "facture à vérifier"}`, fields: []hostileField{{"reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/payouts/:id/release", id: payouts[1], token: h.finance, other: h.admin},
		{method: "POST", pattern: "/api/v1/payouts/:id/void", id: payouts[2], token: h.finance, other: h.admin, text: "reason",
			body: `{"reason": "facture en double"}`, fields: []hostileField{{"reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/payout-voids/:id/confirm", id: voids[0], token: h.checker, other: h.admin},
		{method: "POST", pattern: "/api/v1/payout-voids/:id/reject", id: voids[1], token: h.checker, other: h.admin},
		{method: "POST", pattern: "/api/v1/me/token", token: renews, other: ""},
		{method: "POST", pattern: "/api/v1/payout-batches/:id/cancel", id: draft, token: h.finance, other: h.admin},
		{method: "POST", pattern: "/api/v1/payout-batches/:id/paid", id: approved, token: h.finance, other: h.admin,
			body: mustJSON(t, map[string]any{"paid_on": today}), fields: []hostileField{{"paid_on", dateValue, true}}},
		{method: "POST", pattern: "/api/v1/jobs/:name/run", id: "release", token: h.admin, other: h.finance},
		{method: "POST", pattern: "/api/v1/invoices/:id/review", id: flagged, token: h.coordinator, other: h.admin},
		{method: "PUT", pattern: "/api/v1/acts/:code", id: "IK", token: h.admin, other: h.coordinator, text: "label",
			body: mustJSON(t, map[string]any{"label": "Indemnité kilométrique", "provider_kinds": []string{"nurse"}, "max_unit_price": "0.50",
				"dispensing_fee": false}),
			fields: []hostileField{{"label", freeText, true}, {"max_unit_price", amountValue, false}, {"dispensing_fee", flagValue, false}}},
		{method: "DELETE", pattern: "/api/v1/acts/:code", id: "IK", token: h.admin, other: h.finance},
		{method: "POST", pattern: "/api/v1/acts/import", token: h.admin, other: h.coordinator, ctype: "text/csv",
			body: "code;label;provider_kinds\r\nMCI;Majoration;nurse\r\n"},
		{method: "PUT", pattern: "/api/v1/drugs/:cip13", id: "3400935955838", token: h.admin, other: gp.token, text: "label",
			body:   mustJSON(t, map[string]any{"label": "Paracétamol 500 mg", "class": 65}),
			fields: []hostileField{{"label", freeText, true}, {"class", countValue, true}}},
		{method: "DELETE", pattern: "/api/v1/drugs/:cip13", id: "3400935955838", token: h.admin, other: h.coordinator},
		{method: "POST", pattern: "/api/v1/drugs/import", token: h.admin, other: h.finance, ctype: "text/csv",
			body: "cip13;label;class\r\n3400935955838;Paracétamol;65\r\n"},
		{method: "POST", pattern: "/api/v1/rates", token: h.admin, other: h.finance, text: "reason",
			body: mustJSON(t, map[string]any{"regime": "puma", "rate_class": "nurse", "effective_from": "2027-01-01", "rate": "0.60",
				"reason": "arrêté du 1er décembre 2026"}),
			fields: []hostileField{{"regime", enumValue, true}, {"rate_class", enumValue, true}, {"effective_from", dateValue, true},
				{"rate", idString, true}, {"reason", freeText, true}}},
	}, referralHostileRoutes(t, h, patient.fileNumber)...)
}

// referralHostileRoutes are the CCAS–SOS Médecins convention's write
// routes, each with a case in the state its request needs.
func referralHostileRoutes(t *testing.T, h *harness, fileNumber string) []hostileRoute {
	t.Helper()
	c := h.newConvention(t, "Hostile")
	freeCCAS := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/organisations", h.admin, `{"kind": "ccas", "name": "CCAS libre"}`), "id")
	freeSOS := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/organisations", h.admin, `{"kind": "sos_medecins", "name": "SOS libre"}`), "id")
	referral := func(steps ...string) string {
		id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", c.social, referralBody(t, "Hostile")), "id")
		for _, body := range steps {
			path := "/api/v1/referrals/" + id + "/answer"
			if strings.Contains(body, "outcome") {
				path = "/api/v1/referrals/" + id + "/outcome"
			}
			h.mustDo(t, http.StatusOK, "POST", path, c.doctor, body)
		}
		return id
	}
	sent, accepted := referral(), referral(`{"decision": "accept"}`)
	oriented := referral(`{"decision": "accept"}`, `{"outcome": "pass", "on": "2026-06-15"}`)
	alert := func() string {
		return str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", c.doctor, alertBody(t, "Hostile")), "id")
	}
	newAlert, acknowledged := alert(), alert()
	exception := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", c.doctor, mustJSON(t, map[string]any{"reason": "isolation",
		"basis": "emergency", "exception_reason": "Personne inconsciente.", "last_name": "Hostile"})), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+acknowledged+"/acknowledge", c.social, `{}`)
	person := []hostileField{{"last_name", freeText, true}, {"first_name", freeText, false}, {"birth", idString, false},
		{"phone", idString, false}, {"note", freeText, false}}
	return []hostileRoute{
		{method: "POST", pattern: "/api/v1/organisations", token: h.admin, other: h.finance, text: "name",
			body:   `{"kind": "sos_medecins", "name": "SOS Médecins Essonne"}`,
			fields: []hostileField{{"kind", enumValue, true}, {"name", freeText, true}}},
		{method: "POST", pattern: "/api/v1/conventions", token: h.admin, other: h.coordinator,
			body:   mustJSON(t, map[string]any{"ccas_id": freeCCAS, "association_id": freeSOS, "signed_on": "2026-01-15"}),
			fields: []hostileField{{"ccas_id", numericID, true}, {"association_id", numericID, true}, {"signed_on", dateValue, true}}},
		{method: "POST", pattern: "/api/v1/conventions/:id/referents", id: c.id, token: h.admin, other: c.social, text: "name",
			body: `{"side": "ccas", "name": "Mme Renaud", "title": "Travailleuse sociale", "phone": "01 60 00 00 02", "email": "renaud@ccas.example"}`,
			fields: []hostileField{{"side", enumValue, true}, {"name", freeText, true}, {"title", freeText, false},
				{"phone", idString, false}, {"email", idString, false}}},
		{method: "POST", pattern: "/api/v1/referrals", token: c.social, other: c.doctor, text: "note",
			body: mustJSON(t, map[string]any{"convention_id": c.id, "urgency": "today", "place": "address", "reason": "no_care",
				"last_name": "Bréhat", "first_name": "Yann", "birth": "1947", "phone": "0612345678", "address": "3 allée des Tilleuls",
				"note": "Pas vu de médecin depuis deux ans."}),
			fields: append([]hostileField{{"convention_id", numericID, false}, {"urgency", enumValue, true}, {"place", enumValue, true},
				{"reason", enumValue, true}, {"address", freeText, true}}, person...)},
		{method: "POST", pattern: "/api/v1/referrals/:id/answer", id: sent, token: c.doctor, other: c.social, text: "reason",
			body:   `{"decision": "decline", "reason": "Aucun médecin disponible."}`,
			fields: []hostileField{{"decision", enumValue, true}, {"reason", freeText, true}}},
		{method: "POST", pattern: "/api/v1/referrals/:id/outcome", id: accepted, token: c.doctor, other: c.social, text: "note",
			body:   `{"outcome": "hospital", "on": "2026-06-15", "note": "Adressée aux urgences."}`,
			fields: []hostileField{{"outcome", enumValue, true}, {"on", dateValue, true}, {"note", freeText, false}}},
		{method: "POST", pattern: "/api/v1/referrals/:id/pass-file", id: oriented, token: h.coordinator, other: c.doctor,
			body:   mustJSON(t, map[string]any{"file_number": fileNumber}),
			fields: []hostileField{{"file_number", idString, true}}},
		{method: "POST", pattern: "/api/v1/alerts", token: c.doctor, other: c.social, text: "exception_reason",
			body: mustJSON(t, map[string]any{"convention_id": c.id, "reason": "dependency", "basis": "impossible_to_inform",
				"exception_reason": "Personne hors d'état d'exprimer sa volonté.", "last_name": "Kerbrat", "first_name": "Anne",
				"birth": "1938-02-11", "phone": "+33 6 12 34 56 78", "note": "Logement insalubre."}),
			fields: append([]hostileField{{"convention_id", numericID, false}, {"reason", enumValue, true}, {"basis", enumValue, true},
				{"exception_reason", freeText, true}}, person...)},
		{method: "POST", pattern: "/api/v1/alerts/:id/acknowledge", id: newAlert, token: c.social, other: c.doctor,
			body: mustJSON(t, map[string]any{"assign_to": c.colleagueID}), fields: []hostileField{{"assign_to", numericID, false}}},
		{method: "POST", pattern: "/api/v1/alerts/:id/informed", id: exception, token: c.doctor, other: c.social,
			body: `{"informed_on": "2026-06-15"}`, fields: []hostileField{{"informed_on", dateValue, true}}},
		{method: "POST", pattern: "/api/v1/alerts/:id/follow-up", id: acknowledged, token: c.social, other: c.doctor, text: "note",
			body:   `{"step": "home_help", "note": "Aide à domicile mise en place."}`,
			fields: []hostileField{{"step", enumValue, true}, {"note", freeText, false}}},
	}
}

// csvParts splits a valid CSV body, a header row then one row separated
// by ';', and returns withCell, which gives the body with cell i of the
// row replaced.
func csvParts(valid string) (header, row string, cells []string, withCell func(i int, v string) string) {
	header, row, _ = strings.Cut(valid, "\r\n")
	row = strings.TrimSuffix(row, "\r\n")
	cells = strings.Split(row, ";")
	withCell = func(i int, v string) string {
		cs := slices.Clone(cells)
		cs[i] = v
		return header + "\r\n" + strings.Join(cs, ";") + "\r\n"
	}
	return header, row, cells, withCell
}

// csvImportCases spoil an import of the tariff (acts or drugs). valid is
// a file the route accepts, a header row then one row of three cells whose
// first (the code) and third (the kinds, or the class) must be refused
// when spoilt; the second, a label, is free text.
func csvImportCases(valid string) []hostileCase {
	header, row, cells, withCell := csvParts(valid)
	c := func(name, body string) hostileCase { return hostileCase{name: name, body: body} }
	cases := []hostileCase{
		c("an empty file", ""),
		c("only separators", ";;\r\n;;\r\n"),
		c("a header only", header+"\r\n"),
		c("an unknown column", header+";price\r\n"+row+";1\r\n"),
		c("a column twice", header+";label\r\n"+row+";x\r\n"),
		c("mixed separators", strings.Replace(header, ";", ",", 1)+"\r\n"+row+"\r\n"),
		c("a cell more than the header", header+"\r\n"+row+";x\r\n"),
		c("the same code twice", valid+row+"\r\n"),
		c("an unterminated quote", header+"\r\n\""+row+"\r\n"),
		c("JSON sent as CSV", `{"lines":[]}`),
		c("UTF-16LE with a BOM", utf16Body(valid, binary.LittleEndian)),
		c("Latin-1 in a cell", header+"\r\n"+cells[0]+";M\xe9dicament;"+cells[2]+"\r\n"),
		c("a NUL in the header", strings.Replace(valid, "label", "la\x00bel", 1)),
		c("a good row then a bad one", valid+withCell(0, "=1+1")[len(header)+2:]),
		{name: "over 1 MiB", body: valid + strings.Repeat(";;\r\n", api.MaxBody/4+1), want: []int{http.StatusRequestEntityTooLarge}},
		{name: "text/plain", body: valid, ctype: "text/plain"},
		{name: "CSV sent as JSON", body: valid, ctype: "application/json"},
		{name: "no content type", body: valid, noCtype: true},
	}
	for _, i := range []int{0, 2} {
		for _, v := range []struct{ name, value string }{
			{"empty", ""}, {"a formula", "=1+1"}, {"SQL injection", "1' OR '1'='1"}, {"a script", "<script>alert(1)</script>"},
			{"a NUL", cells[i] + "\x00"}, {"Arabic-Indic digits", "١٢٣"}, {"5000 characters", strings.Repeat("X", 5000)},
		} {
			cases = append(cases, c(fmt.Sprintf("cell %d %s", i+1, v.name), withCell(i, v.value)))
		}
	}
	return cases
}

// csvReturnCases spoil a CSV return. valid is a return the route accepts,
// a header row then one line.
func csvReturnCases(valid string) []hostileCase {
	header, row, cells, withCell := csvParts(valid)
	c := func(name, body string) hostileCase { return hostileCase{name: name, body: body} }
	cases := []hostileCase{
		c("an empty file", ""),
		c("only separators", ";;;\r\n;;;\r\n"),
		c("a header only", header+"\r\n"),
		c("an unknown column", header+";amount_eur\r\n"+row+";1\r\n"),
		c("a column twice", header+";outcome\r\n"+row+";paid\r\n"),
		c("no outcome column", "claim_id;paid_amount;paid_on\r\n"+cells[0]+";"+cells[2]+";"+cells[3]+"\r\n"),
		c("mixed separators", strings.Replace(header, ";", ",", 1)+"\r\n"+row+"\r\n"),
		c("a cell more than the header", header+"\r\n"+row+";x\r\n"),
		c("a cell less than the header", header+"\r\n"+strings.Join(cells[:3], ";")+"\r\n"),
		c("the same claim twice", valid+row+"\r\n"),
		c("an unterminated quote", header+"\r\n\""+row+"\r\n"),
		c("a reason on a paid line", header+";reason\r\n"+row+";payé\r\n"),
		c("JSON sent as CSV", `{"lines":[]}`),
		c("UTF-16LE with a BOM", utf16Body(valid, binary.LittleEndian)),
		c("UTF-32BE with a BOM", utf32Body(valid, binary.BigEndian)),
		c("Latin-1 in a cell", header+";reason\r\n"+cells[0]+";rejected;;;refus\xe9\r\n"),
		c("an overlong sequence in a cell", header+";reason\r\n"+cells[0]+";rejected;;;a\xc0\xafb\r\n"),
		c("a NUL in a cell", withCell(1, "paid\x00")),
		c("a NUL in the header", strings.Replace(valid, "outcome", "out\x00come", 1)),
		c("claim id as a formula", withCell(0, "=1+1")),
		c("claim id with an exponent", withCell(0, "1e0")),
		c("claim id negative", withCell(0, "-"+cells[0])),
		c("claim id zero", withCell(0, "0")),
		c("claim id of 22 digits", withCell(0, "9999999999999999999999")),
		c("claim id in Arabic-Indic digits", withCell(0, "١")),
		c("claim id SQL injection", withCell(0, "1' OR '1'='1")),
		c("claim id script", withCell(0, "<script>alert(1)</script>")),
		c("outcome in capitals", withCell(1, "PAID")),
		c("outcome SQL injection", withCell(1, "paid' OR '1'='1")),
		c("amount with an exponent", withCell(2, "1e2")),
		c("amount with a comma exponent", withCell(2, "3,0e1")),
		c("amount negative", withCell(2, "-"+cells[2])),
		c("amount zero", withCell(2, "0,00")),
		c("amount with three decimals", withCell(2, cells[2]+"1")),
		c("amount of 20 digits", withCell(2, "99999999999999999999,00")),
		c("amount NaN", withCell(2, "NaN")),
		c("amount as a formula", withCell(2, "=30")),
		c("amount with a thousands separator", withCell(2, "1.030,00")),
		c("date 30 February", withCell(3, "2026-02-30")),
		c("date in French", withCell(3, "10/06/2026")),
		c("date in the future", withCell(3, "2026-06-16")),
		c("date SQL injection", withCell(3, "2026-06-10' OR '1'='1")),
		c("a missing amount", withCell(2, "")),
		{name: "over 1 MiB", body: valid + strings.Repeat(";;;;\r\n", api.MaxBody/6+1), want: []int{http.StatusRequestEntityTooLarge}},
		{name: "CSV in Latin-1", body: valid, ctype: "text/csv; charset=latin1"},
		{name: "CSV in UTF-16", body: valid, ctype: "text/csv; charset=utf-16"},
		{name: "text/plain", body: valid, ctype: "text/plain"},
		{name: "form-encoded", body: valid, ctype: "application/x-www-form-urlencoded"},
		{name: "CSV sent as JSON", body: valid, ctype: "application/json"},
		{name: "no content type", body: valid, noCtype: true},
		{name: "multipart", body: "--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + valid + "\r\n--x--\r\n", ctype: "multipart/form-data; boundary=x"},
	}
	return cases
}

// stateAtOnce is h.state in one query: the suite takes it after each of its
// two thousand cases.
func (h *harness) stateAtOnce(t *testing.T) state {
	t.Helper()
	parts := make([]string, 0, len(stateTables)+1)
	for _, table := range stateTables {
		parts = append(parts, fmt.Sprintf(`SELECT '%s', count(*)::text || ' rows ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`,
			table, table))
	}
	parts = append(parts, `SELECT 'tokens', count(*)::text FROM tokens`)
	rows, err := h.pool.Query(t.Context(), strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	out := state{}
	for rows.Next() {
		var table, summary string
		if err := rows.Scan(&table, &summary); err != nil {
			t.Fatalf("state: %v", err)
		}
		out[table] = summary
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("state: %v", err)
	}
	return out
}

// ---- the test ----

func TestHostileRequestsAreRefusedAndStoreNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	routes := hostileFixture(t, h)

	// Every write route of /api/v1 is in the table.
	covered := map[string]bool{}
	for _, r := range routes {
		covered[r.method+" "+r.pattern] = true
	}
	for _, r := range h.app.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "GET" || r.Method == "HEAD" || r.Method == "OPTIONS" ||
			strings.HasSuffix(r.Path, "*") {
			continue
		}
		if !covered[r.Method+" "+r.Path] {
			t.Errorf("write route %s %s has no hostile cases", r.Method, r.Path)
		}
	}

	var cases []hostileCase
	for _, r := range routes {
		rc := casesFor(t, r)
		if r.ctype == "text/csv" {
			csv := csvImportCases(r.body)
			if strings.HasSuffix(r.pattern, "/returns") {
				csv = csvReturnCases(r.body)
			}
			for i := range csv {
				c := &csv[i]
				c.route, c.method, c.path, c.token = r.name(), r.method, r.path(r.id), r.token
				if c.ctype == "" {
					c.ctype = r.ctype
				}
			}
			rc = append(csv, rc...)
		}
		cases = append(cases, rc...)
	}
	// Idempotency keys a client should not send.
	for _, key := range []struct{ name, key string }{
		{"of 201 characters", strings.Repeat("k", 201)},
		{"with a space", "key one"},
		{"with a newline", "key\none"},
		{"with an accent", "clé"},
		{"with a NUL", "key\x00"},
	} {
		cases = append(cases, hostileCase{route: routes[1].name(), name: "Idempotency-Key " + key.name, method: "POST",
			path: "/api/v1/invoices", token: routes[1].token, body: routes[1].body, ctype: "application/json",
			headers: []string{"Idempotency-Key", key.key}, field: "Idempotency-Key"})
	}

	perRoute := map[string]int{}
	baseline := h.stateAtOnce(t)
	for n, c := range cases {
		perRoute[c.route]++
		t.Run(c.route+"/"+c.name, func(t *testing.T) {
			rec := h.sendHostile(t, c, n)
			checkRefusal(t, c, rec)
			// Every case must leave the database as it found it, so each
			// one's "after" is the next one's "before".
			after := h.stateAtOnce(t)
			for table, b := range baseline {
				if after[table] != b {
					t.Errorf("table %s changed (%s -> %s): a refused request must store nothing", table, b, after[table])
				}
			}
			baseline = after
		})
	}

	names := make([]string, 0, len(perRoute))
	for r := range perRoute {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		t.Logf("%4d cases  %s", perRoute[r], r)
	}
	t.Logf("%4d hostile cases in all, over %d write routes", len(cases), len(names))
	if len(cases) < minHostileCases {
		t.Errorf("%d hostile cases, want at least %d", len(cases), minHostileCases)
	}

	// The requests the cases spoil are accepted as they are: so each
	// refusal above was for what the case changed.
	t.Run("control", func(t *testing.T) {
		for _, r := range routes {
			ctype := []string{}
			if r.body != "" {
				ctype = []string{"Content-Type", r.contentType()}
			}
			rec := h.doRaw(t, r.method, r.path(r.id), r.token, r.body, ctype...)
			if rec.Code != http.StatusOK && rec.Code != http.StatusCreated && rec.Code != http.StatusNoContent {
				t.Errorf("%s: the unspoilt request got %d: %s", r.name(), rec.Code, rec.Body)
			}
		}
	})
}
