// Package fault is passd's one error model. Every error a client can cause
// carries a code, a human message and, when one field is to blame, the
// field's JSON path (for example "lines[2].unit_price"). The HTTP layer maps
// codes to statuses in one place; everything else just returns the error.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an error for the client. The set is small on purpose.
type Code string

const (
	Invalid      Code = "invalid"      // the request is malformed or breaks a rule (422/400)
	NotFound     Code = "not_found"    // no such thing, or not visible to the caller (404)
	Conflict     Code = "conflict"     // the state forbids it, or it already exists (409)
	Unauthorized Code = "unauthorized" // no or bad credentials (401)
	Forbidden    Code = "forbidden"    // the role may not do this (403)
	Unavailable  Code = "unavailable"  // a dependency is down; retry later (503)
	Internal     Code = "internal"     // a bug or an unexpected failure (500)
)

// Error is a client-facing error.
type Error struct {
	Code    Code
	Kind    string // a finer machine-readable reason, e.g. "idempotency_key_reused"; defaults to Code
	Message string
	Field   string
	// Status overrides the status derived from Code when non-zero
	// (for example 400 for malformed JSON, 413 for an oversize body).
	Status int
	// Details are extra members of the JSON error object (e.g. "existing_id").
	Details map[string]string
	Err     error // the cause, never shown to clients
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Kind != "" && e.Kind != string(e.Code) {
		msg += "/" + e.Kind
	}
	if e.Field != "" {
		msg += " " + e.Field
	}
	msg += ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error blaming one field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WithKind sets the fine-grained reason.
func (e *Error) WithKind(kind string) *Error { e.Kind = kind; return e }

// WithField sets the blamed field.
func (e *Error) WithField(field string) *Error { e.Field = field; return e }

// WithStatus overrides the HTTP status.
func (e *Error) WithStatus(status int) *Error { e.Status = status; return e }

// WithCause records the cause, which code may test with errors.Is and
// clients never see.
func (e *Error) WithCause(err error) *Error { e.Err = err; return e }

// WithDetail adds an extra member to the JSON error object.
func (e *Error) WithDetail(key, value string) *Error {
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	e.Details[key] = value
	return e
}

// CodeOf returns the code of err, Internal when err is not a *Error.
func CodeOf(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return Internal
}

// Is reports whether err is a fault with the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
