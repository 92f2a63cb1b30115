package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"passd/audit"
	"passd/auth"
	"passd/httpapi"
	"passd/keyring"
	"passd/referrals"
)

// conventionFixture is a local convention made through the API: a CCAS and
// an association, their referents (with e-mails), two social workers and a
// doctor.
type conventionFixture struct {
	id, ccas, association     string
	social, colleague, doctor string // tokens
	colleagueID               string
}

// orgID parses an id of the API.
func orgID(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newConvention makes a convention between "CCAS <name>" and "SOS Médecins
// <name>".
func (h *harness) newConvention(t *testing.T, name string) conventionFixture {
	t.Helper()
	var f conventionFixture
	f.ccas = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/organisations", h.admin,
		mustJSON(t, map[string]any{"kind": "ccas", "name": "CCAS " + name})), "id")
	f.association = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/organisations", h.admin,
		mustJSON(t, map[string]any{"kind": "sos_medecins", "name": "SOS Médecins " + name})), "id")
	f.id = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/conventions", h.admin,
		mustJSON(t, map[string]any{"ccas_id": f.ccas, "association_id": f.association, "signed_on": "2026-01-15"})), "id")
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	for _, r := range []map[string]any{
		{"side": "ccas", "name": "Référente CCAS " + name, "title": "Responsable action sociale", "phone": "01 60 00 00 01",
			"email": "ccas@" + slug + ".example"},
		{"side": "sos_medecins", "name": "Dr Référent " + name, "title": "Médecin coordinateur", "phone": "3624",
			"email": "sos@" + slug + ".example"},
	} {
		h.mustDo(t, http.StatusCreated, "POST", "/api/v1/conventions/"+f.id+"/referents", h.admin, mustJSON(t, r))
	}
	f.social = h.user(t, "as-"+slug, auth.SocialWorker, orgID(t, f.ccas))
	f.colleague = h.user(t, "as2-"+slug, auth.SocialWorker, orgID(t, f.ccas))
	if err := h.pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE name = $1`, "as2-"+slug).Scan(&f.colleagueID); err != nil {
		t.Fatal(err)
	}
	f.doctor = h.user(t, "dr-"+slug, auth.Doctor, orgID(t, f.association))
	return f
}

// referralBody is a home visit asked for a person with an unlikely name.
func referralBody(t *testing.T, last string) string {
	return mustJSON(t, map[string]any{"urgency": "within_48h", "place": "address", "reason": "isolation", "last_name": last,
		"first_name": "Odette", "birth": "1941", "phone": "06 12 34 56 78", "address": "12 rue des Lilas, Évry",
		"note": "Vit seule, ne sort plus depuis l'hiver."})
}

// alertBody is an alert with the person's consent.
func alertBody(t *testing.T, last string) string {
	return mustJSON(t, map[string]any{"reason": "precarity", "basis": "consent", "consent_on": today, "consent_how": "oral",
		"consent_by": "person", "last_name": last, "first_name": "Marcel", "birth": "1950-04-02", "phone": "0612345679"})
}

// TestAReferralFromTheCCASToSOSMedecins follows a referral: sent by a
// social worker, seen by the association's doctor, accepted, its outcome
// recorded, seen back by the CCAS; every step audited and notified.
func TestAReferralFromTheCCASToSOSMedecins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")

	sent := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel"))
	id := str(t, sent, "id")
	if sent["status"] != "sent" || sent["kind"] != "referral" || sent["urgency"] != "within_48h" || sent["convention_id"] != f.id {
		t.Errorf("the referral as sent: %v", sent)
	}
	if p := sent["person"].(map[string]any); p["last_name"] != "Quenardel" || p["address"] != "12 rue des Lilas, Évry" || p["birth"] != "1941" {
		t.Errorf("the person as sent: %v", p)
	}
	// The association's doctor finds it to handle; the CCAS finds it among
	// what it sent.
	toHandle := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals?to_handle=true", f.doctor, ""))
	if !slices.Equal(toHandle, []string{id}) {
		t.Errorf("the doctor's referrals to handle: %v, want [%s]", toHandle, id)
	}
	if got := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals", f.social, "")); !slices.Equal(got, []string{id}) {
		t.Errorf("the CCAS's referrals: %v", got)
	}
	// An outcome before the answer is refused; then accepted, and done.
	status, body := h.do(t, "POST", "/api/v1/referrals/"+id+"/outcome", f.doctor, `{"outcome": "visit_done", "on": "2026-06-15"}`)
	wantError(t, "an outcome before accepting", status, body, http.StatusConflict, "conflict", "status")
	accepted := h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
	if accepted["status"] != "accepted" || accepted["first_answer_at"] == nil {
		t.Errorf("accepted: %v", accepted)
	}
	status, body = h.do(t, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
	wantError(t, "a second answer", status, body, http.StatusConflict, "conflict", "status")
	done := h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/outcome", f.doctor,
		`{"outcome": "visit_done", "on": "2026-06-15", "note": "Vue à domicile, orientée vers son médecin traitant."}`)
	if done["status"] != "closed" || done["outcome"] != "visit_done" || done["outcome_on"] != today || done["closed_at"] == nil {
		t.Errorf("done: %v", done)
	}
	// The CCAS reads the feedback in the timeline.
	back := h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals/"+id, f.social, "")
	var kinds []string
	for _, e := range back["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if !slices.Equal(kinds, []string{"sent", "accepted", "outcome"}) {
		t.Errorf("timeline %v", kinds)
	}
	if n := h.count(t, "audit_log", "entity = 'referral'", "entity_id = '"+id+"'"); n != 3 {
		t.Errorf("%d audit rows for the referral, want 3 (create, accept, outcome)", n)
	}
	// Sent → the association's referent; accepted, done → the CCAS's.
	var to []string
	rows, err := h.pool.Query(context.Background(), `SELECT recipient FROM referral_outbox WHERE case_id = $1 ORDER BY id`, orgID(t, id))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		to = append(to, r)
	}
	if want := []string{"sos@évry.example", "ccas@évry.example", "ccas@évry.example"}; !slices.Equal(to, want) {
		t.Errorf("outbox recipients %v, want %v", to, want)
	}
}

// TestADeclinedReferralSaysWhy: a decline needs its reason, closes the
// referral, and the CCAS reads the reason.
func TestADeclinedReferralSaysWhy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Corbeil")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Vautrinel")), "id")
	status, body := h.do(t, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "decline"}`)
	wantError(t, "a decline without reason", status, body, http.StatusUnprocessableEntity, "invalid", "reason")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor,
		`{"decision": "decline", "reason": "Aucun médecin disponible sur le secteur ce week-end."}`)
	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals/"+id, f.social, "")
	if got["status"] != "declined" || got["decline_reason"] != "Aucun médecin disponible sur le secteur ce week-end." || got["closed_at"] == nil {
		t.Errorf("declined: %v", got)
	}
}

