package main

// Payout batches from draft to paid, through HTTP: four eyes, the régie's
// ceiling, the annual budget, cancellation, refused transitions, the
// settings they depend on, the SEPA file and the spreadsheets.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"passd/auth"
	"passd/sepa"
)

// ---- helpers (payout batches) ----

// pbPath is the path of a payout batch, or of one of its actions.
func pbPath(id string, action ...string) string {
	return strings.Join(append([]string{"/api/v1/payout-batches/" + id}, action...), "/")
}

// pbDraft drafts a batch as token, with an optional body, and returns it.
func (h *harness) pbDraft(t *testing.T, token, body string) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payout-batches", token, body)
}

// pbDraftFor drafts a batch of one provider's payouts.
func (h *harness) pbDraftFor(t *testing.T, token, providerID string) map[string]any {
	t.Helper()
	return h.pbDraft(t, token, mustJSON(t, map[string]any{"provider_id": providerID}))
}

// pbApproved drafts a batch as h.finance (optionally of one provider),
// submits it as h.finance and approves it as approver.
func (h *harness) pbApproved(t *testing.T, approver, providerID string) map[string]any {
	t.Helper()
	body := ""
	if providerID != "" {
		body = mustJSON(t, map[string]any{"provider_id": providerID})
	}
	id := str(t, h.pbDraft(t, h.finance, body), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(id, "submit"), h.finance, "")
	return h.mustDo(t, http.StatusOK, "POST", pbPath(id, "approve"), approver, "")
}

// pbRefused sends a request that must be refused, checks the error and
// that nothing was stored.
func (h *harness) pbRefused(t *testing.T, what, method, path, token, body string, status int, code, field string) map[string]any {
	t.Helper()
	before := h.state(t)
	got, answer := h.do(t, method, path, token, body)
	wantError(t, what, got, answer, status, code, field)
	h.assertUnchanged(t, what, before)
	return answer
}

// pbProviders returns a batch's providers member as objects.
func pbProviders(t *testing.T, batch map[string]any) []map[string]any {
	t.Helper()
	raw, _ := batch["providers"].([]any)
	out := make([]map[string]any, len(raw))
	for i, p := range raw {
		out[i] = p.(map[string]any)
	}
	return out
}

