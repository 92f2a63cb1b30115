package main

// The CPAM referent's correction of a rights decision on the pages, and
// the invoice's history of outcomes that a correction lengthens, driven as
// a browser without JavaScript would.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// refusedCityDue opens a file with a PUMa application filed on
// 2026-06-01, an invoice of 30.00 by pr for care on 2026-06-10, a refusal
// and the release run: the invoice is the city's (rights_refused), its
// payout due. It returns the file, the invoice's id and the refusal's.
func (h *harness) refusedCityDue(t *testing.T, pr providerFixture, lastName, ref string) (patientFixture, string, string) {
	t.Helper()
	p := h.newPatient(t, lastName)
	h.requestRights(t, p, "puma", "2026-06-01")
	inv := str(t, h.submit(t, pr, p, ref, "2026-06-10"), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent,
		mustJSON(t, map[string]any{"decision": "refused", "reason": "résidence non établie"}))
	h.runJob(t, "release")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+inv, h.admin, ""); got["status"] != "city_due" {
		t.Fatalf("invoice %s is %v after the refusal, want city_due", inv, got["status"])
	}
	return p, inv, latestDecision(t, h, p)
}

// correctionPath is the referent's correction page of decision did.
func correctionPath(p patientFixture, did string) string {
	return "/cpam/dossiers/" + p.id + "/decisions/" + did + "/corriger"
}

// anOpening is the correction form of a refusal corrected into a PUMa
// opening from the filing.
func anOpening(reason string) url.Values {
	return url.Values{"decision": {"opened"}, "regime": {"puma"}, "effective_from": {"2026-06-01"}, "effective_to": {""},
		"reference": {"PUMA-2026-1"}, "caisse": {""}, "reason": {""}, "correction_reason": {reason}}
}

var correctLinks = regexp.MustCompile(`<a href="/cpam/dossiers/\d+/decisions/(\d+)/corriger"`)

// correctionForms cuts the correction page into its two forms, the
// opening's and the refusal's, and checks what every page of the two
// holds: each form posts its decision, hidden, has its own decision's
// fields only, and no id of the page is used twice.
func correctionForms(t *testing.T, page string) (opening, refusal string) {
	t.Helper()
	start := strings.Index(page, `<h3 id="correction-ouverture">`)
	if start < 0 || !strings.Contains(page, `<h3 id="correction-refus">`) {
		t.Fatalf("the correction page lacks its two forms:\n%s", page)
	}
	opening, refusal, _ = strings.Cut(page[start:], `<h3 id="correction-refus">`)
	refusal, _, _ = strings.Cut(refusal, "</section>")
	wantContains(t, "the opening's correction form", opening, `<input type="hidden" name="decision" value="opened">`,
		`name="regime"`, `name="effective_from"`, `name="reference"`, `<label for="caisse">`, `<label for="correction_reason">Motif de la correction</label>`,
		`<button type="submit" aria-describedby="correction-effects">Corriger en ouverture des droits</button>`)
	wantContains(t, "the refusal's correction form", refusal, `<input type="hidden" name="decision" value="refused">`,
		`<label for="reason">Motif du refus</label>`, `<label for="refusal-caisse">`,
		`<label for="refusal-correction_reason">Motif de la correction</label>`,
		`<button type="submit" aria-describedby="correction-effects">Corriger en refus</button>`)
	if strings.Contains(opening, `name="reason"`) {
		t.Error("the opening's correction form has a refusal's reason")
	}
	for _, field := range []string{"regime", "effective_from", "effective_to", "immediate_admission", "reference"} {
		if strings.Contains(refusal, `name="`+field+`"`) {
			t.Errorf("the refusal's correction form has the opening's %s", field)
		}
	}
	if n := strings.Count(page, `name="decision"`); n != 2 || strings.Contains(page, "decision-choice") {
		t.Errorf("the correction page names its decision %d times, want twice, hidden, and no select", n)
	}
	seen := map[string]bool{}
	for _, m := range pageIDs.FindAllStringSubmatch(page, -1) {
		if seen[m[1]] {
			t.Errorf("the correction page uses id %q twice", m[1])
		}
		seen[m[1]] = true
	}
	wantContains(t, "the correction page", page, `id="correction-effects"`, "Ce qui suivra l'enregistrement")
	return opening, refusal
}