// TestAReferralIsCheckedBeforeAnythingIsStored: a diagnosis has no field,
// an address is kept only for a home visit and required for one.
func TestAReferralIsCheckedBeforeAnythingIsStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Ris")
	before := h.state(t)
	for _, c := range []struct {
		name   string
		edit   map[string]any
		status int
		field  string
	}{
		{"an address for a visit at the CCAS", map[string]any{"place": "ccas"}, http.StatusUnprocessableEntity, "address"},
		{"no address for a home visit", map[string]any{"address": ""}, http.StatusUnprocessableEntity, "address"},
		{"a diagnosis", map[string]any{"diagnosis": "BPCO"}, http.StatusUnprocessableEntity, "diagnosis"},
		{"a birth in the future", map[string]any{"birth": "2030"}, http.StatusUnprocessableEntity, "birth"},
		{"letters in the phone", map[string]any{"phone": "appelez-moi"}, http.StatusUnprocessableEntity, "phone"},
		{"no name", map[string]any{"last_name": "  "}, http.StatusUnprocessableEntity, "last_name"},
		{"an unknown reason", map[string]any{"reason": "dependency"}, http.StatusUnprocessableEntity, "reason"},
		{"another CCAS's convention", map[string]any{"convention_id": "999"}, http.StatusUnprocessableEntity, "convention_id"},
	} {
		body := map[string]any{"urgency": "today", "place": "address", "reason": "precarity", "last_name": "Bréhat",
			"address": "3 allée des Tilleuls"}
		for k, v := range c.edit {
			body[k] = v
		}
		status, got := h.do(t, "POST", "/api/v1/referrals", f.social, mustJSON(t, body))
		if status != c.status || errorField(got) != c.field {
			t.Errorf("%s: %d %v, want %d on %s", c.name, status, got, c.status, c.field)
		}
	}
	h.assertUnchanged(t, "refused referrals", before)
}

