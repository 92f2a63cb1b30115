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

// Kind is a finer, machine-readable reason than Code, given to clients as
// the error's "code" (e.g. "idempotency_key_reused"). Every kind passd
// answers is one of these constants.
type Kind string

// Kinds.
const (
	KindUnsupportedMediaType Kind = "unsupported_media_type" // the body is not application/json (or not UTF-8)
	KindUnknownField         Kind = "unknown_field"          // the body names a member the route does not know
	KindMalformedJSON        Kind = "malformed_json"         // the body is not one JSON object
	KindNothingToBatch       Kind = "nothing_to_batch"       // no due payout or queued claim to put in a batch
	KindFourEyes             Kind = "four_eyes"              // the preparer of a batch cannot approve it
	KindDuplicateProvider    Kind = "duplicate_provider"     // a provider with this RPPS or FINESS exists
	KindUnknownFileNumber    Kind = "unknown_file_number"    // no patient file has this number
	KindTooManyAttempts      Kind = "too_many_attempts"      // too many failed sign-ins: wait
	KindSettingsIncomplete   Kind = "settings_incomplete"    // the régie's account is not set
	KindRightsAlreadyOpened  Kind = "rights_already_opened"  // rights are open and current
	KindProviderDetails      Kind = "provider_details"       // a provider's details cannot go in a SEPA file
	KindNotPending           Kind = "not_pending"            // only a pending invoice can be cancelled
	KindIdentityUnsealed     Kind = "identity_unsealed"      // a file's identity is not sealed yet
	KindIdentityKeyMissing   Kind = "identity_key_missing"   // the key that sealed an identity is not in the keyring
	KindIdempotencyKeyReused Kind = "idempotency_key_reused" // an Idempotency-Key came back with another body
	KindDuplicateNIR         Kind = "duplicate_nir"          // a file with this NIR exists
	KindDuplicateInvoice     Kind = "duplicate_invoice"      // the provider already sent this external_ref
	KindDuplicateField       Kind = "duplicate_field"        // the body names a member twice
	KindBudgetExceeded       Kind = "budget_exceeded"        // approving would overspend the annual budget
	KindBodyTooLarge         Kind = "body_too_large"         // the body is over the limit
	KindJobRunning           Kind = "job_running"            // the job is running already
	KindBatchStatus          Kind = "batch_status"           // the batch's status does not allow the action
	KindMethodNotAllowed     Kind = "method_not_allowed"     // the route exists, not with this method
	KindNoApplication        Kind = "no_application"         // a decision on a file with no recorded application
	KindPayoutBatched        Kind = "payout_batched"         // a correction would undo a payout that sits in a batch
	KindAlreadySuperseded    Kind = "already_superseded"     // the decision was corrected already: correct the latest one
	KindActNotBillable       Kind = "act_not_billable"       // the code is unknown, or the provider's kind may not bill it
	KindOverCeiling          Kind = "over_ceiling"           // a unit price or a total above its ceiling
	KindDuplicateRate        Kind = "duplicate_rate"         // a rate of this regime and class already starts that day
	KindNotFlagged           Kind = "not_flagged"            // the invoice does not wait for a review
	KindChangePending        Kind = "change_pending"         // a change of bank details already waits for its confirmation
	KindAlreadyDecided       Kind = "already_decided"        // the request was confirmed or rejected already
	KindNotConfirmed         Kind = "not_confirmed"          // a provider's bank details are not confirmed yet
	KindPayoutStatus         Kind = "payout_status"          // the payout's status does not allow the action
	KindUserExists           Kind = "user_exists"            // a user of this name exists: renew or reset its credential
)

// Error is a client-facing error.
type Error struct {
	Code    Code
	Kind    Kind // a finer machine-readable reason; defaults to Code
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
	if e.Kind != "" && string(e.Kind) != string(e.Code) {
		msg += "/" + string(e.Kind)
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

// Collect returns a function that appends each non-nil error it is given
// to *errs: a value's checks gather every field's error, so that a form
// shows them all at once while an API answers the first (First).
func Collect(errs *[]error) func(error) {
	return func(err error) {
		if err != nil {
			*errs = append(*errs, err)
		}
	}
}

// First is the first of errs, nil when there is none.
func First(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// WithKind sets the fine-grained reason.
func (e *Error) WithKind(kind Kind) *Error { e.Kind = kind; return e }

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

// As returns err's *Error, wherever it is in the chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
