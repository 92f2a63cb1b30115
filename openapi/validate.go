package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	body      map[string]any // a JSON body, decoded as kin-openapi decodes it
	mediaType string         // "" when the body is absent or not to be validated
	bodyErr   error          // the body's framing, refused
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
// httpapi.DecodeRaw reads it. The 415 names the field content_type when the
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
			WithKind(fault.KindUnsupportedMediaType).WithStatus(http.StatusUnsupportedMediaType)
	}
	return "", fault.New(fault.Invalid, "the body must be sent as %s", strings.Join(accepted, " or ")).
		WithKind(fault.KindUnsupportedMediaType).WithField("content_type").WithStatus(http.StatusUnsupportedMediaType)
}

// validate checks the parameters with kin-openapi, then the JSON body
// against its schema, and answers the first fault (see checkRequest).
func (in requestInput) validate(req *http.Request) error {
	var paramsErr error
	if in.operation.hasParameters {
		paramsErr = in.validateParameters(req)
	}
	var bodyErr error
	if o := in.operation; in.bodyErr == nil && in.mediaType == mediaTypeJSON && o.bodySchema != nil {
		// This is what openapi3filter.ValidateRequestBody does with a JSON
		// body, but on the value api.CheckObject decoded already: that
		// function would decode the body a second time.
		bodyErr = o.bodySchema.VisitJSON(in.body, o.bodyOptions...)
	}
	return in.answer(paramsErr, bodyErr)
}

