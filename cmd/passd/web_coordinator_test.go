package main

// The coordinator's and the CPAM referent's pages, through the real Echo
// stack and database, compared with what the JSON API stores and answers.

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestWebCoordinatorOpensAFileAndFilesItsRightsAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)

	home := b.page(t, http.StatusOK, "/coordination/dossiers")
	wantContains(t, "the coordinator's home", home, `<label for="q">Rechercher un dossier</label>`, `<button type="submit">Rechercher</button>`,
		`<a class="button" href="/coordination/dossiers/nouveau">Nouveau dossier</a>`, `href="/coordination/relances"`)
	form := b.page(t, http.StatusOK, "/coordination/dossiers/nouveau")
	wantContains(t, "the new file form", form, `<label for="last_name">Nom</label>`, `<label for="first_name">Prénom</label>`,
		`<label for="birth_date">Date de naissance</label>`, `type="date" id="birth_date"`, `<label for="nir">NIR (facultatif)</label>`,
		"Créer le dossier")

	typedNIR := nir("2900499350123")
	code, location, body := b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau",
		url.Values{"last_name": {"Durand"}, "first_name": {"Amina"}, "birth_date": {"1990-04-12"}, "nir": {typedNIR}})
	if code != http.StatusSeeOther || !strings.HasPrefix(location, "/coordination/dossiers/") {
		t.Fatalf("create: %d → %q:\n%s", code, location, body)
	}
	id := strings.TrimPrefix(location, "/coordination/dossiers/")
	fromAPI := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+id, h.coordinator, "")
	if fromAPI["last_name"] != "Durand" || fromAPI["first_name"] != "Amina" || fromAPI["birth_date"] != "1990-04-12" || fromAPI["nir"] != typedNIR {
		t.Errorf("stored file %v", fromAPI)
	}
	// The same file through the API (no NIR: one file per NIR) is stored alike.
	viaAPI := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": "Durand", "first_name": "Amina", "birth_date": "1990-04-12"}))
	for _, field := range []string{"last_name", "first_name", "birth_date"} {
		if fromAPI[field] != viaAPI[field] {
			t.Errorf("%s: web %v, API %v", field, fromAPI[field], viaAPI[field])
		}
	}
	if fromAPI["rights"].(map[string]any)["status"] != "none" {
		t.Errorf("rights %v, want none", fromAPI["rights"])
	}
	if n := h.count(t, "audit_log", "action = 'patient.create'"); n != 2 {
		t.Errorf("%d patient.create audit rows, want 2", n)
	}

	fileNumber := str(t, fromAPI, "file_number")
	readsBefore := h.count(t, "patient_access_log", "purpose = 'patient.read' AND patient_id = "+id)
	page := b.page(t, http.StatusOK, location)
	wantContains(t, "the file page", page, "Dossier créé.", fileNumber, "Durand", "Amina", "12/04/1990", typedNIR, "aucune demande",
		"Demande de droits", `<label for="regime">Régime</label>`, `<option value="puma">PUMa</option>`,
		`<option value="puma_css">PUMa + C2S</option>`, `<option value="ame">AME</option>`,
		`<label for="filed_on">Date de dépôt</label>`, `type="date" id="filed_on"`, "Enregistrer la demande",
		`href="/coordination/dossiers/`+id+`/attestation">Attestation PASS</a>`)
	if n := h.count(t, "patient_access_log", "purpose = 'patient.read' AND patient_id = "+id); n != readsBefore+1 {
		t.Errorf("%d reads logged after opening the page, want %d", n, readsBefore+1)
	}

	// Search: by file number, by NIR (typed with spaces, found by its hash), and a miss.
	found := b.search(t, http.StatusOK, fileNumber)
	wantContains(t, "the search by file number", found, `href="/coordination/dossiers/`+id+`">`+fileNumber+"</a>", "Durand")
	spaced := typedNIR[:1] + " " + typedNIR[1:3] + " " + typedNIR[3:5] + " " + typedNIR[5:7] + " " + typedNIR[7:10] + " " + typedNIR[10:13] + " " + typedNIR[13:]
	found = b.search(t, http.StatusOK, spaced)
	wantContains(t, "the search by NIR", found, `href="/coordination/dossiers/`+id+`">`+fileNumber+"</a>")
	if strings.Contains(found, str(t, viaAPI, "file_number")) {
		t.Error("the NIR search found the file without that NIR")
	}
	miss := b.search(t, http.StatusOK, "PASS-2026-999999")
	wantContains(t, "a search that finds nothing", miss, "Aucun dossier ne correspond")
	wantContains(t, "a search with no word of 3 letters", b.search(t, http.StatusUnprocessableEntity, "<é> ;"),
		"Saisissez au moins 3 lettres du nom")

	// The rights application, compared with the API's on the other file.
	code, location, body = b.post(t, "/coordination/dossiers/"+id, "/coordination/dossiers/"+id+"/demande",
		url.Values{"regime": {"ame"}, "filed_on": {"2026-06-01"}})
	if code != http.StatusSeeOther || location != "/coordination/dossiers/"+id {
		t.Fatalf("rights request: %d → %q:\n%s", code, location, body)
	}
	page = b.page(t, http.StatusOK, location)
	wantContains(t, "the file after the application", page, "Demande de droits enregistrée.", "demande déposée", "AME", "01/06/2026")
	apiRequest := h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+str(t, viaAPI, "id")+"/rights-request", h.coordinator,
		mustJSON(t, map[string]any{"regime": "ame", "filed_on": "2026-06-01"}))
	webRights := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+id, h.coordinator, "")["rights"]
	if mustJSON(t, webRights) != mustJSON(t, apiRequest["rights"]) {
		t.Errorf("rights: web %v, API %v", webRights, apiRequest["rights"])
	}
	if n := h.count(t, "audit_log", "action = 'patient.rights_request'"); n != 2 {
		t.Errorf("%d patient.rights_request audit rows, want 2", n)
	}

	// The attestation: printable, with the file number and a validity.
	att := b.page(t, http.StatusOK, "/coordination/dossiers/"+id+"/attestation")
	wantContains(t, "the attestation", att, "Attestation PASS ambulatoire", fileNumber, "Durand", "Amina", "12/04/1990",
		"du 15/06/2026 au 14/09/2026", `class="no-print"`)
}

