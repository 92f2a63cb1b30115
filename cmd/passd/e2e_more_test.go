package main

// Scenarios 2 to 4 of issue 5, run like scenario 1 (e2e_test.go): seed a
// fresh database, start a real `passd serve`, run e2e/<scenario>.mjs in
// chromium, then check the database. What a scenario starts from is
// seeded after passd's start-up runs have finished (waitStartupRuns), so
// that they do not do the scenario's work before it.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/db/dbtest"
	"passd/sepa"
)

// TestE2ERightsDecision is scenario 2: the coordinator creates a file and
// records an AME application; the referent opens the rights from the
// queue, the period start pre-filled 30 days (the AME look-back) before
// the filing date.
func TestE2ERightsDecision(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	coordinator := seed.user("Inès Coordinatrice", auth.Coordinator, 0)
	referent := seed.user("Marc Référent CPAM", auth.CPAMReferent, 0)
	today := calendar.Today(time.Now())
	filedOn := today.AddDays(-10)
	rightsTo := filedOn.AddDays(300) // inside the year from the filing
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)

	runE2EScenario(t, "rights-decision.mjs",
		"E2E_BASE_URL="+p.base,
		"E2E_COORDINATOR_TOKEN="+coordinator,
		"E2E_REFERENT_TOKEN="+referent,
		"E2E_FILING_DATE="+filedOn.String(),
		"E2E_RIGHTS_TO="+rightsTo.String(),
	)

	// One file, created on the page, its AME rights open from 30 days
	// before the filing to the end entered.
	if n := scalar(t, pool, `SELECT count(*) FROM patients`); n != 1 {
		t.Fatalf("%d patient files after the scenario, want 1", n)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM patients WHERE rights_status = 'opened' AND rights_regime = 'ame'
		AND rights_filed_on = $1::date AND rights_effective_from = $2::date AND rights_effective_to = $3::date
		AND rights_reference = 'AME-' || file_number`,
		filedOn.String(), filedOn.AddDays(-30).String(), rightsTo.String()); n != 1 {
		t.Errorf("the file is not stored as decided on the pages (AME filed on %s, open from %s to %s)", filedOn, filedOn.AddDays(-90), rightsTo)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM rights_events WHERE kind IN ('requested', 'opened')`); n != 2 {
		t.Errorf("%d rights events, want the request and the opening", n)
	}
	for action, actor := range map[string]string{
		"patient.create":          "Inès Coordinatrice",
		"patient.rights_request":  "Inès Coordinatrice",
		"patient.rights_decision": "Marc Référent CPAM",
	} {
		if n := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $2 AND entity = 'patient'`, action, actor); n != 1 {
			t.Errorf("%d audit rows %s by %s, want 1", n, action, actor)
		}
	}
	passdCheck(t, url)
}

// TestE2ERelease is scenario 3: an admin runs the release job from the
// jobs page; the provider's invoice, for a patient whose rights are open,
// shows "transmise à la CPAM".
func TestE2ERelease(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindGP)
	providerToken := seed.user("Dr Paul Lefèvre", auth.Provider, provider)
	admin := seed.user("Admin Mairie", auth.Admin, 0)
	referent := seed.user("Marc Référent CPAM", auth.CPAMReferent, 0)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)

	// Through the API, as the referent and the provider would have done:
	// rights open since before the care date, then a pending invoice.
	patient := seed.patients(1)[0]
	careDate := calendar.Today(time.Now()).AddDays(-3)
	const reference = "E2E-LIBERATION-1"
	e2eAPI(t, p.base, referent, http.StatusOK, "POST", fmt.Sprintf("/api/v1/patients/%d/rights-decision", patient.id),
		map[string]any{"decision": "opened", "regime": "ame", "effective_from": careDate.AddDays(-30).String(), "effective_to": seededAMEEnd(), "reference": "AME-E2E"})
	invoice := e2eAPI(t, p.base, providerToken, http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{
		"patient_file_number": patient.fileNumber, "birth_date": patient.birthDate, "external_ref": reference, "care_date": careDate.String(),
		"lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}})

	runE2EScenario(t, "release.mjs",
		"E2E_BASE_URL="+p.base,
		"E2E_ADMIN_TOKEN="+admin,
		"E2E_PROVIDER_TOKEN="+providerToken,
		"E2E_INVOICE_REF="+reference,
	)

	if n := scalar(t, pool, `SELECT count(*) FROM invoices WHERE id = $1::bigint AND status = 'released'`, invoice["id"]); n != 1 {
		t.Errorf("invoice %v is not released after the scenario", invoice["id"])
	}
	if n := scalar(t, pool, `SELECT count(*) FROM claims WHERE invoice_id = $1::bigint`, invoice["id"]); n != 1 {
		t.Errorf("%d claims for invoice %v, want 1", n, invoice["id"])
	}
	// The run the admin started from the page.
	if n := scalar(t, pool, `SELECT count(*) FROM job_runs WHERE name = 'release' AND trigger = 'manual'`); n != 1 {
		t.Errorf("%d runs of the release job, want the one the admin started", n)
	}
	passdCheck(t, url)
}

// TestE2EWorkAllDay runs issue 20's forms and lists in the browser
// (e2e/work-all-day.mjs) and reads what the pages saved.
func TestE2EWorkAllDay(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindGP)
	providerToken := seed.user("Dr Liste", auth.Provider, provider)
	admin := seed.user("Admin Mairie", auth.Admin, 0)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)
	// The régie as an admin set it before; the scenario changes the budget.
	e2eAPI(t, p.base, admin, http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"regie_name": "Régie PASS",
		"regie_iban": validIBAN2, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "1000.00"})
	patient := seed.patients(1)[0]
	today := calendar.Today(time.Now())
	for i, daysAgo := range []int{20, 10, 3} { // L-1 the oldest care, L-3 the newest
		e2eAPI(t, p.base, providerToken, http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{
			"patient_file_number": patient.fileNumber, "birth_date": patient.birthDate, "external_ref": fmt.Sprintf("L-%d", i+1),
			"care_date": today.AddDays(-daysAgo).String(),
			"lines":     []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}})
	}

	runE2EScenario(t, "work-all-day.mjs", "E2E_BASE_URL="+p.base, "E2E_ADMIN_TOKEN="+admin, "E2E_PROVIDER_TOKEN="+providerToken)

	if n := scalar(t, pool, `SELECT count(*) FROM settings WHERE annual_budget = 50000.00`); n != 1 {
		t.Error("the budget typed 50 000,00 is not stored as 50000.00")
	}
	if n := scalar(t, pool, `SELECT count(*) FROM invoices`); n != 3 {
		t.Errorf("%d invoices, want the 3 seeded (the empty form stores none)", n)
	}
}

// TestE2EPayoutBatch is scenario 4: an invoice past its deadline becomes
// the city's to pay once the admin runs the deadline job from the jobs
// page; finance A drafts and submits a batch and may not approve it;
// finance B approves and marks it paid; the SEPA file downloaded in the
// browser validates against the pain.001.001.03 schema.
func TestE2EPayoutBatch(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindGP)
	seed.user("Dr Paul Lefèvre", auth.Provider, provider)
	admin := seed.user("Admin Mairie", auth.Admin, 0)
	financeA := seed.user("Agent Finances A", auth.Finance, 0)
	financeB := seed.user("Agent Finances B", auth.Finance, 0)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)

	confirmRegie(t, p.base, financeB, e2eAPI(t, p.base, admin, http.StatusOK, "PUT", "/api/v1/settings", map[string]any{
		"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": "10000.00", "annual_budget": "50000.00"}))
	// Cared for 20 days ago with a deadline of 5 days, the patient's AME
	// application still undecided: the deadline job owes it from the city.
	patient := seed.patients(1)[0]
	invoices := seed.invoices(provider, seed.userID("Dr Paul Lefèvre"), []int64{patient.id}, 1, 20, 5)
	var providerName string
	if err := pool.QueryRow(context.Background(), `SELECT name FROM providers WHERE id = $1`, provider).Scan(&providerName); err != nil {
		t.Fatal(err)
	}
	downloads := t.TempDir()
	paidOn := calendar.Today(time.Now())

	runE2EScenario(t, "payout-batch.mjs",
		"E2E_BASE_URL="+p.base,
		"E2E_ADMIN_TOKEN="+admin,
		"E2E_FINANCE_A_TOKEN="+financeA,
		"E2E_FINANCE_B_TOKEN="+financeB,
		"E2E_PROVIDER_NAME="+providerName,
		"E2E_AMOUNT=30.00",
		"E2E_DOWNLOAD_DIR="+downloads,
		"E2E_PAID_ON="+paidOn.String(),
	)

	if n := scalar(t, pool, `SELECT count(*) FROM invoices WHERE id = $1 AND status = 'city_due'`, invoices[0]); n != 1 {
		t.Errorf("the invoice past its deadline is not city_due after the scenario")
	}
	// One batch, prepared by A, approved by B, paid, holding the one payout.
	if n := scalar(t, pool, `SELECT count(*) FROM payout_batches b
		WHERE b.status = 'paid' AND b.paid_on = $1::date AND b.total = 30.00 AND b.payout_count = 1
		  AND b.prepared_by = (SELECT id FROM users WHERE name = 'Agent Finances A')
		  AND b.approved_by = (SELECT id FROM users WHERE name = 'Agent Finances B')`, paidOn.String()); n != 1 {
		t.Errorf("no batch of 30.00 prepared by A, approved by B and paid on %s", paidOn)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM payout_batches`); n != 1 {
		t.Errorf("%d payout batches, want 1", n)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM payouts WHERE invoice_id = $1 AND status = 'paid' AND amount = 30.00`, invoices[0]); n != 1 {
		t.Errorf("the invoice's payout is not paid")
	}
	for action, actor := range map[string]string{
		"payout_batch.draft":   "Agent Finances A",
		"payout_batch.submit":  "Agent Finances A",
		"payout_batch.approve": "Agent Finances B",
		"payout_batch.paid":    "Agent Finances B",
	} {
		if n := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $2`, action, actor); n != 1 {
			t.Errorf("%d audit rows %s by %s, want 1", n, action, actor)
		}
	}

	doc, err := os.ReadFile(filepath.Join(downloads, "sepa.xml"))
	if err != nil {
		t.Fatalf("the SEPA file the browser downloaded: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sepa.Validate(ctx, doc); err != nil {
		t.Errorf("the downloaded SEPA file does not validate against its schema: %v\n%s", err, doc)
	}
	for _, want := range []string{"<CtrlSum>30.00</CtrlSum>", "<IBAN>" + validIBAN + "</IBAN>", "<IBAN>" + validIBAN2 + "</IBAN>"} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("the SEPA file lacks %s:\n%s", want, doc)
		}
	}
	passdCheck(t, url)
}

// e2eAPI sends one JSON request to a running passd as token's user and
// returns the decoded answer, failing the test unless it has status want.
func e2eAPI(t *testing.T, base, token string, want int, method, path string, body any) map[string]any {
	t.Helper()
	return object(t, call(t, base, token, want, method, path, body))
}
