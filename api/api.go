// Package api is the plumbing every JSON handler of passd shares: strict
// request decoding that names the offending field, keyset pagination, and
// the one place where errors become HTTP statuses. It holds no business rule.
package api

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"passd/db"
	"passd/fault"
	"passd/ident"
)

// statusOf maps the error model to HTTP, once.
func statusOf(fe *fault.Error) int {
	if fe.Status != 0 {
		return fe.Status
	}
	switch fe.Code {
	case fault.Invalid:
		return http.StatusUnprocessableEntity
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.Unauthorized:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names what went wrong and, when one field is to blame, which.
type ErrorDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	ExistingID string `json:"existing_id,omitempty"`
	// Details carries the figures behind a refusal (e.g. the budget).
	Details map[string]string `json:"details,omitempty"`
}

// ErrorHandler answers every error as {"error": {...}}. Only internal errors
// are logged with their cause; clients never see a cause.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		fe := toFault(err)
		status := statusOf(fe)
		if status >= 500 {
			// With the request's context: the line carries its request id.
			logger.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "route", c.Path(),
				"status", status, "error", err.Error())
		}
		code := string(fe.Code)
		if fe.Kind != "" {
			code = string(fe.Kind)
		}
		body := ErrorBody{Error: ErrorDetail{Code: code, Message: fe.Message, Field: fe.Field, ExistingID: fe.Details["existing_id"]}}
		for k, v := range fe.Details {
			if k == "existing_id" {
				continue
			}
			if body.Error.Details == nil {
				body.Error.Details = map[string]string{}
			}
			body.Error.Details[k] = v
		}
		if status >= 500 && fe.Code == fault.Internal {
			body.Error.Message = "internal error"
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func toFault(err error) *fault.Error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		out := &fault.Error{Status: he.Code, Message: http.StatusText(he.Code), Err: err}
		switch he.Code {
		case http.StatusNotFound:
			out.Code, out.Message = fault.NotFound, "no such route"
		case http.StatusMethodNotAllowed:
			out.Code, out.Kind = fault.Invalid, fault.KindMethodNotAllowed
		case http.StatusRequestEntityTooLarge:
			out.Code, out.Kind, out.Message = fault.Invalid, fault.KindBodyTooLarge, "the request body is larger than 1 MiB"
		case http.StatusUnauthorized:
			out.Code = fault.Unauthorized
		case http.StatusForbidden:
			out.Code = fault.Forbidden
		case http.StatusServiceUnavailable:
			out.Code = fault.Unavailable
		default:
			if he.Code >= 500 {
				out.Code = fault.Internal
			} else {
				out.Code = fault.Invalid
			}
		}
		return out
	}
	// A store that did not translate its error still must not answer 500
	// for an outage: the classification is db's, made once.
	if db.Unavailable(err) {
		return db.UnavailableFault(err)
	}
	return &fault.Error{Code: fault.Internal, Message: "internal error", Err: err}
}

// PathID parses an id from the path. Anything that is not one of our ids
// cannot name a thing, so it is simply not found.
func PathID(c echo.Context, name string) (int64, error) {
	// Only the canonical form names a thing: "+1" or "01" are not ids.
	id, err := ident.ParseID(c.Param(name))
	if err != nil {
		return 0, fault.New(fault.NotFound, "not found")
	}
	return id, nil
}

// Page is the shape of every list answer.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ParsePage reads ?limit= and ?cursor=.
func ParsePage(c echo.Context) (db.PageRequest, error) {
	p := db.PageRequest{Limit: 50}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > db.MaxLimit {
			return p, fault.Field("limit", "limit must be an integer between 1 and %d", db.MaxLimit)
		}
		p.Limit = n
	}
	if s := c.QueryParam("cursor"); s != "" {
		// Only the one spelling NewPage gives: the decoder would also take
		// line breaks and other values of the unused bits of the last
		// character for the same position.
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || base64.RawURLEncoding.EncodeToString(raw) != s {
			return p, fault.Field("cursor", "cursor is not one this server gave")
		}
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || id <= 0 || strconv.FormatInt(id, 10) != string(raw) {
			return p, fault.Field("cursor", "cursor is not one this server gave")
		}
		p.Before = id
	}
	return p, nil
}

// NewPage builds a page from up to Limit+1 rows fetched newest first (the
// extra row only tells that another page exists), converting each row to
// its JSON form.
func NewPage[D, T any](req db.PageRequest, rows []D, idOf func(D) int64, conv func(D) T) Page[T] {
	page := Page[T]{Items: make([]T, 0, min(len(rows), req.Limit))}
	if len(rows) > req.Limit {
		rows = rows[:req.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(idOf(rows[len(rows)-1]), 10)))
	}
	for _, r := range rows {
		page.Items = append(page.Items, conv(r))
	}
	return page
}

// QueryEnum reads an optional filter from the query: "" when absent,
// otherwise one of allowed, a typed list whose values the error names.
func QueryEnum[T ~string](c echo.Context, name string, allowed []T) (T, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return "", nil
	}
	for _, a := range allowed {
		if raw == string(a) {
			return a, nil
		}
	}
	return "", fault.Field(name, "%s must be one of %s", name, JoinValues(allowed))
}