func TestWebCoordinatorFormsExplainTheirErrorsInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)
	existing := nir("1850375056123")
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": "Premier", "first_name": "Test", "birth_date": "1985-03-01", "nir": existing}))
	before := h.count(t, "patients")

	cases := []struct {
		name string
		form url.Values
		want []string
	}{
		{"no last name", url.Values{"first_name": {"Amina"}, "birth_date": {"1990-04-12"}}, []string{"Indiquez le nom", `value="Amina"`}},
		{"birth in the future", url.Values{"last_name": {"Durand"}, "first_name": {"Amina"}, "birth_date": {"2030-01-01"}},
			[]string{"Indiquez une date de naissance passée et plausible."}},
		{"a NIR with a wrong key", url.Values{"last_name": {"Durand"}, "first_name": {"Amina"}, "birth_date": {"1990-04-12"}, "nir": {"290049935012300"}},
			[]string{"Ce NIR n'est pas valide"}},
		{"a NIR already on a file", url.Values{"last_name": {"Durand"}, "first_name": {"Amina"}, "birth_date": {"1990-04-12"}, "nir": {existing}},
			[]string{"Un dossier existe déjà pour ce NIR"}},
	}
	for _, tc := range cases {
		code, _, body := b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau", tc.form)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", tc.name, code)
		}
		wantContains(t, tc.name, strings.ReplaceAll(body, "&#39;", "'"), append(tc.want, "Le dossier n'a pas été créé")...)
	}
	if n := h.count(t, "patients"); n != before {
		t.Errorf("%d files after refused forms, want %d", n, before)
	}

	p := h.newPatient(t, "Martin")
	code, _, body := b.post(t, "/coordination/dossiers/"+p.id, "/coordination/dossiers/"+p.id+"/demande",
		url.Values{"regime": {"puma"}, "filed_on": {"2026-07-01"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "La date de dépôt ne peut pas être dans le futur.") {
		t.Errorf("a filing in the future: %d:\n%s", code, body)
	}
	code, _, body = b.post(t, "/coordination/dossiers/"+p.id, "/coordination/dossiers/"+p.id+"/demande",
		url.Values{"regime": {"css"}, "filed_on": {"2026-06-01"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Choisissez le régime demandé.") {
		t.Errorf("an unknown regime: %d:\n%s", code, body)
	}
	h.openRights(t, p, "puma", "2026-06-01")
	code, _, body = b.post(t, "/coordination/dossiers/"+p.id, "/coordination/dossiers/"+p.id+"/demande",
		url.Values{"regime": {"puma"}, "filed_on": {"2026-06-01"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "sont déjà ouverts") {
		t.Errorf("a request on opened rights: %d:\n%s", code, body)
	}
	// The one request is the application openRights recorded.
	if n := h.count(t, "audit_log", "action = 'patient.rights_request'"); n != 1 {
		t.Errorf("%d rights requests stored, want only the one before the opening", n-1)
	}
	if rec := b.do(t, "GET", "/coordination/dossiers/999999", nil); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown file: %d, want 404", rec.Code)
	}
}

func TestWebCoordinatorRemindersListWhatTheAPIDoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Relance", "general_practitioner", "10000000031")
	p := h.newPatient(t, "Relancé")
	// Care on 20 March: the 90-day deadline, 18 June, is within the window.
	h.submit(t, pr, p, "F-REL-1", "2026-03-20", line{"G", "30.00", 1})
	b := mustSignIn(t, h, h.coordinator)

	page := b.page(t, http.StatusOK, "/coordination/relances")
	fromAPI := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", h.coordinator, "")
	listed := fromAPI["items"].([]any)
	if len(listed) != 1 {
		t.Fatalf("the API lists %d reminders, want 1", len(listed))
	}
	item := listed[0].(map[string]any)
	wantContains(t, "the reminders page", page, "<h1>Relances</h1>", `href="/coordination/dossiers/`+p.id+`">`+p.fileNumber+"</a>",
		item["last_name"].(string), "30,00\u00a0€", "18/06/2026", "<td class=\"num\">3</td>")
	if n := h.count(t, "patient_access_log", "purpose = 'reminders.list'"); n != 2 {
		t.Errorf("%d reminders reads logged, want 2 (page and API)", n)
	}
}

func TestWebReferentDecidesFromTheQueueAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	older, newer, viaAPI := h.newPatient(t, "Ancien"), h.newPatient(t, "Récent"), h.newPatient(t, "Api")
	h.requestRights(t, newer, "ame", "2026-06-01")
	h.requestRights(t, older, "puma", "2026-05-01")
	h.requestRights(t, viaAPI, "ame", "2026-06-01")
	b := mustSignIn(t, h, h.referent)

	reads := h.count(t, "patient_access_log")
	queue := b.page(t, http.StatusOK, "/cpam/dossiers")
	if n := h.count(t, "patient_access_log"); n != reads {
		t.Errorf("the queue logged %d identity reads; it shows none", n-reads)
	}
	wantContains(t, "the queue", queue, `href="/cpam/dossiers/`+older.id+`">`+older.fileNumber+"</a>", `href="/cpam/dossiers/`+newer.id+`">`+newer.fileNumber+"</a>")
	if strings.Index(queue, older.fileNumber) > strings.Index(queue, newer.fileNumber) {
		t.Error("the queue does not show the oldest filing first")
	}
	if strings.Contains(queue, "Ancien") {
		t.Error("the queue shows a name")
	}

	form := b.page(t, http.StatusOK, "/cpam/dossiers/"+newer.id)
	wantContains(t, "the decision forms", form, "Récent", "demande déposée", `<h3 id="ouverture">Ouvrir les droits</h3>`,
		`<input type="hidden" name="decision" value="opened">`, `<input type="hidden" name="decision" value="refused">`,
		`<label for="regime">Régime</label>`, `<option value="ame" selected>AME</option>`,
		`<label for="effective_from">Début des droits</label>`, `type="date" id="effective_from" name="effective_from" value="2026-05-02"`,
		`type="date" id="effective_to" name="effective_to" value="2027-05-31"`,
		`<label for="effective_to">Fin des droits</label>`, `<label for="reference">Référence de la décision</label>`,
		`<label for="reason">Motif du refus</label>`, `<button type="submit">Ouvrir les droits</button>`,
		`<button type="submit">Refuser les droits</button>`, `<p class="hint" id="reference-hint">`)
	// Each form has its own decision's fields only.
	opening, refusal, _ := strings.Cut(form[strings.Index(form, `<h3 id="ouverture">`):], `<h3 id="refus">`)
	if strings.Contains(opening, `name="reason"`) || strings.Contains(refusal, `name="effective_from"`) || strings.Contains(refusal, `name="regime"`) {
		t.Error("a decision form shows the other decision's fields")
	}

	decision := url.Values{"decision": {"opened"}, "regime": {"ame"}, "effective_from": {"2026-05-02"}, "effective_to": {"2027-05-31"},
		"reference": {"AME-2026-17"}, "reason": {""}}
	// The decision is confirmed first, on a page that says what it is and
	// what follows for the invoices, and carries its fields along.
	code, _, body := b.post(t, "/cpam/dossiers/"+newer.id, "/cpam/dossiers/"+newer.id+"/decision", decision)
	wantContains(t, "the decision's confirmation", htmlText(body), "Ouvrir les droits AME de ce dossier du 02/05/2026 au 31/05/2027 (référence AME-2026-17) ?",
		"seront transmises à la CPAM", `<input type="hidden" name="effective_to" value="2027-05-31">`)
	if code != http.StatusOK || h.count(t, "rights_decisions") != 0 {
		t.Fatalf("the decision before its confirmation: %d, %d decisions", code, h.count(t, "rights_decisions"))
	}
	decision.Set("confirme", "oui")
	code, location, body := b.post(t, "/cpam/dossiers/"+newer.id, "/cpam/dossiers/"+newer.id+"/decision", decision)
	if code != http.StatusSeeOther || location != "/cpam/dossiers" {
		t.Fatalf("decision: %d → %q:\n%s", code, location, body)
	}
	queue = b.page(t, http.StatusOK, "/cpam/dossiers")
	wantContains(t, "the queue after the decision", queue, "Décision enregistrée.")
	if strings.Contains(queue, newer.fileNumber) {
		t.Error("the decided file is still in the queue")
	}
	apiDecision := h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+viaAPI.id+"/rights-decision", h.referent, mustJSON(t, map[string]any{
		"decision": "opened", "regime": "ame", "effective_from": "2026-05-02", "effective_to": "2027-05-31", "reference": "AME-2026-17"}))
	webRights := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+newer.id, h.referent, "")["rights"].(map[string]any)
	apiRights := apiDecision["rights"].(map[string]any)
	delete(webRights, "decided_at")
	delete(apiRights, "decided_at")
	if mustJSON(t, webRights) != mustJSON(t, apiRights) {
		t.Errorf("rights: web %v, API %v", webRights, apiRights)
	}

	// A refusal sends only the reason, whatever the opening's fields hold.
	code, _, body = b.post(t, "/cpam/dossiers/"+older.id, "/cpam/dossiers/"+older.id+"/decision", url.Values{
		"decision": {"refused"}, "regime": {"puma"}, "effective_from": {"2026-05-01"}, "reason": {"résidence non établie"}, "confirme": {"oui"}})
	if code != http.StatusSeeOther {
		t.Fatalf("refusal: %d:\n%s", code, body)
	}
	refused := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+older.id, h.referent, "")["rights"].(map[string]any)
	if refused["status"] != "refused" || refused["reason"] != "résidence non établie" || refused["effective_from"] != nil {
		t.Errorf("refused rights %v", refused)
	}
	if n := h.count(t, "audit_log", "action = 'patient.rights_decision'"); n != 3 {
		t.Errorf("%d patient.rights_decision audit rows, want 3", n)
	}
}

