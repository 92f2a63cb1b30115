// Package httpapi is passd's JSON API over HTTP (Echo): the plumbing every
// handler shares — reading a request strictly, path ids, keyset pages, the
// one place where errors become statuses, streamed downloads — and, as they
// move out of the domain packages, the handlers themselves, one file per
// capability (patients_http.go, claims_http.go, claim_batches_http.go). It decodes each
// request into the domain's typed values and calls the domain's rules and
// stores; it holds no rule of its own.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/text"
)

// Decode reads a JSON object into dst strictly: the content type must be
// JSON in UTF-8, the body at most 1 MiB of valid UTF-8 holding one object
// with no unknown or repeated fields. Field values should be of type Value
// so that their own validation can name the field precisely.
func Decode(c echo.Context, dst any) error {
	_, err := DecodeRaw(c, dst)
	return err
}

// DecodeRaw is Decode that also returns the body as received, for a
// handler that must fingerprint the request (idempotency).
func DecodeRaw(c echo.Context, dst any) ([]byte, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	return body, api.DecodeBytes(body, dst)
}

// readJSON reads a body that must be JSON, checking its content type as
// Decode does, for a handler that decodes it itself (into a domain value,
// by a function its fuzzer calls too).
func readJSON(c echo.Context) ([]byte, error) {
	ct := ContentType(c.Request())
	// A wrong type is refused before the body is read; a missing one only
	// once the body is known not to be empty, so that an empty body is
	// still answered as the malformed JSON it is.
	if ct != "" {
		if err := api.CheckJSONContentType(ct); err != nil {
			return nil, err
		}
	}
	body, err := ReadBody(c)
	if err != nil {
		return nil, err
	}
	if ct == "" && len(bytes.TrimSpace(body)) > 0 {
		return nil, api.CheckJSONContentType(ct)
	}
	return body, nil
}

// ContentType returns the Content-Type of a request, "" when there is none.
// A header sent more than once comes back as its values joined, which no
// media type parser accepts: a client and passd must not read one body in
// two ways.
func ContentType(r *http.Request) string {
	return strings.Join(r.Header.Values(echo.HeaderContentType), ", ")
}

// ReadBody reads the request body, refusing more than api.MaxBody bytes.
func ReadBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, api.MaxBody+1))
	if err != nil {
		return nil, fault.New(fault.Invalid, "the body could not be read").WithKind(fault.KindMalformedJSON).WithStatus(http.StatusBadRequest)
	}
	if len(body) > api.MaxBody {
		return nil, fault.New(fault.Invalid, "the request body is larger than 1 MiB").WithKind(fault.KindBodyTooLarge).WithStatus(http.StatusRequestEntityTooLarge)
	}
	return body, nil
}

// DecodeOptional decodes an optional body into dst: an absent or blank
// body leaves dst as it is, whatever its content type. A nil dst accepts
// only an empty object.
func DecodeOptional(c echo.Context, dst any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return api.DecodeOptionalBody(ContentType(c.Request()), body, dst)
}

// ErrorHandler answers every error as {"error": {...}}. Only internal errors
// are logged with their cause; clients never see a cause.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		fe := toFault(err)
		status := api.StatusOf(fe)
		if status >= 500 {
			// With the request's context: the line carries its request id.
			logger.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "route", c.Path(),
				"status", status, "error", err.Error())
		}
		code := string(fe.Code)
		if fe.Kind != "" {
			code = string(fe.Kind)
		}
		body := api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: fe.Message, Field: fe.Field, ExistingID: fe.Details["existing_id"]}}
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
		// Only the one spelling api.NewPage gives: the decoder would also take
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
	return "", fault.Field(name, "%s must be one of %s", name, text.JoinValues(allowed))
}

// answerPage answers a list read for page (up to Limit+1 rows, newest
// first) as one page of JSON items, each turned by conv; err is the read's
// error, answered as any other.
func answerPage[D, T any](c echo.Context, page db.PageRequest, rows []D, err error, idOf func(D) int64, conv func(D) T) error {
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, rows, idOf, conv))
}

// answerJSON answers status with row shaped by conv; err is the error of
// the call that gave row, answered as any other. It is the last step of
// every route that answers one row.
func answerJSON[D, T any](c echo.Context, status int, row D, err error, conv func(D) T) error {
	if err != nil {
		return err
	}
	return c.JSON(status, conv(row))
}

// answerByID answers a GET of the row of the path's id: get reads it,
// conv shapes it.
func answerByID[D, T any](c echo.Context, get func(context.Context, int64) (D, error), conv func(D) T) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	row, err := get(c.Request().Context(), id)
	return answerJSON(c, http.StatusOK, row, err, conv)
}

// decodeBody reads the request's JSON body into its Values (B), as Decode
// does, and turns them into the domain's value with conv.
func decodeBody[B, V any](c echo.Context, conv func(B) (V, error)) (V, error) {
	var b B
	if err := Decode(c, &b); err != nil {
		var none V
		return none, err
	}
	return conv(b)
}