// TestAnAlertNeedsConsentOrARecordedException follows DOMAIN.md: consent
// (date, how, by whom) or an exception (emergency, informing impossible)
// with its reason; neither is a 422 and stores nothing.
func TestAnAlertNeedsConsentOrARecordedException(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Massy")
	before := h.state(t)
	person := map[string]any{"reason": "isolation", "last_name": "Kerbrat"}
	for _, c := range []struct {
		name  string
		edit  map[string]any
		field string
	}{
		{"no basis", map[string]any{}, "basis"},
		{"consent without its date", map[string]any{"basis": "consent", "consent_how": "oral", "consent_by": "person"}, "consent_on"},
		{"consent without how", map[string]any{"basis": "consent", "consent_on": today, "consent_by": "person"}, "consent_how"},
		{"consent without by whom", map[string]any{"basis": "consent", "consent_on": today, "consent_how": "oral"}, "consent_by"},
		{"consent given tomorrow", map[string]any{"basis": "consent", "consent_on": "2026-06-16", "consent_how": "oral", "consent_by": "person"}, "consent_on"},
		{"an emergency without its reason", map[string]any{"basis": "emergency"}, "exception_reason"},
		{"an exception with a consent", map[string]any{"basis": "impossible_to_inform", "exception_reason": "inconscient", "consent_on": today}, "basis"},
	} {
		body := map[string]any{}
		for k, v := range person {
			body[k] = v
		}
		for k, v := range c.edit {
			body[k] = v
		}
		status, got := h.do(t, "POST", "/api/v1/alerts", f.doctor, mustJSON(t, body))
		if status != http.StatusUnprocessableEntity || errorField(got) != c.field {
			t.Errorf("%s: %d %v, want 422 on %s", c.name, status, got, c.field)
		}
	}
	h.assertUnchanged(t, "refused alerts", before)

	withConsent := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "Kerbrat"))
	if withConsent["basis"] != "consent" || withConsent["consent_on"] != today || withConsent["consent_how"] != "oral" || withConsent["consent_by"] != "person" {
		t.Errorf("an alert with consent: %v", withConsent)
	}
	emergency := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, mustJSON(t, map[string]any{"reason": "dependency",
		"basis": "emergency", "exception_reason": "Personne confuse, seule, sans chauffage", "last_name": "Le Goff"}))
	if emergency["basis"] != "emergency" || emergency["exception_reason"] != "Personne confuse, seule, sans chauffage" || emergency["consent_on"] != nil {
		t.Errorf("an alert under an exception: %v", emergency)
	}
	// The person is informed afterwards: recorded once, never for an alert
	// sent with consent, never in the future.
	id := str(t, emergency, "id")
	status, body := h.do(t, "POST", "/api/v1/alerts/"+str(t, withConsent, "id")+"/informed", f.doctor, `{"informed_on": "2026-06-15"}`)
	wantError(t, "informed after consent", status, body, http.StatusConflict, "conflict", "basis")
	status, body = h.do(t, "POST", "/api/v1/alerts/"+id+"/informed", f.doctor, `{"informed_on": "2026-06-16"}`)
	wantError(t, "informed tomorrow", status, body, http.StatusUnprocessableEntity, "invalid", "informed_on")
	informed := h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+id+"/informed", f.doctor, `{"informed_on": "2026-06-15"}`)
	if informed["informed_on"] != today {
		t.Errorf("informed: %v", informed)
	}
	status, body = h.do(t, "POST", "/api/v1/alerts/"+id+"/informed", f.doctor, `{"informed_on": "2026-06-15"}`)
	wantError(t, "informed twice", status, body, http.StatusConflict, "conflict", "informed_on")
}

