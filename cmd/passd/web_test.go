package main

// The web pages driven through the real Echo stack, as a browser without
// JavaScript would: cookies kept between requests, forms posted with their
// CSRF token read from the page.

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"passd/web"
)

// browser keeps cookies between requests, like a browser would.
type browser struct {
	h       *harness
	cookies map[string]*http.Cookie
	headers map[string]string
	remote  string // the TCP peer, when not httptest's default
}

func (h *harness) browser() *browser {
	return &browser{h: h, cookies: map[string]*http.Cookie{}, headers: map[string]string{}}
}

func (b *browser) do(t *testing.T, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if b.remote != "" {
		req.RemoteAddr = b.remote
	}
	for k, v := range b.headers {
		req.Header.Set(k, v)
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.h.app.echo.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// csrf opens path and returns the CSRF token of its forms.
func (b *browser) csrf(t *testing.T, path string) string {
	t.Helper()
	rec := b.do(t, "GET", path, nil)
	m := csrfInput.FindStringSubmatch(rec.Body.String())
	if m == nil || m[1] == "" {
		t.Fatalf("GET %s (%d): no CSRF token in the page:\n%s", path, rec.Code, rec.Body.String())
	}
	return m[1]
}

// signIn pastes token on the sign-in page and returns where it leads.
func (b *browser) signIn(t *testing.T, token string) *httptest.ResponseRecorder {
	t.Helper()
	csrf := b.csrf(t, "/connexion")
	return b.do(t, "POST", "/connexion", url.Values{"_csrf": {csrf}, "token": {token}})
}

func mustSignIn(t *testing.T, h *harness, token string) *browser {
	t.Helper()
	b := h.browser()
	rec := b.signIn(t, token)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
	}
	return b
}

// page fetches path and fails unless it answers want.
func (b *browser) page(t *testing.T, want int, path string) string {
	t.Helper()
	rec := b.do(t, "GET", path, nil)
	if rec.Code != want {
		t.Fatalf("GET %s: %d, want %d:\n%s", path, rec.Code, want, rec.Body.String())
	}
	return html.UnescapeString(rec.Body.String())
}

func TestWebSignInOpensAStrictSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Web", "general_practitioner", "10000000001")
	b := h.browser()

	if rec := b.do(t, "GET", "/", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/connexion" {
		t.Fatalf("GET / signed out: %d → %q, want 303 → /connexion", rec.Code, rec.Header().Get("Location"))
	}
	signInPage := b.page(t, http.StatusOK, "/connexion")
	for _, want := range []string{`<html lang="fr">`, "<h1>Connexion</h1>", `<label for="token">Jeton d'accès</label>`,
		`type="password" id="token" name="token"`, "Se connecter"} {
		if !strings.Contains(signInPage, want) {
			t.Errorf("the sign-in page lacks %q", want)
		}
	}

	rec := b.signIn(t, pr.token)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/effecteur/factures" {
		t.Fatalf("sign-in: %d → %q, want 303 → /effecteur/factures", rec.Code, rec.Header().Get("Location"))
	}
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == web.SessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no %s cookie set: %v", web.SessionCookie, rec.Header().Values("Set-Cookie"))
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Errorf("session cookie %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", session)
	}
	if strings.Contains(rec.Header().Get("Set-Cookie"), pr.token) {
		t.Error("the cookie carries the token")
	}
	if n := h.count(t, "web_sessions"); n != 1 {
		t.Errorf("%d sessions stored, want 1", n)
	}
	if n := h.count(t, "web_sessions", "hash = sha256(convert_to('"+session.Value+"', 'UTF8'))"); n != 1 {
		t.Errorf("the session is not stored as the SHA-256 of its id")
	}
	if n := h.count(t, "audit_log", "action = 'session.open'"); n != 1 {
		t.Errorf("%d session.open audit rows, want 1", n)
	}
	if rec := b.do(t, "GET", "/", nil); rec.Header().Get("Location") != "/effecteur/factures" {
		t.Errorf("GET / signed in → %q, want the provider's home", rec.Header().Get("Location"))
	}
	list := b.page(t, http.StatusOK, "/effecteur/factures")
	if !strings.Contains(list, "user-of-Cabinet Web") || !strings.Contains(list, "Se déconnecter") {
		t.Errorf("the page header lacks the user's name or the sign-out button")
	}

	// Behind a TLS-terminating proxy on this host the cookie is Secure
	// (Echo reads X-Forwarded-Proto only from a loopback or private peer).
	tls := h.browser()
	tls.remote = "127.0.0.1:40000"
	tls.headers["X-Forwarded-Proto"] = "https"
	rec = tls.signIn(t, pr.token)
	if c := tls.cookies[web.SessionCookie]; rec.Code != http.StatusSeeOther || c == nil || !c.Secure {
		t.Errorf("sign-in over TLS: %d, cookie %+v, want a Secure cookie", rec.Code, c)
	}
}

func TestWebWrongTokenIsRefusedInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	for _, token := range []string{"", "passd_nope", "n'importe quoi <script>"} {
		rec := b.signIn(t, token)
		body := html.UnescapeString(rec.Body.String())
		if rec.Code != http.StatusUnauthorized || !strings.Contains(body, "Jeton invalide ou expiré.") {
			t.Errorf("token %q: %d, want 401 with the French message:\n%s", token, rec.Code, body)
		}
		if _, ok := b.cookies[web.SessionCookie]; ok {
			t.Errorf("token %q: a session cookie was set", token)
		}
	}
	if n := h.count(t, "web_sessions"); n != 0 {
		t.Errorf("%d sessions stored, want 0", n)
	}
}

func TestWebSignOutDeletesTheSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)
	stolen := b.cookies[web.SessionCookie].Value
	csrf := b.csrf(t, "/coordination/dossiers")
	rec := b.do(t, "POST", "/deconnexion", url.Values{"_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/connexion" {
		t.Fatalf("sign-out: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	if _, ok := b.cookies[web.SessionCookie]; ok {
		t.Error("the session cookie was not cleared")
	}
	if n := h.count(t, "web_sessions"); n != 0 {
		t.Errorf("%d sessions left, want 0", n)
	}
	if n := h.count(t, "audit_log", "action = 'session.close'"); n != 1 {
		t.Errorf("%d session.close audit rows, want 1", n)
	}
	if !strings.Contains(b.page(t, http.StatusOK, "/connexion"), "Vous êtes déconnecté.") {
		t.Error("no sign-out message")
	}
	// The old cookie, replayed, opens nothing.
	replay := h.browser()
	replay.cookies[web.SessionCookie] = &http.Cookie{Name: web.SessionCookie, Value: stolen}
	if rec := replay.do(t, "GET", "/coordination/dossiers", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/connexion" {
		t.Errorf("replayed cookie: %d → %q, want 303 → /connexion", rec.Code, rec.Header().Get("Location"))
	}
}

func TestWebSessionsEndWhenIdleOrWhenTheTokenIsRevoked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)
	h.setNow(defaultNow.Add(11 * time.Hour))
	b.page(t, http.StatusOK, "/coordination/dossiers") // slides the expiry
	h.setNow(defaultNow.Add(22 * time.Hour))
	b.page(t, http.StatusOK, "/coordination/dossiers")
	h.setNow(defaultNow.Add(34*time.Hour + time.Minute))
	if rec := b.do(t, "GET", "/coordination/dossiers", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after 12 h idle: %d, want 303 to the sign-in page", rec.Code)
	}

	h.setNow(defaultNow)
	b = mustSignIn(t, h, h.referent)
	if _, err := h.pool.Exec(context.Background(), `UPDATE tokens SET revoked_at = $1 WHERE hash = sha256(convert_to($2, 'UTF8'))`,
		defaultNow, h.referent); err != nil {
		t.Fatal(err)
	}
	if rec := b.do(t, "GET", "/cpam/dossiers", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after the token's revocation: %d, want 303 to the sign-in page", rec.Code)
	}
}

func TestWebFormsWithoutTheCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet CSRF", "general_practitioner", "10000000002")
	p := h.newPatient(t, "Martin")

	anon := h.browser()
	anon.page(t, http.StatusOK, "/connexion") // has the CSRF cookie
	for name, form := range map[string]url.Values{
		"missing": {"token": {pr.token}},
		"wrong":   {"token": {pr.token}, "_csrf": {"forged"}},
	} {
		rec := anon.do(t, "POST", "/connexion", form)
		if rec.Code != http.StatusForbidden || !strings.Contains(html.UnescapeString(rec.Body.String()), "Formulaire refusé") {
			t.Errorf("sign-in, CSRF token %s: %d, want the 403 page", name, rec.Code)
		}
	}

	// A browser that says where a form comes from: another site is refused.
	crossSite := h.browser()
	crossSite.headers["Sec-Fetch-Site"] = "cross-site"
	if rec := crossSite.do(t, "POST", "/connexion", url.Values{"token": {pr.token}}); rec.Code != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", rec.Code)
	}

	b := mustSignIn(t, h, pr.token)
	huge := url.Values{"_csrf": {b.csrf(t, "/effecteur/factures/nouvelle")}, "label": {strings.Repeat("x", 2<<20)}}
	if rec := b.do(t, "POST", "/effecteur/factures/nouvelle", huge); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB form: %d, want 413", rec.Code)
	}
	form := invoiceForm(p.fileNumber, "F-CSRF", today, [][4]string{{"G", "Consultation", "1", "30,00"}})
	if rec := b.do(t, "POST", "/effecteur/factures/nouvelle", form); rec.Code != http.StatusForbidden {
		t.Errorf("invoice without the CSRF token: %d, want 403", rec.Code)
	}
	if rec := b.do(t, "POST", "/deconnexion", url.Values{}); rec.Code != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", rec.Code)
	}
	if n := h.count(t, "invoices"); n != 0 {
		t.Errorf("%d invoices stored, want 0", n)
	}
	// The CSRF cookie is as strict as the session's.
	c := b.cookies["passd_csrf"]
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("CSRF cookie %+v, want HttpOnly and SameSite=Strict", c)
	}
}

// invoiceForm is the new invoice form as a browser posts it; each line is
// code, label, quantity, unit price.
func invoiceForm(fileNumber, ref, careDate string, lines [][4]string) url.Values {
	f := url.Values{"patient_file_number": {fileNumber}, "birth_date": {testBirthDate}, "external_ref": {ref}, "care_date": {careDate}, "action": {"send"}}
	for _, l := range lines {
		f.Add("code", l[0])
		f.Add("label", l[1])
		f.Add("quantity", l[2])
		f.Add("unit_price", l[3])
	}
	return f
}

func TestWebPagesCarryTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Entêtes", "general_practitioner", "10000000003")
	p := h.newPatient(t, "Durand")
	inv := h.submit(t, pr, p, "F-H1", today)
	b := mustSignIn(t, h, pr.token)
	other := mustSignIn(t, h, h.finance)
	anon := h.browser()
	for _, c := range []struct {
		b    *browser
		path string
		code int
	}{
		{anon, "/connexion", 200}, {anon, "/", 303}, {anon, "/effecteur/factures", 303},
		{b, "/effecteur/factures", 200}, {b, "/effecteur/factures/nouvelle", 200}, {b, "/effecteur/factures/" + str(t, inv, "id"), 200},
		{b, "/effecteur/factures/999999", 404}, {b, "/effecteur/releve", 200}, {b, "/effecteur/releve.csv", 200},
		{other, "/effecteur/factures", 403}, {other, "/finances", 200},
		{anon, "/static/passd.css", 200}, {anon, "/static/passd.js", 200}, {anon, "/static/htmx.min.js", 200},
	} {
		rec := c.b.do(t, "GET", c.path, nil)
		if rec.Code != c.code {
			t.Errorf("GET %s: %d, want %d", c.path, rec.Code, c.code)
		}
		for header, want := range map[string]string{
			"Content-Security-Policy": web.ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
		} {
			if got := rec.Header().Get(header); got != want {
				t.Errorf("GET %s: %s = %q, want %q", c.path, header, got, want)
			}
		}
		if strings.Contains(rec.Body.String(), "<script>") || strings.Contains(rec.Body.String(), " onclick=") {
			t.Errorf("GET %s: inline script in the page", c.path)
		}
	}
	if body := other.page(t, http.StatusForbidden, "/effecteur/factures"); !strings.Contains(body, "Accès refusé") {
		t.Error("the 403 page is not in French")
	}
}

