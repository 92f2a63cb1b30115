package main

import (
	"net/http"
	"strings"
	"testing"

	"passd/auth"
)

// TestTheObserverSeesTheProgrammeAndNothingElse: /bilan shows the figures
// as tiles, charts and tables, with small cells suppressed; the observer
// lands there, and every other page and route refuses it.
func TestTheObserverSeesTheProgrammeAndNothingElse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	for i := range 6 {
		p := h.newPatient(t, "Patient"+string(rune('A'+i)))
		h.requestRights(t, p, "puma", "2026-06-01")
		h.submit(t, gp, p, "B-"+string(rune('A'+i)), "2026-06-02", anyAct("25.00"))
	}
	observer := h.user(t, "Élue", auth.Observer, 0)
	b := mustSignIn(t, h, observer)
	if rec := b.do(t, "GET", "/", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/bilan" {
		t.Fatalf("the observer's home: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	page := htmlText(b.page(t, http.StatusOK, "/bilan"))
	wantContains(t, "the programme's page", page, "<h1>Bilan du programme 2026</h1>", "Dossiers ouverts", "<strong class=\"tile-value\">6</strong>",
		`<svg role="img" aria-labelledby="dossiers-par-mois-titre"`, "<td>juin 2026</td><td>6</td>", "<td>Médecin généraliste</td><td>150,00",
		"<td>en attente</td><td>6 — 150,00", "<td>0-34 jours</td><td>0</td>", "<td>90+ jours</td><td>6</td>")
	// Six people followed, none with a commune on file; each provider's
	// care; the budget month by month, up to this month (June).
	wantContains(t, "the breakdowns", page, "<td>Commune non renseignée</td><td>6</td>", "<td>Dr A (Médecin généraliste)</td><td>6 — 150,00",
		`aria-labelledby="budget-titre budget-legende"`, `class="left"`, "<td>juin 2026</td><td>0,00", "<td>mai 2026</td>")
	if strings.Contains(page, "<td>juil. 2026</td>") {
		t.Error("the burn-down shows July, which has not come yet")
	}
	// The convention's cases, each way, with the programme's.
	wantContains(t, "the convention's figures", htmlText(page), "<h2>Le CCAS et SOS Médecins</h2>",
		"<td>Demandes d'intervention du CCAS à SOS Médecins</td><td>0</td>", "<td>Alertes de SOS Médecins au CCAS</td><td>0</td>")
	// Under five, a cell says "< 5" and draws no bar.
	wantContains(t, "a suppressed cell", page, "<td>PUMa</td><td>0</td>", `aria-labelledby="delai-droits-titre"`, "<td>0-35 jours</td><td>0</td>")
	if code := b.do(t, "GET", "/bilan?annee=deux", nil).Code; code != http.StatusUnprocessableEntity {
		t.Errorf("a year that is no year: %d", code)
	}
	for _, path := range []string{"/admin", "/finances", "/coordination/dossiers", "/cpam/dossiers", "/effecteur/factures"} {
		if code := b.do(t, "GET", path, nil).Code; code != http.StatusForbidden {
			t.Errorf("the observer opens %s: %d, want 403", path, code)
		}
	}
	for _, path := range []string{"/api/v1/invoices", "/api/v1/patients", "/api/v1/payouts", "/api/v1/reports/budget", "/api/v1/settings"} {
		status, body := h.do(t, "GET", path, observer, "")
		wantError(t, "the observer reads "+path, status, body, http.StatusForbidden, "forbidden", "")
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/programme", observer, "")
	// The coordinator, finance and the admin read the page too.
	for _, token := range []string{h.coordinator, h.finance, h.admin} {
		mustSignIn(t, h, token).page(t, http.StatusOK, "/bilan")
	}
}
