package openapi

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/fault"
	"passd/httpapi"
)

// Guard enforces the contract on every route of the group it is mounted
// on, after authentication: roleOf returns the authenticated caller's role.
// A request reaches its handler only when
//   - its route is an operation of the contract (fail closed: a route
//     registered without one is refused, 403);
//   - the caller's role is in the operation's x-roles (403 otherwise, and
//     always for an operation without x-roles);
//   - its path and query parameters, headers and body match the operation
//     (see checkRequest for the answers).
//
// Paths no route matches are answered 404 here, as Echo would.
func Guard(s *Spec, roleOf func(echo.Context) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			o, ok := s.Operation(c.Request().Method, c.Path())
			if !ok {
				// Echo's group answers unknown paths through its catch-all
				// routes ("/api/v1/*", "/api/v1"): those are a 404, and
				// never reach a handler either.
				if strings.HasSuffix(c.Path(), "/*") || s.routePrefix(c.Path()) {
					return echo.ErrNotFound
				}
				return fault.New(fault.Forbidden, "%s %s is not in the API contract", c.Request().Method, c.Path())
			}
			if role := roleOf(c); !slices.Contains(o.Roles, role) {
				return fault.New(fault.Forbidden, "the %s role may not do this", role)
			}
			if err := s.checkRequest(c, o); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// Serve answers GET /openapi.yaml with the contract.
func Serve(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", document)
}

// checkRequest validates a request against its operation, answering as the
// handlers would (they still check everything themselves):
//   - a path parameter that does not fit names nothing: 404;
//   - a query parameter that does not fit: 422 naming it;
//   - a body of another media type: 415; over 1 MiB: 413; not one JSON
//     object (malformed, not UTF-8, a key twice, trailing data): 400;
//   - a JSON body that breaks the schema: 422 naming the member at fault
//     ("lines[0].unit_price"), an unknown member with code unknown_field;
//   - a header that does not fit: 422 naming it.
//
// When a request has several faults, the first in that order is answered.
// The body is read once, at most 1 MiB of it (httpapi.ReadBody), and given back
// to the handler as read.
func (s *Spec) checkRequest(c echo.Context, o *Operation) error {
	req := c.Request()
	in := requestInput{operation: o, params: map[string]string{}}
	for i, name := range c.ParamNames() {
		in.params[name] = c.ParamValues()[i]
	}
	if rb := o.route.Operation.RequestBody; rb != nil && rb.Value != nil {
		body, value, mediaType, err := readBody(c, rb.Value.Required, o.mediaTypes)
		req.Body = io.NopCloser(bytes.NewReader(body))
		in.body, in.mediaType, in.bodyErr = value, mediaType, err
	}
	return in.validate(req)
}

// readBody reads a request body and checks its framing: media type, size,
// and for JSON that it is one object. A required body is checked for its
// media type before it is read, as httpapi.DecodeRaw does; an optional one
// may be absent or blank whatever its Content-Type, as httpapi.DecodeOptional
// allows. It returns the body as read even when its framing is refused,
// and a JSON body that is one object decoded.
func readBody(c echo.Context, required bool, accepted []string) ([]byte, map[string]any, string, error) {
	mediaType, typeErr := mediaTypeOf(c.Request().Header.Get(echo.HeaderContentType), accepted)
	if required && typeErr != nil {
		return nil, nil, "", typeErr
	}
	body, err := httpapi.ReadBody(c)
	if err != nil {
		return nil, nil, "", err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required && mediaType == echo.MIMEApplicationJSON {
			_, err := api.CheckObject(body)
			return body, nil, mediaType, err
		}
		return body, nil, "", nil
	}
	if typeErr != nil {
		return body, nil, "", typeErr
	}
	if mediaType == echo.MIMEApplicationJSON {
		value, err := api.CheckObject(body)
		return body, value, mediaType, err
	}
	return body, nil, mediaType, nil
}
