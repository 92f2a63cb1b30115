package main

// The end-to-end tests: the scenarios of e2e/*.mjs drive Debian's chromium
// with playwright-core through the French pages of a real `passd serve` on
// a fresh database, take a screenshot per step and run axe-core on every
// page. The Go side seeds what a scenario starts from, starts passd, runs
// the scenario with node and checks the database afterwards.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/db/dbtest"
)

// e2eScenarioTimeout bounds one scenario run, so that a browser that hangs
// fails the test with its output instead of holding `make test` until go
// test's own timeout. It is a guard, not an assertion on speed.
const e2eScenarioTimeout = 3 * time.Minute

// e2eChromium is Debian's chromium, installed by scripts/lib/tools.sh.
const e2eChromium = "/usr/bin/chromium"

// TestE2EProviderInvoice is scenario 1 of issue 5: a provider signs in,
// enters a two-line invoice on the page and sees it pending; it must then
// be in the database as the API would have stored it.
func TestE2EProviderInvoice(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindGP)
	const userName = "Dr Claire Martin"
	token := seed.user(userName, auth.Provider, provider)
	patient := seed.patients(1)[0]
	careDate := calendar.Today(time.Now()).AddDays(-3)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)

	runE2EScenario(t, "provider-invoice.mjs",
		"E2E_BASE_URL="+p.base,
		"E2E_PROVIDER_TOKEN="+token,
		"E2E_PROVIDER_USER="+userName,
		"E2E_FILE_NUMBER="+patient.fileNumber,
		"E2E_BIRTH_DATE="+patient.birthDate,
		"E2E_CARE_DATE="+careDate.String(),
	)

	// One invoice (the refused one without JavaScript left nothing), as
	// entered, pending, and its creation audited.
	if n := scalar(t, pool, `SELECT count(*) FROM invoices WHERE provider_id = $1`, provider); n != 1 {
		t.Fatalf("the provider has %d invoices after the scenario, want 1", n)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM invoices i
		WHERE provider_id = $1 AND patient_id = $2 AND status = 'pending' AND total = 55.00 AND care_date = $3::date
		  AND external_ref LIKE 'E2E-%'
		  AND (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id) = 2
		  AND (SELECT sum(l.quantity * l.unit_price) FROM invoice_lines l WHERE l.invoice_id = i.id) = 55.00`,
		provider, patient.id, careDate.String()); n != 1 {
		t.Errorf("the invoice entered on the page is not stored as entered (pending, 55.00 in two lines, care date %s)", careDate)
	}
	if n := scalar(t, pool, `SELECT count(*) FROM audit_log a JOIN invoices i ON a.entity = 'invoice' AND a.entity_id = i.id::text
		WHERE a.action = 'invoice.create' AND i.provider_id = $1`, provider); n != 1 {
		t.Errorf("%d audit rows invoice.create for the invoice, want 1", n)
	}
	passdCheck(t, url)
}

// runE2EScenario runs `node e2e/<script>` from the repository's root with
// env (E2E_NAME=value) and fails the test with the script's output when it
// fails. The screenshots go to a temporary directory, or to
// PASSD_E2E_SCREENSHOTS (relative to the repository's root) when it is
// set: `PASSD_E2E_SCREENSHOTS=docs/screenshots` refreshes the README's.
func runE2EScenario(t *testing.T, script string, env ...string) {
	t.Helper()
	runE2EScenarioWithin(t, e2eScenarioTimeout, script, env...)
}

// runE2EScenarioWithin is runE2EScenario with its own guard, for a
// scenario whose length grows with what it walks.
func runE2EScenarioWithin(t *testing.T, timeout time.Duration, script string, env ...string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..")) // the working directory of a test is cmd/passd
	if err != nil {
		t.Fatal(err)
	}
	requireE2ETools(t, root)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not in PATH: %v (make test installs Node with the project's tools)", err)
	}
	out := t.TempDir()
	if dir := os.Getenv("PASSD_E2E_SCREENSHOTS"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		out = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", script))
	cmd.Dir = root
	cmd.Env = append(passdEnviron(), "E2E_CHROMIUM="+e2eChromium, "E2E_OUT_DIR="+out)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second // chromium's children may hold the output pipe
	start := time.Now()
	output, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("e2e/%s did not finish within %s:\n%s", script, timeout, output)
	}
	if err != nil {
		t.Fatalf("e2e/%s failed (%v):\n%s", script, err, output)
	}
	t.Logf("e2e/%s passed in %s:\n%s", script, time.Since(start).Round(time.Millisecond), output)
}

// requireE2ETools fails the test (never skips it) when what the scenarios
// need is missing, saying how to install it.
func requireE2ETools(t *testing.T, root string) {
	t.Helper()
	const install = "make test installs it (scripts/lib/tools.sh: ensure_chromium, ensure_node_tools)"
	if _, err := os.Stat(e2eChromium); err != nil {
		t.Fatalf("the end-to-end tests need Debian's chromium at %s: %v; %s", e2eChromium, err, install)
	}
	for _, pkg := range []string{"playwright-core", "@axe-core/playwright", "axe-core"} {
		if _, err := os.Stat(filepath.Join(root, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the end-to-end tests need the npm package %s in node_modules/: %v; %s", pkg, err, install)
		}
	}
}