// TestAnAlertIsFollowedUpAndTheAssociationReadsIt: the CCAS acknowledges
// (a colleague assigned), records its follow-up, closes; the association
// reads each step.
func TestAnAlertIsFollowedUpAndTheAssociationReadsIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "Trévidic")), "id")
	if got := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/alerts?to_handle=true", f.social, "")); !slices.Equal(got, []string{id}) {
		t.Errorf("the CCAS's alerts to handle: %v", got)
	}
	status, body := h.do(t, "POST", "/api/v1/alerts/"+id+"/follow-up", f.social, `{"step": "contacted"}`)
	wantError(t, "a follow-up before acknowledging", status, body, http.StatusConflict, "conflict", "status")
	status, body = h.do(t, "POST", "/api/v1/alerts/"+id+"/acknowledge", f.social, mustJSON(t, map[string]any{"assign_to": "1"}))
	wantError(t, "assigning the admin", status, body, http.StatusUnprocessableEntity, "invalid", "assign_to")
	ack := h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+id+"/acknowledge", f.social, mustJSON(t, map[string]any{"assign_to": f.colleagueID}))
	if ack["status"] != "acknowledged" || ack["assigned_to"] != "as2-évry" {
		t.Errorf("acknowledged: %v", ack)
	}
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+id+"/follow-up", f.colleague, `{"step": "contacted", "note": "Rendez-vous pris au CCAS."}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+id+"/follow-up", f.colleague, `{"step": "rights_started"}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+id+"/follow-up", f.colleague, `{"step": "closed"}`)
	seen := h.mustDo(t, http.StatusOK, "GET", "/api/v1/alerts/"+id, f.doctor, "")
	if seen["status"] != "closed" {
		t.Errorf("the association sees %v", seen["status"])
	}
	var steps []string
	for _, e := range seen["timeline"].([]any) {
		ev := e.(map[string]any)
		if ev["kind"] == "follow_up" {
			steps = append(steps, ev["detail"].(string))
		}
	}
	if !slices.Equal(steps, []string{"contacted", "rights_started", "closed"}) {
		t.Errorf("the follow-up the association reads: %v", steps)
	}
	// acknowledge + 3 follow-ups, each told to the association's referent.
	if n := h.count(t, "referral_outbox", "recipient = 'sos@évry.example'"); n != 4 {
		t.Errorf("%d messages to the association, want 4", n)
	}
	if n := h.count(t, "audit_log", "entity = 'alert'", "entity_id = '"+id+"'"); n != 5 {
		t.Errorf("%d audit rows for the alert, want 5", n)
	}
}