func TestWebProviderSubmitsATwoLineInvoiceAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Formulaire", "general_practitioner", "10000000004")
	p := h.newPatient(t, "Petit")
	b := mustSignIn(t, h, pr.token)

	form := b.page(t, http.StatusOK, "/effecteur/factures/nouvelle")
	for _, want := range []string{"Numéro de dossier PASS", "Référence de la facture", `type="date" id="care_date"`,
		"Code de l'acte (ligne 1)", "Libellé (ligne 1)", "Quantité (ligne 1)", "Prix unitaire (€) (ligne 1)",
		"Ajouter une ligne", "Retirer la ligne", `id="total"`, "Envoyer la facture"} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	// Without JavaScript, "Ajouter une ligne" sends the form back with one more line.
	csrf := b.csrf(t, "/effecteur/factures/nouvelle")
	add := invoiceForm(p.fileNumber, "F-WEB-1", "2026-06-10", [][4]string{{"G", "Consultation", "1", "25,00"}})
	add.Set("_csrf", csrf)
	add.Set("action", "add-line")
	rec := b.do(t, "POST", "/effecteur/factures/nouvelle", add)
	body := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusOK || !strings.Contains(body, "Code de l'acte (ligne 2)") || !strings.Contains(body, `value="F-WEB-1"`) ||
		!strings.Contains(body, "Total : 25,00\u00a0€") {
		t.Fatalf("add a line: %d:\n%s", rec.Code, body)
	}

	lines := [][4]string{{"G", "Consultation", "1", "25,00"}, {"YYYY010", "Acte technique", "2", "15.00"}}
	submit := invoiceForm(p.fileNumber, "F-WEB-1", "2026-06-10", lines)
	submit.Set("_csrf", csrf)
	rec = b.do(t, "POST", "/effecteur/factures/nouvelle", submit)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/effecteur/factures" {
		t.Fatalf("submit: %d → %q:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	list := b.page(t, http.StatusOK, "/effecteur/factures")
	for _, want := range []string{"Facture enregistrée.", "F-WEB-1", p.fileNumber, "10/06/2026", "55,00\u00a0€", "en attente", "08/09/2026"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(b.page(t, http.StatusOK, "/effecteur/factures"), "Facture enregistrée.") {
		t.Error("the flash message shows twice")
	}

	// The same invoice through the API: stored alike, line for line.
	h.submit(t, pr, p, "F-API-1", "2026-06-10", line{"G", "25.00", 1}, line{"YYYY010", "15.00", 2})
	list2 := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", pr.token, "")
	items := list2["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d invoices, want 2", len(items))
	}
	fromAPI, fromWeb := items[0].(map[string]any), items[1].(map[string]any)
	for _, field := range []string{"provider_id", "patient_file_number", "care_date", "deadline", "status", "total"} {
		if fromAPI[field] != fromWeb[field] {
			t.Errorf("%s: web %v, API %v", field, fromWeb[field], fromAPI[field])
		}
	}
	webLines, apiLines := fromWeb["lines"].([]any), fromAPI["lines"].([]any)
	if len(webLines) != 2 || len(apiLines) != 2 {
		t.Fatalf("lines: web %v, API %v", webLines, apiLines)
	}
	for i := range webLines {
		w, a := webLines[i].(map[string]any), apiLines[i].(map[string]any)
		for _, field := range []string{"code", "quantity", "unit_price", "total"} {
			if w[field] != a[field] {
				t.Errorf("line %d %s: web %v, API %v", i+1, field, w[field], a[field])
			}
		}
	}
	if n := h.count(t, "audit_log", "action = 'invoice.create'"); n != 2 {
		t.Errorf("%d invoice.create audit rows, want 2", n)
	}
}

