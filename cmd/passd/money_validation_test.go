package main

import (
	"net/http"
	"testing"
)

// TestMoneyRoutesRejectBadQueriesAndBodies sends what a careless or hostile
// client might to the money-out routes: each answer is a 4xx naming the
// field, and nothing is stored.
func TestMoneyRoutesRejectBadQueriesAndBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	h.cityDue(t, gp, h.newPatient(t, "Ba"), "F", "30.00")
	h.releasedClaim(t, gp, "Sy", "ame", "F-AME", "30.00")
	claimBatch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	payoutBatch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payout-batches", h.finance, ""), "id")

	cases := []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"budget year not a number", "GET", "/api/v1/reports/budget?year=abc", h.finance, "", 422, "invalid", "year"},
		{"budget year with a sign", "GET", "/api/v1/reports/budget?year=+2026", h.finance, "", 422, "invalid", "year"},
		{"budget year far away", "GET", "/api/v1/reports/budget?year=99999", h.finance, "", 422, "invalid", "year"},
		{"statement from not a date", "GET", "/api/v1/statement?from=2026-13-01", gp.token, "", 422, "invalid", "from"},
		{"statement to before from", "GET", "/api/v1/statement?from=2026-06-01&to=2026-05-01", gp.token, "", 422, "invalid", "to"},
		{"statement longer than a year", "GET", "/api/v1/statement?from=2024-01-01&to=2026-01-01", gp.token, "", 422, "invalid", "to"},
		{"statement format", "GET", "/api/v1/statement?format=xlsx", gp.token, "", 422, "invalid", "format"},
		{"payouts format", "GET", "/api/v1/payouts?format=pdf", h.finance, "", 422, "invalid", "format"},
		{"payouts batch id", "GET", "/api/v1/payouts?batch_id=1%3BDROP", h.finance, "", 422, "invalid", "batch_id"},
		{"payouts provider id", "GET", "/api/v1/payouts?provider_id=-1", h.finance, "", 422, "invalid", "provider_id"},
		{"claims batch id", "GET", "/api/v1/claims?batch_id=x", h.referent, "", 422, "invalid", "batch_id"},
		{"batches status", "GET", "/api/v1/payout-batches?status=lost", h.finance, "", 422, "invalid", "status"},
		{"draft with a numeric provider id", "POST", "/api/v1/payout-batches", h.finance, `{"provider_id": 1}`, 422, "invalid", "provider_id"},
		{"draft for an unknown provider", "POST", "/api/v1/payout-batches", h.finance, `{"provider_id": "424242"}`, 422, "invalid", "provider_id"},
		{"draft with an unknown field", "POST", "/api/v1/payout-batches", h.finance, `{"ceiling": "1.00"}`, 422, "unknown_field", "ceiling"},
		{"approve with a body", "POST", "/api/v1/payout-batches/" + payoutBatch + "/approve", h.checker, `{"override": true}`, 422, "unknown_field", "override"},
		{"budget override with a number reason", "POST", "/api/v1/payout-batches/" + payoutBatch + "/budget-override", h.admin, `{"reason": 1}`, 422, "invalid", "reason"},
		{"budget override without a reason", "POST", "/api/v1/payout-batches/" + payoutBatch + "/budget-override", h.admin, `{}`, 422, "invalid", "reason"},
		{"paid with an empty object", "POST", "/api/v1/payout-batches/" + payoutBatch + "/paid", h.finance, "{}", 422, "invalid", "paid_on"},
		{"paid without a body", "POST", "/api/v1/payout-batches/" + payoutBatch + "/paid", h.finance, "", 400, "malformed_json", ""},
		{"paid with a bad date", "POST", "/api/v1/payout-batches/" + payoutBatch + "/paid", h.finance, `{"paid_on": "15/06/2026"}`, 422, "invalid", "paid_on"},
		{"submit with a body", "POST", "/api/v1/payout-batches/" + payoutBatch + "/submit", h.finance, `{"by": "someone else"}`, 422, "unknown_field", "by"},
		{"batch id with leading zero", "GET", "/api/v1/payout-batches/0" + payoutBatch, h.finance, "", 404, "not_found", ""},
		{"claim batch path traversal", "GET", "/api/v1/claim-batches/..%2F1/export", h.referent, "", 404, "not_found", ""},
		{"export format", "GET", "/api/v1/claim-batches/" + claimBatch + "/export?format=../../etc", h.referent, "", 422, "invalid", "format"},
		{"return as JSON with duplicate keys", "POST", "/api/v1/claim-batches/" + claimBatch + "/returns", h.referent,
			`{"lines": [], "lines": []}`, 400, "duplicate_field", "lines"},
		{"settings with a number ceiling", "PUT", "/api/v1/settings", h.admin, `{"regie_name": "R", "regie_iban": "` + validIBAN2 +
			`", "regie_bic": "` + validBIC + `", "regie_ceiling": 10000, "annual_budget": "50000.00"}`, 422, "invalid", "regie_ceiling"},
		{"settings with an exponent budget", "PUT", "/api/v1/settings", h.admin, `{"regie_name": "R", "regie_iban": "` + validIBAN2 +
			`", "regie_bic": "` + validBIC + `", "regie_ceiling": "10000.00", "annual_budget": "5e4"}`, 422, "invalid", "annual_budget"},
		{"settings with a huge ceiling", "PUT", "/api/v1/settings", h.admin, `{"regie_name": "R", "regie_iban": "` + validIBAN2 +
			`", "regie_bic": "` + validBIC + `", "regie_ceiling": "99999999999.00", "annual_budget": "50000.00"}`, 422, "invalid", "regie_ceiling"},
		{"settings with a control character in the name", "PUT", "/api/v1/settings", h.admin, `{"regie_name": "<script>alert(1)</script>\u0000", "regie_iban": "` + validIBAN2 +
			`", "regie_bic": "` + validBIC + `", "regie_ceiling": "10000.00", "annual_budget": "50000.00"}`, 422, "invalid", "regie_name"},
	}
	before := h.state(t)
	for _, c := range cases {
		status, body := h.do(t, c.method, c.path, c.token, c.body)
		wantError(t, c.name, status, body, c.status, c.code, c.field)
	}
	h.assertUnchanged(t, "bad money requests", before)
}