// TestEachSideSeesOnlyWhatItSentOrReceived: another convention's social
// worker and doctor, and every other role, see nothing of a case.
func TestEachSideSeesOnlyWhatItSentOrReceived(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	other := h.newConvention(t, "Grigny")
	referral := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	alert := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "Trévidic")), "id")
	before := h.state(t)
	for _, token := range []string{other.social, other.doctor} {
		for _, path := range []string{"/api/v1/referrals/" + referral, "/api/v1/alerts/" + alert, "/api/v1/alerts/" + referral, "/api/v1/referrals/" + alert} {
			status, body := h.do(t, "GET", path, token, "")
			wantError(t, "another convention reads "+path, status, body, http.StatusNotFound, "not_found", "")
		}
		for _, list := range []string{"/api/v1/referrals", "/api/v1/alerts"} {
			if got := items(t, h.mustDo(t, http.StatusOK, "GET", list, token, "")); len(got) != 0 {
				t.Errorf("another convention lists %s: %v", list, got)
			}
		}
	}
	status, body := h.do(t, "POST", "/api/v1/referrals/"+referral+"/answer", other.doctor, `{"decision": "accept"}`)
	wantError(t, "another association answers", status, body, http.StatusNotFound, "not_found", "")
	status, body = h.do(t, "POST", "/api/v1/alerts/"+alert+"/acknowledge", other.social, `{}`)
	wantError(t, "another CCAS acknowledges", status, body, http.StatusNotFound, "not_found", "")
	// The coordinator sees a referral only once oriented to the PASS.
	status, body = h.do(t, "GET", "/api/v1/referrals/"+referral, h.coordinator, "")
	wantError(t, "the coordinator before an orientation to the PASS", status, body, http.StatusNotFound, "not_found", "")
	for _, role := range []string{h.finance, h.referent, h.admin} {
		status, body = h.do(t, "GET", "/api/v1/referrals/"+referral, role, "")
		wantError(t, "another role", status, body, http.StatusForbidden, "forbidden", "")
	}
	h.assertUnchanged(t, "reads by the wrong side", before)
	// The directory shows each side its own convention.
	dir := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/conventions", other.doctor, ""))
	if len(dir) != 1 || dir[0]["id"] != other.id || len(dir[0]["referents"].([]any)) != 2 {
		t.Errorf("Grigny's directory: %v", dir)
	}
}

// TestAnOrientationToThePASSIsLinkedToAFile: the coordinator sees the
// referral the association oriented to the PASS, and links the file it
// opened.
func TestAnOrientationToThePASSIsLinkedToAFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/outcome", f.doctor, `{"outcome": "pass", "on": "2026-06-15"}`)
	waiting := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals?to_handle=true", h.coordinator, ""))
	if len(waiting) != 1 || waiting[0]["person"].(map[string]any)["last_name"] != "Quenardel" {
		t.Fatalf("the coordinator's orientations: %v", waiting)
	}
	status, body := h.do(t, "POST", "/api/v1/referrals/"+id+"/pass-file", h.coordinator, `{"file_number": "2026-999999"}`)
	wantError(t, "an unknown file", status, body, http.StatusUnprocessableEntity, "unknown_file_number", "file_number")
	p := h.newPatient(t, "Quenardel")
	linked := h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/pass-file", h.coordinator, mustJSON(t, map[string]any{"file_number": p.fileNumber}))
	if linked["pass_file_number"] != p.fileNumber {
		t.Errorf("linked: %v", linked)
	}
	if got := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals?to_handle=true", h.coordinator, "")); len(got) != 0 {
		t.Errorf("still to link: %v", got)
	}
}

// TestReferralIdentityIsSealedAndEveryReadLogged: the person's name, phone,
// address and note are nowhere in the database in clear, and each answer
// that carried them is in referral_access_log.
func TestReferralIdentityIsSealedAndEveryReadLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals/"+id, f.doctor, "")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals", f.social, "")
	var dump string
	if err := h.pool.QueryRow(context.Background(), `SELECT string_agg(t::text, '|') FROM referral_cases t`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	var audit string
	if err := h.pool.QueryRow(context.Background(), `SELECT string_agg(t::text, '|') FROM audit_log t`).Scan(&audit); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Quenardel", "Odette", "06 12 34 56 78", "Lilas", "Vit seule"} {
		if strings.Contains(dump, secret) || strings.Contains(audit, secret) {
			t.Errorf("%q is stored in clear", secret)
		}
	}
	got, err := h.app.referrals.AccessLog(inConvention(context.Background()), orgID(t, id))
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, a := range got {
		log = append(log, a.UserName+" "+a.Purpose)
	}
	want := []string{"as-évry case.create", "dr-évry case.read", "as-évry case.list"}
	if !slices.Equal(log, want) {
		t.Errorf("access log %v, want %v", log, want)
	}
}