func TestWebReferentDecisionFormExplainsItsErrorsInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Erreur")
	h.requestRights(t, p, "puma", "2026-06-01")
	b := mustSignIn(t, h, h.referent)
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"no reference", url.Values{"decision": {"opened"}, "regime": {"puma"}, "effective_from": {"2026-06-01"}}, "Indiquez la référence de la décision"},
		{"no start", url.Values{"decision": {"opened"}, "regime": {"puma"}, "reference": {"R-1"}}, "Indiquez la date de début des droits."},
		{"end before start", url.Values{"decision": {"opened"}, "regime": {"puma"}, "effective_from": {"2026-06-01"}, "effective_to": {"2026-05-01"}, "reference": {"R-1"}},
			"Indiquez une date de fin postérieure"},
		{"a reason for an opening", url.Values{"decision": {"opened"}, "regime": {"puma"}, "effective_from": {"2026-06-01"}, "reference": {"R-1"}, "reason": {"x"}},
			"Le motif ne s'indique que pour un refus"},
		{"a refusal without a reason", url.Values{"decision": {"refused"}}, "Indiquez le motif du refus"},
		{"no decision", url.Values{"decision": {"maybe"}}, "Choisissez d'ouvrir les droits ou de les refuser."},
	}
	for _, tc := range cases {
		code, _, body := b.post(t, "/cpam/dossiers/"+p.id, "/cpam/dossiers/"+p.id+"/decision", tc.form)
		body = strings.ReplaceAll(body, "&#39;", "'")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) || !strings.Contains(body, "La décision n'a pas été enregistrée") {
			t.Errorf("%s: %d, want 422 with %q:\n%s", tc.name, code, tc.want, body)
		}
	}
	if n := h.count(t, "audit_log", "action = 'patient.rights_decision'"); n != 0 {
		t.Errorf("%d decisions stored by refused forms", n)
	}
}

