package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postForm sends a page's form with its CSRF token, as a browser would.
func (b *browser) postForm(t *testing.T, page, action string, form url.Values) (int, string) {
	t.Helper()
	form.Set("_csrf", b.csrf(t, page))
	rec := b.do(t, "POST", action, form)
	return rec.Code, rec.Header().Get("Location")
}

// TestWebAReferralThroughThePages: the social worker sends a referral from
// its form, the doctor finds it to handle, accepts it and records its
// outcome, and the social worker reads the feedback; a form sent back
// explains its error in French.
func TestWebAReferralThroughThePages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	social, doctor := mustSignIn(t, h, f.social), mustSignIn(t, h, f.doctor)
	if rec := social.do(t, "GET", "/", nil); rec.Header().Get("Location") != "/ccas" {
		t.Errorf("the social worker's home: %q", rec.Header().Get("Location"))
	}
	form := url.Values{"urgency": {"today"}, "place": {"ccas"}, "reason": {"no_care"}, "last_name": {"Quenardel"},
		"address": {"12 rue des Lilas"}}
	status, _ := social.postForm(t, "/ccas/demandes/nouvelle", "/ccas/demandes/nouvelle", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("an address for a visit at the CCAS: %d", status)
	}
	form.Set("place", "address")
	status, next := social.postForm(t, "/ccas/demandes/nouvelle", "/ccas/demandes/nouvelle", form)
	if status != http.StatusSeeOther || !strings.HasPrefix(next, "/ccas/dossiers/") {
		t.Fatalf("the referral's form: %d → %q", status, next)
	}
	id := strings.TrimPrefix(next, "/ccas/dossiers/")
	wantContains(t, "the referral's page", social.page(t, http.StatusOK, next), "Demande d'intervention n° "+id, "Quenardel",
		"Sans soins depuis longtemps", "Demande envoyée")

	home := doctor.page(t, http.StatusOK, "/sos")
	wantContains(t, "the doctor's list", home, "Quenardel", `href="/sos/dossiers/`+id+`"`)
	status, _ = doctor.postForm(t, "/sos/dossiers/"+id, "/sos/dossiers/"+id+"/reponse", url.Values{"decision": {"decline"}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a decline without its reason: %d", status)
	}
	if status, _ = doctor.postForm(t, "/sos/dossiers/"+id, "/sos/dossiers/"+id+"/reponse", url.Values{"decision": {"accept"}}); status != http.StatusSeeOther {
		t.Fatalf("accept: %d", status)
	}
	// An outcome wrong in every field tells each, and keeps what was typed.
	long := strings.Repeat("trop long ", 60)
	code, _, body := doctor.post(t, "/sos/dossiers/"+id, "/sos/dossiers/"+id+"/issue", url.Values{"outcome": {"guérison"}, "on": {"2999-01-01"}, "note": {long}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an outcome wrong in every field: %d", code)
	}
	wantEveryFieldRefused(t, "the outcome", body, []string{"outcome", "on", "outcome-note"}, nil)
	wantContains(t, "the outcome", htmlText(body), `value="2999-01-01"`, long+"</textarea>")
	status, _ = doctor.postForm(t, "/sos/dossiers/"+id, "/sos/dossiers/"+id+"/issue",
		url.Values{"outcome": {"hospital"}, "on": {today}, "note": {"Adressée aux urgences de Corbeil."}})
	if status != http.StatusSeeOther {
		t.Fatalf("the outcome: %d", status)
	}
	wantContains(t, "the feedback the CCAS reads", social.page(t, http.StatusOK, "/ccas/dossiers/"+id), "Orientée vers l'hôpital le 15/06/2026",
		"Adressée aux urgences de Corbeil.", "Acceptée par SOS Médecins")
	// The other side's pages and the other convention's cases are closed.
	if code := doctor.do(t, "GET", "/ccas", nil).Code; code != http.StatusForbidden {
		t.Errorf("the doctor opens /ccas: %d", code)
	}
	other := mustSignIn(t, h, h.newConvention(t, "Grigny").doctor)
	if code := other.do(t, "GET", "/sos/dossiers/"+id, nil).Code; code != http.StatusNotFound {
		t.Errorf("another association opens the referral: %d", code)
	}
}

// TestWebAnAlertThroughThePages: the doctor alerts the CCAS with the
// person's consent (refused without), the CCAS acknowledges and follows up,
// and the doctor reads the follow-up; both read the directory.
func TestWebAnAlertThroughThePages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	social, doctor := mustSignIn(t, h, f.social), mustSignIn(t, h, f.doctor)
	form := url.Values{"reason": {"isolation"}, "last_name": {"Trévidic"}, "phone": {"06 11 22 33 44"}}
	status, _ := doctor.postForm(t, "/sos/alertes/nouvelle", "/sos/alertes/nouvelle", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("an alert without consent: %d", status)
	}
	for k, v := range map[string]string{"basis": "consent", "consent_on": today, "consent_how": "written", "consent_by": "person"} {
		form.Set(k, v)
	}
	status, next := doctor.postForm(t, "/sos/alertes/nouvelle", "/sos/alertes/nouvelle", form)
	if status != http.StatusSeeOther {
		t.Fatalf("the alert's form: %d", status)
	}
	id := strings.TrimPrefix(next, "/sos/dossiers/")
	wantContains(t, "the CCAS's list", social.page(t, http.StatusOK, "/ccas"), "Trévidic", "Alerte")
	page := social.page(t, http.StatusOK, "/ccas/dossiers/"+id)
	wantContains(t, "the alert's page", page, "Consentement de la personne", "15/06/2026, écrit, donné par : la personne elle-même",
		"Prendre en charge", "as2-évry")
	if status, _ = social.postForm(t, "/ccas/dossiers/"+id, "/ccas/dossiers/"+id+"/prise-en-charge", url.Values{"assign_to": {f.colleagueID}}); status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", status)
	}
	code, _, body := social.post(t, "/ccas/dossiers/"+id, "/ccas/dossiers/"+id+"/suivi", url.Values{"step": {""}, "note": {strings.Repeat("x", 501)}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a follow-up wrong in both fields: %d", code)
	}
	wantEveryFieldRefused(t, "the follow-up", body, []string{"step", "step-note"}, nil)
	if status, _ = social.postForm(t, "/ccas/dossiers/"+id, "/ccas/dossiers/"+id+"/suivi",
		url.Values{"step": {"home_help"}, "note": {"Aide à domicile trois fois par semaine."}}); status != http.StatusSeeOther {
		t.Fatalf("follow-up: %d", status)
	}
	wantContains(t, "the follow-up the doctor reads", doctor.page(t, http.StatusOK, "/sos/dossiers/"+id), "Prise en charge par le CCAS",
		"Aide à domicile mise en place", "Aide à domicile trois fois par semaine.", "Suivie par")
	// An alert under an exception: the doctor records that the person was
	// informed afterwards.
	emergency := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, mustJSON(t, map[string]any{"reason": "dependency",
		"basis": "emergency", "exception_reason": "Personne confuse, seule, sans chauffage", "last_name": "Le Goff"})), "id")
	wantContains(t, "the exception's page", doctor.page(t, http.StatusOK, "/sos/dossiers/"+emergency), "Urgence (sans consentement préalable)",
		"Personne informée", "pas encore", "Enregistrer l'information")
	if status, _ = doctor.postForm(t, "/sos/dossiers/"+emergency, "/sos/dossiers/"+emergency+"/information", url.Values{"informed_on": {today}}); status != http.StatusSeeOther {
		t.Fatalf("informed: %d", status)
	}
	wantContains(t, "the exception's page once informed", doctor.page(t, http.StatusOK, "/sos/dossiers/"+emergency), "le 15/06/2026",
		"Personne informée de l'alerte")
	for b, path := range map[*browser]string{social: "/ccas/annuaire", doctor: "/sos/annuaire"} {
		wantContains(t, "the directory "+path, b.page(t, http.StatusOK, path), "Référente CCAS Évry", "Dr Référent Évry", "ccas@évry.example")
	}
}