// TestOnlyTheOrganisationsKindMakesAUser: a social worker belongs to a
// CCAS, a doctor to an association.
func TestOnlyTheOrganisationsKindMakesAUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	for _, c := range []struct {
		role auth.Role
		org  string
	}{{auth.SocialWorker, f.association}, {auth.Doctor, f.ccas}, {auth.Doctor, "0"}, {auth.Coordinator, f.ccas}} {
		_, err := h.app.users.Issue(inConvention(context.Background()), auth.TokenRequest{Name: fmt.Sprint("x-", c.role, c.org), Role: c.role,
			OrganisationID: orgID(t, c.org)})
		if err == nil {
			t.Errorf("a %s of organisation %s was made", c.role, c.org)
		}
	}
}

// TestClosedCasesAreAnonymisedAfterTheRetentionPeriod: the daily job
// empties the identity and every free text of the cases closed more than
// referral_retention_months (12 by default) ago, and only those; their
// categories, dates and outcomes stay for the indicators.
func TestClosedCasesAreAnonymisedAfterTheRetentionPeriod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	closed := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+closed+"/answer", f.doctor, `{"decision": "decline", "reason": "Pas de médecin."}`)
	open := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "Trévidic")), "id")
	h.setNow(defaultNow.AddDate(0, 6, 0))
	later := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Bréhat")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+later+"/answer", f.doctor, `{"decision": "accept"}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+later+"/outcome", f.doctor, `{"outcome": "no_answer", "on": "2026-12-15", "note": "Volets clos."}`)

	// Eleven months after the first closed: nothing is due.
	h.setNow(defaultNow.AddDate(0, 11, 0))
	if run := h.runJob(t, "referral-retention"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("eleven months on, the job anonymised %v cases", run["rows"])
	}
	h.setNow(defaultNow.AddDate(1, 0, 1))
	if run := h.runJob(t, "referral-retention"); fmt.Sprint(run["rows"]) != "1" {
		t.Errorf("a year and a day on, the job anonymised %v cases, want 1", run["rows"])
	}
	gone := h.mustDo(t, http.StatusOK, "GET", "/api/v1/referrals/"+closed, f.social, "")
	if gone["person"] != nil || gone["anonymised_at"] == nil || gone["decline_reason"] != nil || gone["reason"] != "isolation" {
		t.Errorf("the anonymised referral: %v", gone)
	}
	timeline := gone["timeline"].([]any)
	if last := timeline[len(timeline)-1].(map[string]any); last["kind"] != "anonymised" {
		t.Errorf("the last step is %v", last)
	}
	for _, e := range timeline {
		if e.(map[string]any)["note"] != nil {
			t.Errorf("a step keeps its note: %v", e)
		}
	}
	for _, kept := range []string{"/api/v1/alerts/" + open, "/api/v1/referrals/" + later} {
		token := f.doctor
		if got := h.mustDo(t, http.StatusOK, "GET", kept, token, ""); got["person"] == nil {
			t.Errorf("%s lost its person too early", kept)
		}
	}
	if n := h.count(t, "audit_log", "action = 'case.anonymise'", "entity_id = '"+closed+"'"); n != 1 {
		t.Errorf("%d audit rows for the anonymisation, want 1", n)
	}
	if run := h.runJob(t, "referral-retention"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("a second run anonymised %v cases again", run["rows"])
	}
}

// TestTheRetentionPeriodIsASetting: an admin shortens the retention in the
// settings (PUT /settings, as /admin/parametres), and the job follows it;
// a period outside 1 to 120 months is refused, naming the field.
func TestTheRetentionPeriodIsASetting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	closed := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+closed+"/answer", f.doctor, `{"decision": "decline", "reason": "Pas de médecin."}`)
	for _, bad := range []int{0, 121} {
		status, body := h.do(t, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Régie PASS", "regie_iban": validIBAN2,
			"regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00", "referral_retention_months": bad}))
		wantError(t, fmt.Sprintf("a retention of %d months", bad), status, body, http.StatusUnprocessableEntity, "invalid", "referral_retention_months")
	}
	h.setNow(defaultNow.AddDate(0, 7, 0))
	if run := h.runJob(t, "referral-retention"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("seven months on, under the default year, the job anonymised %v cases", run["rows"])
	}
	h.putSettingsWith(t, map[string]any{"referral_retention_months": 6})
	wantFields(t, "the settings", h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, ""),
		map[string]any{"referral_retention_months": float64(6)})
	if run := h.runJob(t, "referral-retention"); fmt.Sprint(run["rows"]) != "1" {
		t.Errorf("seven months on, under six months' retention, the job anonymised %v cases, want 1", run["rows"])
	}
}