// validateParameters checks the path and query parameters and the headers
// with kin-openapi, on a copy of the request without its body. Without
// parameters to check, that function could only refuse a security scheme
// the document does not declare, which Load refuses already: validate
// skips it then.
func (in requestInput) validateParameters(req *http.Request) error {
	// kin-openapi only reads the request (it sets no defaults): a shallow
	// copy will do.
	copied := *req
	if req.URL.RawQuery != "" {
		// An empty query value is an absent parameter, as c.QueryParam
		// reads it (?status= lists everything).
		query := req.URL.Query()
		for name, values := range query {
			if !slices.ContainsFunc(values, func(v string) bool { return v != "" }) {
				query.Del(name)
			}
		}
		u := *req.URL
		u.RawQuery = query.Encode()
		copied.URL = &u
	}
	copied.Body, copied.ContentLength, copied.GetBody = http.NoBody, 0, nil
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: &copied, PathParams: in.params, Route: in.operation.route,
		Options: &openapi3filter.Options{
			// Parameters are few, so all their faults are gathered, to
			// answer them in the handlers' order; the body is checked
			// after, failing at its first fault: a body of many faults
			// costs no more than a valid one.
			ExcludeRequestBody:  true,
			MultiError:          true,
			SkipSettingDefaults: true,
			// Authentication is the auth middleware's; the role check is Guard's.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	})
}

// answer turns kin-openapi's findings and the body's framing into the one
// fault a client gets: path, query, body, then headers.
func (in requestInput) answer(paramsErr, bodyErr error) error {
	var path, query, header []*openapi3filter.RequestError
	var reqErrs openapi3.MultiError
	if paramsErr != nil && !errors.As(paramsErr, &reqErrs) {
		reqErrs = openapi3.MultiError{paramsErr}
	}
	for _, e := range reqErrs {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) || re.Parameter == nil {
			return fmt.Errorf("openapi: validating %s %s: %w", in.operation.Method, in.operation.Path, e)
		}
		switch re.Parameter.In {
		case openapi3.ParameterInPath:
			path = append(path, re)
		case openapi3.ParameterInQuery:
			query = append(query, re)
		default:
			header = append(header, re)
		}
	}
	switch {
	case len(path) > 0:
		// A path that does not fit names nothing, as httpapi.PathID answers.
		return fault.New(fault.NotFound, "not found")
	case len(query) > 0:
		return parameterFault(query[0])
	case in.bodyErr != nil:
		return in.bodyErr
	case bodyErr != nil:
		return in.bodyFault(bodyErr)
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

// bodyFault names the member at fault of a JSON body that breaks its
// schema. kin-openapi reports the first fault in its own order (members by
// name); a handler checks them in another, so the fault answered is looked
// for again in the handlers' order (see locate).
func (in requestInput) bodyFault(bodyErr error) error {
	// VisitJSON leaves the value as it was (defaults are not set).
	found, ok := locate(in.operation.bodySchema, in.body, nil)
	if !ok {
		// kin-openapi and a second look disagree: answer kin-openapi's.
		var se *openapi3.SchemaError
		if !errors.As(bodyErr, &se) {
			return fault.New(fault.Invalid, "the body does not match the API contract").WithField("body")
		}
		found = located{path: se.JSONPointer(), err: se}
	}
	field := fieldPath(found.path)
	switch {
	case found.unknown:
		return fault.Field(field, "unknown field %q", field).WithKind(fault.KindUnknownField)
	case found.err == nil:
		return fault.Field(field, "%s is required", field)
	case field == "":
		return fault.New(fault.Invalid, "the body %s", describe(found.err)).WithField("body")
	}
	return fault.Field(field, "%s %s", field, describe(found.err))
}

// located is a fault in a body: its path, and what it breaks (nil for a
// missing member or, with unknown, a member the schema does not allow).
type located struct {
	path    []string
	err     *openapi3.SchemaError
	unknown bool
}

var failFast = []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.FailFast()}

// locate finds, in a value that breaks schema, the fault that a handler
// checking the members in order meets first: in an object, an unknown
// member (strict decoding refuses those before anything), then the members
// in the order of the required list, then the optional ones by name; in an
// array, its length, then each element in order. Each subtree is checked
// failing fast, so the search costs a few passes over the body at most.
func locate(schema *openapi3.Schema, value any, path []string) (located, bool) {
	if schema == nil {
		return located{}, false
	}
	object, isObject := value.(map[string]any)
	array, isArray := value.([]any)
	switch {
	case isObject && schema.Type.Permits(openapi3.TypeObject):
		if closed := schema.AdditionalProperties.Has; closed != nil && !*closed {
			var unknown []string
			for name := range object {
				if _, declared := schema.Properties[name]; !declared {
					unknown = append(unknown, name)
				}
			}
			if len(unknown) > 0 {
				return located{path: appendPath(path, slices.Min(unknown)), unknown: true}, true
			}
		}
		for _, name := range memberOrder(schema) {
			member, present := object[name]
			if !present {
				if slices.Contains(schema.Required, name) {
					return located{path: appendPath(path, name)}, true
				}
				continue
			}
			property := valueOf(schema.Properties[name])
			if property != nil && property.VisitJSON(member, failFast...) != nil {
				if found, ok := locate(property, member, appendPath(path, name)); ok {
					return found, true
				}
			}
		}
	case isArray && schema.Type.Permits(openapi3.TypeArray):
		if uint64(len(array)) < schema.MinItems || schema.MaxItems != nil && uint64(len(array)) > *schema.MaxItems {
			break
		}
		items := valueOf(schema.Items)
		for i, item := range array {
			if items != nil && items.VisitJSON(item, failFast...) != nil {
				if found, ok := locate(items, item, appendPath(path, strconv.Itoa(i))); ok {
					return found, true
				}
			}
		}
	}
	err := schema.VisitJSON(value, openapi3.VisitAsRequest())
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return located{}, false
	}
	return located{path: slices.Clone(path), err: se}, true
}

// memberOrder lists an object's members as a handler checks them: the
// required ones in order, then the optional ones by name.
func memberOrder(schema *openapi3.Schema) []string {
	out := slices.Clone(schema.Required)
	var optional []string
	for name := range schema.Properties {
		if !slices.Contains(schema.Required, name) {
			optional = append(optional, name)
		}
	}
	slices.Sort(optional)
	return append(out, optional...)
}

func appendPath(path []string, segment string) []string {
	return append(slices.Clone(path), segment)
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

// typeNames names each JSON Schema type for a person.
var typeNames = map[string]string{
	openapi3.TypeString:  "a string",
	openapi3.TypeInteger: "a whole number",
	openapi3.TypeNumber:  "a number",
	openapi3.TypeBoolean: "true or false",
	openapi3.TypeArray:   "an array",
	openapi3.TypeObject:  "an object",
}

// typeName is a schema's type for a person: "a string", "an integer". A
// schema of several types (or none) is "a valid value".
func typeName(s *openapi3.Schema) string {
	if s.Type.Is(openapi3.TypeString) && s.Format == "date" {
		return "a date YYYY-MM-DD"
	}
	if s.Type.IsSingle() {
		if name, ok := typeNames[s.Type.Slice()[0]]; ok {
			return name
		}
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