func TestWebCoordinatorAndReferentPagesAreTheirRolesOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Curieux", "general_practitioner", "10000000032")
	p := h.newPatient(t, "Secret")
	coordinatorPages := []string{"/coordination/dossiers", "/coordination/dossiers/nouveau", "/coordination/dossiers/" + p.id,
		"/coordination/dossiers/" + p.id + "/attestation", "/coordination/relances"}
	referentPages := []string{"/cpam/dossiers", "/cpam/dossiers/" + p.id}
	others := map[string]struct {
		token     string
		forbidden []string
	}{
		"provider":    {pr.token, append(append([]string{}, coordinatorPages...), referentPages...)},
		"finance":     {h.finance, append(append([]string{}, coordinatorPages...), referentPages...)},
		"referent":    {h.referent, coordinatorPages},
		"coordinator": {h.coordinator, referentPages},
	}
	reads := h.count(t, "patient_access_log")
	for role, o := range others {
		b := mustSignIn(t, h, o.token)
		for _, path := range o.forbidden {
			if rec := b.do(t, "GET", path, nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Accès refusé") {
				t.Errorf("%s GET %s: %d, want 403", role, path, rec.Code)
			}
		}
	}
	if n := h.count(t, "patient_access_log"); n != reads {
		t.Errorf("refused pages logged %d identity reads", n-reads)
	}
	signedOut := h.browser()
	if rec := signedOut.do(t, "GET", "/coordination/dossiers/"+p.id, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/connexion" {
		t.Errorf("signed out: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
}

// search posts the coordinator's search form as a browser does, and fails
// unless it answers want; it returns the page's text.
func (b *browser) search(t *testing.T, want int, q string) string {
	t.Helper()
	code, _, body := b.post(t, "/coordination/dossiers", "/coordination/dossiers", url.Values{"q": {q}})
	if code != want {
		t.Fatalf("search %q: %d, want %d:\n%s", q, code, want, body)
	}
	return htmlText(body)
}

// TestWebSearchIsAPostAndKeepsTheNIROutOfURLsAndLogs: the search form
// posts (with its CSRF token) to the page itself; a NIR in a query string
// searches nothing and is read by no one; the request's log line names the
// route, never what was searched.
func TestWebSearchIsAPostAndKeepsTheNIROutOfURLsAndLogs(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := newHarnessLogging(t, logs.logger())
	theNIR := nir("2900499350123")
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": "Cherché", "first_name": "Inès", "birth_date": "1990-04-29", "nir": theNIR}))
	fileNumber := str(t, created, "file_number")
	b := mustSignIn(t, h, h.coordinator)

	home := b.page(t, http.StatusOK, "/coordination/dossiers")
	wantContains(t, "the search form", home, `<form method="post" action="/coordination/dossiers"`, `name="_csrf"`, `name="q"`)
	// The list's filter is a GET (filters go in the query string); the
	// search is not.
	if regexp.MustCompile(`<form method="get"[^>]*role="search"`).MatchString(home) {
		t.Error("the search form sends a GET")
	}

	reads := h.count(t, "patient_access_log")
	byURL := b.page(t, http.StatusOK, "/coordination/dossiers?q="+theNIR)
	// (The page lists the files, numbers and rights only: no search result.)
	if strings.Contains(byURL, "Dossiers trouvés") || strings.Contains(byURL, "Cherché") || strings.Contains(byURL, theNIR) {
		t.Error("a NIR in the query string was searched")
	}
	if n := h.count(t, "patient_access_log"); n != reads {
		t.Errorf("a GET with ?q= read %d files", n-reads)
	}

	found := b.search(t, http.StatusOK, theNIR)
	wantContains(t, "the search by NIR", found, fileNumber, "Cherché")
	if rec := b.do(t, "POST", "/coordination/dossiers", url.Values{"q": {theNIR}}); rec.Code != http.StatusForbidden {
		t.Errorf("a search without the CSRF token: %d, want 403", rec.Code)
	}
	referent := mustSignIn(t, h, h.referent)
	if code, _, _ := referent.post(t, "/cpam/dossiers", "/coordination/dossiers", url.Values{"q": {theNIR}}); code != http.StatusForbidden {
		t.Errorf("a referent's search: %d, want 403", code)
	}

	searches := 0
	for _, line := range logs.withMsg(t, "request") {
		if line["method"] == "POST" && line["route"] == "/coordination/dossiers" {
			searches++
		}
	}
	if searches < 2 {
		t.Errorf("%d request lines for the searches, want one each", searches)
	}
	for _, line := range logs.raw() {
		if strings.Contains(line, theNIR) || strings.Contains(line, theNIR[:13]) {
			t.Errorf("a log line carries the NIR searched: %s", line)
		}
	}
}

// TestWebCoordinatorRecordsTheCommuneOfAFile: the commune (INSEE code) is
// typed on the new file form or later on the file; a postal code or junk
// is refused with the French explanation and nothing changes.
func TestWebCoordinatorRecordsTheCommuneOfAFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)
	code, _, body := b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau",
		url.Values{"last_name": {"Le Goff"}, "first_name": {"Anne"}, "birth_date": {"1970-02-03"}, "commune_code": {"75000"}})
	wantContains(t, "a postal code", strings.ReplaceAll(body, "&#39;", "'"), "pas le code postal", `id="commune_code-error"`,
		`aria-invalid="true"`, `value="75000"`, `value="Le Goff"`)
	if code != http.StatusUnprocessableEntity || h.count(t, "patients") != 0 {
		t.Fatalf("a postal code (75000: no commune is numbered 000) gives %d", code)
	}
	code, location, body := b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau",
		url.Values{"last_name": {"Le Goff"}, "first_name": {"Anne"}, "birth_date": {"1970-02-03"}, "commune_code": {"56121"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create with a commune: %d\n%s", code, body)
	}
	id := strings.TrimPrefix(location, "/coordination/dossiers/")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+id, h.coordinator, "")["commune_code"]; got != "56121" {
		t.Errorf("stored commune %v, want 56121", got)
	}
	wantContains(t, "the file page", b.page(t, http.StatusOK, location), `<h2 id="commune">Commune de résidence</h2>`, `value="56121"`)
	code, _, body = b.post(t, location, location+"/commune", url.Values{"commune_code": {"2C004"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Ce code commune n&#39;est pas valide") {
		t.Errorf("a commune that is none: %d\n%s", code, body)
	}
	code, _, _ = b.post(t, location, location+"/commune", url.Values{"commune_code": {"2a004"}})
	if code != http.StatusSeeOther {
		t.Fatalf("a Corsican commune: %d", code)
	}
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+id, h.coordinator, "")["commune_code"]; got != "2A004" {
		t.Errorf("stored commune %v, want 2A004", got)
	}
	if n := h.count(t, "audit_log", "action = 'patient.commune'"); n != 1 {
		t.Errorf("%d patient.commune audit rows, want 1 (the refused change stores none)", n)
	}
	if n := h.count(t, "audit_log", "action = 'patient.commune' AND after::text LIKE '%2A004%'"); n != 0 {
		t.Error("the audit row names the commune")
	}
}