// pbPayoutStatuses returns status and batch_id of every payout, by id, as
// the database holds them.
func (h *harness) pbPayoutStatuses(t *testing.T) map[string]string {
	t.Helper()
	rows, err := h.pool.Query(t.Context(), `SELECT id::text, status || ' ' || coalesce(batch_id::text, '-') FROM payouts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// payoutIDsOf returns the payout id of each invoice (one payout each).
func (h *harness) payoutIDsOf(t *testing.T, invoiceIDs ...string) []string {
	t.Helper()
	var out []string
	for _, inv := range invoiceIDs {
		ps := h.payoutsOf(t, inv)
		if len(ps) != 1 {
			t.Fatalf("invoice %s has payouts %v, want one", inv, ps)
		}
		out = append(out, str(t, ps[0], "id"))
	}
	return out
}

// sepaDocument is what the tests read of a pain.001.001.03 file. The
// namespace in XMLName makes Unmarshal refuse any other document.
type sepaDocument struct {
	XMLName xml.Name `xml:"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03 Document"`
	GrpHdr  struct {
		MsgID     string `xml:"MsgId"`
		CreDtTm   string `xml:"CreDtTm"`
		NbOfTxs   string `xml:"NbOfTxs"`
		CtrlSum   string `xml:"CtrlSum"`
		Initiator string `xml:"InitgPty>Nm"`
	} `xml:"CstmrCdtTrfInitn>GrpHdr"`
	PmtInf []struct {
		NbOfTxs     string         `xml:"NbOfTxs"`
		CtrlSum     string         `xml:"CtrlSum"`
		ReqdExctnDt string         `xml:"ReqdExctnDt"`
		Debtor      string         `xml:"Dbtr>Nm"`
		DebtorIBAN  string         `xml:"DbtrAcct>Id>IBAN"`
		DebtorBIC   string         `xml:"DbtrAgt>FinInstnId>BIC"`
		Transfers   []sepaTransfer `xml:"CdtTrfTxInf"`
	} `xml:"CstmrCdtTrfInitn>PmtInf"`
}

type sepaTransfer struct {
	EndToEndID string `xml:"PmtId>EndToEndId"`
	Amount     struct {
		Value    string `xml:",chardata"`
		Currency string `xml:"Ccy,attr"`
	} `xml:"Amt>InstdAmt"`
	BIC        string `xml:"CdtrAgt>FinInstnId>BIC"`
	Name       string `xml:"Cdtr>Nm"`
	IBAN       string `xml:"CdtrAcct>Id>IBAN"`
	Remittance string `xml:"RmtInf>Ustrd"`
}

// sepaCharset reports whether s holds only the EPC's Latin characters.
func sepaCharset(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("/-?:().,'+ ", r)) {
			return false
		}
	}
	return true
}

// pbSEPA downloads a batch's SEPA file as h.finance, checks the answer's
// headers, validates the file against the XSD and parses it.
func (h *harness) pbSEPA(t *testing.T, batchID string) sepaDocument {
	t.Helper()
	rec := h.doRaw(t, "GET", pbPath(batchID, "sepa.xml"), h.finance, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("sepa.xml of batch %s: status %d: %s", batchID, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/xml" {
		t.Errorf("sepa.xml: Content-Type %q, want application/xml", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename=") || !strings.HasSuffix(cd, ".xml") {
		t.Errorf("sepa.xml: Content-Disposition %q, want an .xml attachment", cd)
	}
	doc := rec.Body.Bytes()
	if err := sepa.Validate(t.Context(), doc); err != nil {
		t.Fatalf("sepa.xml of batch %s: %v\n%s", batchID, err, doc)
	}
	// Every text was converted to the SEPA set, so the file is ASCII.
	for i, c := range doc {
		if c >= 0x80 {
			t.Errorf("sepa.xml: byte %d is %#x, not ASCII: %q", i, c, doc[max(0, i-30):min(len(doc), i+30)])
			break
		}
	}
	var out sepaDocument
	if err := xml.Unmarshal(doc, &out); err != nil {
		t.Fatalf("sepa.xml: %v", err)
	}
	if len(out.PmtInf) != 1 {
		t.Fatalf("sepa.xml: %d PmtInf, want 1", len(out.PmtInf))
	}
	return out
}

// ---- tests ----

func TestPayoutBatchFromDraftToPaidWithFourEyesAndItsSEPAFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	preparer, approver := h.finance, h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	pharmacy := h.newProvider(t, "Pharmacie de l’Étang", "pharmacy", "10000000002")
	p := h.newPatient(t, "Diallo")
	// Eight invoices of the GP with long references: too many for the 140
	// characters of the remittance text.
	gpAmounts := []string{"10.00", "12.50", "7.25", "30.00", "1.05", "9.99", "20.00", "4.21"} // 95.00
	gpInvoices := h.cityDue(t, gp, p, "F-GP-LONG-REFERENCE-2026", gpAmounts...)
	phInvoices := h.cityDue(t, pharmacy, p, "F-PH", "45.10")
	payoutIDs := h.payoutIDsOf(t, append(slices.Clone(gpInvoices), phInvoices...)...)

	// A drafts: every due payout, each provider's share.
	draft := h.pbDraft(t, preparer, "")
	id := str(t, draft, "id")
	wantFields(t, "draft", draft, map[string]any{"status": "draft", "payout_count": 9, "total": "140.10", "ceiling": "10000.00",
		"provider_id": nil, "created_by": "finance", "prepared_by": nil, "approved_by": nil, "budget_override": false, "paid_on": nil})
	providers := pbProviders(t, draft)
	if len(providers) != 2 {
		t.Fatalf("draft providers = %v, want 2", providers)
	}
	wantFields(t, "draft provider 1", providers[0], map[string]any{"provider_id": gp.id, "name": "Dr Martin", "payout_count": 8, "amount": "95.00"})
	wantFields(t, "draft provider 2", providers[1], map[string]any{"provider_id": pharmacy.id, "name": "Pharmacie de l’Étang", "payout_count": 1, "amount": "45.10"})
	for _, pid := range payoutIDs {
		if got := h.pbPayoutStatuses(t)[pid]; got != "batched "+id {
			t.Errorf("payout %s is %q, want batched in %s", pid, got, id)
		}
	}

	// A submits and becomes the preparer; A cannot approve.
	submitted := h.mustDo(t, http.StatusOK, "POST", pbPath(id, "submit"), preparer, "")
	wantFields(t, "submitted", submitted, map[string]any{"status": "submitted", "prepared_by": "finance", "submitted_at": "2026-06-15T10:00:00Z"})
	h.pbRefused(t, "preparer approves", "POST", pbPath(id, "approve"), preparer, "", http.StatusForbidden, "four_eyes", "")
	// The SEPA file waits for the approval.
	h.pbRefused(t, "sepa.xml of a submitted batch", "GET", pbPath(id, "sepa.xml"), preparer, "", http.StatusConflict, "batch_status", "")

	// B approves.
	approved := h.mustDo(t, http.StatusOK, "POST", pbPath(id, "approve"), approver, "{}")
	wantFields(t, "approved", approved, map[string]any{"status": "approved", "prepared_by": "finance", "approved_by": "finance-b",
		"approved_at": "2026-06-15T10:00:00Z", "budget_override": false, "total": "140.10", "payout_count": 9})
	for _, pid := range payoutIDs {
		if got := h.pbPayoutStatuses(t)[pid]; got != "approved "+id {
			t.Errorf("payout %s is %q, want approved in %s", pid, got, id)
		}
	}
	// An approved batch is frozen.
	h.pbRefused(t, "cancel after approval", "POST", pbPath(id, "cancel"), preparer, "", http.StatusConflict, "batch_status", "")
	h.pbRefused(t, "cancel after approval by the approver", "POST", pbPath(id, "cancel"), approver, "", http.StatusConflict, "batch_status", "")
	h.pbRefused(t, "approve twice", "POST", pbPath(id, "approve"), h.checker, "", http.StatusConflict, "batch_status", "")

	// The SEPA file, on the Monday of the approval: written from what the
	// approval froze; the download leaves one audit row.
	downloads := func() int64 { return h.count(t, "audit_log", "action = 'payout_batch.sepa_download'") }
	doc := h.pbSEPA(t, id)
	if n := downloads(); n != 1 {
		t.Errorf("%d audited downloads, want 1", n)
	}
	settings := h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.finance, "")
	wantFields(t, "group header", map[string]any{"MsgId": doc.GrpHdr.MsgID, "CreDtTm": doc.GrpHdr.CreDtTm, "NbOfTxs": doc.GrpHdr.NbOfTxs,
		"CtrlSum": doc.GrpHdr.CtrlSum, "InitgPty": doc.GrpHdr.Initiator}, map[string]any{"MsgId": "PASSD-PAYOUTS-" + id,
		"CreDtTm": "2026-06-15T12:00:00", "NbOfTxs": "2", "CtrlSum": "140.10", "InitgPty": "Regie PASS de la Ville d'Evry"})
	pmt := doc.PmtInf[0]
	wantFields(t, "payment information", map[string]any{"NbOfTxs": pmt.NbOfTxs, "CtrlSum": pmt.CtrlSum, "ReqdExctnDt": pmt.ReqdExctnDt,
		"Dbtr": pmt.Debtor, "IBAN": pmt.DebtorIBAN, "BIC": pmt.DebtorBIC}, map[string]any{"NbOfTxs": "2", "CtrlSum": "140.10",
		"ReqdExctnDt": "2026-06-16", "Dbtr": "Regie PASS de la Ville d'Evry", "IBAN": settings["regie_iban"], "BIC": settings["regie_bic"]})
	if len(pmt.Transfers) != 2 {
		t.Fatalf("transfers = %+v, want one per provider", pmt.Transfers)
	}
	seen := map[string]bool{}
	byName := map[string]sepaTransfer{}
	for _, tr := range pmt.Transfers {
		if seen[tr.EndToEndID] {
			t.Errorf("EndToEndId %q repeats", tr.EndToEndID)
		}
		seen[tr.EndToEndID] = true
		byName[tr.Name] = tr
		if tr.Amount.Currency != "EUR" || len(tr.Remittance) > 140 || !sepaCharset(tr.Name) || !sepaCharset(tr.Remittance) {
			t.Errorf("transfer %+v: want EUR, SEPA characters, Ustrd ≤ 140", tr)
		}
		if tr.IBAN != validIBAN {
			t.Errorf("transfer %q: IBAN %q, want the provider's %q", tr.Name, tr.IBAN, validIBAN)
		}
	}
	gpTr, ok := byName["Dr Martin"]
	if !ok || gpTr.Amount.Value != "95.00" {
		t.Errorf("GP transfer = %+v, want 95.00 to Dr Martin (transfers by name: %v)", gpTr, byName)
	}
	phTr, ok := byName["Pharmacie de l'Etang"]
	if !ok || phTr.Amount.Value != "45.10" {
		t.Errorf("pharmacy transfer = %+v, want 45.10 to \"Pharmacie de l'Etang\" (transfers by name: %v)", phTr, byName)
	}
	prefix := "PASS lot " + id + " factures "
	if want := prefix + "F-PH-1"; phTr.Remittance != want {
		t.Errorf("pharmacy Ustrd = %q, want %q", phTr.Remittance, want)
	}
	// The GP's text names the first references that fit and counts the rest.
	shown, rest, cut := strings.Cut(strings.TrimPrefix(gpTr.Remittance, prefix), " +")
	refs := strings.Split(shown, ", ")
	var more int
	if _, err := fmt.Sscan(rest, &more); !strings.HasPrefix(gpTr.Remittance, prefix) || !cut || err != nil || len(refs)+more != len(gpAmounts) {
		t.Errorf("GP Ustrd = %q, want %q then the first references and \" +N\" for the others", gpTr.Remittance, prefix)
	}
	for i, r := range refs {
		if want := fmt.Sprintf("F-GP-LONG-REFERENCE-2026-%d", i+1); r != want {
			t.Errorf("GP Ustrd reference %d = %q, want %q", i+1, r, want)
		}
	}

	// The execution date is the next TARGET2 business day after the
	// approval's day in Paris (Monday 15 June: Tuesday 16), frozen with the
	// file: downloaded on any later day, the file is the same.
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 6, 19, 10, 0, 0, 0, time.UTC), "2026-06-22"},   // Friday → Monday
		{time.Date(2026, 6, 19, 22, 30, 0, 0, time.UTC), "2026-06-22"},  // already Saturday in Paris
		{time.Date(2026, 6, 21, 21, 59, 0, 0, time.UTC), "2026-06-22"},  // Sunday 23:59 in Paris
		{time.Date(2026, 6, 21, 22, 0, 0, 0, time.UTC), "2026-06-23"},   // Monday 00:00 in Paris
		{time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC), "2026-12-28"},  // Christmas and Boxing Day are closed
		{time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC), "2026-04-07"},    // Good Friday and Easter Monday too
		{time.Date(2026, 7, 13, 10, 0, 0, 0, time.UTC), "2026-07-14"},   // 14 July is a TARGET2 day
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2027-01-04"}, // 1 January in Paris: next is Monday 4th
	} {
		h.setNow(c.now)
		if got := h.pbSEPA(t, id).PmtInf[0].ReqdExctnDt; got != "2026-06-16" {
			t.Errorf("at %s: ReqdExctnDt %s, want the approval's 2026-06-16 (not %s, the next day after this download)", c.now, got, c.want)
		}
	}

	// Paid, on the Friday, two days ago.
	h.setNow(time.Date(2026, 6, 19, 10, 0, 0, 0, time.UTC))
	paid := h.mustDo(t, http.StatusOK, "POST", pbPath(id, "paid"), preparer, `{"paid_on": "2026-06-17"}`)
	wantFields(t, "paid", paid, map[string]any{"status": "paid", "paid_on": "2026-06-17", "approved_by": "finance-b", "total": "140.10"})
	for _, inv := range append(slices.Clone(gpInvoices), phInvoices...) {
		for _, po := range h.payoutsOf(t, inv) {
			wantFields(t, "paid payout", po, map[string]any{"status": "paid", "paid_on": "2026-06-17", "batch_id": id})
		}
	}
	h.pbRefused(t, "paid twice", "POST", pbPath(id, "paid"), preparer, `{"paid_on": "2026-06-17"}`, http.StatusConflict, "batch_status", "")
	h.pbRefused(t, "cancel a paid batch", "POST", pbPath(id, "cancel"), preparer, "", http.StatusConflict, "batch_status", "")
	budget := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget", h.admin, "")
	wantFields(t, "budget", budget, map[string]any{"year": 2026, "budget": "50000.00", "committed": "0.00", "paid": "140.10", "remaining": "49859.90"})
	for _, k := range budget["by_provider_kind"].([]any) {
		k := k.(map[string]any)
		want := map[string]string{"general_practitioner": "95.00", "pharmacy": "45.10"}[fmt.Sprint(k["key"])]
		if want == "" {
			want = "0.00"
		}
		wantFields(t, "budget by kind", k, map[string]any{"committed": "0.00", "paid": want})
	}
	if june := budget["by_month"].([]any)[5].(map[string]any); june["key"] != "2026-06" || june["paid"] != "140.10" {
		t.Errorf("budget for June = %v, want 140.10 paid", june)
	}

	// A copy of a paid batch's file can still be downloaded, later on.
	h.setNow(time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC))
	again := h.pbSEPA(t, id)
	if again.GrpHdr.MsgID != doc.GrpHdr.MsgID || again.GrpHdr.CtrlSum != "140.10" || len(again.PmtInf[0].Transfers) != 2 ||
		again.PmtInf[0].ReqdExctnDt != "2026-06-16" || again.GrpHdr.CreDtTm != doc.GrpHdr.CreDtTm {
		t.Errorf("copy of the paid batch's file: %+v", again)
	}
	if b := h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""); b["status"] != "paid" || len(pbProviders(t, b)) != 2 {
		t.Errorf("paid batch = %v", b)
	}
}

func TestSEPAFileCarriesOnlyWhatItsSchemaAccepts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	approver := h.newFinance(t, "finance-b")
	p := h.newPatient(t, "Diallo")

	// A name longer than SEPA's 70 characters, with symbols, and an
	// 11-character BIC.
	longName := "Centre de santé municipal Simone Veil & Associés — Maison pluriprofessionnelle de santé d'Évry"
	body := mustJSON(t, map[string]any{"kind": "health_centre", "name": longName, "rpps": "10000000001", "iban": validIBAN2, "bic": "PSSTFRPPLYO"})
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/providers", h.admin, body)
	h.confirmBank(t, created["pending_bank_change"])
	centre := str(t, created, "id")
	centreUser := providerFixture{id: centre, token: h.user(t, "centre", auth.Provider, int64(mustAtoi(t, centre)))}
	h.cityDue(t, centreUser, p, "S", "12.34")
	id := str(t, h.pbApproved(t, approver, centre), "id")
	tr := h.pbSEPA(t, id).PmtInf[0].Transfers
	if len(tr) != 1 || tr[0].Name != sepa.Text(longName, 70) || len(tr[0].Name) > 70 || !strings.HasPrefix(tr[0].Name, "Centre de sante municipal Simone Veil + Associes - ") ||
		tr[0].BIC != "PSSTFRPPLYO" || tr[0].IBAN != validIBAN2 || tr[0].Amount.Value != "12.34" {
		t.Errorf("transfer = %+v", tr)
	}

	// Providers whose name or BIC a SEPA file cannot carry. POST /providers
	// lets such values through today; they are set directly so that this
	// test does not depend on it.
	// The approval, which freezes the file, refuses them.
	odd := h.newProvider(t, "Cabinet Tanaka", "nurse", "10000000002")
	h.cityDue(t, odd, p, "O", "20.00")
	oddBatch := str(t, h.pbDraftFor(t, h.finance, odd.id), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(oddBatch, "submit"), h.finance, "")
	for _, c := range []struct{ name, bic string }{{"田中クリニック", validBIC}, {"Cabinet Tanaka", "AGRIFR1P"}, {"«»", validBIC}} {
		// Details the API would refuse, written as a confirmed change so
		// that the table takes them.
		setProviderDetails(t, h, odd.id, c.name, c.bic)
		body := h.pbRefused(t, fmt.Sprintf("approval for %q %s", c.name, c.bic), "POST", pbPath(oddBatch, "approve"), approver, "",
			http.StatusConflict, "provider_details", "")
		if d, _ := body["error"].(map[string]any)["details"].(map[string]any); d["provider_id"] != odd.id {
			t.Errorf("provider_details = %v, want provider_id %s", body["error"], odd.id)
		}
	}
	setProviderDetails(t, h, odd.id, "Cabinet Tanaka", validBIC)
	h.mustDo(t, http.StatusOK, "POST", pbPath(oddBatch, "approve"), approver, "")
	if tr := h.pbSEPA(t, oddBatch).PmtInf[0].Transfers; len(tr) != 1 || tr[0].Name != "Cabinet Tanaka" {
		t.Errorf("transfer once the provider is fixed = %+v", tr)
	}
}

func TestPayoutBatchDraftStaysUnderTheCeilingOldestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "50.00", "50000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet infirmier", "nurse", "10000000002")
	p := h.newPatient(t, "Diallo")

	// Nothing due yet.
	h.pbRefused(t, "nothing due", "POST", "/api/v1/payout-batches", h.finance, "", http.StatusConflict, "nothing_to_batch", "")

	// One deadline run per payout, so that their ids follow this order.
	var gpPayouts []string
	for i, amount := range []string{"30.00", "30.00", "60.00", "10.00"} {
		inv := h.cityDue(t, gp, p, fmt.Sprintf("C%d", i+1), amount)
		gpPayouts = append(gpPayouts, h.payoutIDsOf(t, inv...)...)
	}
	nursePayout := h.payoutIDsOf(t, h.cityDue(t, nurse, p, "N", "15.00")...)[0]

	// A provider filter takes only that provider's payouts.
	first := h.pbDraftFor(t, h.finance, nurse.id)
	wantFields(t, "nurse batch", first, map[string]any{"payout_count": 1, "total": "15.00", "ceiling": "50.00", "provider_id": nurse.id})
	if ps := pbProviders(t, first); len(ps) != 1 || ps[0]["provider_id"] != nurse.id {
		t.Errorf("nurse batch providers = %v", ps)
	}
	if got := h.pbPayoutStatuses(t)[nursePayout]; got != "batched "+str(t, first, "id") {
		t.Errorf("nurse payout is %q", got)
	}

	// Oldest first, and the draft stops at the first payout that does not
	// fit: 30 + 30 > 50, so only the first 30.00 goes.
	second := h.pbDraft(t, h.finance, "")
	wantFields(t, "second batch", second, map[string]any{"payout_count": 1, "total": "30.00", "provider_id": nil})
	// Then the second 30.00 and the 10.00; the 60.00 is above the ceiling
	// on its own and is passed over, not a stop.
	third := h.pbDraftFor(t, h.finance, gp.id)
	wantFields(t, "third batch", third, map[string]any{"payout_count": 2, "total": "40.00"})
	statuses := h.pbPayoutStatuses(t)
	for i, want := range []string{"batched " + str(t, second, "id"), "batched " + str(t, third, "id"), "due -", "batched " + str(t, third, "id")} {
		if statuses[gpPayouts[i]] != want {
			t.Errorf("GP payout %d (%s) is %q, want %q", i+1, gpPayouts[i], statuses[gpPayouts[i]], want)
		}
	}

	// The 60.00 alone never fits: nothing to batch, for everyone or for the GP.
	h.pbRefused(t, "only a payout above the ceiling", "POST", "/api/v1/payout-batches", h.finance, "", http.StatusConflict, "nothing_to_batch", "")
	h.pbRefused(t, "only a payout above the ceiling, filtered", "POST", "/api/v1/payout-batches", h.finance,
		mustJSON(t, map[string]any{"provider_id": gp.id}), http.StatusConflict, "nothing_to_batch", "")
	h.pbRefused(t, "provider without payouts", "POST", "/api/v1/payout-batches", h.finance,
		mustJSON(t, map[string]any{"provider_id": nurse.id}), http.StatusConflict, "nothing_to_batch", "")
	// A filter must name a provider.
	for _, bad := range []any{"999999", "abc", "0", "01", 5} {
		h.pbRefused(t, fmt.Sprintf("provider_id %v", bad), "POST", "/api/v1/payout-batches", h.finance,
			mustJSON(t, map[string]any{"provider_id": bad}), http.StatusUnprocessableEntity, "invalid", "provider_id")
	}
	h.pbRefused(t, "unknown member", "POST", "/api/v1/payout-batches", h.finance, `{"provider":"1"}`,
		http.StatusUnprocessableEntity, "unknown_field", "provider")

	// A higher ceiling lets the 60.00 go; each batch keeps the ceiling it
	// was drafted under.
	h.setRegie(t, "100.00", "50000.00")
	fourth := h.pbDraft(t, h.finance, "")
	wantFields(t, "fourth batch", fourth, map[string]any{"payout_count": 1, "total": "60.00", "ceiling": "100.00"})
	list := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches", h.admin, ""))
	if len(list) != 4 {
		t.Fatalf("batches = %v, want 4", list)
	}
	for _, b := range list {
		var total, ceiling float64
		fmt.Sscan(str(t, b, "total"), &total)
		fmt.Sscan(str(t, b, "ceiling"), &ceiling)
		if total > ceiling {
			t.Errorf("batch %v: total above its ceiling", b)
		}
		if b["id"] != fourth["id"] && b["ceiling"] != "50.00" {
			t.Errorf("batch %v: ceiling changed after the draft", b)
		}
	}
	if n := h.count(t, "payouts", "status = 'due'"); n != 0 {
		t.Errorf("%d payouts still due", n)
	}
}

func TestPayoutBatchApprovalKeepsToTheAnnualBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50.00")
	approver := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet infirmier", "nurse", "10000000002")
	p := h.newPatient(t, "Diallo")

	h.cityDue(t, gp, p, "G", "40.00")
	first := h.pbApproved(t, approver, "")
	wantFields(t, "first batch", first, map[string]any{"status": "approved", "total": "40.00", "budget_override": false})

	h.cityDue(t, nurse, p, "N", "30.00")
	id := str(t, h.pbDraft(t, h.finance, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(id, "submit"), h.finance, "")

	// 40 + 30 > 50: refused, with the figures.
	body := h.pbRefused(t, "over the budget", "POST", pbPath(id, "approve"), approver, "", http.StatusConflict, "budget_exceeded", "")
	if d, _ := body["error"].(map[string]any)["details"].(map[string]any); d["budget"] != "50.00" || d["used"] != "40.00" {
		t.Errorf("budget_exceeded details = %v, want budget 50.00, used 40.00", body["error"])
	}
	// An admin does not approve; finance does not give leave to overspend.
	h.pbRefused(t, "over the budget, as admin", "POST", pbPath(id, "approve"), h.admin, "", http.StatusForbidden, "forbidden", "")
	h.pbRefused(t, "finance overrides", "POST", pbPath(id, "budget-override"), approver, `{"reason": "urgence"}`, http.StatusForbidden, "forbidden", "")
	h.pbRefused(t, "override without a reason", "POST", pbPath(id, "budget-override"), h.admin, `{"reason": " "}`, http.StatusUnprocessableEntity, "invalid", "reason")

	// The second pair of eyes on an overspend: an admin's leave, with its
	// reason, then a finance user's approval.
	leave := h.mustDo(t, http.StatusOK, "POST", pbPath(id, "budget-override"), h.admin, `{"reason": "épidémie de grippe : délibération du 3 juin"}`)
	wantFields(t, "leave given", leave, map[string]any{"status": "submitted", "budget_override_by": "admin",
		"budget_override_reason": "épidémie de grippe : délibération du 3 juin", "budget_override": false})
	h.pbRefused(t, "leave given twice", "POST", pbPath(id, "budget-override"), h.admin, `{"reason": "encore"}`, http.StatusConflict, "already_decided", "")
	approved := h.mustDo(t, http.StatusOK, "POST", pbPath(id, "approve"), approver, "")
	wantFields(t, "overridden", approved, map[string]any{"status": "approved", "approved_by": "finance-b", "budget_override": true,
		"budget_override_by": "admin", "total": "30.00"})
	var after map[string]any
	var actor string
	if err := h.pool.QueryRow(t.Context(), `SELECT actor, after FROM audit_log WHERE action = 'payout_batch.approve' AND entity_id = $1`, id).
		Scan(&actor, &after); err != nil {
		t.Fatalf("audit of the approval: %v", err)
	}
	if actor != "finance-b" || after["budget_override"] != true || after["budget"] != "50.00" || after["used_before"] != "40.00" ||
		after["budget_override_by"] != "admin" {
		t.Errorf("audit of the overriding approval: actor %s, after %v", actor, after)
	}
	var firstAfter map[string]any
	if err := h.pool.QueryRow(t.Context(), `SELECT after FROM audit_log WHERE action = 'payout_batch.approve' AND entity_id = $1`,
		first["id"]).Scan(&firstAfter); err != nil || firstAfter["budget_override"] != nil {
		t.Errorf("audit of the approval within the budget: %v, %v", firstAfter, err)
	}

	// The report: both approved (committed), nothing paid, 20.00 overspent.
	wantBudget := func(what, committed, paid, remaining string, kinds map[string][2]string) {
		t.Helper()
		b := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget", h.finance, "")
		wantFields(t, what, b, map[string]any{"year": 2026, "budget": "50.00", "committed": committed, "paid": paid, "remaining": remaining})
		byKind, _ := b["by_provider_kind"].([]any)
		if len(byKind) != 6 {
			t.Errorf("%s: by_provider_kind = %v, want the 6 kinds", what, byKind)
		}
		for _, k := range byKind {
			k := k.(map[string]any)
			want, ok := kinds[fmt.Sprint(k["key"])]
			if !ok {
				want = [2]string{"0.00", "0.00"}
			}
			wantFields(t, what+" "+fmt.Sprint(k["key"]), k, map[string]any{"committed": want[0], "paid": want[1]})
		}
		byMonth, _ := b["by_month"].([]any)
		if len(byMonth) != 12 {
			t.Fatalf("%s: by_month = %v, want 12 months", what, byMonth)
		}
		for i, m := range byMonth {
			m := m.(map[string]any)
			want := map[string]any{"key": fmt.Sprintf("2026-%02d", i+1), "committed": "0.00", "paid": "0.00"}
			if i == 5 {
				want["committed"], want["paid"] = committed, paid
			}
			wantFields(t, what+" by month", m, want)
		}
	}
	wantBudget("after the override", "70.00", "0.00", "-20.00", map[string][2]string{"general_practitioner": {"40.00", "0.00"}, "nurse": {"30.00", "0.00"}})

	h.mustDo(t, http.StatusOK, "POST", pbPath(str(t, first, "id"), "paid"), h.finance, `{"paid_on": "2026-06-15"}`)
	wantBudget("after paying the first", "30.00", "40.00", "-20.00", map[string][2]string{"general_practitioner": {"0.00", "40.00"}, "nurse": {"30.00", "0.00"}})
	// A due payout is committed from the day it became due.
	h.cityDue(t, gp, p, "G2", "5.00")
	wantBudget("with a due payout", "35.00", "40.00", "-25.00", map[string][2]string{"general_practitioner": {"5.00", "40.00"}, "nurse": {"30.00", "0.00"}})

	// Another year carries nothing; the year must be a year.
	other := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget?year=2025", h.admin, "")
	wantFields(t, "2025", other, map[string]any{"year": 2025, "committed": "0.00", "paid": "0.00", "remaining": "50.00"})
	for _, bad := range []string{"abc", "26", "02026", "3000", "2026.0"} {
		status, body := h.do(t, "GET", "/api/v1/reports/budget?year="+bad, h.admin, "")
		wantError(t, "year "+bad, status, body, http.StatusUnprocessableEntity, "invalid", "year")
	}

	// Even with the budget spent, the next batch is refused until an admin
	// overrides again.
	next := str(t, h.pbDraft(t, h.finance, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(next, "submit"), h.finance, "")
	h.pbRefused(t, "budget already spent", "POST", pbPath(next, "approve"), approver, "", http.StatusConflict, "budget_exceeded", "")
	// Reaching the budget exactly is within it: 40 paid + 30 approved + 5.
	h.setRegie(t, "10000.00", "75.00")
	wantFields(t, "approved at the budget", h.mustDo(t, http.StatusOK, "POST", pbPath(next, "approve"), approver, ""),
		map[string]any{"status": "approved", "budget_override": false})
	wantFields(t, "budget reached", h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget", h.finance, ""),
		map[string]any{"budget": "75.00", "committed": "35.00", "paid": "40.00", "remaining": "0.00"})
}

func TestCancellingAPayoutBatchReturnsItsPayouts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00") // approval freezes the SEPA file: it needs the régie's account
	other := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	payouts := h.payoutIDsOf(t, h.cityDue(t, gp, p, "K", "30.00", "20.00")...)
	wantDue := func(what string) {
		t.Helper()
		statuses := h.pbPayoutStatuses(t)
		for _, id := range payouts {
			if statuses[id] != "due -" {
				t.Errorf("%s: payout %s is %q, want due in no batch", what, id, statuses[id])
			}
		}
		for _, po := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", h.finance, "")) {
			wantFields(t, what, po, map[string]any{"status": "due", "batch_id": nil})
		}
	}

	// A draft cancelled.
	first := str(t, h.pbDraft(t, h.finance, ""), "id")
	cancelled := h.mustDo(t, http.StatusOK, "POST", pbPath(first, "cancel"), h.finance, "")
	wantFields(t, "cancelled draft", cancelled, map[string]any{"status": "cancelled", "cancelled_at": "2026-06-15T10:00:00Z",
		"payout_count": 2, "total": "50.00"})
	if ps := pbProviders(t, cancelled); len(ps) != 0 {
		t.Errorf("a cancelled batch still lists providers: %v", ps)
	}
	wantDue("after cancelling the draft")
	if n := h.count(t, "audit_log", "action = 'payout.unbatch'"); n != 2 {
		t.Errorf("%d payout.unbatch audit rows, want 2", n)
	}

	// A new draft takes them again; submitted, it is cancelled by another
	// finance user.
	second := h.pbDraft(t, h.finance, "")
	wantFields(t, "second draft", second, map[string]any{"payout_count": 2, "total": "50.00"})
	secondID := str(t, second, "id")
	for _, id := range payouts {
		if got := h.pbPayoutStatuses(t)[id]; got != "batched "+secondID {
			t.Errorf("payout %s is %q, want batched in %s", id, got, secondID)
		}
	}
	h.mustDo(t, http.StatusOK, "POST", pbPath(secondID, "submit"), h.finance, "")
	wantFields(t, "cancelled submitted", h.mustDo(t, http.StatusOK, "POST", pbPath(secondID, "cancel"), other, "{}"),
		map[string]any{"status": "cancelled", "prepared_by": "finance", "approved_by": nil})
	wantDue("after cancelling the submitted batch")

	// Nothing more can happen to a cancelled batch.
	for _, action := range []string{"cancel", "submit", "approve"} {
		h.pbRefused(t, action+" a cancelled batch", "POST", pbPath(secondID, action), other, "", http.StatusConflict, "batch_status", "")
	}
	h.pbRefused(t, "pay a cancelled batch", "POST", pbPath(secondID, "paid"), h.finance, `{"paid_on": "2026-06-15"}`, http.StatusConflict, "batch_status", "")
	h.pbRefused(t, "sepa.xml of a cancelled batch", "GET", pbPath(secondID, "sepa.xml"), h.finance, "", http.StatusConflict, "batch_status", "")
	h.pbRefused(t, "cancel with a body", "POST", pbPath(secondID, "cancel"), h.finance, `{"reason": "x"}`, http.StatusUnprocessableEntity, "unknown_field", "reason")

	// And the payouts go on to be paid in a third batch.
	third := h.pbApproved(t, other, "")
	wantFields(t, "third batch", third, map[string]any{"payout_count": 2, "total": "50.00", "status": "approved"})
	cancelledList := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches?status=cancelled", h.admin, ""))
	if got := []string{str(t, cancelledList[0], "id"), str(t, cancelledList[len(cancelledList)-1], "id")}; len(cancelledList) != 2 ||
		got[0] != secondID || got[1] != first {
		t.Errorf("cancelled batches = %v, want %s and %s", cancelledList, secondID, first)
	}
}

func TestPayoutBatchRefusesWhatItsStateForbids(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	approver := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	h.cityDue(t, gp, p, "W1", "30.00")
	// No approval before the régie's account is set: approval freezes the
	// SEPA file, which debits it.
	approved := str(t, h.pbDraft(t, h.finance, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(approved, "submit"), h.finance, "")
	h.pbRefused(t, "approval before the settings", "POST", pbPath(approved, "approve"), approver, "", http.StatusConflict, "settings_incomplete", "")
	h.setRegie(t, "10000.00", "50000.00")
	h.mustDo(t, http.StatusOK, "POST", pbPath(approved, "approve"), approver, "")
	h.cityDue(t, gp, p, "W2", "20.00")
	submitted := str(t, h.pbDraft(t, h.finance, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(submitted, "submit"), h.finance, "")
	h.cityDue(t, gp, p, "W3", "10.00")
	draft := str(t, h.pbDraft(t, h.finance, ""), "id")

	paidToday := `{"paid_on": "` + today + `"}`
	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"submit a submitted batch", "POST", pbPath(submitted, "submit"), h.finance, "", 409, "batch_status", ""},
		{"submit an approved batch", "POST", pbPath(approved, "submit"), approver, "", 409, "batch_status", ""},
		{"approve a draft", "POST", pbPath(draft, "approve"), approver, "", 409, "batch_status", ""},
		{"approve an approved batch", "POST", pbPath(approved, "approve"), h.checker, "", 409, "batch_status", ""},
		{"paid on a draft", "POST", pbPath(draft, "paid"), h.finance, paidToday, 409, "batch_status", ""},
		{"paid on a submitted batch", "POST", pbPath(submitted, "paid"), h.finance, paidToday, 409, "batch_status", ""},
		{"paid_on in the future", "POST", pbPath(approved, "paid"), h.finance, `{"paid_on": "2026-06-16"}`, 422, "invalid", "paid_on"},
		{"paid_on before the approval", "POST", pbPath(approved, "paid"), h.finance, `{"paid_on": "2026-06-14"}`, 422, "invalid", "paid_on"},
		{"paid_on missing", "POST", pbPath(approved, "paid"), h.finance, `{}`, 422, "invalid", "paid_on"},
		{"paid_on null", "POST", pbPath(approved, "paid"), h.finance, `{"paid_on": null}`, 422, "invalid", "paid_on"},
		{"paid_on not a date", "POST", pbPath(approved, "paid"), h.finance, `{"paid_on": "2026-02-30"}`, 422, "invalid", "paid_on"},
		{"paid_on French", "POST", pbPath(approved, "paid"), h.finance, `{"paid_on": "15/06/2026"}`, 422, "invalid", "paid_on"},
		{"paid without a body", "POST", pbPath(approved, "paid"), h.finance, "", 400, "malformed_json", ""},
		{"sepa.xml of a draft", "GET", pbPath(draft, "sepa.xml"), h.finance, "", 409, "batch_status", ""},
		{"sepa.xml of a submitted batch", "GET", pbPath(submitted, "sepa.xml"), h.finance, "", 409, "batch_status", ""},
		{"approve with an unknown member", "POST", pbPath(submitted, "approve"), approver, `{"force": true}`, 422, "unknown_field", "force"},
		{"submit with a body", "POST", pbPath(draft, "submit"), h.finance, `{"x": 1}`, 422, "unknown_field", "x"},
	} {
		h.pbRefused(t, c.name, c.method, c.path, c.token, c.body, c.status, c.code, c.field)
	}

	// Unknown and malformed ids are not found, on every batch route.
	for _, id := range []string{"999999", "9223372036854775807", "0", "-1", "01", "+1", "1.0", "abc", "1e3", "%20" + approved} {
		for _, r := range []struct{ method, action, token, body string }{
			{"GET", "", h.admin, ""},
			{"POST", "submit", h.finance, ""},
			{"POST", "approve", approver, ""},
			{"POST", "cancel", h.finance, ""},
			{"POST", "paid", h.finance, paidToday},
			{"GET", "sepa.xml", h.finance, ""},
		} {
			path := pbPath(id)
			if r.action != "" {
				path = pbPath(id, r.action)
			}
			h.pbRefused(t, r.method+" "+path, r.method, path, r.token, r.body, http.StatusNotFound, "not_found", "")
		}
	}

	// The batches are as they were; the approved one still goes through.
	for id, want := range map[string]string{draft: "draft", submitted: "submitted", approved: "approved"} {
		if b := h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.finance, ""); b["status"] != want {
			t.Errorf("batch %s is %v, want %s", id, b["status"], want)
		}
	}
	wantFields(t, "paid today", h.mustDo(t, http.StatusOK, "POST", pbPath(approved, "paid"), h.finance, paidToday),
		map[string]any{"status": "paid", "paid_on": today})
}

func TestSettingsAreValidatedAndSetTheDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Defaults before any PUT, for both readers.
	for _, who := range []string{h.admin, h.finance} {
		wantFields(t, "default settings", h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", who, ""), map[string]any{
			"regie_name": "", "regie_iban": "", "regie_bic": "", "regie_ceiling": "10000.00", "annual_budget": "50000.00",
			"deadline_days": 90, "deadline_days_is_default": true, "updated_at": nil, "updated_by": ""})
	}

	valid := map[string]any{"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": "5000.00", "annual_budget": "120000.00", "deadline_days": 30}
	with := func(key string, v any) string {
		m := map[string]any{}
		for k, x := range valid {
			m[k] = x
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		return mustJSON(t, m)
	}
	cases := []rejection{
		field422("missing name", with("regie_name", nil), "regie_name"),
		field422("blank name", with("regie_name", "   "), "regie_name"),
		field422("name too long", with("regie_name", strings.Repeat("R", 71)), "regie_name"),
		field422("name not a string", with("regie_name", 5), "regie_name"),
		// The name goes into every SEPA file: it must keep a letter there.
		field422("name without a SEPA character", with("regie_name", "«»"), "regie_name"),
		field422("name in another script", with("regie_name", "市役所"), "regie_name"),
		field422("missing IBAN", with("regie_iban", nil), "regie_iban"),
		field422("IBAN with a wrong checksum", with("regie_iban", "FR7630006000011234567890188"), "regie_iban"),
		field422("IBAN too short", with("regie_iban", "FR76300060000112345678901"), "regie_iban"),
		field422("not an IBAN", with("regie_iban", "hello"), "regie_iban"),
		field422("missing BIC", with("regie_bic", nil), "regie_bic"),
		field422("BIC too short", with("regie_bic", "AGRIFR"), "regie_bic"),
		field422("BIC of 9 characters", with("regie_bic", "AGRIFRPP1"), "regie_bic"),
		field422("BIC with digits for the bank", with("regie_bic", "A1RIFRPP"), "regie_bic"),
		// ISO 9362 and the pain.001 schema: a location code never starts
		// with 0 or 1 nor ends with O.
		field422("BIC with a location starting with 1", with("regie_bic", "AGRIFR1P"), "regie_bic"),
		field422("BIC with a location starting with 0", with("regie_bic", "AGRIFR0PXXX"), "regie_bic"),
		field422("BIC with a location ending with O", with("regie_bic", "AGRIFRPO"), "regie_bic"),
		field422("missing ceiling", with("regie_ceiling", nil), "regie_ceiling"),
		field422("ceiling 0", with("regie_ceiling", "0"), "regie_ceiling"),
		field422("ceiling 0.00", with("regie_ceiling", "0.00"), "regie_ceiling"),
		field422("ceiling -1", with("regie_ceiling", "-1"), "regie_ceiling"),
		field422("ceiling with three decimals", with("regie_ceiling", "1.234"), "regie_ceiling"),
		field422("ceiling as a number", with("regie_ceiling", 5000), "regie_ceiling"),
		field422("ceiling too large", with("regie_ceiling", "10000000000.00"), "regie_ceiling"),
		field422("ceiling not a number", with("regie_ceiling", "beaucoup"), "regie_ceiling"),
		field422("missing budget", with("annual_budget", nil), "annual_budget"),
		field422("budget -5", with("annual_budget", "-5.00"), "annual_budget"),
		field422("budget with three decimals", with("annual_budget", "1000.001"), "annual_budget"),
		field422("deadline_days 0", with("deadline_days", 0), "deadline_days"),
		field422("deadline_days -1", with("deadline_days", -1), "deadline_days"),
		field422("deadline_days 3651", with("deadline_days", 3651), "deadline_days"),
		field422("deadline_days a string", with("deadline_days", "30"), "deadline_days"),
		field422("deadline_days a fraction", with("deadline_days", 30.5), "deadline_days"),
		{name: "unknown member", body: with("regie_email", "a@b.fr"), status: 422, code: "unknown_field", field: "regie_email"},
		{name: "no body", body: "", status: 400, code: "malformed_json"},
	}
	h.assertRejected(t, "PUT", "/api/v1/settings", h.admin, cases)
	h.pbRefused(t, "finance sets the settings", "PUT", "/api/v1/settings", h.finance, with("deadline_days", 30), http.StatusForbidden, "forbidden", "")

	// A valid PUT, with an IBAN written as on a RIB: stored canonical.
	// The limits are in force at once; the régie's account waits for a
	// finance user's confirmation, and is stored canonical.
	put := h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, with("regie_iban", "fr18 3000 6000 0100 0009 8765 432"))
	wantFields(t, "put", put, map[string]any{"regie_name": "", "regie_iban": "", "regie_bic": "",
		"regie_ceiling": "5000.00", "annual_budget": "120000.00", "deadline_days": 30, "deadline_days_is_default": false,
		"updated_at": "2026-06-15T10:00:00Z", "updated_by": "admin"})
	pending, _ := put["pending_regie_change"].(map[string]any)
	wantFields(t, "pending régie", pending, map[string]any{"status": "pending", "requested_by": "admin", "provider_id": nil,
		"details": map[string]any{"name": "Régie PASS de la Ville d'Évry", "iban": validIBAN2, "bic": validBIC}})
	h.confirmBank(t, pending)
	want := map[string]any{"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": "5000.00", "annual_budget": "120000.00", "deadline_days": 30, "deadline_days_is_default": false,
		"updated_at": "2026-06-15T10:00:00Z", "updated_by": "admin", "pending_regie_change": nil}
	wantFields(t, "get", h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.finance, ""), want)
	if n := h.count(t, "audit_log", "action = 'settings.update'"); n != 1 {
		t.Errorf("%d settings.update audit rows, want 1", n)
	}

	// The next invoice gets the new deadline, care date + 30 days.
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	first := h.submit(t, gp, p, "D-1", "2026-06-01")
	wantFields(t, "invoice under 30 days", first, map[string]any{"deadline": "2026-07-01"})

	// Without deadline_days, the server's default (90) is back, for new
	// invoices only.
	wantFields(t, "put without deadline_days", h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, with("deadline_days", nil)),
		map[string]any{"deadline_days": 90, "deadline_days_is_default": true})
	wantFields(t, "invoice under the default", h.submit(t, gp, p, "D-2", "2026-06-01"), map[string]any{"deadline": "2026-08-30"})
	wantFields(t, "earlier invoice", h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+str(t, first, "id"), h.coordinator, ""),
		map[string]any{"deadline": "2026-07-01"})
}

func TestPayoutsAndBatchesExportAsFrenchSpreadsheets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	approver := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "=Cabinet infirmier", "nurse", "10000000002")
	p := h.newPatient(t, "Diallo")
	gpInv := h.cityDue(t, gp, p, "E", "30.00", "1234.56")
	paidBatch := str(t, h.pbApproved(t, approver, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(paidBatch, "paid"), h.finance, `{"paid_on": "2026-06-15"}`)
	nurseInv := h.cityDue(t, nurse, p, "-N", "12.50")
	draftBatch := str(t, h.pbDraft(t, h.finance, ""), "id")
	dueInv := h.cityDue(t, gp, p, "L", "7.05") // due, in no batch
	duePayout := h.payoutIDsOf(t, dueInv...)[0]

	csvOf := func(path, token, wantFile string) [][]string {
		t.Helper()
		rec := h.doRaw(t, "GET", path, token, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", path, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cd := rec.Header().Get("Content-Disposition"); cd != "attachment; filename="+wantFile {
			t.Errorf("GET %s: Content-Disposition %q, want the attachment %s", path, cd, wantFile)
		}
		return csvRows(t, rec.Body.String())
	}
	payoutHeader := []string{"Paiement", "Facture", "Réf. facture", "Prestataire", "Montant", "Motif", "Motif CPAM", "Statut", "Lot", "Payé le", "Dû depuis le"}

	rows := csvOf("/api/v1/payouts?format=csv", h.finance, "paiements-pass.csv")
	if len(rows) != 5 || !slices.Equal(rows[0], payoutHeader) {
		t.Fatalf("payouts CSV = %q, want the header and 4 payouts", rows)
	}
	gpPayouts := h.payoutIDsOf(t, gpInv...)
	nursePayout := h.payoutIDsOf(t, nurseInv...)[0]
	wantRows := map[string][]string{
		gpPayouts[0]: {gpPayouts[0], gpInv[0], "E-1", "Dr Martin", "30,00", "échéance dépassée", "", "payé", paidBatch, "15/06/2026", "15/06/2026"},
		gpPayouts[1]: {gpPayouts[1], gpInv[1], "E-2", "Dr Martin", "1234,56", "échéance dépassée", "", "payé", paidBatch, "15/06/2026", "15/06/2026"},
		// Text a spreadsheet would read as a formula is neutralised.
		nursePayout: {nursePayout, nurseInv[0], "'-N-1", "'=Cabinet infirmier", "12,50", "échéance dépassée", "", "dans un lot", draftBatch, "", "15/06/2026"},
		duePayout:   {duePayout, dueInv[0], "L-1", "Dr Martin", "7,05", "échéance dépassée", "", "à payer", "", "", "15/06/2026"},
	}
	// Oldest first: by payout id.
	prev := 0
	for i, row := range rows[1:] {
		want, ok := wantRows[row[0]]
		if !ok || !slices.Equal(row, want) {
			t.Errorf("payouts CSV row %d = %q, want %q", i+1, row, want)
		}
		if id := mustAtoi(t, row[0]); id <= prev {
			t.Errorf("payouts CSV row %d: id %d after %d, want oldest first", i+1, id, prev)
		} else {
			prev = id
		}
	}
	// Filters apply to the CSV too.
	if rows := csvOf("/api/v1/payouts?format=csv&status=paid", h.admin, "paiements-pass.csv"); len(rows) != 3 {
		t.Errorf("paid payouts CSV = %q, want 2 rows", rows)
	}
	if rows := csvOf("/api/v1/payouts?format=csv&batch_id="+draftBatch, h.finance, "paiements-pass.csv"); len(rows) != 2 || rows[1][0] != nursePayout {
		t.Errorf("draft batch's payouts CSV = %q", rows)
	}
	// A provider gets only its own payouts, whatever it asks for, and not
	// their reasons, which tell the patient's rights (issue 15 §4).
	providerHeader := slices.DeleteFunc(slices.Clone(payoutHeader), func(c string) bool { return c == "Motif" })
	for _, q := range []string{"", "&provider_id=" + gp.id} {
		rows := csvOf("/api/v1/payouts?format=csv"+q, nurse.token, "paiements-pass.csv")
		if len(rows) != 2 || !slices.Equal(rows[0], providerHeader) || rows[1][0] != nursePayout {
			t.Errorf("nurse's payouts CSV (%q) = %q, want its one payout", q, rows)
		}
	}
	if rows := csvOf("/api/v1/payouts?format=csv", gp.token, "paiements-pass.csv"); len(rows) != 4 {
		t.Errorf("GP's payouts CSV = %q, want its 3 payouts", rows)
	}
	status, body := h.do(t, "GET", "/api/v1/payouts?format=xlsx", h.finance, "")
	wantError(t, "format xlsx", status, body, http.StatusUnprocessableEntity, "invalid", "format")

	batchHeader := []string{"Lot", "Statut", "Paiements", "Total", "Plafond", "Créé le", "Créé par", "Préparé par", "Approuvé par",
		"Approuvé le", "Dépassement du budget", "Payé le", "Reprises déduites", "Net versé"}
	rows = csvOf("/api/v1/payout-batches?format=csv", h.admin, "lots-de-paiement-pass.csv")
	want := [][]string{batchHeader,
		{paidBatch, "payé", "2", "1264,56", "10000,00", "15/06/2026", "finance", "finance", "finance-b", "15/06/2026", "", "15/06/2026", "0,00", "1264,56"},
		{draftBatch, "brouillon", "1", "12,50", "10000,00", "15/06/2026", "finance", "", "", "", "", "", "0,00", "12,50"},
	}
	if len(rows) != len(want) {
		t.Fatalf("batches CSV = %q, want %q", rows, want)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("batches CSV row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	if rows := csvOf("/api/v1/payout-batches?format=csv&status=draft", h.finance, "lots-de-paiement-pass.csv"); len(rows) != 2 || rows[1][0] != draftBatch {
		t.Errorf("draft batches CSV = %q", rows)
	}
	// The JSON list says the same.
	var list struct {
		Items []struct{ ID, Status, Total string } `json:"items"`
	}
	rec := h.doRaw(t, "GET", "/api/v1/payout-batches", h.finance, "")
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Items) != 2 || list.Items[0].ID != draftBatch || list.Items[1].Total != "1264.56" {
		t.Errorf("batches JSON = %s (%v)", rec.Body, err)
	}
}

// setProviderDetails writes a provider's name and BIC as a confirmed
// change of its bank details would, whatever they are.
func setProviderDetails(t *testing.T, h *harness, id, name, bic string) {
	t.Helper()
	if _, err := h.pool.Exec(t.Context(), `
		WITH c AS (INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
		           SELECT id, $2, iban, $3, now(), 'confirmed', now() FROM providers WHERE id = $1 RETURNING id)
		UPDATE providers SET name = $2, bic = $3, bank_change_id = (SELECT id FROM c) WHERE id = $1`, id, name, bic); err != nil {
		t.Fatal(err)
	}
}
