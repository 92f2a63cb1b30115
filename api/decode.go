package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/fault"
	"passd/money"
	"passd/text"
)

// MaxBody is the largest request body passd reads.
const MaxBody = 1 << 20

// DecodeBody is Decode on a body already read, sent with contentType.
func DecodeBody(contentType string, body []byte, dst any) error {
	if contentType != "" || len(bytes.TrimSpace(body)) > 0 {
		if err := CheckJSONContentType(contentType); err != nil {
			return err
		}
	}
	return DecodeBytes(body, dst)
}

// CheckJSONContentType refuses, with 415, a content type other than
// application/json in UTF-8. JSON has no charset parameter (RFC 8259: it is
// UTF-8); one naming another encoding says the body is not what passd
// reads, even when its bytes happen to decode.
func CheckJSONContentType(contentType string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return fault.New(fault.Invalid, "the body must be JSON (Content-Type: application/json)").
			WithKind(fault.KindUnsupportedMediaType).WithStatus(http.StatusUnsupportedMediaType)
	}
	if cs, ok := params["charset"]; ok && !IsUTF8Charset(cs) {
		return fault.New(fault.Invalid, "the body must be JSON in UTF-8, not %q", cs).
			WithKind(fault.KindUnsupportedMediaType).WithStatus(http.StatusUnsupportedMediaType)
	}
	return nil
}

// IsUTF8Charset reports whether a charset parameter names UTF-8.
func IsUTF8Charset(charset string) bool {
	return strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}

// DecodeBytes is Decode on a body already read.
func DecodeBytes(body []byte, dst any) error { return decodeBytes(body, dst, false) }

// decodeBytes is DecodeBytes, reading numbers as json.Number when
// useNumber is set.
func decodeBytes(body []byte, dst any, useNumber bool) error {
	malformed := func(msg string) error {
		return fault.New(fault.Invalid, "%s", msg).WithKind(fault.KindMalformedJSON).WithStatus(http.StatusBadRequest)
	}
	if !utf8.Valid(body) {
		return malformed("the body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return malformed("the body is empty; a JSON object is expected")
	}
	if trimmed[0] != '{' {
		return malformed("the body must be a JSON object")
	}
	if hasLoneSurrogate(trimmed) {
		return malformed("the body holds a lone UTF-16 surrogate escape (such as \\ud800), which is not a character")
	}
	if err := memberError("", trimmed, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return fault.Field(field, "%s has the wrong type (%s where %s is expected)", field, typeErr.Value, describe(typeErr.Type.String()))
		case errors.As(err, &syntaxErr):
			return malformed(fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if name == "" {
				// A member named "": blame the body, as a 422 names a field.
				return fault.Field("body", "unknown field \"\" (a member with an empty name)").WithKind(fault.KindUnknownField)
			}
			return fault.Field(name, "unknown field %q", name).WithKind(fault.KindUnknownField)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return malformed("the JSON body ends too early")
		default:
			return malformed("malformed JSON body")
		}
	}
	if dec.More() {
		return malformed("the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("unexpected data after the JSON object")
	}
	return nil
}

// CheckObject checks that body is one JSON object as DecodeBytes does
// (valid UTF-8, no key given twice, nothing after it), for a caller that
// checks its members another way: the API contract's validator. It returns
// the object with its numbers as json.Number, as that validator reads JSON,
// so that the body is decoded once for both.
func CheckObject(body []byte) (map[string]any, error) {
	var members map[string]any
	if err := decodeBytes(body, &members, true); err != nil {
		return nil, err
	}
	return members, nil
}

func describe(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "Value"):
		return "a value"
	default:
		return "an object"
	}
}

// memberError words what checkMembers finds in doc, naming paths under
// prefix: a repeated member is malformed JSON (400), a name spelt unlike
// the field it would match an unknown field (422).
func memberError(prefix string, doc []byte, dst any) error {
	p, found := checkMembers(doc, reflect.TypeOf(dst))
	if !found {
		return nil
	}
	if p.tooDeep {
		return fault.New(fault.Invalid, "the JSON nests more than %d levels deep", maxDepth).WithKind(fault.KindMalformedJSON).WithStatus(http.StatusBadRequest)
	}
	path := p.path
	if prefix != "" {
		path = prefix + "." + path
	}
	if p.duplicate {
		return fault.Field(path, "%s appears twice", path).WithKind(fault.KindDuplicateField).WithStatus(http.StatusBadRequest)
	}
	return fault.Field(path, "unknown field %q: member names are case-sensitive", path).WithKind(fault.KindUnknownField)
}

// Value is one JSON field whose type and content are checked after
// decoding, so that the error can name the field with its full path
// ("lines[2].unit_price"), which encoding/json cannot do.
type Value struct {
	raw json.RawMessage
}

// UnmarshalJSON keeps the raw value; null counts as absent.
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		v.raw = nil
		return nil
	}
	v.raw = append(v.raw[:0], b...)
	return nil
}

// Present reports whether the field was given and not null.
func (v Value) Present() bool { return len(v.raw) > 0 }

// String returns a required JSON string, trimmed, of at most max characters.
func (v Value) String(field string, max int) (string, error) {
	s, ok, err := v.OptString(field, max)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", fault.Field(field, "%s is required", field)
	}
	return s, nil
}

