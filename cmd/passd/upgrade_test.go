package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/jackc/pgx/v5"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"passd/calendar"
	"passd/cmd/passd/passdtest"
	"passd/db/dbtest"
	"passd/migrations"
)

// previousVersion is the commit passd is upgraded from: there is no
// tagged release yet, so the version before the newest migration, the
// parent of the last commit that added a migration file.
func previousVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", "../..", "log", "-1", "--diff-filter=A", "--format=%H", "--", "migrations/*.sql").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("git log: the commit of the newest migration: %v %s", err, out)
	}
	return strings.TrimSpace(string(out)) + "^"
}

// buildVersion builds cmd/passd as it was at commit rev, from a copy of
// its tree (git archive), into the test's directory.
func buildVersion(t *testing.T, rev string) string {
	t.Helper()
	src := t.TempDir()
	archive := exec.Command("git", "-C", "../..", "archive", rev)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v", rev, err)
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("tar: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "passd-previous")
	build := exec.Command("go", "build", "-o", bin, "./cmd/passd")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build at %s: %v\n%s", rev, err, out)
	}
	return bin
}

// runBinary runs passd bin with args on the database and returns stdout.
func runBinary(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(passdEnviron(), "DATABASE_URL="+url, "PASSD_DATA_KEY="+testDataKey())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("passd %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// serveBinary starts bin serve on the database, as startPassd does for
// this version's binary, and returns its base URL; it is killed when the
// test ends or stop is called.
func serveBinary(t *testing.T, bin, url string) (base string, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(passdEnviron(), "DATABASE_URL="+url, "PASSD_DATA_KEY="+testDataKey(), "PASSD_ADDR="+addr,
		"PASSD_RELEASE_SCHEDULE="+farSchedule, "PASSD_DEADLINE_SCHEDULE="+farSchedule, "PASSD_CLAIM_BATCH_SCHEDULE="+farSchedule,
		"PASSD_PAYOUT_BATCH_SCHEDULE="+farSchedule, "PASSD_REMINDERS_SCHEDULE="+farSchedule,
		"PASSD_REFERRAL_NOTIFY_SCHEDULE="+farSchedule, "PASSD_REFERRAL_RETENTION_SCHEDULE="+farSchedule)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	base = "http://" + addr
	for range 150 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	t.Fatalf("%s serve did not become ready:\n%s", bin, log.String())
	return "", nil
}

// call sends one request (headers: name, value pairs) and returns the
// status and the raw body; a status other than want fails the test.
func call(t *testing.T, base, token string, want int, method, path string, body any, headers ...string) []byte {
	t.Helper()
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, payload)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, resp.StatusCode, want, bytes.TrimSpace(got))
	}
	return got
}

func object(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, raw)
	}
	return m
}

// demoTokens reads the tokens file seed-demo writes: user token per line.
func demoTokens(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			tokens[f[0]] = f[1]
		}
	}
	return tokens
}

// walkLifecycle takes one invoice through its whole life on a running
// passd, with the demo users' tokens: a file opened and its rights
// requested, an invoice submitted (with an Idempotency-Key, retried),
// rights opened, the release job splitting it into a claim and a payout,
// the claim sent in a batch and paid by the CPAM's return, the payout
// batched, submitted, approved by a second finance user, its SEPA file
// written and the batch paid. It fails the test at the first step that
// does not answer as it should. It returns the file's id.
func walkLifecycle(t *testing.T, base string, tok map[string]string, tag string) string {
	t.Helper()
	today := calendar.Today(time.Now())
	coord, referent, provider, admin := tok["demo-coordinator"], tok["demo-cpam-referent"], tok["demo-provider"], tok["demo-admin"]
	file := object(t, call(t, base, coord, http.StatusCreated, "POST", "/api/v1/patients", map[string]any{
		"last_name": "Montée " + tag, "first_name": "Version", "birth_date": "1985-03-02"}))
	pid := fmt.Sprint(file["id"])
	call(t, base, coord, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-request",
		map[string]any{"regime": "puma", "filed_on": today.AddDays(-20).String()})
	invoice := map[string]any{"patient_file_number": file["file_number"], "birth_date": "1985-03-02", "external_ref": "UP-" + tag,
		"care_date": today.AddDays(-10).String(), "lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}}
	first := call(t, base, provider, http.StatusCreated, "POST", "/api/v1/invoices", invoice, "Idempotency-Key", "upgrade-"+tag)
	if again := call(t, base, provider, http.StatusCreated, "POST", "/api/v1/invoices", invoice, "Idempotency-Key", "upgrade-"+tag); !bytes.Equal(first, again) {
		t.Fatalf("the retried invoice answered %s, first %s", again, first)
	}
	iid := fmt.Sprint(object(t, first)["id"])
	call(t, base, referent, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-decision", map[string]any{
		"decision": "opened", "regime": "puma", "effective_from": today.AddDays(-30).String(), "reference": "REF-UP-" + tag})
	for _, job := range []string{"release", "deadline", "claim-batch", "payout-batch", "reminders"} {
		runJobNow(t, base, admin, job)
	}
	if inv := object(t, call(t, base, provider, http.StatusOK, "GET", "/api/v1/invoices/"+iid, nil)); inv["status"] != "released" {
		t.Fatalf("invoice %s after the release: %v", iid, inv)
	}
	payClaim(t, base, referent, iid)
	if payPayouts(t, base, tok, today) == 0 {
		t.Fatal("the payout-batch job drafted no batch")
	}
	return pid
}

// payClaim records the CPAM's payment of the invoice's claim, which the
// claim-batch job has sent.
func payClaim(t *testing.T, base, referent, invoiceID string) {
	t.Helper()
	claims := object(t, call(t, base, referent, http.StatusOK, "GET", "/api/v1/claims?status=transmitted", nil))
	for _, c := range claims["items"].([]any) {
		claim := c.(map[string]any)
		if fmt.Sprint(claim["invoice_id"]) != invoiceID {
			continue
		}
		call(t, base, referent, http.StatusOK, "POST", "/api/v1/claim-batches/"+fmt.Sprint(claim["batch_id"])+"/returns", map[string]any{
			"lines": []map[string]any{{"claim_id": claim["id"], "outcome": "paid", "paid_amount": claim["amount"], "paid_on": calendar.Today(time.Now()).String()}}})
		return
	}
	t.Fatalf("no transmitted claim for invoice %s: %v", invoiceID, claims)
}

// payPayouts takes the payout batches the job drafted through the four
// eyes to paid, and returns how many.
func payPayouts(t *testing.T, base string, tok map[string]string, today calendar.Date) int {
	t.Helper()
	finance, approver := tok["demo-finance"], tok["demo-finance-approver"]
	drafts := object(t, call(t, base, finance, http.StatusOK, "GET", "/api/v1/payout-batches?status=draft", nil))["items"].([]any)
	for _, d := range drafts {
		id := fmt.Sprint(d.(map[string]any)["id"])
		call(t, base, finance, http.StatusOK, "POST", "/api/v1/payout-batches/"+id+"/submit", nil)
		call(t, base, approver, http.StatusOK, "POST", "/api/v1/payout-batches/"+id+"/approve", nil)
		call(t, base, finance, http.StatusOK, "GET", "/api/v1/payout-batches/"+id+"/sepa.xml", nil)
		call(t, base, finance, http.StatusOK, "POST", "/api/v1/payout-batches/"+id+"/paid", map[string]any{"paid_on": today.String()})
	}
	return len(drafts)
}

// emptyTables lists the tables of the database that hold no row.
func emptyTables(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	var empty []string
	for _, name := range tables {
		var any bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+name+`)`).Scan(&any); err != nil {
			t.Fatal(err)
		}
		if !any {
			empty = append(empty, name)
		}
	}
	return empty
}

// An upgrade on a database with data: the previous version (there is no
// tagged release: the commit before the newest migration) migrates a
// database, seeds it and takes invoices through their whole life, so that
// its tables hold rows; this version's passd migrate then brings it up to
// date, and the money invariants, the audit chain and a whole new
// lifecycle hold on it.
func TestUpgradeFromThePreviousVersion(t *testing.T) {
	t.Parallel()
	previous := buildVersion(t, previousVersion(t))
	url := dbtest.NewEmptyURL(t)
	runBinary(t, previous, url, "migrate")
	tokensFile := filepath.Join(t.TempDir(), "tokens")
	runBinary(t, previous, url, "seed-demo", "--tokens-file", tokensFile)
	tok := demoTokens(t, tokensFile)
	base, stop := serveBinary(t, previous, url)
	pid := walkLifecycle(t, base, tok, "before")
	fillTheRest(t, base, tok, pid)
	stop()
	// patients_unsealed is only ever filled by migration 00003 on a
	// database of a passd older than encryption, and emptied at once.
	if empty := emptyTables(t, url); !slices.Equal(empty, []string{"patients_unsealed"}) {
		t.Errorf("tables the previous version left empty: %v; the upgrade is tested on data in every table", empty)
	}

	current := passdtest.Binary(t)
	runBinary(t, current, url, "migrate")
	ctx := context.Background()
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if ok, err := migrations.Current(ctx, pool); err != nil || !ok {
		t.Fatalf("the upgraded schema is not current (%v)", err)
	}
	// The city's database became the deployment's first convention: every
	// row of every table is convention 1's.
	var conventions int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&conventions); err != nil || conventions != 1 {
		t.Fatalf("%d conventions after the upgrade (%v), want the one", conventions, err)
	}
	tables, err := pool.Query(ctx, `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(tables, pgx.RowTo[string])
	if err != nil || len(names) < 43 {
		t.Fatalf("%d tables with tenant_id (%v), want every table", len(names), err)
	}
	for _, table := range names {
		var others int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` WHERE tenant_id <> 1`).Scan(&others); err != nil || others != 0 {
			t.Errorf("table %s: %d rows of another convention after the upgrade (%v)", table, others, err)
		}
	}
	runBinary(t, current, url, "audit", "verify")
	passdCheck(t, url)
	p := startPassd(t, "upgraded", url)
	walkLifecycle(t, p.base, tok, "after")
	runBinary(t, current, url, "audit", "verify")
	passdCheck(t, url)
}

// fillTheRest writes, with the previous version, what a lifecycle leaves
// out, so that every table holds rows: the file's decision corrected (the
// earlier outcome kept, a refund due to the CPAM), a refusal corrected
// after the city paid (a recovery from the provider), a payout void asked,
// a drug, a web session, a file to chase, and a change of rights the
// release job has yet to read.
func fillTheRest(t *testing.T, base string, tok map[string]string, pid string) {
	t.Helper()
	today := calendar.Today(time.Now())
	referent, provider, admin := tok["demo-cpam-referent"], tok["demo-provider"], tok["demo-admin"]
	correct(t, base, tok, pid, map[string]any{"decision": "refused", "reason": "résidence non établie", "correction_reason": "erreur de saisie"})
	recoverFromAProvider(t, base, tok)

	file := object(t, call(t, base, referent, http.StatusOK, "GET", "/api/v1/patients/"+pid, nil))
	invoice := func(ref string, careDaysAgo int) map[string]any {
		return map[string]any{"patient_file_number": file["file_number"], "birth_date": "1985-03-02", "external_ref": ref,
			"care_date": today.AddDays(-careDaysAgo).String(), "lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}}
	}
	voidAPayout(t, base, tok)
	call(t, base, provider, http.StatusCreated, "POST", "/api/v1/invoices", invoice("UP-pending", 3))

	call(t, base, admin, http.StatusOK, "PUT", "/api/v1/drugs/3400930000007", map[string]any{"label": "Paracétamol 500 mg", "class": 65})
	chase := object(t, call(t, base, tok["demo-coordinator"], http.StatusCreated, "POST", "/api/v1/patients", map[string]any{
		"last_name": "À relancer", "first_name": "Dossier", "birth_date": "1979-11-30"}))
	call(t, base, provider, http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{"patient_file_number": chase["file_number"],
		"birth_date": "1979-11-30", "external_ref": "UP-chase", "care_date": today.AddDays(-80).String(),
		"lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}})
	runJobNow(t, base, admin, "reminders")
	signIn(t, base, provider)
}

// correct corrects the file's latest rights decision.
func correct(t *testing.T, base string, tok map[string]string, pid string, body map[string]any) {
	t.Helper()
	referent := tok["demo-cpam-referent"]
	decisions := object(t, call(t, base, referent, http.StatusOK, "GET", "/api/v1/patients/"+pid, nil))["rights_decisions"].([]any)
	did := fmt.Sprint(decisions[len(decisions)-1].(map[string]any)["id"])
	call(t, base, referent, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-decisions/"+did+"/correct", body)
}

// signIn opens a web session with the token, as a browser does: the
// sign-in page, then its form posted back with the CSRF field it carries.
func signIn(t *testing.T, base, token string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/connexion")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("the sign-in page has no CSRF field:\n%s", page)
	}
	resp, err = client.PostForm(base+"/connexion", url.Values{"token": {token}, "_csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /connexion answered %d, want 303", resp.StatusCode)
	}
}

// voidAPayout asks for the void of the payout of an invoice the city pays
// in full (its file's rights refused), which another finance user would
// confirm.
func voidAPayout(t *testing.T, base string, tok map[string]string) {
	t.Helper()
	today := calendar.Today(time.Now())
	coord, admin, finance := tok["demo-coordinator"], tok["demo-admin"], tok["demo-finance"]
	file := object(t, call(t, base, coord, http.StatusCreated, "POST", "/api/v1/patients", map[string]any{
		"last_name": "Refusé", "first_name": "Dossier", "birth_date": "1970-06-15"}))
	pid := fmt.Sprint(file["id"])
	call(t, base, coord, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-request", map[string]any{"regime": "puma", "filed_on": today.AddDays(-20).String()})
	call(t, base, tok["demo-cpam-referent"], http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-decision", map[string]any{"decision": "refused", "reason": "résidence non établie"})
	inv := object(t, call(t, base, tok["demo-provider"], http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{"patient_file_number": file["file_number"],
		"birth_date": "1970-06-15", "external_ref": "UP-void", "care_date": today.AddDays(-5).String(),
		"lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}}))
	runJobNow(t, base, admin, "release")
	payouts := object(t, call(t, base, finance, http.StatusOK, "GET", "/api/v1/payouts?status=due", nil))["items"].([]any)
	for _, p := range payouts {
		if payout := p.(map[string]any); payout["invoice_id"] == inv["id"] {
			call(t, base, finance, http.StatusCreated, "POST", "/api/v1/payouts/"+fmt.Sprint(payout["id"])+"/void", map[string]any{"reason": "facture en double"})
			return
		}
	}
	t.Fatalf("no due payout for invoice %v: %v", inv["id"], payouts)
}

// runJobNow runs a job by hand as the admin; while its start-up run (or
// another) is still going, 409 job_running, it tries again.
func runJobNow(t *testing.T, base, admin, job string) {
	t.Helper()
	for range 100 {
		req, err := http.NewRequest("POST", base+"/api/v1/jobs/"+job+"/run", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode != http.StatusConflict || !bytes.Contains(body, []byte("job_running")):
			t.Fatalf("run %s answered %d: %s", job, resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s was still running after 10 s", job)
}

// recoverFromAProvider: a file refused, its invoice paid in full by the
// city, then the refusal corrected to an opening: the city's payment of
// the CPAM's share becomes a recovery from the provider.
func recoverFromAProvider(t *testing.T, base string, tok map[string]string) {
	t.Helper()
	today := calendar.Today(time.Now())
	coord, referent := tok["demo-coordinator"], tok["demo-cpam-referent"]
	file := object(t, call(t, base, coord, http.StatusCreated, "POST", "/api/v1/patients", map[string]any{
		"last_name": "Corrigé", "first_name": "Dossier", "birth_date": "1966-01-20"}))
	pid := fmt.Sprint(file["id"])
	call(t, base, coord, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-request", map[string]any{"regime": "puma", "filed_on": today.AddDays(-20).String()})
	call(t, base, referent, http.StatusOK, "POST", "/api/v1/patients/"+pid+"/rights-decision", map[string]any{"decision": "refused", "reason": "résidence non établie"})
	call(t, base, tok["demo-provider"], http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{"patient_file_number": file["file_number"],
		"birth_date": "1966-01-20", "external_ref": "UP-recovery", "care_date": today.AddDays(-6).String(),
		"lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}})
	runJobNow(t, base, tok["demo-admin"], "release")
	runJobNow(t, base, tok["demo-admin"], "payout-batch")
	if payPayouts(t, base, tok, today) == 0 {
		t.Fatal("no payout batch for the refused file's invoice")
	}
	correct(t, base, tok, pid, map[string]any{"decision": "opened", "regime": "puma", "effective_from": today.AddDays(-30).String(),
		"reference": "REF-UP-recovery", "correction_reason": "droits finalement ouverts"})
}
