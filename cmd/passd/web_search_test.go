package main

// The coordinator's search by part of a name, birth date, part of a file
// number or NIR, and the list of files to work through, through the real
// Echo stack and database.

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// searchFile opens a file through the API and returns its id and number.
func searchFile(t *testing.T, h *harness, last, first, birth, nir string) patientFixture {
	t.Helper()
	body := map[string]any{"last_name": last, "first_name": first, "birth_date": birth}
	if nir != "" {
		body["nir"] = nir
	}
	got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator, mustJSON(t, body))
	return patientFixture{id: str(t, got, "id"), fileNumber: str(t, got, "file_number")}
}

// resultLink is how a search result or a row of the list links its file.
func resultLink(p patientFixture) string {
	return `href="/coordination/dossiers/` + p.id + `">` + p.fileNumber + "</a>"
}

// wantResults fails unless the page links exactly the files want.
func wantResults(t *testing.T, what, page string, all []patientFixture, want ...patientFixture) {
	t.Helper()
	for _, p := range all {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == p
		}
		if got := strings.Contains(page, resultLink(p)); got != wanted {
			t.Errorf("%s: file %s shown %v, want %v", what, p.fileNumber, got, wanted)
		}
	}
}

// TestWebSearchFindsAFileByPartOfItsNameWithOrWithoutAccents: names typed
// with or without accents or capitals, part of a name, a birth date, part
// of a file number, a NIR; each result shows its rights and last invoice,
// its read is logged, and nothing searched is in a URL or a log line.
func TestWebSearchFindsAFileByPartOfItsNameWithOrWithoutAccents(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := newHarnessLogging(t, logs.logger())
	theNIR := nir("2900499350123")
	eloise := searchFile(t, h, "Eloise", "Marie", "1988-02-29", theNIR)
	heloise := searchFile(t, h, "Martin", "Héloïse", testBirthDate, "")
	louis := searchFile(t, h, "Durand", "Louis", "2001-01-02", "")
	le := searchFile(t, h, "Le", "Thi", "1970-07-07", "")
	all := []patientFixture{eloise, heloise, louis, le}
	h.requestRights(t, heloise, "ame", "2026-06-01")
	provider := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	h.submit(t, provider, heloise, "A-1", "2026-06-03")
	b := mustSignIn(t, h, h.coordinator)

	reads := h.count(t, "patient_access_log", "purpose = 'patient.list'")
	found := b.search(t, http.StatusOK, "éloïse")
	wantResults(t, "éloïse", found, all, eloise, heloise)
	wantContains(t, "a result's row", found, "Héloïse", "Martin", "12/04/1990", "demande déposée", "03/06/2026",
		"Eloise", "Marie", "29/02/1988", "aucune demande", "aucune")
	if n := h.count(t, "patient_access_log", "purpose = 'patient.list'"); n != reads+2 {
		t.Errorf("%d reads logged for 2 results, want 2", n-reads)
	}
	wantResults(t, "LOÏ", b.search(t, http.StatusOK, "LOÏ"), all, eloise, heloise)
	wantResults(t, "heloise", b.search(t, http.StatusOK, "heloise"), all, heloise)
	wantResults(t, "HÉLOÏSE martin", b.search(t, http.StatusOK, "HÉLOÏSE martin"), all, heloise)
	wantResults(t, "louis", b.search(t, http.StatusOK, "louis"), all, louis)
	wantResults(t, "a two-letter name, whole", b.search(t, http.StatusOK, "LÊ"), all, le)
	wantResults(t, "two letters of a longer name", b.search(t, http.StatusOK, "lo"), all)
	wantResults(t, "29/02/1988", b.search(t, http.StatusOK, "29/02/1988"), all, eloise)
	wantResults(t, "1990-04-12", b.search(t, http.StatusOK, "1990-04-12"), all, heloise)
	wantResults(t, "the NIR", b.search(t, http.StatusOK, theNIR), all, eloise)
	part := louis.fileNumber[len(louis.fileNumber)-6:]
	wantResults(t, "a part of a file number", b.search(t, http.StatusOK, part), all, louis)
	wantResults(t, "PASS-2026", b.search(t, http.StatusOK, "pass-2026"), all, all...)
	wantContains(t, "a miss", b.search(t, http.StatusOK, "Zoé"), "Aucun dossier ne correspond à « Zoé ».")
	wantContains(t, "two letters", b.search(t, http.StatusUnprocessableEntity, "l"), "Saisissez au moins 3 lettres du nom")
	wantContains(t, "nothing", b.search(t, http.StatusUnprocessableEntity, " "), "Saisissez un nom, une date de naissance")

	for _, line := range logs.raw() {
		for _, secret := range []string{"éloïse", "ÉLOÏSE", "LOÏ", "heloise", "29/02/1988", "1988-02-29", theNIR, "Zoé"} {
			if strings.Contains(line, secret) {
				t.Errorf("a log line carries %q: %s", secret, line)
			}
		}
	}
}