// TestTheConventionsIndicatorsOfAHandMadeYear: seven referrals (six
// answered one to six hours after sending, five visits recorded) and two
// alerts (one followed up), read back as the steering committee's figures
// with the small cells suppressed.
func TestTheConventionsIndicatorsOfAHandMadeYear(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	var ids []string
	for i := range 7 {
		ids = append(ids, str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, fmt.Sprint("Nom", i))), "id"))
	}
	for i, id := range ids[:6] {
		h.setNow(defaultNow.Add(time.Duration(i+1) * time.Hour))
		if i == 5 {
			h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "decline", "reason": "Pas de médecin."}`)
			continue
		}
		h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
		h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/outcome", f.doctor, `{"outcome": "visit_done", "on": "2026-06-15"}`)
	}
	alerts := []string{str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "A")), "id"),
		str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.doctor, alertBody(t, "B")), "id")}
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+alerts[0]+"/acknowledge", f.social, `{}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/alerts/"+alerts[0]+"/follow-up", f.social, `{"step": "contacted"}`)

	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/referrals?year=2026", h.coordinator, "")
	want := map[string]any{
		"from": "2026-01-01", "to": "2026-12-31",
		"by_month": []any{map[string]any{"month": "2026-06", "referrals": float64(7), "alerts": "< 5"}},
		"referrals": map[string]any{"sent": float64(7), "answered": float64(6), "first_answer_median_hours": float64(4),
			"with_feedback": float64(5), "with_feedback_pct": "71.4", "outcomes": map[string]any{"visit_done": float64(5), "declined": "< 5"}},
		"alerts": map[string]any{"sent": "< 5", "answered": "< 5", "first_answer_median_hours": nil, "with_feedback": "< 5",
			"with_feedback_pct": nil, "outcomes": map[string]any{"contacted": "< 5"}, "by_basis": map[string]any{"consent": "< 5"}},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("the indicators:\n got %s\nwant %s", g, w)
	}
	for _, token := range []string{h.finance, h.admin, h.user(t, "observer", auth.Observer, 0)} {
		h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/referrals", token, "")
	}
	status, body := h.do(t, "GET", "/api/v1/reports/referrals?year=deux", h.admin, "")
	wantError(t, "a year that is no year", status, body, http.StatusUnprocessableEntity, "invalid", "year")
}

// TestReferralIdentityFollowsAKeyRotation: passd rotate-key's step for the
// convention re-seals each case's identity under the new current key, once.
func TestReferralIdentityFollowsAKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := orgID(t, str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id"))
	keyID, entry, err := keyring.NewDataKey(h.now())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Parse(h.app.cfg.DataKey + "\n" + entry + "\ncurrent=" + keyID)
	if err != nil {
		t.Fatal(err)
	}
	store := referrals.NewStore(h.pool, ring, h.now)
	ctx := context.Background()
	for run, want := range []int{1, 0} {
		moved, left, err := store.RotateKeys(ctx, audit.Actor{Name: "passd rotate-key"})
		if err != nil || moved != want || left != 0 {
			t.Errorf("rotation %d: %d re-sealed, %d left, %v; want %d, 0", run+1, moved, left, err, want)
		}
	}
	if n := h.count(t, "referral_cases", "identity_key = '"+keyID+"'"); n != 1 {
		t.Errorf("%d cases under the new key, want 1", n)
	}
	c, err := store.Case(ctx, httpapi.ViewerOf(auth.Principal{UserID: 0, Name: "dr", Role: auth.Doctor, OrganisationID: orgID(t, f.association)}), "", id)
	if err != nil || c.Person == nil || c.Person.LastName != "Quenardel" {
		t.Errorf("the case under the new key reads %+v, %v", c.Person, err)
	}
}
