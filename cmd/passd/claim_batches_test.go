package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"passd/db/dbtest"
)

// batchClaims sends the queued claims to the CPAM as the referent and
// returns the batch.
func (h *harness) batchClaims(t *testing.T) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, "")
}

func (h *harness) importReturn(t *testing.T, batchID, body string) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusOK, "POST", "/api/v1/claim-batches/"+batchID+"/returns", h.referent, body)
}

func (h *harness) claim(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims?limit=500", h.referent, "")) {
		if c["id"] == id {
			return c
		}
	}
	t.Fatalf("no claim %s", id)
	return nil
}

func TestClaimPaidInFullByTheCPAM(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Lefèvre", "general_practitioner", "10000000001")
	invoiceID, claim := h.releasedClaim(t, gp, "Nguyễn", "ame", "F-AME-1", "30.00")
	claimID := str(t, claim, "id")
	wantFields(t, "queued claim", claim, map[string]any{"amount": "30.00", "status": "queued", "batch_id": nil})

	batch := h.batchClaims(t)
	batchID := str(t, batch, "id")
	wantFields(t, "batch", batch, map[string]any{"claim_count": 1, "cancellation_count": 0, "total": "30.00", "transmitted": 1, "paid": 0,
		"cancelled": 0, "created_by": "referent"})
	wantFields(t, "transmitted claim", h.claim(t, claimID), map[string]any{"status": "transmitted", "batch_id": batchID, "kind": "claim",
		"cancelled_at": nil, "cancel_batch_id": nil})

	// Nothing is left to batch: 409, and nothing stored.
	before := h.state(t)
	status, body := h.do(t, "POST", "/api/v1/claim-batches", h.referent, "")
	wantError(t, "empty batch", status, body, http.StatusConflict, "nothing_to_batch", "")
	h.assertUnchanged(t, "empty batch", before)

	list := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches", h.finance, ""))
	if len(list) != 1 || list[0]["id"] != batchID {
		t.Errorf("batches = %v, want [%s]", list, batchID)
	}

	// The export names the claim, its provider, its patient and its lines.
	rec := h.doRaw(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format=json", h.referent, "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	var export struct {
		FormatVersion int `json:"format_version"`
		Batch         struct {
			ID                string `json:"id"`
			ClaimCount        int    `json:"claim_count"`
			CancellationCount int    `json:"cancellation_count"`
			Total             string `json:"total"`
		} `json:"batch"`
		Cancellations []any `json:"cancellations"`
		Claims        []struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Regime   string `json:"regime"`
			CareDate string `json:"care_date"`
			Amount   string `json:"amount"`
			Provider struct{ Kind, RPPS string }
			Patient  struct {
				FileNumber string `json:"file_number"`
				LastName   string `json:"last_name"`
				NIR        *string
			}
			Lines []struct {
				Code      string
				Quantity  int
				UnitPrice string `json:"unit_price"`
				CPAMShare string `json:"cpam_share"`
			}
		} `json:"claims"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &export); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if export.FormatVersion != 3 || export.Batch.ID != batchID || export.Batch.ClaimCount != 1 || export.Batch.Total != "30.00" || len(export.Claims) != 1 ||
		export.Batch.CancellationCount != 0 || export.Cancellations == nil || len(export.Cancellations) != 0 {
		t.Fatalf("export = %+v", export)
	}
	c := export.Claims[0]
	if c.ID != claimID || c.Kind != "claim" || c.Amount != "30.00" || c.Regime != "ame" || c.Patient.LastName != "Nguyễn" || c.Patient.NIR != nil ||
		c.Provider.Kind != "general_practitioner" || len(c.Lines) != 1 || c.Lines[0].CPAMShare != "30.00" || c.CareDate != "2026-06-01" {
		t.Errorf("exported claim = %+v", c)
	}
	rec = h.doRaw(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format=csv", h.referent, "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(rec.Body.String(), "format_version;") || !strings.Contains(rec.Body.String(), "\r\n3;claim;"+batchID+";") {
		t.Errorf("csv export: %d %s", rec.Code, rec.Body)
	}
	status, body = h.do(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format=b2", h.referent, "")
	wantError(t, "unknown format", status, body, http.StatusUnprocessableEntity, "invalid", "format")
	status, body = h.do(t, "GET", "/api/v1/claim-batches/999/export", h.referent, "")
	wantError(t, "unknown batch", status, body, http.StatusNotFound, "not_found", "")

	report := h.importReturn(t, batchID, returnJSON(t, []string{claimID, "paid", "30.00", "2026-06-12"}))
	if diff := cmp.Diff([]string{"paid"}, lineResults(t, report)); diff != "" {
		t.Fatalf("return results (-want +got):\n%s", diff)
	}
	wantFields(t, "paid claim", h.claim(t, claimID), map[string]any{"status": "paid", "paid_amount": "30.00", "paid_on": "2026-06-12"})
	if p := h.payoutsOf(t, invoiceID); len(p) != 0 {
		t.Errorf("a claim paid in full made payouts %v", p)
	}
	wantFields(t, "batch after the return", h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches/"+batchID, h.referent, ""),
		map[string]any{"transmitted": 0, "paid": 1, "rejected": 0, "paid_amount": "30.00"})

	// The same return again changes nothing.
	before = h.state(t)
	report = h.importReturn(t, batchID, returnJSON(t, []string{claimID, "paid", "30.00", "2026-06-12"}))
	if diff := cmp.Diff([]string{"unchanged"}, lineResults(t, report)); diff != "" {
		t.Errorf("re-import results (-want +got):\n%s", diff)
	}
	h.assertUnchanged(t, "re-import", before)

	// The provider's statement follows the euro to the CPAM's payment.
	st := h.mustDo(t, http.StatusOK, "GET", "/api/v1/statement?from=2026-06-01&to=2026-06-30", gp.token, "")
	lines := items(t, st)
	if len(lines) != 1 {
		t.Fatalf("statement = %v", st)
	}
	wantFields(t, "statement line", lines[0], map[string]any{"invoice_id": invoiceID, "status": "released", "cpam_amount": "30.00", "city_amount": "0.00"})
	wantFields(t, "statement claim", lines[0]["claim"].(map[string]any), map[string]any{"status": "paid", "paid_amount": "30.00", "paid_on": "2026-06-12"})
}

func TestClaimRejectedByTheCPAMIsPaidByTheCity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	invoiceID, claim := h.releasedClaim(t, gp, "Diallo", "puma", "F-PUMA-1", "30.00")
	claimID := str(t, claim, "id")
	wantFields(t, "claim", claim, map[string]any{"amount": "21.00"}) // 70 % of 30.00
	batchID := str(t, h.batchClaims(t), "id")

	report := h.importReturn(t, batchID, returnJSON(t, []string{claimID, "rejected", "assuré inconnu au RNIAM"}))
	line := report["lines"].([]any)[0].(map[string]any)
	wantFields(t, "rejected line", line, map[string]any{"result": "rejected", "owed_amount": "21.00", "claim_id": claimID})
	wantFields(t, "rejected claim", h.claim(t, claimID), map[string]any{"status": "rejected", "rejection_reason": "assuré inconnu au RNIAM", "paid_amount": nil})

	payouts := h.payoutsOf(t, invoiceID)
	reasons := map[string]map[string]any{}
	for _, p := range payouts {
		reasons[str(t, p, "reason")] = p
	}
	if len(payouts) != 2 || reasons["ticket_moderateur"] == nil || reasons["cpam_rejected"] == nil {
		t.Fatalf("payouts = %v, want the ticket modérateur and the rejected claim", payouts)
	}
	wantFields(t, "rejection payout", reasons["cpam_rejected"], map[string]any{"amount": "21.00", "status": "due", "claim_id": claimID,
		"cpam_reason": "assuré inconnu au RNIAM", "provider_id": gp.id})
	wantFields(t, "ticket payout", reasons["ticket_moderateur"], map[string]any{"amount": "9.00"})

	// The provider sees the CPAM's reason on its own payouts and statement.
	own := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts?status=due", gp.token, ""))
	if len(own) != 2 {
		t.Errorf("provider's due payouts = %v", own)
	}
	st := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/statement?from=2026-06-01&to=2026-06-30", gp.token, ""))
	if len(st) != 1 || len(st[0]["payouts"].([]any)) != 2 || !strings.Contains(fmt.Sprint(st[0]), "assuré inconnu au RNIAM") {
		t.Errorf("statement = %v", st)
	}

	// The journal moved the claim off the CPAM and onto the city's budget.
	var movements string
	if err := h.pool.QueryRow(context.Background(), `SELECT string_agg(DISTINCT movement, ',' ORDER BY movement) FROM journal_entries
		WHERE invoice_id = $1`, invoiceID).Scan(&movements); err != nil {
		t.Fatal(err)
	}
	if movements != "claim_queued,claim_rejected,payout_due" {
		t.Errorf("journal movements = %s", movements)
	}

	// A second rejection of the same claim changes nothing.
	before := h.state(t)
	report = h.importReturn(t, batchID, returnJSON(t, []string{claimID, "rejected", "assuré inconnu au RNIAM"}))
	if diff := cmp.Diff([]string{"unchanged"}, lineResults(t, report)); diff != "" {
		t.Errorf("re-import (-want +got):\n%s", diff)
	}
	h.assertUnchanged(t, "re-import of a rejection", before)
}

func TestClaimPaidInPartLeavesTheRestToTheCity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nurse := h.newProvider(t, "Cabinet infirmier", "nurse", "10000000003")
	invoiceID, claim := h.releasedClaim(t, nurse, "Sow", "ame", "N-1", "40.00")
	claimID := str(t, claim, "id")
	batchID := str(t, h.batchClaims(t), "id")

	report := h.importReturn(t, batchID, returnJSON(t, []string{claimID, "paid", "32.50", "2026-06-11"}))
	wantFields(t, "partial line", report["lines"].([]any)[0].(map[string]any), map[string]any{"result": "partial", "owed_amount": "7.50"})
	wantFields(t, "counts", report["counts"].(map[string]any), map[string]any{"partial": 1})
	wantFields(t, "claim", h.claim(t, claimID), map[string]any{"status": "paid", "paid_amount": "32.50"})
	payouts := h.payoutsOf(t, invoiceID)
	if len(payouts) != 1 {
		t.Fatalf("payouts = %v", payouts)
	}
	wantFields(t, "shortfall payout", payouts[0], map[string]any{"reason": "cpam_partial", "amount": "7.50", "status": "due", "claim_id": claimID})
}

func TestReturnLinesThatContradictOrMisfireChangeNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	_, paid := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	_, rejected := h.releasedClaim(t, gp, "Cissé", "ame", "F-2", "25.00")
	_, open := h.releasedClaim(t, gp, "Dia", "ame", "F-3", "20.00")
	paidID, rejectedID, openID := str(t, paid, "id"), str(t, rejected, "id"), str(t, open, "id")
	batchID := str(t, h.batchClaims(t), "id")
	h.importReturn(t, batchID, returnJSON(t, []string{paidID, "paid", "30.00", "2026-06-12"}, []string{rejectedID, "rejected", "hors droits"}))

	// A claim of another batch is not in this one.
	_, other := h.releasedClaim(t, gp, "Fall", "ame", "F-4", "10.00")
	otherBatch := str(t, h.batchClaims(t), "id")

	before := h.state(t)
	report := h.importReturn(t, batchID, returnJSON(t,
		[]string{paidID, "rejected", "finalement non"},               // contradicts paid
		[]string{rejectedID, "paid", "25.00", "2026-06-13"},          // contradicts rejected
		[]string{str(t, other, "id"), "paid", "10.00", "2026-06-13"}, // other batch
		[]string{"987654", "rejected", "inconnue"},                   // no such claim
		[]string{openID, "paid", "20.01", "2026-06-13"},              // more than claimed
	))
	if diff := cmp.Diff([]string{"conflict", "conflict", "not_in_batch", "not_in_batch", "invalid"}, lineResults(t, report)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for i, l := range report["lines"].([]any) {
		if msg, _ := l.(map[string]any)["message"].(string); msg == "" {
			t.Errorf("line %d has no message: %v", i+1, l)
		}
	}
	h.assertUnchanged(t, "contradicting lines", before)

	// A line that repeats the same paid amount on another day contradicts too.
	report = h.importReturn(t, batchID, returnJSON(t, []string{paidID, "paid", "30.00", "2026-06-14"}, []string{openID, "paid", "20.00", "2026-06-14"}))
	if diff := cmp.Diff([]string{"conflict", "paid"}, lineResults(t, report)); diff != "" {
		t.Errorf("mixed results (-want +got): good lines apply even beside a conflicting one:\n%s", diff)
	}
	_ = otherBatch
}

func TestReturnsCanBeImportedAsCSV(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	_, a := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	_, b := h.releasedClaim(t, gp, "Cissé", "ame", "F-2", "25.00")
	batchID := str(t, h.batchClaims(t), "id")
	// As a French spreadsheet saves it: BOM, ';' and decimal commas.
	csv := "\ufeffclaim_id;outcome;paid_amount;paid_on;reason\r\n" +
		str(t, a, "id") + ";paid;30,00;2026-06-12;\r\n" +
		str(t, b, "id") + ";rejected;;;droits clos\r\n"
	report := h.mustDo(t, http.StatusOK, "POST", "/api/v1/claim-batches/"+batchID+"/returns", h.referent, csv, "Content-Type", "text/csv; charset=utf-8")
	if diff := cmp.Diff([]string{"paid", "rejected"}, lineResults(t, report)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	wantFields(t, "rejected", h.claim(t, str(t, b, "id")), map[string]any{"status": "rejected", "rejection_reason": "droits clos"})
}

func TestMalformedReturnsAreRefusedWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	_, a := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	id := str(t, a, "id")
	batchID := str(t, h.batchClaims(t), "id")
	path := "/api/v1/claim-batches/" + batchID + "/returns"
	cases := []struct {
		name, body, contentType string
		status                  int
		code, field             string
	}{
		{"bad amount on the second line", returnJSON(t, []string{id, "rejected", "x"}, []string{"77", "paid", "12.345", "2026-06-12"}),
			"application/json", 422, "invalid", "lines[1].paid_amount"},
		{"same claim twice", returnJSON(t, []string{id, "rejected", "x"}, []string{id, "rejected", "y"}), "application/json", 422, "invalid", "lines[1].claim_id"},
		{"unknown outcome", `{"lines":[{"claim_id":"` + id + `","outcome":"maybe"}]}`, "application/json", 422, "invalid", "lines[0].outcome"},
		{"paid without a date", `{"lines":[{"claim_id":"` + id + `","outcome":"paid","paid_amount":"30.00"}]}`, "application/json", 422, "invalid", "lines[0].paid_on"},
		{"no lines", `{"lines":[]}`, "application/json", 422, "invalid", "lines"},
		{"paid tomorrow", returnJSON(t, []string{id, "paid", "30.00", "2026-06-16"}), "application/json", 422, "invalid", "lines[0].paid_on"},
		{"plain text", "claim_id,outcome\n1,paid", "text/plain", 415, "unsupported_media_type", "content_type"},
		{"csv without outcome column", "claim_id;paid_amount\r\n" + id + ";30,00\r\n", "text/csv", 422, "invalid", "header"},
	}
	before := h.state(t)
	for _, c := range cases {
		status, body := h.do(t, "POST", path, h.referent, c.body, "Content-Type", c.contentType)
		wantError(t, c.name, status, body, c.status, c.code, c.field)
	}
	h.assertUnchanged(t, "malformed returns", before)
	status, body := h.do(t, "POST", "/api/v1/claim-batches/424242/returns", h.referent, returnJSON(t, []string{id, "rejected", "x"}))
	wantError(t, "unknown batch", status, body, http.StatusNotFound, "not_found", "")
}

func TestClaimBatchJobSendsEveryQueuedClaimOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	for i, name := range []string{"Ba", "Cissé", "Dia"} {
		h.releasedClaim(t, gp, name, "puma_css", fmt.Sprintf("F-%d", i), "30.00")
	}
	if run := h.runJob(t, "claim-batch"); fmt.Sprint(run["rows"]) != "3" {
		t.Errorf("first run sent %v claims, want 3", run["rows"])
	}
	if run := h.runJob(t, "claim-batch"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("second run sent %v claims, want 0", run["rows"])
	}
	batches := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches", h.referent, ""))
	if len(batches) != 1 {
		t.Fatalf("batches = %v", batches)
	}
	wantFields(t, "job's batch", batches[0], map[string]any{"claim_count": 3, "total": "90.00", "created_by": "job:claim-batch"})
	if n := h.count(t, "claims", "status = 'queued'"); n != 0 {
		t.Errorf("%d claims still queued", n)
	}
}

func TestRemindersListFilesNearingTheirDeadlineWithoutAnApplication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	// Today is 2026-06-15; deadlines are care + 90 days.
	soon := h.newPatient(t, "Bientôt")    // care 2026-03-20 → deadline 2026-06-18: listed
	later := h.newPatient(t, "Plus-tard") // care 2026-04-10 → deadline 2026-07-09: 24 days, not listed
	filed := h.newPatient(t, "Déposé")    // near too, but an application is recorded
	h.submit(t, gp, soon, "S-1", "2026-03-20")
	h.submit(t, gp, soon, "S-2", "2026-03-25", line{"G", "25.00", 1})
	h.submit(t, gp, later, "L-1", "2026-04-10")
	h.submit(t, gp, filed, "D-1", "2026-03-20")
	h.requestRights(t, filed, "puma", "2026-06-01")

	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", h.coordinator, "")
	list := items(t, got)
	if len(list) != 1 {
		t.Fatalf("reminders = %v, want only %s", list, soon.fileNumber)
	}
	wantFields(t, "reminder", list[0], map[string]any{"file_number": soon.fileNumber, "pending_invoices": 2, "pending_total": "55.00",
		"earliest_deadline": "2026-06-18", "days_left": 3, "first_reminded_on": nil})

	if run := h.runJob(t, "reminders"); fmt.Sprint(run["rows"]) != "1" {
		t.Errorf("reminders job listed %v files, want 1", run["rows"])
	}
	if run := h.runJob(t, "reminders"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("a second run the same day recorded %v, want 0", run["rows"])
	}
	list = items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", h.coordinator, ""))
	wantFields(t, "reminded", list[0], map[string]any{"first_reminded_on": "2026-06-15"})

	// Once the application is filed the file drops off the list.
	h.requestRights(t, soon, "ame", "2026-06-15")
	if list := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", h.coordinator, "")); len(list) != 0 {
		t.Errorf("reminders after the application = %v", list)
	}
}

func TestInvariantsReportAndCheckCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	h.releasedClaim(t, gp, "Ba", "puma", "F-1", "30.00")
	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/invariants", h.admin, "")
	if got["ok"] != true {
		t.Fatalf("invariants on a healthy database: %v", got)
	}
	names := map[string]bool{}
	for _, f := range got["invariants"].([]any) {
		names[fmt.Sprint(f.(map[string]any)["name"])] = true
	}
	for _, want := range []string{"journal_balanced", "invoice_settled", "payout_in_one_batch", "batch_total", "batch_offsets", "accounts_match"} {
		if !names[want] {
			t.Errorf("the report does not check %s: %v", want, names)
		}
	}

	// passd check on another database, healthy then tampered with by SQL.
	url := dbtest.NewURL(t)
	cfg := Config{DatabaseURL: url, Addr: "127.0.0.1:0", DeadlineDays: 90}
	ctx := context.Background()
	if err := checkCommand(ctx, cfg, nil, io.Discard); err != nil {
		t.Fatalf("passd check on an empty database: %v", err)
	}
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit)
		VALUES (999, $1, 'payout_paid', 'regie_bank', 0, 12.00)`, time.Now()); err != nil {
		t.Fatal(err)
	}
	err = checkCommand(ctx, cfg, nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("passd check on an unbalanced journal: %v, want a failure", err)
	}
	// The journal refuses to be edited to hide it.
	if _, err := pool.Exec(ctx, `DELETE FROM journal_entries`); err == nil {
		t.Error("journal entries could be deleted")
	}
}
