package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// correct posts a correction of decision did of p as the referent.
func (h *harness) correct(t *testing.T, p patientFixture, did string, body map[string]any) (int, map[string]any) {
	t.Helper()
	return h.do(t, "POST", "/api/v1/patients/"+p.id+"/rights-decisions/"+did+"/correct", h.referent, mustJSON(t, body))
}

// outcomes is an invoice's timeline as "status/reason cpam city" strings,
// oldest first, with its current outcome's number.
func (h *harness) outcomes(t *testing.T, invoiceID string) (int, []string) {
	t.Helper()
	inv := h.invoice(t, invoiceID)
	var out []string
	for _, o := range inv["timeline"].([]any) {
		m := o.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%s %s %s", m["status"], m["decision_reason"], m["cpam_amount"], m["city_amount"]))
	}
	n, err := strconv.Atoi(fmt.Sprint(inv["outcome_no"]))
	if err != nil {
		t.Fatalf("outcome_no %v: %v", inv["outcome_no"], err)
	}
	return n, out
}

// payoutLines are an invoice's payouts as "amount reason status", oldest first.
func (h *harness) payoutLines(t *testing.T, invoiceID string) []string {
	t.Helper()
	var out []string
	for _, p := range h.payoutsOf(t, invoiceID) {
		out = append(out, fmt.Sprintf("%s %s %s", p["amount"], p["reason"], p["status"]))
	}
	slices.Sort(out)
	return out
}

