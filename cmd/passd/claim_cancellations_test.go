package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/claims"
	"passd/claims/cpamfile"
	"passd/ident"
	"passd/settlement"
)

// correctToCityDue decides a released invoice again, in tx, as a rights
// correction does when the care date turns out not to be covered: the
// file's opening is superseded and billing's re-decision runs in tx (its
// open claim cancelled, the invoice at its next outcome, city_due, the
// city owing the provider all of it). The patient's current rights change
// too (another regime and reference), so that an export reading them
// instead of the claim's would show it. The invoices are one-line AME
// invoices, whose claim is the whole total.
func (h *harness) correctToCityDue(t *testing.T, tx pgx.Tx, invoiceID string) {
	t.Helper()
	ctx := context.Background()
	var patientID int64
	if err := tx.QueryRow(ctx, `SELECT patient_id FROM invoices WHERE id = $1`, invoiceID).Scan(&patientID); err != nil {
		t.Fatalf("correct invoice %s: %v", invoiceID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE rights_decisions SET superseded_at = $2, correction_reason = 'période corrigée'
		WHERE patient_id = $1 AND superseded_at IS NULL`, patientID, h.now()); err != nil {
		t.Fatalf("correct invoice %s: %v", invoiceID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE patients SET rights_regime = 'puma', rights_reference = 'PUMA-CORRIGÉ' WHERE id = $1`, patientID); err != nil {
		t.Fatalf("correct invoice %s: %v", invoiceID, err)
	}
	res, err := h.app.billing.RedecidePatients(inConvention(ctx), tx, audit.Actor{Name: "referent"}, []int64{patientID}, "droits corrigés", true)
	if err != nil || res.Changed != 1 {
		t.Fatalf("correct invoice %s: %+v, %v", invoiceID, res, err)
	}
}

// withdraw is correctToCityDue in a transaction of its own.
func (h *harness) withdraw(t *testing.T, invoiceIDs ...string) {
	t.Helper()
	err := pgx.BeginFunc(context.Background(), h.pool, func(tx pgx.Tx) error {
		for _, id := range invoiceIDs {
			h.correctToCityDue(t, tx, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exportJSON downloads a batch's JSON export as the referent.
func (h *harness) exportJSON(t *testing.T, batchID string) exportedBatch {
	t.Helper()
	rec := h.doRaw(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format=json", h.referent, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("export of batch %s: %d %s", batchID, rec.Code, rec.Body)
	}
	var out exportedBatch
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("export of batch %s is not JSON: %v", batchID, err)
	}
	return out
}

type exportedBatch struct {
	FormatVersion int            `json:"format_version"`
	Batch         map[string]any `json:"batch"`
	Claims        []struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"claims"`
	Cancellations []map[string]any `json:"cancellations"`
}

func (e exportedBatch) cancelledIDs() []string {
	var out []string
	for _, c := range e.Cancellations {
		out = append(out, fmt.Sprint(c["claim_id"]))
	}
	return out
}

func (e exportedBatch) claimIDs() []string {
	var out []string
	for _, c := range e.Claims {
		out = append(out, c.ID)
	}
	return out
}

// TestTransmittedClaimCancelledIsWithdrawnInTheNextBatchOnce: a claim the
// CPAM received, then cancelled by a rights correction, goes as a
// cancellation into exactly one later batch — made for it alone when
// nothing is queued, even by concurrent batch runs — whose export names it
// as it was sent; the CPAM's return on it changes nothing.
func TestTransmittedClaimCancelledIsWithdrawnInTheNextBatchOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	gp := h.newProvider(t, "Dr Lefèvre", "general_practitioner", "10000000001")
	var invoices, claimIDs []string
	sent := map[string]map[string]any{}
	for i, name := range []string{"Ba", "Cissé", "Dia", "Fall"} {
		inv, c := h.releasedClaim(t, gp, name, "ame", fmt.Sprintf("F-%d", i), fmt.Sprintf("%d.00", 30+i))
		invoices, claimIDs = append(invoices, inv), append(claimIDs, str(t, c, "id"))
		sent[str(t, c, "id")] = c
	}
	wantFields(t, "a queued claim", sent[claimIDs[0]], map[string]any{"kind": "claim", "status": "queued", "cancelled_at": nil, "cancel_batch_id": nil})
	first := str(t, h.batchClaims(t), "id")

	// Three of the four are withdrawn; the fourth stays with the CPAM.
	h.withdraw(t, invoices[:3]...)
	cancelled := claimIDs[:3]
	wantFields(t, "a cancelled claim", h.claim(t, cancelled[0]), map[string]any{"status": "cancelled", "batch_id": first,
		"cancelled_at": h.now().Format(time.RFC3339), "cancel_batch_id": nil, "kind": "claim", "amount": "30.00"})
	if got := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims?status=cancelled", h.finance, "")); !cmp.Equal(got, []string{cancelled[2], cancelled[1], cancelled[0]}) {
		t.Errorf("claims?status=cancelled = %v, want %v, newest first", got, cancelled)
	}
	wantFields(t, "the first batch", h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches/"+first, h.referent, ""),
		map[string]any{"claim_count": 4, "cancellation_count": 0, "transmitted": 1, "cancelled": 3})

	// Batch runs race (the job on two replicas, the referent's button):
	// every cancellation goes into exactly one batch, and nothing is queued,
	// so the batches made carry cancellations only.
	const runs = 4
	var wg sync.WaitGroup
	start := make(chan struct{})
	made := make([]claims.ClaimBatch, runs)
	oks := make([]bool, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, ok, err := h.app.claims.CreateClaimBatch(inConvention(ctx), audit.Job("claim-batch"))
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			made[i], oks[i] = b, ok
		}()
	}
	close(start)
	wg.Wait()
	var batches []string
	perClaim := map[string]string{}
	total := 0
	for i, b := range made {
		if !oks[i] {
			continue
		}
		id := ident.FormatID(b.ID)
		batches = append(batches, id)
		total += b.CancellationCount
		if b.ClaimCount != 0 || !b.Total.IsZero() || b.CancellationCount == 0 {
			t.Errorf("batch %s: %d claims, %d cancellations, total %s; want cancellations only", id, b.ClaimCount, b.CancellationCount, b.Total)
		}
		export := h.exportJSON(t, id)
		if len(export.Claims) != 0 || len(export.Cancellations) != b.CancellationCount || export.FormatVersion != 3 {
			t.Errorf("batch %s export: %d claims, %d cancellations for %d announced", id, len(export.Claims), len(export.Cancellations), b.CancellationCount)
		}
		for _, c := range export.cancelledIDs() {
			if perClaim[c] != "" {
				t.Errorf("claim %s cancelled in batches %s and %s", c, perClaim[c], id)
			}
			perClaim[c] = id
		}
	}
	if len(batches) == 0 || total != len(cancelled) || len(perClaim) != len(cancelled) {
		t.Fatalf("concurrent runs made batches %v carrying %d cancellations (%v), want each of %v once", batches, total, perClaim, cancelled)
	}
	for _, id := range cancelled {
		wantFields(t, "a cancellation sent", h.claim(t, id), map[string]any{"status": "cancelled", "batch_id": first, "cancel_batch_id": perClaim[id]})
	}
	if n := h.count(t, "claims", "cancel_batch_id IS NOT NULL"); n != int64(len(cancelled)) {
		t.Errorf("%d claims have a cancellation batch, want %d", n, len(cancelled))
	}
	if n := h.count(t, "audit_log", "action = 'claim.cancellation_sent'"); n != int64(len(cancelled)) {
		t.Errorf("%d claim.cancellation_sent audit rows, want %d", n, len(cancelled))
	}
	wantFields(t, "a batch as the API reads it", h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches/"+perClaim[cancelled[0]], h.referent, ""),
		map[string]any{"claim_count": 0, "total": "0.00", "transmitted": 0, "paid": 0, "cancelled": 0})

	// Nothing is left to send: no further batch, by the API or the job.
	status, body := h.do(t, "POST", "/api/v1/claim-batches", h.referent, "")
	wantError(t, "nothing left", status, body, http.StatusConflict, "nothing_to_batch", "")
	if run := h.runJob(t, "claim-batch"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("the job sent %v, want 0", run["rows"])
	}

	// The cancellation names the claim as the first batch sent it: its
	// regime and reference, not the patient's corrected rights.
	c0 := cancelled[0]
	export := h.exportJSON(t, perClaim[c0])
	var line map[string]any
	for _, c := range export.Cancellations {
		if c["claim_id"] == c0 {
			line = c
		}
	}
	patient, _ := line["patient"].(map[string]any)
	wantFields(t, "the cancellation line", line, map[string]any{"kind": "claim", "sent_batch_id": first, "invoice_id": invoices[0],
		"amount": "30.00", "regime": "ame", "decision_reference": sent[c0]["reference"], "cancelled_on": today})
	if sent[c0]["reference"] == nil || sent[c0]["reference"] == "PUMA-CORRIGÉ" {
		t.Errorf("the claim's own reference is %v", sent[c0]["reference"])
	}
	wantFields(t, "the cancelled claim's patient", patient, map[string]any{"last_name": "Ba", "nir": nil})
	rec := h.doRaw(t, "GET", "/api/v1/claim-batches/"+perClaim[c0]+"/export?format=csv", h.referent, "")
	var row string
	for _, r := range strings.Split(rec.Body.String(), "\r\n") {
		if strings.HasPrefix(r, "3;cancellation;"+perClaim[c0]+";") && strings.Contains(r, ";"+c0+";claim;"+first+";"+invoices[0]+";") {
			row = r
		}
	}
	if rec.Code != http.StatusOK || !strings.Contains(row, ";Ba;") || !strings.Contains(row, ";ame;"+fmt.Sprint(sent[c0]["reference"])+";;30.00;"+today+";") {
		t.Errorf("CSV export (%d) has no cancellation row for claim %s as it was sent:\n%s", rec.Code, c0, rec.Body)
	}
	// Exporting logs the read of the cancelled claim's patient file.
	if n := h.count(t, "patient_access_log", "purpose = '"+claims.AccessClaimExport+"'",
		"patient_id = (SELECT patient_id FROM invoices WHERE id = "+invoices[0]+")"); n < 2 {
		t.Errorf("%d exports of the cancelled claim's file logged, want its batch's and the cancellation's", n)
	}
	// The first batch still shows what it sent.
	if got := h.exportJSON(t, first); !cmp.Equal(got.claimIDs(), claimIDs) || len(got.Cancellations) != 0 {
		t.Errorf("the first batch's export now has claims %v and cancellations %v", got.claimIDs(), got.cancelledIDs())
	}

	// The CPAM answers the withdrawn claim anyway: reported, nothing done.
	before := h.state(t)
	report := h.importReturn(t, first, returnJSON(t, []string{c0, "paid", "30.00", "2026-06-12"}, []string{cancelled[1], "rejected", "hors droits"}))
	if diff := cmp.Diff([]string{"cancelled", "cancelled"}, lineResults(t, report)); diff != "" {
		t.Errorf("return on cancelled claims (-want +got):\n%s", diff)
	}
	msg := fmt.Sprint(report["lines"].([]any)[0].(map[string]any)["message"])
	if !strings.Contains(msg, "cancelled after a rights correction") || !strings.Contains(msg, "batch "+perClaim[c0]) {
		t.Errorf("message %q does not say the claim was cancelled and which batch carried its cancellation", msg)
	}
	wantFields(t, "counts", report["counts"].(map[string]any), map[string]any{"cancelled": 2})
	h.assertUnchanged(t, "a return on cancelled claims", before)
	// Beside them, the claim still open settles as usual.
	report = h.importReturn(t, first, returnJSON(t, []string{c0, "paid", "30.00", "2026-06-12"}, []string{claimIDs[3], "paid", "33.00", "2026-06-12"}))
	if diff := cmp.Diff([]string{"cancelled", "paid"}, lineResults(t, report)); diff != "" {
		t.Errorf("mixed return (-want +got):\n%s", diff)
	}
	wantFields(t, "the withdrawn claim", h.claim(t, c0), map[string]any{"status": "cancelled", "paid_amount": nil})

	// The referent's pages show the cancellations.
	b := mustSignIn(t, h, h.referent)
	page := b.page(t, http.StatusOK, "/cpam/lots/"+perClaim[c0])
	wantContains(t, "the cancellations' batch page", page, "Annulations transmises dans ce lot", "<td>"+c0+"</td>",
		`<a href="/cpam/lots/`+first+`">Lot `+first+`</a>`, "<td>"+settlement.ClaimCancelled.Label()+"</td>", "<td>15/06/2026</td>")
	wantContains(t, "the first batch's page", b.page(t, http.StatusOK, "/cpam/lots/"+first), "<dt>Annulées depuis l'envoi</dt><dd>3</dd>")
	wantContains(t, "the batches page", b.page(t, http.StatusOK, "/cpam/lots"), `<th scope="col" class="num">Annulations</th>`)
}

// TestQueuedClaimCancelledIsNeverSent: a claim cancelled before any batch
// took it is in no file, and alone it makes no batch.
func TestQueuedClaimCancelledIsNeverSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	invoiceID, c := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	h.withdraw(t, invoiceID)
	wantFields(t, "the cancelled claim", h.claim(t, str(t, c, "id")), map[string]any{"status": "cancelled", "batch_id": nil, "cancel_batch_id": nil})

	status, body := h.do(t, "POST", "/api/v1/claim-batches", h.referent, "")
	wantError(t, "only a cancelled queued claim", status, body, http.StatusConflict, "nothing_to_batch", "")

	_, other := h.releasedClaim(t, gp, "Cissé", "ame", "F-2", "25.00")
	batch := h.batchClaims(t)
	wantFields(t, "the next batch", batch, map[string]any{"claim_count": 1, "cancellation_count": 0, "total": "25.00"})
	export := h.exportJSON(t, str(t, batch, "id"))
	if !cmp.Equal(export.claimIDs(), []string{str(t, other, "id")}) || len(export.Cancellations) != 0 {
		t.Errorf("the next batch exports claims %v and cancellations %v", export.claimIDs(), export.cancelledIDs())
	}
	wantFields(t, "the cancelled claim after the batch", h.claim(t, str(t, c, "id")), map[string]any{"status": "cancelled", "batch_id": nil, "cancel_batch_id": nil})
}

// TestReturnWaitsForACorrectionInFlight: a return that reaches a claim
// while a correction is cancelling it waits for the correction, then
// reports the claim cancelled and settles nothing.
func TestReturnWaitsForACorrectionInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	invoiceID, c := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	claimID := mustID(t, str(t, c, "id"))
	batchID := mustID(t, str(t, h.batchClaims(t), "id"))

	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	h.correctToCityDue(t, tx, invoiceID)
	var correction int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&correction); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		results []claims.ReturnResult
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := h.app.claims.ImportReturn(inConvention(ctx), audit.Actor{Name: "referent"}, batchID, []cpamfile.ReturnLine{
			{Line: 1, ClaimID: claimID, Outcome: settlement.ClaimPaid, PaidAmount: decimal.RequireFromString("30.00"), PaidOn: calendar.NewDate(2026, 6, 12)}})
		done <- outcome{r, err}
	}()
	// The return waits on the claim's lock until the correction commits.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := h.pool.QueryRow(ctx, `SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND $1 = ANY (pg_blocking_pids(pid))`,
			correction).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case o := <-done:
			t.Fatalf("the return did not wait for the correction: %+v", o)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the return never reached the claim's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || len(o.results) != 1 || o.results[0].Result != claims.ReturnCancelled ||
		!strings.Contains(o.results[0].Message, "next claim batch") {
		t.Fatalf("the return after the correction: %+v, %v; want the claim reported cancelled, its cancellation in the next batch", o.results, o.err)
	}
	wantFields(t, "the claim", h.claim(t, str(t, c, "id")), map[string]any{"status": "cancelled", "paid_amount": nil, "paid_on": nil})
	if reasons := payoutReasons(t, h, invoiceID); !slices.Equal(reasons, []string{"not_covered"}) {
		t.Errorf("payouts of the invoice: %v, want the correction's only", reasons)
	}
	if n := h.count(t, "journal_entries", fmt.Sprintf("claim_id = %d", claimID), "movement = 'claim_paid'"); n != 0 {
		t.Errorf("%d claim_paid postings for the cancelled claim", n)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := ident.ParseID(s)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return id
}

func payoutReasons(t *testing.T, h *harness, invoiceID string) []string {
	t.Helper()
	var out []string
	for _, p := range h.payoutsOf(t, invoiceID) {
		out = append(out, str(t, p, "reason"))
	}
	slices.Sort(out)
	return out
}