var pageIDs = regexp.MustCompile(`\sid="([^"]+)"`)

func TestWebReferentCorrectsARefusalIntoAnOpening(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Correct", "general_practitioner", "10000000041")
	p, inv, refusal := h.refusedCityDue(t, gp, "Corrigé", "F-CORR-1")
	b := mustSignIn(t, h, h.referent)
	provider := mustSignIn(t, h, gp.token)

	// Decided once: the invoice's history is one line.
	once := provider.page(t, http.StatusOK, "/effecteur/factures/"+inv)
	// Its provider sees the shares, not why (the patient's rights: issue 15 §4).
	wantContains(t, "the invoice decided once", once, "Historique de la décision", "Décidée une seule fois, le 15/06/2026",
		"à payer par la ville, part CPAM 0,00\u00a0€, part ville 30,00\u00a0€.")
	if strings.Contains(once, "droits refusés") {
		t.Errorf("the provider's invoice page tells the patient's rights were refused")
	}

	// The file: the refusal stands, with its "Corriger".
	file := b.page(t, http.StatusOK, "/cpam/dossiers/"+p.id)
	if m := correctLinks.FindAllStringSubmatch(file, -1); len(m) != 1 || m[0][1] != refusal {
		t.Fatalf("the file's correction links are %v, want one to decision %s:\n%s", m, refusal, file)
	}
	wantContains(t, "the file", file, `aria-label="Corriger la décision du `, ">Corriger</a>", "en vigueur")

	// The page: two forms, an opening then a refusal, each with its own
	// fields; the refusal's filled with the refusal as it stands, the
	// opening's with what the decision page proposes (PUMa from the
	// filing); what will follow, named by both buttons.
	form := b.page(t, http.StatusOK, correctionPath(p, refusal))
	wantContains(t, "the correction page", form, "La décision à corriger", "résidence non établie",
		"les factures du dossier déjà décidées le sont à nouveau", "réclamé à l'effecteur")
	opening, refusing := correctionForms(t, form)
	wantContains(t, "the refusal's correction form", refusing, "Ce formulaire part de la décision à corriger",
		`>résidence non établie</textarea>`, `<textarea id="refusal-correction_reason" name="correction_reason"`)
	wantContains(t, "the opening's correction form", opening, `<label for="effective_from">Début des droits</label>`,
		`<option value="puma" selected>PUMa</option>`, `name="effective_from" value="2026-06-01"`, `name="reference" value=""`,
		`<textarea id="correction_reason" name="correction_reason"`, "Proposé selon le régime")
	if strings.Contains(opening, "Ce formulaire part de la décision à corriger") {
		t.Error("the opening's form says it holds the refusal corrected")
	}

	code, location, body := b.post(t, correctionPath(p, refusal), correctionPath(p, refusal), anOpening("résidence établie : pièce reçue après la décision"))
	if code != http.StatusSeeOther || location != "/cpam/dossiers/"+p.id+"#decisions" {
		t.Fatalf("correction: %d → %q:\n%s", code, location, body)
	}

	// The file: the refusal corrected, by whom and why; the correction
	// stands and is the one left to correct.
	file = b.page(t, http.StatusOK, "/cpam/dossiers/"+p.id)
	wantContains(t, "the file after the correction", file, "Décision corrigée",
		"corrigée le 15/06/2026 12:00:00 par referent : résidence établie : pièce reçue après la décision", "en vigueur (correction)",
		"PUMA-2026-1", "droits ouverts")
	m := correctLinks.FindAllStringSubmatch(file, -1)
	if len(m) != 1 || m[0][1] == refusal {
		t.Errorf("after the correction, the correction links are %v, want one, to the correction", m)
	}
	api := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+p.id, h.referent, "")
	if rights := api["rights"].(map[string]any); rights["status"] != "opened" || rights["reference"] != "PUMA-2026-1" {
		t.Errorf("the file's rights after the correction: %v", rights)
	}

	// The invoice, decided again at once: two outcomes, the first
	// replaced, the second current, for its provider and for finance
	// alike; finance also sees why each was decided, the correction (the
	// decisions it names) as the second's cause, its provider does not.
	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+inv, h.admin, "")
	if got["status"] != "released" || fmt.Sprint(got["outcome_no"]) != "2" {
		t.Fatalf("the invoice after the correction: %v", got)
	}
	for who, page := range map[string]string{
		"provider": provider.page(t, http.StatusOK, "/effecteur/factures/"+inv),
		"finance":  mustSignIn(t, h, h.finance).page(t, http.StatusOK, "/factures/"+inv),
	} {
		wantContains(t, who+"'s invoice page", page, "Historique de la décision", "Cette facture a été décidée 2 fois",
			"<td>à payer par la ville</td>", "remplacée le 15/06/2026 12:00:00",
			"<td>transmise à la CPAM</td>", `<td class="num">21,00`+"\u00a0€</td>", `<td class="num">9,00`+"\u00a0€</td>",
			`<tr class="current">`, "<td>en vigueur</td>")
		reasons := []string{"<td>droits refusés</td>", "<td>première décision</td>", "<td>droits ouverts</td>", "corrigée par la décision"}
		for _, r := range reasons {
			if shown := strings.Contains(page, r); shown != (who == "finance") {
				t.Errorf("%s's invoice page shows %q: %v", who, r, shown)
			}
		}
		// The referent's own words stay on the file.
		if strings.Contains(page, "pièce reçue après la décision") {
			t.Errorf("%s's invoice page shows the referent's reason for the correction", who)
		}
		_, history, _ := strings.Cut(page, "Historique de la décision")
		if n := strings.Count(history, "<tr"); n != 3 {
			t.Errorf("%s's invoice history has %d table rows, want a header and two outcomes", who, n)
		}
	}
	mustSignIn(t, h, h.coordinator).page(t, http.StatusOK, "/factures/"+inv)
	// Another provider still does not find it.
	other := h.newProvider(t, "Dr Autre", "general_practitioner", "10000000042")
	mustSignIn(t, h, other.token).page(t, http.StatusNotFound, "/effecteur/factures/"+inv)

	// The refusal, corrected, cannot be corrected again: its page says
	// which decision to correct, and a post changes nothing.
	again := b.page(t, http.StatusConflict, correctionPath(p, refusal))
	wantContains(t, "the corrected decision's page", again, "Cette décision a déjà été corrigée", "Corrigez plutôt la dernière décision")
	if strings.Contains(again, "<form method=\"post\" action=\""+correctionPath(p, refusal)) || strings.Contains(again, `name="correction_reason"`) {
		t.Error("the corrected decision's page still offers its forms")
	}
	if n := h.count(t, "audit_log", "action = 'patient.rights_correction'"); n != 1 {
		t.Errorf("%d patient.rights_correction audit rows, want 1", n)
	}
}