// claimLines are an invoice's claims as "amount kind status", oldest first.
func (h *harness) claimLines(t *testing.T, invoiceID string) []string {
	t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT amount::text || ' ' || kind || ' ' || status FROM claims
		WHERE invoice_id = $1 ORDER BY id`, invoiceID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// TestCorrectionOpenedThenRefused: an opening corrected into a refusal used
// to leave the released claims going out in the next batch. Now each
// invoice decided on it is decided again in the correction's transaction:
// the queued claim and the transmitted one are cancelled, the ticket
// modérateur is cancelled and the city owes the whole; the old decision
// stays, superseded, with why.
func TestCorrectionOpenedThenRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Correction", "general_practitioner", "10000000021")
	p := h.newPatient(t, "Ouvert")
	h.openRights(t, p, "puma", "2026-05-01")
	sent := str(t, h.submit(t, gp, p, "C-1", "2026-06-01", line{"G", "30.00", 1}), "id")
	h.runJob(t, "release")
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, "")
	queued := str(t, h.submit(t, gp, p, "C-2", "2026-06-02", line{"G", "30.00", 1}), "id")
	h.runJob(t, "release")
	did := latestDecision(t, h, p)

	status, file := h.correct(t, p, did, map[string]any{"decision": "refused", "reason": "résidence non établie",
		"correction_reason": "décision saisie sur le mauvais dossier"})
	if status != http.StatusOK {
		t.Fatalf("correction: %d %v", status, file)
	}
	decisions := file["rights_decisions"].([]any)
	old, corrected := decisions[0].(map[string]any), decisions[1].(map[string]any)
	if len(decisions) != 2 || old["superseded_at"] == nil || old["correction_reason"] != "décision saisie sur le mauvais dossier" ||
		corrected["decision"] != "refused" || corrected["supersedes"] != did {
		t.Errorf("decisions after the correction: %v", decisions)
	}
	if rights := file["rights"].(map[string]any); rights["status"] != "refused" {
		t.Errorf("the file's rights are %v, want refused", rights)
	}
	for _, id := range []string{sent, queued} {
		n, timeline := h.outcomes(t, id)
		wantLines(t, "timeline of "+id, timeline, "released/rights_opened 21.00 9.00", "city_due/rights_refused 0.00 30.00")
		if n != 2 {
			t.Errorf("invoice %s: outcome %d, want 2", id, n)
		}
		wantLines(t, "claims of "+id, h.claimLines(t, id), "21.00 claim cancelled")
		wantLines(t, "payouts of "+id, h.payoutLines(t, id), "30.00 rights_refused due", "9.00 ticket_moderateur cancelled")
	}
	if c := h.count(t, "claims", "status = 'cancelled' AND batch_id IS NOT NULL"); c != 1 {
		t.Errorf("%d transmitted claims cancelled, want 1 (a cancellation line for the CPAM)", c)
	}
	// The superseded decision cannot be corrected again: the correction stands.
	status, body := h.correct(t, p, did, map[string]any{"decision": "refused", "reason": "x", "correction_reason": "encore"})
	wantError(t, "second correction of one decision", status, body, http.StatusConflict, "already_superseded", "")
	h.checkInvariants(t)
}

// TestCorrectionRefusedThenOpened: the invoices decided on a refusal used
// to stay the city's while a new invoice for the same care went to the
// CPAM. A payout in a draft batch blocks the correction (409 naming the
// batch, nothing stored) until finance cancels the draft; then the
// invoice goes to the CPAM as a recovery and the city owes only the
// ticket modérateur, like the new invoice for the same care.
func TestCorrectionRefusedThenOpened(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Refus", "general_practitioner", "10000000022")
	p := h.newPatient(t, "Refuse")
	h.refuseRights(t, p)
	inv := str(t, h.submit(t, gp, p, "R-1", "2026-06-01", line{"G", "30.00", 1}), "id")
	h.runJob(t, "release")
	wantLines(t, "payouts on the refusal", h.payoutLines(t, inv), "30.00 rights_refused due")
	batch := str(t, h.pbDraft(t, h.finance, ""), "id")
	did := latestDecision(t, h, p)

	opening := map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-05-01", "reference": "PUMA-2026-77",
		"correction_reason": "la CPAM a reconnu la résidence"}
	before := h.state(t)
	status, body := h.correct(t, p, did, opening)
	wantError(t, "correction over a batched payout", status, body, http.StatusConflict, "payout_batched", "")
	if msg := fmt.Sprint(body["error"]); !strings.Contains(msg, "batch "+batch) {
		t.Errorf("the 409 does not name batch %s: %s", batch, msg)
	}
	h.assertUnchanged(t, "a blocked correction", before)
	if n, _ := h.outcomes(t, inv); n != 1 {
		t.Errorf("blocked correction left outcome %d", n)
	}

	h.mustDo(t, http.StatusOK, "POST", pbPath(batch, "cancel"), h.finance, "")
	if status, body := h.correct(t, p, did, opening); status != http.StatusOK {
		t.Fatalf("correction after the draft was cancelled: %d %v", status, body)
	}
	_, timeline := h.outcomes(t, inv)
	wantLines(t, "timeline", timeline, "city_due/rights_refused 0.00 30.00", "released/rights_opened 21.00 9.00")
	wantLines(t, "claims", h.claimLines(t, inv), "21.00 recovery queued")
	wantLines(t, "payouts", h.payoutLines(t, inv), "30.00 rights_refused cancelled", "9.00 ticket_moderateur due")

	again := str(t, h.submit(t, gp, p, "R-2", "2026-06-01", line{"G", "30.00", 1}), "id")
	h.runJob(t, "release")
	if got := h.invoice(t, again); got["status"] != "released" || got["outcome"].(map[string]any)["cpam_amount"] != "21.00" {
		t.Errorf("a new invoice for the same care: %v", got)
	}
	h.checkInvariants(t)
}

// TestLateRightsRecoverWhatTheCityPaid: a CSS opened in December from 1
// January came too late for every invoice past its deadline, and nothing
// was recovered. Now the release job decides those invoices again: the
// CPAM's share is claimed (a recovery claim) and what the régie paid the
// provider beyond the city's share is recovered from it.
func TestLateRightsRecoverWhatTheCityPaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Tard", "general_practitioner", "10000000023")
	p := h.newPatient(t, "Retroactif")
	h.requestRights(t, p, "puma_css", "2026-01-05")
	inv := str(t, h.submit(t, gp, p, "L-1", "2026-02-10", line{"G", "30.00", 1}), "id")
	h.runJob(t, "deadline")
	batch := str(t, h.pbApproved(t, h.newFinance(t, "Ordonnatrice"), gp.id), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(batch, "paid"), h.finance, `{"paid_on": "2026-06-15"}`)
	wantLines(t, "paid by the city", h.payoutLines(t, inv), "30.00 deadline_passed paid")

	h.setNow(at(t, "2026-12-10"))
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, map[string]any{
		"decision": "opened", "regime": "puma_css", "effective_from": "2026-01-01", "effective_to": "2026-12-31",
		"immediate_admission": true, "reference": "CSS-2026-5"}))
	h.runJob(t, "release")
	_, timeline := h.outcomes(t, inv)
	wantLines(t, "timeline", timeline, "city_due/deadline_passed 0.00 30.00", "released/rights_opened 30.00 0.00")
	wantLines(t, "claims", h.claimLines(t, inv), "30.00 recovery queued")
	wantLines(t, "payouts", h.payoutLines(t, inv), "30.00 deadline_passed paid")
	if n := h.count(t, "provider_recoveries", "invoice_id = "+inv+" AND amount = 30.00 AND provider_id = "+gp.id); n != 1 {
		t.Errorf("%d recoveries of 30.00 from the provider, want 1", n)
	}
	// A second run finds nothing more to do.
	if got := h.runJob(t, "release"); fmt.Sprint(got["rows"]) != "0" {
		t.Errorf("second release run: %v", got)
	}
	h.checkInvariants(t)
}

// TestCorrectionRefundsWhatTheCPAMPaid: the CPAM paid a claim, then the
// opening is corrected into a refusal: the city refunds the CPAM, and owes
// the provider only what it has not received (the provider keeps the
// CPAM's payment, the city pays it instead).
// paidByTheCPAM opens PUMa rights on a new file, has a GP of that RPPS
// bill it a 30.00 consultation, and the CPAM pay its 21.00 share: the
// file, the invoice and the claim.
func (h *harness) paidByTheCPAM(t *testing.T, rpps string) (p patientFixture, invoiceID, claimID string) {
	t.Helper()
	gp := h.newProvider(t, "Dr "+rpps, "general_practitioner", rpps)
	p = h.newPatient(t, "Paye"+rpps)
	h.openRights(t, p, "puma", "2026-05-01")
	invoiceID = str(t, h.submit(t, gp, p, "P-"+rpps, "2026-06-01", line{"G", "30.00", 1}), "id")
	h.runJob(t, "release")
	batch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	claimID = str(t, items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims?batch_id="+batch, h.referent, ""))[0], "id")
	h.importReturn(t, batch, returnJSON(t, []string{claimID, "paid", "21.00", "2026-06-12"}))
	return p, invoiceID, claimID
}

func TestCorrectionRefundsWhatTheCPAMPaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p, inv, claimID := h.paidByTheCPAM(t, "10000000024")

	if status, body := h.correct(t, p, latestDecision(t, h, p), map[string]any{"decision": "refused", "reason": "ressources",
		"correction_reason": "droits ouverts par erreur"}); status != http.StatusOK {
		t.Fatalf("correction: %d %v", status, body)
	}
	wantLines(t, "claims", h.claimLines(t, inv), "21.00 claim paid")
	if n := h.count(t, "cpam_refunds", "claim_id = "+claimID+" AND amount = 21.00"); n != 1 {
		t.Errorf("%d refunds of 21.00 due to the CPAM, want 1", n)
	}
	wantLines(t, "payouts", h.payoutLines(t, inv), "9.00 rights_refused due", "9.00 ticket_moderateur cancelled")
	h.checkInvariants(t)
}

// TestCorrectionBackAndForthAfterTheCPAMPaid: rights opened, the CPAM pays
// its share, the opening is corrected to a refusal (a refund due to the
// CPAM), then the refusal corrected back to an opening: what moved still
// equals the invoice's outcome.
func TestCorrectionBackAndForthAfterTheCPAMPaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p, inv, _ := h.paidByTheCPAM(t, "10000000025")
	if status, body := h.correct(t, p, latestDecision(t, h, p), map[string]any{"decision": "refused", "reason": "ressources",
		"correction_reason": "droits ouverts par erreur"}); status != http.StatusOK {
		t.Fatalf("correction to a refusal: %d %v", status, body)
	}
	h.checkInvariants(t)
	if status, body := h.correct(t, p, latestDecision(t, h, p), map[string]any{"decision": "opened", "regime": "puma",
		"effective_from": "2026-05-01", "reference": "PUMA-BACK", "correction_reason": "la résidence était établie"}); status != http.StatusOK {
		t.Fatalf("correction back to an opening: %d %v", status, body)
	}
	// The CPAM owes its 21.00 again (a recovery claim); the city has
	// already borne the 21.00 it refunded and owes no more than its 9.00
	// share: the provider, who kept the CPAM's first 21.00, gives back
	// the 12.00 beyond it.
	wantLines(t, "claims", h.claimLines(t, inv), "21.00 claim paid", "21.00 recovery queued")
	wantLines(t, "payouts", h.payoutLines(t, inv), "9.00 rights_refused cancelled", "9.00 ticket_moderateur cancelled")
	if n := h.count(t, "provider_recoveries", "invoice_id = "+inv+" AND amount = 12.00"); n != 1 {
		t.Errorf("%d recoveries of 12.00 from the provider, want 1", n)
	}
	h.checkInvariants(t)
}
