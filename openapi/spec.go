package openapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

//go:embed openapi.yaml
var document []byte

// Document returns openapi.yaml as written, for GET /openapi.yaml.
func Document() []byte { return document }

// rolesExtension is the member of an operation that lists its roles.
const rolesExtension = "x-roles"

// Spec is the parsed contract, indexed by the route paths Echo reports.
type Spec struct {
	doc        *openapi3.T
	operations []*Operation
	byRoute    map[string]*Operation // method + " " + Echo path
}

// Operation is one method on one path of the contract.
type Operation struct {
	Method string
	// Path is the document's template ("/api/v1/invoices/{id}"), EchoPath
	// the same route as Echo names it ("/api/v1/invoices/:id").
	Path, EchoPath string
	// Roles are the roles x-roles allows; none for a public operation,
	// and none (so refused to everyone) when x-roles is missing.
	Roles []string
	// Public operations need no token (security: []).
	Public bool
	// BodyRequired is set when the operation needs a request body.
	BodyRequired bool
	route        *routers.Route
	// What checkRequest needs of the operation, computed once at Load.
	mediaTypes  []string // the media types its request body may have
	bodySchema  *openapi3.Schema
	bodyOptions []openapi3.SchemaValidationOption
	// hasParameters is set when the operation or its path declares
	// parameters.
	hasParameters bool
}

// Load returns the contract of the embedded openapi.yaml; roles are every
// role a user can have, so that a misspelt role in x-roles is an error, not
// a role that silently nobody has. The document is parsed once per process
// (tests build many apps); a parsed document is only read afterwards.
func Load(roles []string) (*Spec, error) {
	doc, err := embedded()
	if err != nil {
		return nil, err
	}
	return newSpec(doc, roles)
}

var embedded = sync.OnceValues(func() (*openapi3.T, error) { return parseDocument(document) })

// Parse reads and validates an OpenAPI 3.0 document.
func Parse(data []byte, roles []string) (*Spec, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	return newSpec(doc, roles)
}

func parseDocument(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: the document is not valid OpenAPI: %w", err)
	}
	return doc, nil
}

func newSpec(doc *openapi3.T, roles []string) (*Spec, error) {
	var err error
	s := &Spec{doc: doc, byRoute: map[string]*Operation{}}
	// The options openapi3filter.ValidateRequestBody would validate a JSON
	// body with, given checkRequest's (defaults not set, first fault only).
	bodyOptions := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest()}
	if doc.IsOpenAPI31OrLater() {
		bodyOptions = append(bodyOptions, openapi3.EnableJSONSchema2020())
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			o := &Operation{Method: method, Path: path, EchoPath: echoPath(path),
				Public: op.Security != nil && len(*op.Security) == 0,
				route:  &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				o.BodyRequired = rb.Value.Required
				o.mediaTypes = mediaTypes(rb.Value)
				if mt := rb.Value.Content.Get(mediaTypeJSON); mt != nil && mt.Schema != nil {
					o.bodySchema, o.bodyOptions = mt.Schema.Value, bodyOptions
				}
			}
			o.hasParameters = len(op.Parameters) > 0 || len(item.Parameters) > 0
			if o.Roles, err = operationRoles(op, roles); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			if o.Public && op.Extensions[rolesExtension] != nil {
				return nil, fmt.Errorf("openapi: %s %s: a public operation (security: []) lists no roles", method, path)
			}
			s.operations = append(s.operations, o)
			s.byRoute[method+" "+o.EchoPath] = o
		}
	}
	slices.SortFunc(s.operations, func(a, b *Operation) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return s, nil
}

// operationRoles reads x-roles: a list of known role names, each once.
func operationRoles(op *openapi3.Operation, known []string) ([]string, error) {
	raw, ok := op.Extensions[rolesExtension]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of roles", rolesExtension)
	}
	var out []string
	for _, r := range list {
		role, ok := r.(string)
		if !ok || !slices.Contains(known, role) {
			return nil, fmt.Errorf("%s names %v, which is not a role (%s)", rolesExtension, r, strings.Join(known, ", "))
		}
		if slices.Contains(out, role) {
			return nil, fmt.Errorf("%s names %s twice", rolesExtension, role)
		}
		out = append(out, role)
	}
	return out, nil
}

// echoPath turns "/invoices/{id}" into Echo's "/invoices/:id".
func echoPath(template string) string {
	segments := strings.Split(template, "/")
	for i, s := range segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segments[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segments, "/")
}

// Operations lists every operation of the contract, by path then method.
func (s *Spec) Operations() []*Operation { return slices.Clone(s.operations) }

// Operation finds the operation of a route as Echo names it (c.Path()).
func (s *Spec) Operation(method, echoPath string) (*Operation, bool) {
	o, ok := s.byRoute[method+" "+echoPath]
	return o, ok
}

// routePrefix reports whether echoPath is a proper prefix of a route of
// the contract (such as "/api/v1"): Echo's group answers those itself, with
// 404.
func (s *Spec) routePrefix(echoPath string) bool {
	for _, o := range s.operations {
		if strings.HasPrefix(o.EchoPath, strings.TrimSuffix(echoPath, "/")+"/") {
			return true
		}
	}
	return false
}

// CheckResponse checks an answer passd gave against the contract: its
// status must be documented for the operation, with the content type and
// a body that matches the schema. echoPath is the route Echo matched
// (c.Path()) and params its path parameters. An answer on a route the
// contract does not have (Echo's own 404) must still be an error document:
// a 404 or 405, or what authentication answers before any route is known.
func (s *Spec) CheckResponse(req *http.Request, echoPath string, params map[string]string,
	status int, header http.Header, body []byte) error {
	o, ok := s.Operation(req.Method, echoPath)
	if !ok {
		if !slices.Contains(noRouteStatuses, status) {
			return fmt.Errorf("openapi: %s %s matches no operation and answered %d, where only an error %v is possible",
				req.Method, req.URL.Path, status, noRouteStatuses)
		}
		return s.checkErrorDocument(header, body)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: o.route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("openapi: %s %s answered %d against the contract: %w", o.Method, o.Path, status, err)
	}
	return nil
}

// noRouteStatuses are the answers to a path no operation matches: not
// found, and under /api/v1 authentication's answers, which come first.
var noRouteStatuses = []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed,
	http.StatusTooManyRequests, http.StatusServiceUnavailable}

// checkErrorDocument checks a JSON body against the Error schema.
func (s *Spec) checkErrorDocument(header http.Header, body []byte) error {
	ref := s.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return errors.New("openapi: the document has no Error schema")
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("openapi: an error answered with Content-Type %q, not JSON", ct)
	}
	value, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("openapi: an error answer is not JSON: %w", err)
	}
	if err := ref.Value.VisitJSON(value); err != nil {
		return fmt.Errorf("openapi: an error answer does not match the Error schema: %w", err)
	}
	return nil
}