func TestWebCorrectionBlockedByABatchedPayoutChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Lot", "general_practitioner", "10000000043")
	p, inv, refusal := h.refusedCityDue(t, gp, "Bloqué", "F-BATCH-1")
	batch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payout-batches", h.finance, ""), "id")
	b := mustSignIn(t, h, h.referent)
	b.page(t, http.StatusOK, correctionPath(p, refusal))

	before := h.correctionState(t)
	code, _, body := b.post(t, correctionPath(p, refusal), correctionPath(p, refusal), anOpening("résidence établie"))
	body = htmlText(body)
	if code != http.StatusConflict {
		t.Fatalf("a correction blocked by a batched payout: %d, want 409:\n%s", code, body)
	}
	wantContains(t, "the refused correction", body, `role="alert"`,
		fmt.Sprintf("Le lot de paiement n° %s, pas encore payé, contient un paiement de la ville pour la facture n° %s", batch, inv),
		"Les finances doivent d'abord retirer ce paiement du lot en préparation (en annulant le lot), ou attendre que le lot soit payé",
		"Rien n'a été modifié.",
		`id="correction-summary" tabindex="-1"`)
	// What was typed is kept in the opening's form, to send again once
	// the batch is settled; the refusal's still holds the refusal.
	opening, refusing := correctionForms(t, body)
	wantContains(t, "the opening's form sent back", opening, "Le lot de paiement n° "+batch, `value="PUMA-2026-1"`, ">résidence établie</textarea>")
	wantContains(t, "the refusal's form beside it", refusing, ">résidence non établie</textarea>")
	if strings.Contains(refusing, `role="alert"`) {
		t.Error("the refusal's form, not sent, shows the refusal of the opening's")
	}
	h.assertCorrectionStateUnchanged(t, before)
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+inv, h.admin, ""); got["status"] != "city_due" || fmt.Sprint(got["outcome_no"]) != "1" {
		t.Errorf("the invoice after the refused correction: %v", got)
	}
}

