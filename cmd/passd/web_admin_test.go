package main

// The admin role's pages, driven as a browser without JavaScript would.

import (
	"net/http"
	"strings"
	"testing"

	"passd/web"
)

func TestWebAdminRunsAJobNowAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)

	page := htmlText(b.page(t, http.StatusOK, "/admin/taches"))
	wantContains(t, "the jobs page", page, "<h1>Tâches planifiées</h1>", "Aucune tâche n'a encore été exécutée.")
	// Each job by what it does, in French, never by its internal name.
	for _, name := range h.app.scheduler.Names() {
		if web.JobLabel(name) == name {
			t.Errorf("job %s has no French label", name)
		}
		wantContains(t, "the jobs page", page, `<form method="post" action="/admin/taches/`+name+`">`, "Lancer maintenant : "+web.JobLabel(name)+"</button>")
	}

	code, loc, body := b.post(t, "/admin/taches", "/admin/taches/release", nil)
	if code != http.StatusSeeOther || loc != "/admin/taches" {
		t.Fatalf("Lancer maintenant : release: %d → %q:\n%s", code, loc, body)
	}
	// The run is recorded as the API's manual runs are, and listed.
	runs := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, ""))
	if len(runs) != 1 {
		t.Fatalf("runs after one click: %v, want one", runs)
	}
	wantFields(t, "the run", runs[0], map[string]any{"name": "release", "trigger": "manual", "error": nil})
	wantContains(t, "the jobs page after a run", b.page(t, http.StatusOK, "/admin/taches"), "Tâche exécutée.", "<td>Libération des factures dont les droits sont ouverts</td>", "<td>à la demande</td>", "15/06/2026")
	// The runs filter by job, and say how many there are.
	wantContains(t, "the release's runs", htmlText(b.page(t, http.StatusOK, "/admin/taches?tache=release")), "1 ligne correspondant au filtre.",
		`<option value="release" selected>Libération des factures dont les droits sont ouverts</option>`)
	wantContains(t, "the deadline's runs", htmlText(b.page(t, http.StatusOK, "/admin/taches?tache=deadline")), "0 lignes correspondant au filtre.")
	if csv := b.do(t, "GET", "/admin/taches.csv?tache=release", nil); csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 2 ||
		!strings.Contains(csv.Body.String(), "Libération des factures dont les droits sont ouverts;à la demande;") {
		t.Errorf("the CSV of the release's runs (%d):\n%s", csv.Code, csv.Body)
	}

	// An unknown job is the French 404 page and runs nothing.
	if code, _, _ := b.post(t, "/admin/taches", "/admin/taches/nope", nil); code != http.StatusNotFound {
		t.Errorf("an unknown job: %d, want 404", code)
	}
	if n := h.count(t, "job_runs"); n != 1 {
		t.Errorf("%d runs recorded, want 1", n)
	}

	// Other roles may not see nor run the jobs.
	fin := mustSignIn(t, h, h.finance)
	fin.page(t, http.StatusForbidden, "/admin/taches")
	csrf := fin.csrf(t, "/finances")
	if rec := fin.do(t, "POST", "/admin/taches/release", map[string][]string{"_csrf": {csrf}}); rec.Code != http.StatusForbidden {
		t.Errorf("finance runs a job: %d, want 403", rec.Code)
	}
	if n := h.count(t, "job_runs"); n != 1 {
		t.Errorf("%d runs recorded after the finance user's attempt, want 1", n)
	}
}