// TestWebTheAdminMakesASocialWorkerOfACCAS: the users' form names the
// organisation of a social worker or a doctor; without it, or with the
// other kind, nothing is made and the form says why in French.
func TestWebTheAdminMakesASocialWorkerOfACCAS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	admin := mustSignIn(t, h, h.admin)
	wantContains(t, "the users' form", admin.page(t, http.StatusOK, "/admin/utilisateurs"), "CCAS Évry (CCAS)", "SOS Médecins Évry (SOS Médecins)")
	before := h.count(t, "users")
	for _, org := range []string{"", f.association} {
		form := url.Values{"name": {"Nouvelle assistante sociale"}, "role": {"social_worker"}, "organisation_id": {org}}
		form.Set("_csrf", admin.csrf(t, "/admin/utilisateurs"))
		rec := admin.do(t, "POST", "/admin/utilisateurs", form)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(rec.Body.String()), "Choisissez le CCAS d'un travailleur social") {
			t.Errorf("a social worker of organisation %q: %d\n%s", org, rec.Code, rec.Body.String())
		}
	}
	if n := h.count(t, "users"); n != before {
		t.Errorf("%d users after refused forms, want %d", n, before)
	}
	form := url.Values{"name": {"Nouvelle assistante sociale"}, "role": {"social_worker"}, "organisation_id": {f.ccas}}
	form.Set("_csrf", admin.csrf(t, "/admin/utilisateurs"))
	if rec := admin.do(t, "POST", "/admin/utilisateurs", form); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "passd_") {
		t.Fatalf("a social worker of the CCAS: %d\n%s", rec.Code, rec.Body.String())
	}
	if n := h.count(t, "users", "role = 'social_worker'", "organisation_id = "+f.ccas); n != 3 {
		t.Errorf("%d social workers of the CCAS, want 3", n)
	}
}

