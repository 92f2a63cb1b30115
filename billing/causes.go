package billing

import "errors"

// Causes of refusals that share a field with other refusals, recorded on
// the fault (fault.Error.WithCause) so that the web pages can word each in
// French with errors.Is instead of reading the English message.
var (
	ErrCareTooOld         = errors.New("billing: care older than the submission limit")
	ErrPaidBeforeApproval = errors.New("billing: paid before the batch was approved")
	ErrPeriodReversed     = errors.New("billing: period ends before it starts")
	ErrPeriodTooLong      = errors.New("billing: period too long")
)
