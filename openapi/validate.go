package openapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"passd/fault"
)

const mediaTypeJSON = "application/json"

// requestInput is a request whose body, if its operation takes one, has
// been read and framed already.
type requestInput struct {
	operation *Operation
	params    map[string]string
	body      []byte
	mediaType string // "" when the body is absent or not to be validated
	bodyErr   error  // the body's framing, refused
}

// mediaTypes lists the media types a request body may have.
func mediaTypes(rb *openapi3.RequestBody) []string {
	out := make([]string, 0, len(rb.Content))
	for mt := range rb.Content {
		out = append(out, mt)
	}
	slices.Sort(out)
	return out
}

// mediaTypeOf returns which of accepted the Content-Type header names. A
// body without the header is JSON when the operation takes only JSON, as
// api.DecodeRaw reads it. The 415 names the field content_type when the
// client has a choice to make, as the CPAM return route always did.
func mediaTypeOf(header string, accepted []string) (string, error) {
	if header == "" && slices.Equal(accepted, []string{mediaTypeJSON}) {
		return mediaTypeJSON, nil
	}
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && slices.Contains(accepted, mt) {
		return mt, nil
	}
	if len(accepted) == 1 && accepted[0] == mediaTypeJSON {
		return "", fault.New(fault.Invalid, "the body must be JSON (Content-Type: application/json)").
			WithKind("unsupported_media_type").WithStatus(http.StatusUnsupportedMediaType)
	}
	return "", fault.New(fault.Invalid, "the body must be sent as %s", strings.Join(accepted, " or ")).
		WithKind("unsupported_media_type").WithField("content_type").WithStatus(http.StatusUnsupportedMediaType)
}

// validate checks the parameters and the JSON body with kin-openapi, on a
// copy of the request, and answers the first fault (see checkRequest).
func (in requestInput) validate(req *http.Request) error {
	copied := req.Clone(req.Context())
	// An empty query value is an absent parameter, as c.QueryParam reads it
	// (?status= lists everything).
	query := copied.URL.Query()
	for name, values := range query {
		if !slices.ContainsFunc(values, func(v string) bool { return v != "" }) {
			query.Del(name)
		}
	}
	copied.URL.RawQuery = query.Encode()
	validateBody := in.bodyErr == nil && in.mediaType == mediaTypeJSON
	if validateBody {
		copied.Header.Set("Content-Type", in.mediaType)
		copied.Body = io.NopCloser(bytes.NewReader(in.body))
		copied.ContentLength = int64(len(in.body))
		copied.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(in.body)), nil }
	} else {
		copied.Body, copied.ContentLength, copied.GetBody = http.NoBody, 0, nil
	}
	err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: copied, PathParams: in.params, Route: in.operation.route,
		Options: &openapi3filter.Options{
			ExcludeRequestBody:  !validateBody,
			MultiError:          true,
			SkipSettingDefaults: true,
			// Authentication is the auth middleware's; the role check is Guard's.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	})
	return in.answer(err)
}

// answer turns kin-openapi's findings and the body's framing into the one
// fault a client gets: path, query, body, then headers.
func (in requestInput) answer(err error) error {
	var path, query, body, header []*openapi3filter.RequestError
	var reqErrs openapi3.MultiError
	if err != nil && !errors.As(err, &reqErrs) {
		reqErrs = openapi3.MultiError{err}
	}
	for _, e := range reqErrs {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			return fmt.Errorf("openapi: validating %s %s: %w", in.operation.Method, in.operation.Path, e)
		}
		switch {
		case re.Parameter != nil && re.Parameter.In == openapi3.ParameterInPath:
			path = append(path, re)
		case re.Parameter != nil && re.Parameter.In == openapi3.ParameterInQuery:
			query = append(query, re)
		case re.Parameter != nil:
			header = append(header, re)
		default:
			body = append(body, re)
		}
	}
	switch {
	case len(path) > 0:
		// A path that does not fit names nothing, as api.PathID answers.
		return fault.New(fault.NotFound, "not found")
	case len(query) > 0:
		return parameterFault(query[0])
	case in.bodyErr != nil:
		return in.bodyErr
	case len(body) > 0:
		return in.bodyFault(body[0])
	case len(header) > 0:
		return parameterFault(header[0])
	}
	return nil
}

// parameterFault names the parameter that does not fit.
func parameterFault(re *openapi3filter.RequestError) error {
	name := re.Parameter.Name
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return fault.Field(name, "%s %s", name, describe(se))
	}
	if re.Parameter.Schema != nil && re.Parameter.Schema.Value != nil {
		return fault.Field(name, "%s must be %s", name, typeName(re.Parameter.Schema.Value))
	}
	return fault.Field(name, "%s is not valid", name)
}