// OptString returns an optional JSON string; ok is false when absent or empty.
func (v Value) OptString(field string, max int) (s string, ok bool, err error) {
	if s, err = v.Text(field); err != nil {
		return "", false, err
	}
	s, err = text.Clean(field, s, max)
	return s, err == nil && s != "", err
}

// Text returns the string as sent, unchecked but for its JSON type ("" when
// absent), for a caller whose domain value checks it (its Validate).
func (v Value) Text(field string) (string, error) {
	if !v.Present() {
		return "", nil
	}
	s, err := v.text()
	if err != nil {
		return "", fault.Field(field, "%s must be a string", field)
	}
	return s, nil
}

// text returns the value as a JSON string. A string without escapes, as
// nearly all are, is its bytes between the quotes: encoding/json would give
// the same, at the cost of a decoder.
func (v Value) text() (string, error) {
	if n := len(v.raw); n >= 2 && v.raw[0] == '"' && v.raw[n-1] == '"' {
		inner := v.raw[1 : n-1]
		plain := true
		for _, c := range inner {
			if c < 0x20 || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(v.raw, &s)
	return s, err
}

// Int returns a required JSON integer between min and max.
func (v Value) Int(field string, min, max int) (int, error) {
	if !v.Present() {
		return 0, fault.Field(field, "%s is required", field)
	}
	s := string(v.raw)
	n, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' {
		return 0, fault.Field(field, "%s must be a whole number", field)
	}
	if n < min || n > max {
		return 0, fault.Field(field, "%s must be between %d and %d", field, min, max)
	}
	return n, nil
}

// Bool returns an optional JSON boolean (false when absent).
func (v Value) Bool(field string) (bool, error) {
	if !v.Present() {
		return false, nil
	}
	switch string(v.raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fault.Field(field, "%s must be true or false", field)
}

// Amount returns a required positive amount given as a decimal string.
func (v Value) Amount(field string) (decimal.Decimal, error) {
	s, err := v.String(field, 32)
	if err != nil {
		if v.Present() && v.raw[0] != '"' {
			return decimal.Decimal{}, fault.Field(field, "%s must be a decimal string like \"30.00\"", field)
		}
		return decimal.Decimal{}, err
	}
	d, err := money.ParseAmount(s)
	if err != nil {
		return decimal.Decimal{}, fault.Field(field, "%s: %s", field, strings.TrimPrefix(err.Error(), "money: "))
	}
	if !d.IsPositive() {
		return decimal.Decimal{}, fault.Field(field, "%s must be greater than zero", field)
	}
	return d, nil
}

// Date returns a required date given as "YYYY-MM-DD".
func (v Value) Date(field string) (calendar.Date, error) {
	if !v.Present() {
		return calendar.Date{}, fault.Field(field, "%s is required", field)
	}
	return v.parseDate(field)
}

// OptDate returns an optional date (zero when absent).
func (v Value) OptDate(field string) (calendar.Date, error) {
	if !v.Present() {
		return calendar.Date{}, nil
	}
	return v.parseDate(field)
}

func (v Value) parseDate(field string) (calendar.Date, error) {
	s, err := v.text()
	if err != nil {
		return calendar.Date{}, fault.Field(field, "%s must be a date string YYYY-MM-DD", field)
	}
	d, err := calendar.Parse(s)
	if err != nil {
		return calendar.Date{}, fault.Field(field, "%s must be a valid date YYYY-MM-DD", field)
	}
	return d, nil
}

// Enum returns v as one of allowed, a typed list (statuses, kinds): the
// error lists the very values the caller accepts.
func Enum[T ~string](v Value, field string, allowed ...T) (T, error) {
	s, err := v.Text(field)
	if err != nil {
		return "", err
	}
	return text.OneOf(field, s, allowed...)
}

// Array returns the elements of a required JSON array.
func (v Value) Array(field string) ([]Value, error) {
	if !v.Present() {
		return nil, fault.Field(field, "%s is required", field)
	}
	// Each element goes through Value.UnmarshalJSON, null included.
	var out []Value
	if v.raw[0] != '[' || json.Unmarshal(v.raw, &out) != nil {
		return nil, fault.Field(field, "%s must be an array", field)
	}
	if out == nil {
		out = []Value{}
	}
	return out, nil
}

// Object decodes a JSON object strictly into dst (whose fields should be
// Values), naming any unknown or mistyped member under field, as in
// "lines[2].colour".
func (v Value) Object(field string, dst any) error {
	if !v.Present() || v.raw[0] != '{' {
		return fault.Field(field, "%s must be an object", field)
	}
	if err := memberError(field, v.raw, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(v.raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fault.Field(field+"."+typeErr.Field, "%s.%s has the wrong type", field, typeErr.Field)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = field + "." + strings.Trim(name, `"`)
		return fault.Field(name, "unknown field %q", name).WithKind(fault.KindUnknownField)
	}
	return fault.Field(field, "%s is not a valid object", field)
}

// DecodeOptionalBody is DecodeOptional on a body already read, sent with
// contentType.
func DecodeOptionalBody(contentType string, body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if dst == nil {
		dst = &struct{}{}
	}
	return DecodeBody(contentType, body, dst)
}