// The list of files to work through: newest first, filtered by rights in
// the query string, paged with a count of the files matching, and no
// identity, so that it reads none.
func TestWebFilesListFiltersByRightsAndPagesWithoutReadingIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var files []patientFixture
	for _, name := range []string{"Un", "Deux", "Trois", "Quatre", "Cinq"} {
		files = append(files, searchFile(t, h, name, "Test", testBirthDate, ""))
	}
	h.requestRights(t, files[1], "puma", "2026-06-01")
	h.requestRights(t, files[3], "puma", "2026-06-01")
	provider := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	h.submit(t, provider, files[3], "A-1", "2026-06-02")
	h.submit(t, provider, files[3], "A-2", "2026-06-05")
	b := mustSignIn(t, h, h.coordinator)
	reads := h.count(t, "patient_access_log")

	first := b.page(t, http.StatusOK, "/coordination/dossiers?limit=2")
	wantContains(t, "the list", first, "Dossiers à traiter", `<select id="statut" name="statut">`, "5 dossiers")
	wantResults(t, "the first page", first, files, files[4], files[3])
	if strings.Contains(first, "Quatre") || strings.Contains(first, "Test") {
		t.Error("the list shows identity")
	}
	wantContains(t, "the last invoice", first, "05/06/2026")
	next := regexp.MustCompile(`href="(/coordination/dossiers\?cursor=[^"]+)" rel="next">Suivant`).FindStringSubmatch(first)
	if next == nil {
		t.Fatalf("no Suivant link:\n%s", first)
	}
	second := b.page(t, http.StatusOK, strings.ReplaceAll(next[1], "&amp;", "&")+"&limit=2")
	wantResults(t, "the second page", second, files, files[2], files[1])

	requested := b.page(t, http.StatusOK, "/coordination/dossiers?statut=requested&limit=1")
	wantContains(t, "the requested files", requested, "2 dossiers", `<option value="requested" selected>demande déposée</option>`)
	wantResults(t, "the requested files", requested, files, files[3])
	next = regexp.MustCompile(`href="(/coordination/dossiers\?cursor=[^"&]+&(?:amp;)?statut=requested)" rel="next">Suivant`).FindStringSubmatch(requested)
	if next == nil {
		t.Fatalf("no Suivant link keeping the filter:\n%s", requested)
	}
	requested = b.page(t, http.StatusOK, strings.ReplaceAll(next[1], "&amp;", "&")+"&limit=1")
	wantResults(t, "the requested files, page 2", requested, files, files[1])
	if strings.Contains(requested, "rel=\"next\"") {
		t.Error("a Suivant link after the last file")
	}
	// Oldest first, from the column's head, the filter kept on the next page.
	oldest := b.page(t, http.StatusOK, "/coordination/dossiers?limit=2")
	head := regexp.MustCompile(`<a href="\?([^"]+)" title="Les plus anciens d(?:'|&#39;)abord">Ouvert le ↓</a>`).FindStringSubmatch(oldest)
	if head == nil {
		t.Fatalf("no head to sort by opening date:\n%s", oldest)
	}
	oldest = b.page(t, http.StatusOK, "/coordination/dossiers?"+strings.ReplaceAll(head[1], "&amp;", "&")+"&limit=2")
	wantContains(t, "the oldest first", oldest, `aria-sort="ascending"`, "Ouvert le ↑")
	wantResults(t, "the oldest first", oldest, files, files[0], files[1])
	next = regexp.MustCompile(`href="(/coordination/dossiers\?cursor=[^"&]+&(?:amp;)?tri=anciens)" rel="next">Suivant`).FindStringSubmatch(oldest)
	if next == nil {
		t.Fatalf("no Suivant link keeping the order:\n%s", oldest)
	}
	oldest = b.page(t, http.StatusOK, strings.ReplaceAll(next[1], "&amp;", "&")+"&limit=2")
	wantResults(t, "the oldest first, page 2", oldest, files, files[2], files[3])
	// The CSV holds what is filtered, in the list's order, and no identity.
	csv := b.do(t, "GET", "/coordination/dossiers.csv?statut=requested&tri=anciens", nil)
	body := csv.Body.String()
	if csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 3 || strings.Index(body, files[1].fileNumber) > strings.Index(body, files[3].fileNumber) ||
		!strings.Contains(body, files[3].fileNumber+";demande déposée;") || !strings.Contains(body, ";05/06/2026") || strings.Contains(body, "Quatre") {
		t.Errorf("the CSV of the requested files, oldest first (%d):\n%s", csv.Code, body)
	}
	b.page(t, http.StatusBadRequest, "/coordination/dossiers?statut=ouverts")
	if n := h.count(t, "patient_access_log"); n != reads {
		t.Errorf("the list logged %d reads of identity, want none", n-reads)
	}
}