func TestWebInvoiceFormExplainsItsErrorsInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Erreurs", "general_practitioner", "10000000005")
	p := h.newPatient(t, "Leroy")
	h.submit(t, pr, p, "F-DUP", today)
	b := mustSignIn(t, h, pr.token)
	csrf := b.csrf(t, "/effecteur/factures/nouvelle")
	ok := [4]string{"G", "Consultation", "1", "25,00"}
	cases := []struct {
		name                string
		fileNumber, ref, on string
		lines               [][4]string
		want                string
	}{
		{"unknown file", "PASS-1999-000001", "F-1", today, [][4]string{ok}, "Aucun dossier PASS ne porte ce numéro avec cette date de naissance"},
		{"no file number", "", "F-1", today, [][4]string{ok}, "Indiquez le numéro de dossier PASS"},
		{"no reference", p.fileNumber, "", today, [][4]string{ok}, "Indiquez la référence de la facture"},
		{"duplicate reference", p.fileNumber, "F-DUP", today, [][4]string{ok}, "Vous avez déjà envoyé une facture avec cette référence."},
		{"future care", p.fileNumber, "F-1", "2026-06-16", [][4]string{ok}, "La date des soins ne peut pas être dans le futur."},
		{"bad date", p.fileNumber, "F-1", "10/06/2026", [][4]string{ok}, "Indiquez la date des soins"},
		{"no line", p.fileNumber, "F-1", today, [][4]string{{"", "", "1", ""}}, "Ajoutez au moins une ligne."},
		{"bad code", p.fileNumber, "F-1", today, [][4]string{ok, {"ZZ1", "Acte", "1", "10"}}, "Code inconnu"},
		{"code outside the catalogue", p.fileNumber, "F-1", today, [][4]string{ok, {"ZZZ", "Acte", "1", "10"}}, "pas au catalogue des actes"},
		{"price over the act's ceiling", p.fileNumber, "F-1", today, [][4]string{{"G", "Consultation", "1", "31,00"}}, "dépasse le plafond"},
		{"no label", p.fileNumber, "F-1", today, [][4]string{ok, {"G", "", "1", "10"}}, "Indiquez le libellé de l'acte"},
		{"zero quantity", p.fileNumber, "F-1", today, [][4]string{ok, {"G", "Acte", "0", "10"}}, "Indiquez une quantité entière de 1 à 999."},
		{"word quantity", p.fileNumber, "F-1", today, [][4]string{ok, {"G", "Acte", "deux", "10"}}, "Indiquez une quantité entière de 1 à 999."},
		{"bad price", p.fileNumber, "F-1", today, [][4]string{ok, {"G", "Acte", "1", "dix euros"}}, "Indiquez un prix positif"},
		{"three decimals", p.fileNumber, "F-1", today, [][4]string{ok, {"G", "Acte", "1", "1,005"}}, "Indiquez un prix positif"},
	}
	for _, c := range cases {
		form := invoiceForm(c.fileNumber, c.ref, c.on, c.lines)
		form.Set("_csrf", csrf)
		rec := b.do(t, "POST", "/effecteur/factures/nouvelle", form)
		body := html.UnescapeString(rec.Body.String())
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want 422 with %q:\n%s", c.name, rec.Code, c.want, body)
			continue
		}
		// The values typed are kept.
		for _, l := range c.lines {
			if l[1] != "" && !strings.Contains(body, `value="`+l[1]+`"`) {
				t.Errorf("%s: the label %q was not kept", c.name, l[1])
			}
		}
		if c.ref != "" && !strings.Contains(body, `value="`+c.ref+`"`) {
			t.Errorf("%s: the reference was not kept", c.name)
		}
	}
	// A wrong birth date is told as an unknown file; none is asked for.
	for birth, want := range map[string]string{"1990-04-13": "Aucun dossier PASS ne porte ce numéro avec cette date de naissance",
		"": "Indiquez la date de naissance du patient"} {
		form := invoiceForm(p.fileNumber, "F-1", today, [][4]string{ok})
		form.Set("birth_date", birth)
		form.Set("_csrf", csrf)
		rec := b.do(t, "POST", "/effecteur/factures/nouvelle", form)
		if body := html.UnescapeString(rec.Body.String()); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("birth date %q: %d, want 422 with %q:\n%s", birth, rec.Code, want, body)
		}
	}
	if n := h.count(t, "invoices"); n != 1 {
		t.Errorf("%d invoices stored, want only the API's", n)
	}
}