// TestWebTheCoordinatorLinksAnOrientationToAFile: a referral SOS Médecins
// oriented to the PASS is on the coordinator's page with the person; the
// form refuses an unknown file number in French and links a real one.
func TestWebTheCoordinatorLinksAnOrientationToAFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/outcome", f.doctor, `{"outcome": "pass", "on": "2026-06-15"}`)
	coord := mustSignIn(t, h, h.coordinator)
	wantContains(t, "the orientations", coord.page(t, http.StatusOK, "/coordination/orientations"), "Quenardel Odette", "1941",
		"SOS Médecins Évry", "Numéro du dossier de Quenardel Odette")
	status, _ := coord.postForm(t, "/coordination/orientations", "/coordination/orientations/"+id, url.Values{"file_number": {"2026-999999"}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown file: %d", status)
	}
	p := h.newPatient(t, "Quenardel")
	if status, _ = coord.postForm(t, "/coordination/orientations", "/coordination/orientations/"+id, url.Values{"file_number": {p.fileNumber}}); status != http.StatusSeeOther {
		t.Fatalf("link: %d", status)
	}
	page := coord.page(t, http.StatusOK, "/coordination/orientations")
	wantContains(t, "the linked orientation", page, p.fileNumber, "Dossier PASS rattaché")
}

// TestWebTheAdminRecordsAConventionAndItsReferents: organisations, a
// convention between them and a referent, from /admin/conventions, as the
// API would store them; a form refused says why and stores nothing.
func TestWebTheAdminRecordsAConventionAndItsReferents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := mustSignIn(t, h, h.admin)
	const page = "/admin/conventions"
	before := h.state(t)
	if status, _ := admin.postForm(t, page, "/admin/conventions/organismes", url.Values{"kind": {"ccas"}, "name": {" "}}); status != http.StatusUnprocessableEntity {
		t.Errorf("an organisation without a name: %d", status)
	}
	if status, _ := admin.postForm(t, page, "/admin/conventions", url.Values{"ccas_id": {""}, "signed_on": {today}}); status != http.StatusUnprocessableEntity {
		t.Errorf("a convention without its CCAS: %d", status)
	}
	h.assertUnchanged(t, "refused forms", before)
	for kind, name := range map[string]string{"ccas": "CCAS de Corbeil", "sos_medecins": "SOS Médecins Corbeil"} {
		if status, _ := admin.postForm(t, page, "/admin/conventions/organismes", url.Values{"kind": {kind}, "name": {name}}); status != http.StatusSeeOther {
			t.Fatalf("organisation %s: %d", name, status)
		}
	}
	orgs := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/organisations", h.admin, ""))
	ids := map[string]string{}
	for _, o := range orgs {
		ids[str(t, o, "kind")] = str(t, o, "id")
	}
	if status, _ := admin.postForm(t, page, "/admin/conventions", url.Values{"ccas_id": {ids["ccas"]}, "association_id": {ids["sos_medecins"]},
		"signed_on": {"2026-03-01"}}); status != http.StatusSeeOther {
		t.Fatalf("the convention: %d", status)
	}
	convention := str(t, items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/conventions", h.admin, ""))[0], "id")
	if status, _ := admin.postForm(t, page, "/admin/conventions/"+convention+"/referents", url.Values{"side": {"sos_medecins"},
		"name": {"Dr Morel"}, "email": {"pas une adresse"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("a referent with a bad e-mail: %d", status)
	}
	if status, _ := admin.postForm(t, page, "/admin/conventions/"+convention+"/referents", url.Values{"side": {"sos_medecins"},
		"name": {"Dr Morel"}, "title": {"Médecin référent"}, "phone": {"3624"}, "email": {"morel@sos.example"}}); status != http.StatusSeeOther {
		t.Fatalf("the referent: %d", status)
	}
	wantContains(t, "the conventions page", admin.page(t, http.StatusOK, page), "CCAS de Corbeil – SOS Médecins Corbeil", "Signée le 01/03/2026",
		"SOS Médecins : Dr Morel, Médecin référent — tél. 3624 — morel@sos.example")
	wantContains(t, "the admin's home", admin.page(t, http.StatusOK, "/admin"), `href="/admin/conventions"`)
}