// correctionState sums up every table a correction writes (the identity
// reads of the pages aside: each page logs its own).
func (h *harness) correctionState(t *testing.T) state {
	t.Helper()
	out := h.state(t)
	delete(out, "patient_access_log")
	for _, table := range []string{"rights_decisions", "invoice_outcomes", "rights_changes"} {
		var digest string
		if err := h.pool.QueryRow(context.Background(), fmt.Sprintf(
			`SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, table)).Scan(&digest); err != nil {
			t.Fatalf("state of %s: %v", table, err)
		}
		out[table] = digest
	}
	return out
}

func (h *harness) assertCorrectionStateUnchanged(t *testing.T, before state) {
	t.Helper()
	after := h.correctionState(t)
	for table, b := range before {
		if after[table] != b {
			t.Errorf("table %s changed (%s -> %s): a refused correction must store nothing", table, b, after[table])
		}
	}
}

func TestWebCorrectionFormExplainsItsErrorsInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Erreurs")
	h.requestRights(t, p, "puma_css", "2026-06-01")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, map[string]any{
		"decision": "opened", "regime": "puma_css", "effective_from": "2026-07-01", "effective_to": "2027-06-30", "reference": "CSS-1"}))
	did := latestDecision(t, h, p)
	b := mustSignIn(t, h, h.referent)
	path := correctionPath(p, did)
	// The opening's form holds the opening; the refusal's is empty.
	opening, refusing := correctionForms(t, b.page(t, http.StatusOK, path))
	wantContains(t, "the opening's correction form", opening, "Ce formulaire part de la décision à corriger",
		`<option value="puma_css" selected>`, `name="effective_from" value="2026-07-01"`, `name="effective_to" value="2027-06-30"`,
		`name="reference" value="CSS-1"`, "Celui de la décision corrigée")
	wantContains(t, "the refusal's correction form", refusing, `aria-describedby="reason-hint"></textarea>`,
		`name="caisse" value=""`, `name="correction_reason" maxlength="500" rows="3" required aria-describedby="refusal-correction_reason-hint"></textarea>`)

	// Each form as the page sends it, with changes.
	opened := func(change map[string]string) url.Values {
		v := url.Values{"decision": {"opened"}, "regime": {"puma_css"}, "effective_from": {"2026-07-01"}, "effective_to": {"2027-06-30"},
			"reference": {"CSS-1"}, "caisse": {""}, "correction_reason": {"période mal saisie"}}
		for k, x := range change {
			v.Set(k, x)
		}
		return v
	}
	refused := func(change map[string]string) url.Values {
		v := url.Values{"decision": {"refused"}, "reason": {"ressources au-dessus du plafond"}, "caisse": {""},
			"correction_reason": {"la CPAM a refusé"}}
		for k, x := range change {
			v.Set(k, x)
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string // the field's id, marked; "" when the form has no field for it
		want  string
		typed string // what was typed, shown again in its form
	}{
		{"no correction reason", opened(map[string]string{"correction_reason": "  "}), "correction_reason",
			"Indiquez le motif de la correction (500 caractères au plus).", `name="reference" value="CSS-1"`},
		{"no reference", opened(map[string]string{"reference": ""}), "reference", "Indiquez la référence de la décision de la CPAM",
			">période mal saisie</textarea>"},
		{"a CSS not from the 1st", opened(map[string]string{"effective_from": "2026-07-02"}), "effective_from",
			"Une période de PUMa + CSS commence le 1er d'un mois.", `name="effective_from" value="2026-07-02"`},
		{"a caisse that is none", opened(map[string]string{"caisse": "9a"}), "caisse", "Le code de la caisse compte 3 chiffres",
			`name="caisse" value="9a"`},
		{"a reason sent with an opening", opened(map[string]string{"reason": "x"}), "", "Le motif ne s'indique que pour un refus",
			`name="reference" value="CSS-1"`},
		{"a refusal without a reason", refused(map[string]string{"reason": ""}), "reason", "Indiquez le motif du refus",
			">la CPAM a refusé</textarea>"},
		{"a refusal without a correction reason", refused(map[string]string{"correction_reason": ""}), "refusal-correction_reason",
			"Indiquez le motif de la correction (500 caractères au plus).", ">ressources au-dessus du plafond</textarea>"},
		{"a refusal's caisse that is none", refused(map[string]string{"caisse": "12"}), "refusal-caisse",
			"Le code de la caisse compte 3 chiffres", `name="caisse" value="12"`},
	} {
		code, _, body := b.post(t, path, path, tc.form)
		body = htmlText(body)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422:\n%s", tc.name, code, body)
			continue
		}
		// The form sent comes back as typed, its summary on top and its
		// field marked; the other holds what the page first showed.
		opening, refusing := correctionForms(t, body)
		sent, other := opening, refusing
		if tc.form.Get("decision") == "refused" {
			sent, other = refusing, opening
		}
		wantContains(t, tc.name, sent, "La correction n'a pas été enregistrée : corrigez les champs signalés.", tc.want, tc.typed)
		if tc.field != "" {
			wantContains(t, tc.name, sent, `id="`+tc.field+`-error"`, `id="`+tc.field+`" `, tc.field+`-error" aria-invalid="true"`)
		}
		if strings.Contains(other, `class="error"`) || strings.Contains(other, `aria-invalid`) {
			t.Errorf("%s: the form not sent shows an error:\n%s", tc.name, other)
		}
		if tc.form.Get("decision") == "refused" {
			wantContains(t, tc.name+": the opening's form beside it", other, `name="reference" value="CSS-1"`, `name="effective_from" value="2026-07-01"`)
		} else {
			wantContains(t, tc.name+": the refusal's form beside it", other, `aria-describedby="reason-hint"></textarea>`)
		}
	}
	if n := h.count(t, "rights_decisions", "superseded_at IS NOT NULL"); n != 0 {
		t.Errorf("%d decisions superseded by refused forms", n)
	}
}

func TestWebCorrectionIsTheReferentsOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Curieux", "general_practitioner", "10000000044")
	p := h.newPatient(t, "Protégé")
	h.openRights(t, p, "puma", "2026-06-01")
	did := latestDecision(t, h, p)
	path := correctionPath(p, did)
	reads := h.count(t, "patient_access_log")
	for role, token := range map[string]string{"provider": gp.token, "coordinator": h.coordinator, "finance": h.finance, "admin": h.admin} {
		b := mustSignIn(t, h, token)
		if rec := b.do(t, "GET", path, nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Accès refusé") {
			t.Errorf("%s GET %s: %d, want 403", role, path, rec.Code)
		}
		csrf := b.csrf(t, path) // the 403 page carries the sign-out form
		if rec := b.do(t, "POST", path, url.Values{"_csrf": {csrf}, "decision": {"refused"}, "reason": {"x"}, "correction_reason": {"x"}}); rec.Code != http.StatusForbidden {
			t.Errorf("%s POST %s: %d, want 403", role, path, rec.Code)
		}
	}
	if n := h.count(t, "patient_access_log"); n != reads {
		t.Errorf("refused pages logged %d identity reads", n-reads)
	}
	// Not the coordinator's file page either: its decisions have no link.
	if page := mustSignIn(t, h, h.coordinator).page(t, http.StatusOK, "/coordination/dossiers/"+p.id); strings.Contains(page, "Corriger") {
		t.Error("the coordinator's file page offers to correct a decision")
	}
	// A decision of another file is not found.
	other := h.newPatient(t, "Autre")
	b := mustSignIn(t, h, h.referent)
	b.page(t, http.StatusNotFound, correctionPath(other, did))
	b.page(t, http.StatusNotFound, correctionPath(p, "999999"))
	if n := h.count(t, "rights_decisions", "superseded_at IS NOT NULL"); n != 0 {
		t.Errorf("%d decisions superseded", n)
	}
	signedOut := h.browser()
	if rec := signedOut.do(t, "GET", path, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/connexion" {
		t.Errorf("signed out: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
}