// TestWebInvoiceFormShowsEveryErrorAtOnce: an invoice sent with several
// mistakes comes back with each one under its field (aria-invalid, tied by
// aria-describedby), all listed in a summary at the top that links to the
// fields, and everything typed kept.
func TestWebInvoiceFormShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Tout", "general_practitioner", "10000000006")
	b := mustSignIn(t, h, pr.token)
	csrf := b.csrf(t, "/effecteur/factures/nouvelle")
	form := invoiceForm("", "", "2026-06-16", [][4]string{{"G", "", "0", "25,00"}, {"ZZ1", "Acte", "2", "dix"}})
	form.Set("birth_date", "")
	form.Set("_csrf", csrf)
	rec := b.do(t, "POST", "/effecteur/factures/nouvelle", form)
	body := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a form full of mistakes: %d", rec.Code)
	}
	wantEveryFieldRefused(t, "the invoice form", body,
		[]string{"patient_file_number", "birth_date", "external_ref", "care_date", "label-1", "quantity-1", "code-2", "unit_price-2"}, nil)
	wantContains(t, "the invoice form", body, "La facture n'a pas été enregistrée : corrigez les champs signalés.")
	// The valid fields are not flagged; what was typed is kept.
	wantContains(t, "the kept values", body, `value="25,00"`, `value="dix"`, `value="ZZ1"`, `value="2026-06-16"`)
	for _, id := range []string{"code-1", "unit_price-1", "label-2", "quantity-2"} {
		if strings.Contains(body, `id="`+id+`-error"`) {
			t.Errorf("the valid field %s has an error", id)
		}
	}
	if n := h.count(t, "invoices"); n != 0 {
		t.Errorf("%d invoices stored", n)
	}
}

func TestWebProvidersSeeOnlyTheirOwnInvoices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mine := h.newProvider(t, "Cabinet A", "general_practitioner", "10000000006")
	theirs := h.newProvider(t, "Cabinet B", "general_practitioner", "10000000007")
	p := h.newPatient(t, "Moreau")
	h.submit(t, mine, p, "F-MINE", today)
	other := h.submit(t, theirs, p, "F-THEIRS", today)
	b := mustSignIn(t, h, mine.token)
	list := b.page(t, http.StatusOK, "/effecteur/factures")
	if !strings.Contains(list, "F-MINE") || strings.Contains(list, "F-THEIRS") {
		t.Errorf("the list shows another provider's invoice or not its own:\n%s", list)
	}
	if body := b.page(t, http.StatusNotFound, "/effecteur/factures/"+str(t, other, "id")); !strings.Contains(body, "Page introuvable") {
		t.Errorf("another provider's invoice: not the French 404 page:\n%s", body)
	}
	b.page(t, http.StatusNotFound, "/effecteur/factures/01")
	if statement := b.page(t, http.StatusOK, "/effecteur/releve"); strings.Contains(statement, "F-THEIRS") || !strings.Contains(statement, "F-MINE") {
		t.Errorf("the statement shows another provider's invoice or not its own")
	}
}

func TestWebListAndStatementSpeakFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Relevé", "general_practitioner", "10000000007")
	opened := h.newPatient(t, "Bernard")
	refused := h.newPatient(t, "Thomas")
	h.submit(t, pr, opened, "F-BIG", "2026-06-01", line{"YYYY010", "617.28", 2})
	h.submit(t, pr, refused, "F-CITY", "2026-06-02", line{"G", "30.00", 1})
	h.requestRights(t, opened, "puma", "2026-06-01")
	h.openRights(t, opened, "puma", "2026-05-01")
	h.refuseRights(t, refused)
	h.runJob(t, "release")

	b := mustSignIn(t, h, pr.token)
	list := b.page(t, http.StatusOK, "/effecteur/factures")
	for _, want := range []string{"1\u202f234,56\u00a0€", "01/06/2026", "transmise à la CPAM", "à payer par la ville", "30,00\u00a0€"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	statement := b.page(t, http.StatusOK, "/effecteur/releve?du=2026-05-01&au=2026-06-15")
	for _, want := range []string{"du 01/05/2026 au 15/06/2026", "F-BIG", "F-CITY", "1\u202f264,56\u00a0€", "864,19\u00a0€",
		"/effecteur/releve.csv?du=2026-05-01&au=2026-06-15", "Télécharger le relevé (CSV)"} {
		if !strings.Contains(statement, want) {
			t.Errorf("the statement lacks %q:\n%s", want, statement)
		}
	}
	// The download is the API's CSV, byte for byte.
	csv := b.do(t, "GET", "/effecteur/releve.csv?du=2026-05-01&au=2026-06-15", nil)
	api := h.doRaw(t, "GET", "/api/v1/statement?from=2026-05-01&to=2026-06-15&format=csv", pr.token, "")
	if csv.Code != http.StatusOK || csv.Body.String() != api.Body.String() || !strings.HasPrefix(csv.Body.String(), "\ufeff") {
		t.Errorf("CSV download: %d, differs from the API's or has no BOM:\n%s\n---\n%s", csv.Code, csv.Body.String(), api.Body.String())
	}
	if got := csv.Header().Get("Content-Disposition"); !strings.Contains(got, "releve-pass-2026-05-01-2026-06-15.csv") {
		t.Errorf("CSV file name: %q", got)
	}
	bad := b.do(t, "GET", "/effecteur/releve?du=2026-06-15&au=2026-01-01", nil)
	if bad.Code != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(bad.Body.String()), "La date de fin précède la date de début.") {
		t.Errorf("backwards period: %d", bad.Code)
	}
}

// TestWebGlossaryExplainsTheWordsOfTheTrade: the glossary is open to
// anyone, every page links to it, and the pages that use a word link to
// its entry.
func TestWebGlossaryExplainsTheWordsOfTheTrade(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	page := htmlText(h.browser().page(t, http.StatusOK, "/aide/glossaire"))
	for _, term := range []string{"pass", "cpam", "puma", "css", "ame", "ticket-moderateur", "effecteur", "nir", "regie", "reprise", "titre-de-recettes"} {
		wantContains(t, "the glossary", page, `<dt id="`+term+`">`)
	}
	b := mustSignIn(t, h, h.finance)
	wantContains(t, "the finance dashboard", b.page(t, http.StatusOK, "/finances"), `<a href="/aide/glossaire">Glossaire`,
		`<a href="/aide/glossaire#regie">régie</a>`, `<p class="lead">`)
}