// bodyFault names the member at fault of a JSON body. Of several faults,
// it blames the one a handler checking the members in order meets first:
// unknown members first (strict decoding refuses them before anything),
// then members in the order of the schema's required list, then the
// optional ones by name; array elements in order.
func (in requestInput) bodyFault(re *openapi3filter.RequestError) error {
	var faults []*openapi3.SchemaError
	collectSchemaErrors(re.Err, &faults)
	if len(faults) == 0 {
		return fault.New(fault.Invalid, "the body does not match the API contract").WithField("body")
	}
	root := in.operation.route.Operation.RequestBody.Value.Content.Get(mediaTypeJSON).Schema.Value
	type located struct {
		err   *openapi3.SchemaError
		path  []string
		rank  []int
		isNew bool // an unknown member
	}
	var all []located
	for _, se := range faults {
		l := located{err: se, path: se.JSONPointer()}
		if name, ok := unknownMember(se); ok {
			l.path, l.isNew = append(l.path, name), true
		}
		l.rank = rankOf(root, l.path)
		all = append(all, l)
	}
	first := slices.MinFunc(all, func(a, b located) int {
		for i := 0; i < len(a.rank) && i < len(b.rank); i++ {
			if c := cmp.Compare(a.rank[i], b.rank[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(a.rank), len(b.rank))
	})
	field := fieldPath(first.path)
	if first.isNew {
		return fault.Field(field, "unknown field %q", field).WithKind("unknown_field")
	}
	if field == "" {
		return fault.New(fault.Invalid, "the body %s", describe(first.err)).WithField("body")
	}
	return fault.Field(field, "%s %s", field, describe(first.err))
}

// collectSchemaErrors flattens kin-openapi's error tree into its schema
// errors.
func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		*out = append(*out, se)
	}
}

// unknownMember returns the first member of an object that its schema
// does not allow, for an "additionalProperties: false" error.
func unknownMember(se *openapi3.SchemaError) (string, bool) {
	object, ok := se.Value.(map[string]any)
	if se.SchemaField != "properties" || !ok || se.Schema == nil {
		return "", false
	}
	var unknown []string
	for name := range object {
		if _, declared := se.Schema.Properties[name]; !declared {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return "", false
	}
	return slices.Min(unknown), true
}

// rankOf places a path in the order a handler checks members: at each
// object, unknown members (-1), then the required ones in order, then the
// optional ones by name; at each array, the index.
func rankOf(schema *openapi3.Schema, path []string) []int {
	rank := make([]int, 0, len(path))
	for _, segment := range path {
		switch {
		case schema == nil:
			rank = append(rank, 0)
		case schema.Type.Is(openapi3.TypeArray):
			i, _ := strconv.Atoi(segment)
			rank = append(rank, i)
			schema = valueOf(schema.Items)
		default:
			rank = append(rank, memberRank(schema, segment))
			schema = valueOf(schema.Properties[segment])
		}
	}
	return rank
}

func memberRank(schema *openapi3.Schema, name string) int {
	if _, declared := schema.Properties[name]; !declared {
		return -1
	}
	if i := slices.Index(schema.Required, name); i >= 0 {
		return i
	}
	optional := make([]string, 0, len(schema.Properties))
	for p := range schema.Properties {
		if !slices.Contains(schema.Required, p) {
			optional = append(optional, p)
		}
	}
	slices.Sort(optional)
	return len(schema.Required) + slices.Index(optional, name)
}

func valueOf(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil {
		return nil
	}
	return ref.Value
}

// fieldPath writes a JSON pointer as the API names fields:
// ["lines", "0", "unit_price"] is "lines[0].unit_price". Request bodies
// have no member named by digits, so digits are an array index.
func fieldPath(pointer []string) string {
	var b strings.Builder
	for _, segment := range pointer {
		if _, err := strconv.Atoi(segment); err == nil {
			fmt.Fprintf(&b, "[%s]", segment)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(segment)
	}
	return b.String()
}

// describe says what a value breaks, without repeating the value.
func describe(se *openapi3.SchemaError) string {
	s := se.Schema
	if s == nil {
		return "is not valid"
	}
	switch se.SchemaField {
	case "required":
		return "is required"
	case "type", "nullable":
		return "must be " + typeName(s)
	case "enum":
		values := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			if v != nil {
				values = append(values, fmt.Sprint(v))
			}
		}
		return "must be one of " + strings.Join(values, ", ")
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		switch {
		case s.Min != nil && s.Max != nil:
			return fmt.Sprintf("must be between %v and %v", *s.Min, *s.Max)
		case s.Min != nil:
			return fmt.Sprintf("must be at least %v", *s.Min)
		case s.Max != nil:
			return fmt.Sprintf("must be at most %v", *s.Max)
		}
	case "minLength":
		if s.MinLength <= 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("is longer than %d characters", *s.MaxLength)
	case "minItems":
		return fmt.Sprintf("must hold at least %d items", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("holds more than %d items", *s.MaxItems)
	case "pattern", "format":
		if s.Description != "" {
			return "must be " + lowerFirst(strings.TrimSuffix(s.Description, "."))
		}
		if s.Format == "date" {
			return "must be a date YYYY-MM-DD"
		}
		return "is not in the expected form"
	case "anyOf", "oneOf":
		return "is not in any of the accepted forms"
	}
	return "is not valid"
}

// typeName is a schema's type for a person: "a string", "an integer".
func typeName(s *openapi3.Schema) string {
	switch {
	case s.Type.Is(openapi3.TypeString) && s.Format == "date":
		return "a date YYYY-MM-DD"
	case s.Type.Is(openapi3.TypeString):
		return "a string"
	case s.Type.Is(openapi3.TypeInteger):
		return "a whole number"
	case s.Type.Is(openapi3.TypeNumber):
		return "a number"
	case s.Type.Is(openapi3.TypeBoolean):
		return "true or false"
	case s.Type.Is(openapi3.TypeArray):
		return "an array"
	case s.Type.Is(openapi3.TypeObject):
		return "an object"
	}
	return "a valid value"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// decodeJSON decodes a JSON document as kin-openapi's validators expect it.
func decodeJSON(body []byte) (any, error) {
	var value any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return nil, err
	}
	return value, nil
}
