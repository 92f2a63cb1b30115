// Package api is passd's strict JSON: decoding that names the offending
// member ("lines[2].unit_price"), the shape of an error answer and of a list
// page, and the one mapping of error codes to HTTP statuses. It imports no
// HTTP framework (httpapi and web do), so claims/cpamfile reads the CPAM's
// files with it too. It holds no business rule.
package api

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"passd/db"
	"passd/fault"
)

// statusOfCode is the HTTP status of each code of the error model; a code
// not in it (Internal) is a 500.
var statusOfCode = map[fault.Code]int{
	fault.Invalid:      http.StatusUnprocessableEntity,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Forbidden:    http.StatusForbidden,
	fault.Unavailable:  http.StatusServiceUnavailable,
}

// StatusOf maps the error model to HTTP, once.
func StatusOf(fe *fault.Error) int {
	if fe.Status != 0 {
		return fe.Status
	}
	if status, ok := statusOfCode[fe.Code]; ok {
		return status
	}
	return http.StatusInternalServerError
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

// Page is the shape of every list answer.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
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
