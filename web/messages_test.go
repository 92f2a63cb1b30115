package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/fault"
)

// TestEveryMessageReadsWell: no message is blank or carries a formatting
// slip, every form has its two summaries, and the limits come from the
// domains' constants.
func TestEveryMessageReadsWell(t *testing.T) {
	// The invoice's lines share the invoice's summaries; a payout batch's
	// page tells its refusals above the batch and its paid date beside the
	// field, with no summary.
	withoutSummaries := map[string]bool{"line": true, "payout_batch": true}
	forms := map[string]bool{}
	for k, m := range messages {
		if strings.TrimSpace(m) == "" || strings.Contains(m, "%!") {
			t.Errorf("%+v: %q", k, m)
		}
		if !withoutSummaries[k.form] {
			forms[k.form] = true
		}
	}
	for form := range forms {
		for _, why := range []string{whyUnread, whyNotSaved} {
			if messages[messageKey{form, "", why}] == "" {
				t.Errorf("form %s has no %s summary", form, why)
			}
		}
	}
	for key, limit := range map[messageKey]int{
		{"patient", "last_name", ""}:    claims.MaxNameLength,
		{"decision", "reason", ""}:      claims.MaxReasonLength,
		{"invoice", "external_ref", ""}: billing.MaxExternalRef,
		{"line", "quantity", ""}:        billing.MaxQuantity,
	} {
		if !strings.Contains(messages[key], strconv.Itoa(limit)+" ") && !strings.HasSuffix(messages[key], strconv.Itoa(limit)+".") {
			t.Errorf("%+v does not state its limit %d: %q", key, limit, messages[key])
		}
	}
}

// TestBatchRefusalsReadFromTheTable: each refusal of a batch step that the
// page explains gets its status and the table's message for its kind (any
// other conflict the general one), and the paid date its field's message
// for its cause; other errors are left to the error page.
func TestBatchRefusalsReadFromTheTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		why    string
	}{
		{fault.New(fault.Forbidden, "preparer").WithKind(fault.KindFourEyes), http.StatusForbidden, string(fault.KindFourEyes)},
		{fault.New(fault.Conflict, "budget").WithKind(fault.KindBudgetExceeded), http.StatusConflict, string(fault.KindBudgetExceeded)},
		{fault.New(fault.Conflict, "status").WithKind(fault.KindBatchStatus), http.StatusConflict, string(fault.KindBatchStatus)},
		{fault.New(fault.Conflict, "régie").WithKind(fault.KindSettingsIncomplete), http.StatusConflict, string(fault.KindSettingsIncomplete)},
		{fault.New(fault.Conflict, "other"), http.StatusConflict, whyConflict},
	} {
		want := messages[messageKey{"payout_batch", "", tc.why}]
		status, got, ok := explainBatchError(tc.err)
		if want == "" || !ok || status != tc.status || got != want {
			t.Errorf("%v: got %d %q %v, want %d %q", tc.err, status, got, ok, tc.status, want)
		}
	}
	for _, err := range []error{errors.New("boom"), fault.New(fault.Invalid, "bad"), fault.New(fault.Unavailable, "down")} {
		if _, got, ok := explainBatchError(err); ok {
			t.Errorf("%v is explained as %q", err, got)
		}
	}
	for cause, why := range map[error]string{nil: "", calendar.ErrFuture: whyFuture, billing.ErrPaidBeforeApproval: whyBeforeApproval} {
		want := messages[messageKey{"payout_batch", "paid_on", why}]
		if got := message("payout_batch", "paid_on", fault.Field("paid_on", "paid_on").WithCause(cause)); want == "" || got != want {
			t.Errorf("paid_on with cause %v: got %q, want %q", cause, got, want)
		}
	}
}

// TestCorrectionRefusalsReadInFrench: a correction's decision fields read
// the decision form's messages under the correction's summary, its reason
// has its own, and its refusals of the whole correction say what to do
// (the batch and the invoice named when the error gives them).
func TestCorrectionRefusalsReadInFrench(t *testing.T) {
	notSaved := messages[messageKey{"correction", "", whyNotSaved}]
	for _, tc := range []struct {
		name     string
		err      error
		slot     func(f *correctionForm) string
		want     string
		summary  string
		decision string
	}{
		{"its reason", fault.Field("correction_reason", "required"), func(f *correctionForm) string { return f.CorrectionReasonErr },
			messages[messageKey{"correction", "correction_reason", ""}], notSaved, "opened"},
		{"a CSS start", fault.Field("effective_from", "css").WithCause(claims.ErrCSSStart), func(f *correctionForm) string { return f.FromErr },
			messages[messageKey{"decision", "effective_from", "css_start"}], notSaved, "opened"},
		{"a reason for an opening", fault.Field("reason", "only for a refusal"), func(f *correctionForm) string { return f.ReasonErr },
			messages[messageKey{"decision", "reason", "not_refusal"}], notSaved, "opened"},
		{"a refusal's reason", fault.Field("reason", "required"), func(f *correctionForm) string { return f.ReasonErr },
			messages[messageKey{"decision", "reason", ""}], notSaved, "refused"},
		{"corrected already", fault.New(fault.Conflict, "superseded").WithKind(fault.KindAlreadySuperseded), func(f *correctionForm) string { return "" },
			"", messages[messageKey{"correction", "", string(fault.KindAlreadySuperseded)}], "opened"},
		{"a batched payout", fault.New(fault.Conflict, "batched").WithKind(fault.KindPayoutBatched).WithDetail("batch_id", "12").WithDetail("invoice_id", "34"),
			func(f *correctionForm) string { return "" }, "",
			"Le lot de paiement n° 12, pas encore payé, contient un paiement de la ville pour la facture n° 34, que cette correction annulerait. " +
				payoutBatchedWhatToDo, "opened"},
		{"a batched payout, unnamed", fault.New(fault.Conflict, "batched").WithKind(fault.KindPayoutBatched), func(f *correctionForm) string { return "" },
			"", messages[messageKey{"correction", "", string(fault.KindPayoutBatched)}], "opened"},
	} {
		f := correctionForm{decisionForm: decisionForm{Decision: tc.decision}}
		if !f.explain(tc.err) {
			t.Errorf("%s: not explained", tc.name)
			continue
		}
		if got := tc.slot(&f); got != tc.want || f.Summary != tc.summary || tc.summary == "" {
			t.Errorf("%s: field %q, summary %q; want %q, %q", tc.name, got, f.Summary, tc.want, tc.summary)
		}
	}
	f := correctionForm{}
	if f.explain(errors.New("boom")) || f.explain(fault.New(fault.Unavailable, "down")) {
		t.Error("an error that is not the client's is explained")
	}
}