// TestWebInvoiceListFiltersCountsAndPages: the provider's list filters by
// status and care period from the query string, says how many invoices
// match, and pages through them keeping the filters.
func TestWebInvoiceListFiltersCountsAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Liste", "general_practitioner", "10000000008")
	p := h.newPatient(t, "Liste")
	for i, on := range []string{"2026-05-02", "2026-05-20", "2026-06-01"} {
		h.submit(t, pr, p, "L-"+strconv.Itoa(i+1), on)
	}
	withdrawn := str(t, h.submit(t, pr, p, "L-4", "2026-06-02"), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+withdrawn+"/cancel", pr.token, "")
	b := mustSignIn(t, h, pr.token)

	page := htmlText(b.page(t, http.StatusOK, "/effecteur/factures?statut=pending&du=2026-05-01&au=2026-05-31"))
	wantContains(t, "the filtered list", page, "2 factures correspondant aux filtres", ">L-1</a>", ">L-2</a>",
		`<option value="pending" selected>`, `value="2026-05-01"`)
	for _, ref := range []string{">L-3</a>", ">L-4</a>"} {
		if strings.Contains(page, ref) {
			t.Errorf("the filtered list shows %s", ref)
		}
	}
	wantContains(t, "the cancelled", htmlText(b.page(t, http.StatusOK, "/effecteur/factures?statut=cancelled")), "1 facture correspondant", ">L-4</a>")
	csv := b.do(t, "GET", "/effecteur/factures.csv?statut=pending&du=2026-05-01&au=2026-05-31", nil)
	if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 3 || !strings.Contains(body, "L-1;") ||
		strings.Contains(body, "L-3;") {
		t.Errorf("the CSV of the filtered list (%d):\n%s", csv.Code, body)
	}
	// A page of one, then the next: the filters go along.
	first := htmlText(b.page(t, http.StatusOK, "/effecteur/factures?statut=pending&limit=1"))
	next := regexp.MustCompile(`href="(/effecteur/factures\?cursor=[^"]+)"`).FindStringSubmatch(first)
	if next == nil || !strings.Contains(next[1], "statut=pending") {
		t.Fatalf("the next page's link keeps no filter: %v", next)
	}
	if second := htmlText(b.page(t, http.StatusOK, next[1])); !strings.Contains(second, ">L-2</a>") || strings.Contains(second, ">L-3</a>") {
		t.Errorf("the second page of pending invoices:\n%s", second)
	}
	wantContains(t, "a status that is none", htmlText(b.page(t, http.StatusOK, "/effecteur/factures?statut=bidon")), "Ce statut n'existe pas", "4 factures.")
	wantContains(t, "a period that ends before it starts", htmlText(b.page(t, http.StatusOK, "/effecteur/factures?du=2026-05-31&au=2026-05-01")),
		"La date de fin précède la date de début : la période est ignorée.", "4 factures")

	// Sorted by care date, oldest first, a page of one at a time: the
	// pages follow the order and keep the filter.
	var seen []string
	path := "/effecteur/factures?statut=pending&tri=soins-asc&limit=1"
	for range 4 {
		page := htmlText(b.page(t, http.StatusOK, path))
		if ref := regexp.MustCompile(`>(L-\d)</a>`).FindStringSubmatch(page); ref != nil {
			seen = append(seen, ref[1])
		}
		next := regexp.MustCompile(`href="(/effecteur/factures\?apres=[^"]+)"`).FindStringSubmatch(page)
		if next == nil {
			break
		}
		path = next[1] + "&limit=1"
	}
	if strings.Join(seen, " ") != "L-1 L-2 L-3" {
		t.Errorf("pending invoices by care date, oldest first, a page at a time: %v", seen)
	}
	newest := htmlText(b.page(t, http.StatusOK, "/effecteur/factures?tri=soins"))
	if strings.Index(newest, ">L-4</a>") > strings.Index(newest, ">L-1</a>") || !strings.Contains(newest, `aria-sort="descending"`) {
		t.Error("by care date, newest first, L-4 (02/06) does not come before L-1 (02/05)")
	}
}
