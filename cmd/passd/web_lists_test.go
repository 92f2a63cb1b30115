package main

// The lists issue 20 asks to filter, sort and page, beyond the provider's
// invoices, the payouts and the files (tested beside their pages): the
// coordinator's review, the referent's queue and claim batches, the
// finance batches, the admin's job runs and users, each driven as a
// browser without JavaScript would.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nextLink is the href of a page's rel="next" link, its &amp; read as &.
func nextLink(t *testing.T, what, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s: no next page's link:\n%s", what, page)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// orderOf is the order in which the page names each of refs (-1: absent).
func orderOf(page string, refs ...string) []int {
	var at []int
	for _, r := range refs {
		at = append(at, strings.Index(page, r))
	}
	return at
}

// inOrder reports whether every ref is on page, each after the one before.
func inOrder(page string, refs ...string) bool {
	at := orderOf(page, refs...)
	for i, n := range at {
		if n < 0 || (i > 0 && n < at[i-1]) {
			return false
		}
	}
	return true
}

func TestWebReviewListFiltersByProviderAndReadsTheOldestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reviewSettings(t, h, "50,00")
	gp := h.newProvider(t, "Dr Plafond", "general_practitioner", "10000000051")
	other := h.newProvider(t, "Dr Autre", "general_practitioner", "10000000069")
	p := h.newPatient(t, "Revue")
	for _, ref := range []string{"REV-1", "REV-2", "REV-3"} {
		h.submit(t, gp, p, ref, "2026-06-10", line{"G", "45.00", 1})
	}
	h.submit(t, other, p, "AUT-1", "2026-06-11", line{"G", "45.00", 1})
	b := mustSignIn(t, h, h.coordinator)

	all := htmlText(b.page(t, http.StatusOK, "/coordination/factures"))
	wantContains(t, "the review list", all, "4 lignes.", `<select id="filtre-effecteur" name="effecteur">`, `aria-sort="descending"`)
	if !inOrder(all, "AUT-1", "REV-3", "REV-1") {
		t.Errorf("the review list, newest first: %v", orderOf(all, "AUT-1", "REV-3", "REV-1"))
	}
	page := b.page(t, http.StatusOK, "/coordination/factures?effecteur="+gp.id+"&tri=anciens&limit=2")
	wantContains(t, "Dr Plafond's, oldest first", htmlText(page), "3 lignes correspondant au filtre.", `aria-sort="ascending"`,
		`<input type="hidden" name="tri" value="anciens">`)
	if !inOrder(page, "REV-1", "REV-2") || strings.Contains(page, "REV-3") || strings.Contains(page, "AUT-1") {
		t.Errorf("Dr Plafond's first page, oldest first:\n%s", page)
	}
	page = b.page(t, http.StatusOK, nextLink(t, "Dr Plafond's", page))
	if !strings.Contains(page, "REV-3") || strings.Contains(page, "REV-2") || strings.Contains(page, "AUT-1") {
		t.Errorf("Dr Plafond's second page keeps the filter and the order:\n%s", page)
	}
	// The CSV holds what is filtered, in the list's order.
	csv := b.do(t, "GET", "/coordination/factures.csv?effecteur="+gp.id+"&tri=anciens", nil)
	if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 4 || !inOrder(body, "REV-1;Dr Plafond;", "REV-2;", "REV-3;") ||
		strings.Contains(body, "AUT-1") || !strings.Contains(body, ";10/06/2026;15/06/2026;45,00;Ligne 1 : prix unitaire") {
		t.Errorf("the CSV of Dr Plafond's invoices to check (%d):\n%s", csv.Code, body)
	}
	// A provider that is none shows every row and says so, never a 500.
	wantContains(t, "an unknown provider", htmlText(b.page(t, http.StatusOK, "/coordination/factures?effecteur=999")),
		"Ce filtre ne correspond à rien", "4 lignes.")
}

func TestWebReferentQueueFiltersByRegimeAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var files []patientFixture
	for i, regime := range []string{"ame", "puma", "ame", "ame"} {
		p := h.newPatient(t, "File"+string(rune('A'+i)))
		// Filed on different days, the newest file the earliest filing.
		h.requestRights(t, p, regime, []string{"2026-06-04", "2026-06-03", "2026-06-02", "2026-06-01"}[i])
		files = append(files, p)
	}
	b := mustSignIn(t, h, h.referent)
	all := htmlText(b.page(t, http.StatusOK, "/cpam/dossiers"))
	wantContains(t, "the queue", all, "4 lignes.", `<select id="filtre-regime" name="regime">`)
	if !inOrder(all, files[3].fileNumber, files[2].fileNumber, files[1].fileNumber, files[0].fileNumber) {
		t.Errorf("the queue, the oldest filing first: %v", orderOf(all, files[3].fileNumber, files[2].fileNumber, files[1].fileNumber, files[0].fileNumber))
	}
	ame := h.count(t, "patients", "rights_regime = 'ame' AND rights_status = 'requested'")
	if ame != 3 {
		t.Fatalf("%d AME applications, want 3", ame)
	}
	// A page at a time, the filter kept.
	var seen []string
	path := "/cpam/dossiers?regime=ame&limit=1"
	for range 4 {
		body := b.page(t, http.StatusOK, path)
		wantContains(t, "the AME files", htmlText(body), "3 lignes correspondant au filtre.", `<option value="ame" selected>`)
		for _, f := range files {
			if strings.Contains(body, ">"+f.fileNumber+"<") {
				seen = append(seen, f.fileNumber)
			}
		}
		if !strings.Contains(body, `rel="next"`) {
			break
		}
		path = nextLink(t, "the AME files", body)
	}
	if strings.Join(seen, " ") != files[3].fileNumber+" "+files[2].fileNumber+" "+files[0].fileNumber {
		t.Errorf("the AME files, a page at a time: %v", seen)
	}
	// A page that starts after the second oldest AME filing holds the third.
	after := b.page(t, http.StatusOK, "/cpam/dossiers?regime=ame&apres=2026-06-02_"+files[2].id)
	if !strings.Contains(after, ">"+files[0].fileNumber+"<") || strings.Contains(after, ">"+files[2].fileNumber+"<") ||
		strings.Contains(after, ">"+files[3].fileNumber+"<") {
		t.Errorf("the AME files after the second:\n%s", after)
	}
	csv := b.do(t, "GET", "/cpam/dossiers.csv?regime=ame", nil)
	if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 4 ||
		!inOrder(body, files[3].fileNumber+";AME;01/06/2026", files[2].fileNumber, files[0].fileNumber) || strings.Contains(body, files[1].fileNumber) {
		t.Errorf("the CSV of the AME applications (%d):\n%s", csv.Code, body)
	}
	// A place that reads as none starts at the first, never a 500.
	wantContains(t, "a broken place", b.page(t, http.StatusOK, "/cpam/dossiers?apres=hier_%FF"), files[3].fileNumber)
}

func TestWebAdminListsTurnTheirOrderAndDownloadTheUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, name := range []string{"release", "deadline", "release"} {
		h.runJob(t, name)
	}
	b := mustSignIn(t, h, h.admin)
	// The job runs, the oldest first, the job's filter kept on the next page.
	page := b.page(t, http.StatusOK, "/admin/taches?tache=release&tri=anciens&limit=1")
	wantContains(t, "the release's runs, oldest first", htmlText(page), "2 lignes correspondant au filtre.", "Début ↑")
	next := nextLink(t, "the release's runs", page)
	if !strings.Contains(next, "tache=release") || !strings.Contains(next, "tri=anciens") {
		t.Errorf("the next page's link %q drops the filter or the order", next)
	}
	firstID := regexp.MustCompile(`/admin/taches\?cursor=([^&"]+)`).FindStringSubmatch(next)
	page = b.page(t, http.StatusOK, next)
	if strings.Contains(page, `rel="next"`) {
		t.Errorf("a third page of two runs (after %v)", firstID)
	}
	wantContains(t, "the second run", htmlText(page), "Libération des factures dont les droits sont ouverts")

	// The users by name, French order (accents second), and their CSV.
	for _, name := range []string{"Émile", "Zoé", "eric"} {
		h.user(t, name, "coordinator", 0)
	}
	byName := htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs?role=coordinator&tri=nom"))
	if !inOrder(byName, "<h2>Émile</h2>", "<h2>eric</h2>", "<h2>Zoé</h2>") {
		t.Errorf("the coordinators by name: %v", orderOf(byName, "<h2>Émile</h2>", "<h2>eric</h2>", "<h2>Zoé</h2>"))
	}
	wantContains(t, "the coordinators by name", byName, "Classés par nom", `<input type="hidden" name="tri" value="nom">`,
		`href="/admin/utilisateurs.csv?role=coordinator&tri=nom"`)
	newest := htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs?role=coordinator"))
	if !inOrder(newest, "<h2>eric</h2>", "<h2>Zoé</h2>", "<h2>Émile</h2>") {
		t.Errorf("the coordinators newest first: %v", orderOf(newest, "<h2>eric</h2>", "<h2>Zoé</h2>", "<h2>Émile</h2>"))
	}
	csv := b.do(t, "GET", "/admin/utilisateurs.csv?role=coordinator&tri=nom", nil)
	body := csv.Body.String()
	if csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 5 || !strings.HasPrefix(strings.TrimPrefix(body, "\ufeff"), "Nom;Rôle;Effecteur;État;Jetons actifs;Jetons;Dernier usage\r\n") ||
		!inOrder(body, "Émile;coordination;;actif;1;1;", "eric;", "Zoé;") || strings.Contains(body, "admin;") {
		t.Errorf("the coordinators' CSV (%d):\n%s", csv.Code, body)
	}
}

func TestWebReferentClaimsListFiltersByStatusAndBatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Lot", "general_practitioner", "10000000033")
	h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	h.releasedClaim(t, gp, "Cissé", "puma", "F-2", "25.00")
	b := mustSignIn(t, h, h.referent)
	_, location, _ := b.post(t, "/cpam/lots", "/cpam/lots", url.Values{})
	batchID := strings.TrimPrefix(location, "/cpam/lots/")
	h.releasedClaim(t, gp, "Diop", "ame", "F-3", "20.00")

	all := htmlText(b.page(t, http.StatusOK, "/cpam/demandes"))
	wantContains(t, "the claims", all, "3 demandes.", `<a href="/cpam/demandes" aria-current="page">`, "<td>F-1 du 01/06/2026</td>", "pas encore envoyée",
		`<a href="/cpam/lots/`+batchID+`">lot n° `+batchID+`</a>`, "transmise", "<td>en attente d'envoi</td>")
	if !inOrder(all, "F-3 du", "F-2 du", "F-1 du") {
		t.Errorf("the claims, newest first: %v", orderOf(all, "F-3 du", "F-2 du", "F-1 du"))
	}
	queued := htmlText(b.page(t, http.StatusOK, "/cpam/demandes?statut=queued"))
	wantContains(t, "the queued claims", queued, "1 demande correspondant aux filtres", "F-3 du")
	if strings.Contains(queued, "F-1 du") {
		t.Error("the queued claims list a transmitted one")
	}
	page := b.page(t, http.StatusOK, "/cpam/demandes?lot="+batchID+"&tri=anciens&limit=1")
	wantContains(t, "the batch's claims, oldest first", htmlText(page), "2 demandes correspondant aux filtres", "F-1 du", `aria-sort="ascending"`)
	page = b.page(t, http.StatusOK, nextLink(t, "the batch's claims", page))
	if !strings.Contains(page, "F-2 du") || strings.Contains(page, "F-1 du") || strings.Contains(page, "F-3 du") {
		t.Errorf("the batch's claims, second page:\n%s", page)
	}
	csv := b.do(t, "GET", "/cpam/demandes.csv?lot="+batchID+"&tri=anciens", nil)
	if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 3 || !inOrder(body, "F-1;01/06/2026;AME;30,00;transmise;"+batchID, "F-2;") ||
		strings.Contains(body, "F-3;") {
		t.Errorf("the batch's claims' CSV (%d):\n%s", csv.Code, body)
	}
	wantContains(t, "a batch that is none", htmlText(b.page(t, http.StatusOK, "/cpam/demandes?lot=abc")), "Ce lot n'existe pas", "3 demandes.")
}

// fourClaimBatches makes four claim batches on four Paris days (the
// second at 00:30 in Paris on the 12th, still the 11th in UTC) and imports
// their returns: the first has one claim paid, one rejected (settled, with
// rejections); the second its claim paid (settled, none); the third one
// rejected, one awaited (open, with rejections); the fourth its claim
// awaited (open, none). It returns their ids, oldest first.
func (h *harness) fourClaimBatches(t *testing.T) []string {
	t.Helper()
	gp := h.newProvider(t, "Dr Lots", "general_practitioner", "10000000033")
	var batches []string
	var claimIDs [][]string
	for i, created := range []time.Time{at(t, "2026-06-10"), time.Date(2026, 6, 11, 22, 30, 0, 0, time.UTC), at(t, "2026-06-13"), defaultNow} {
		h.setNow(created)
		var ids []string
		for j := range []int{2, 1, 2, 1}[i] {
			_, c := h.releasedClaim(t, gp, fmt.Sprintf("Lot%c%c", 'A'+i, 'a'+j), "ame", fmt.Sprintf("B%d-%d", i+1, j+1), "30.00")
			ids = append(ids, str(t, c, "id"))
		}
		batches, claimIDs = append(batches, str(t, h.batchClaims(t), "id")), append(claimIDs, ids)
	}
	h.setNow(defaultNow)
	h.importReturn(t, batches[0], returnJSON(t, []string{claimIDs[0][0], "paid", "30.00", "2026-06-14"}, []string{claimIDs[0][1], "rejected", "droits clos"}))
	h.importReturn(t, batches[1], returnJSON(t, []string{claimIDs[1][0], "paid", "30.00", "2026-06-14"}))
	h.importReturn(t, batches[2], returnJSON(t, []string{claimIDs[2][0], "rejected", "hors période"}))
	return batches
}

func TestWebReferentClaimBatchesFilterByReturnRejectionsAndPeriod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	batches := h.fourClaimBatches(t)
	b := mustSignIn(t, h, h.referent)
	lot := func(i int) string { return `href="/cpam/lots/` + batches[i] + `">` }
	// listed is the batches a page lists, by their number (1 to 4).
	listed := func(page string) (out []int) {
		for i := range batches {
			if strings.Contains(page, lot(i)) {
				out = append(out, i+1)
			}
		}
		return out
	}

	all := htmlText(b.page(t, http.StatusOK, "/cpam/lots"))
	wantContains(t, "the batches", all, "4 lots.", `<select id="filtre-statut" name="statut">`, `<label for="filtre-statut">Retour de la CPAM</label>`,
		`<select id="filtre-rejets" name="rejets">`, `<label for="filtre-du">Créés du</label>`, "<td>soldé</td>", "<td>en attente du retour</td>")
	if !inOrder(all, lot(3), lot(2), lot(1), lot(0)) {
		t.Errorf("the batches, newest first: %v", orderOf(all, lot(3), lot(2), lot(1), lot(0)))
	}
	for _, c := range []struct {
		query string
		want  []int
	}{
		{"statut=open", []int{3, 4}},
		{"statut=settled", []int{1, 2}},
		{"rejets=with", []int{1, 3}},
		{"rejets=without", []int{2, 4}},
		{"statut=settled&rejets=with", []int{1}},
		{"du=2026-06-12&au=2026-06-13", []int{2, 3}},
		{"au=2026-06-11", []int{1}},
		{"du=2026-06-12&statut=settled", []int{2}},
		{"du=2026-06-16", nil},
	} {
		page := htmlText(b.page(t, http.StatusOK, "/cpam/lots?"+c.query))
		if got := listed(page); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s lists the batches %v, want %v", c.query, got, c.want)
		}
		count := fmt.Sprintf("%d lot%s correspondant aux filtres", len(c.want), map[bool]string{true: "s"}[len(c.want) != 1])
		wantContains(t, c.query, page, count, `<a href="/cpam/lots">tout afficher</a>`)
		csv := b.do(t, "GET", "/cpam/lots.csv?"+c.query, nil)
		if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 1+len(c.want) {
			t.Errorf("the CSV of %s (%d), want %d batches:\n%s", c.query, csv.Code, len(c.want), body)
		}
	}
	wantContains(t, "nothing matches", htmlText(b.page(t, http.StatusOK, "/cpam/lots?du=2026-06-16")), "Aucun lot ne correspond à ces filtres.",
		`<input type="date" id="filtre-du" name="du" value="2026-06-16">`)

	// A page of one, oldest first: the filter and the order go along to
	// the next page and to the CSV, which holds the filtered batches in
	// the list's order.
	page := b.page(t, http.StatusOK, "/cpam/lots?rejets=with&tri=anciens&limit=1")
	wantContains(t, "the batches with rejections, oldest first", htmlText(page), "2 lots correspondant aux filtres", `aria-sort="ascending"`,
		`<option value="with" selected>avec rejets</option>`, `<input type="hidden" name="tri" value="anciens">`,
		`href="/cpam/lots.csv?rejets=with&tri=anciens"`)
	if got := listed(page); fmt.Sprint(got) != "[1]" {
		t.Errorf("the first page of the batches with rejections lists %v", got)
	}
	next := nextLink(t, "the batches with rejections", page)
	if !strings.Contains(next, "rejets=with") || !strings.Contains(next, "tri=anciens") {
		t.Errorf("the next page's link %q drops the filter or the order", next)
	}
	page = b.page(t, http.StatusOK, next)
	if got := listed(page); fmt.Sprint(got) != "[3]" || strings.Contains(page, `rel="next"`) {
		t.Errorf("the second page of the batches with rejections lists %v (or has a next page)", got)
	}
	csv := b.do(t, "GET", "/cpam/lots.csv?rejets=with&tri=anciens", nil)
	if body := csv.Body.String(); csv.Code != http.StatusOK || strings.Count(body, "\r\n") != 3 ||
		!inOrder(body, "\r\n"+batches[0]+";10/06/2026;2;60,00;1;30,00;1;0;0;soldé\r\n", "\r\n"+batches[2]+";13/06/2026;2;60,00;0;0,00;1;0;0;en attente du retour\r\n") {
		t.Errorf("the CSV of the batches with rejections, oldest first (%d):\n%s", csv.Code, body)
	}
	// The period's links keep its days; the head's link keeps the filters.
	wantContains(t, "a period", htmlText(b.page(t, http.StatusOK, "/cpam/lots?du=2026-06-12&au=2026-06-13")),
		`href="/cpam/lots.csv?au=2026-06-13&du=2026-06-12"`, `href="?au=2026-06-13&du=2026-06-12&tri=anciens"`)
}

// TestWebReferentClaimBatchesSayAFilterThatReadsAsNone: a filter that
// reads as none is said and left out, on the page and in its CSV, never a
// 500.
func TestWebReferentClaimBatchesSayAFilterThatReadsAsNone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fourClaimBatches(t)
	b := mustSignIn(t, h, h.referent)
	for query, said := range map[string]string{
		"statut=bidon":                "Ce filtre ne correspond à rien : il est ignoré.",
		"rejets=peut-etre":            "Ce filtre ne correspond à rien : il est ignoré.",
		"du=hier":                     "Indiquez les dates de création au format jj/mm/aaaa.",
		"du=2026-06-14&au=2026-06-10": "La date de fin précède la date de début : la période est ignorée.",
	} {
		page := htmlText(b.page(t, http.StatusOK, "/cpam/lots?"+query))
		wantContains(t, query, page, said, "4 lots.", `href="/cpam/lots.csv"`)
		if csv := b.do(t, "GET", "/cpam/lots.csv?"+query, nil); csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 5 {
			t.Errorf("the CSV of %s (%d):\n%s", query, csv.Code, csv.Body)
		}
	}
	wantContains(t, "a day that reads as none", b.page(t, http.StatusOK, "/cpam/lots?du=hier&au=2026-06-12"),
		`value="hier" aria-invalid="true" aria-describedby="filtre-erreur"`, `id="filtre-erreur"`, "2 lots correspondant aux filtres")
}

// TestWebAdminJobRunsDownloadInTheListsOrder: the runs' CSV holds the
// job filtered, in the order the list reads (?tri=anciens: oldest first),
// and the page's link asks for both.
func TestWebAdminJobRunsDownloadInTheListsOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i, name := range []string{"release", "deadline", "release", "release"} {
		h.setNow(defaultNow.Add(time.Duration(i) * time.Minute))
		h.runJob(t, name)
	}
	b := mustSignIn(t, h, h.admin)
	// The page's link downloads the runs in its order, its filter kept.
	wantContains(t, "the release's runs, oldest first", htmlText(b.page(t, http.StatusOK, "/admin/taches?tache=release&tri=anciens")),
		`href="/admin/taches.csv?tache=release&tri=anciens"`)
	wantContains(t, "the runs, newest first", htmlText(b.page(t, http.StatusOK, "/admin/taches")), `href="/admin/taches.csv"`)
	starts := func(body string) []string {
		return regexp.MustCompile(`;15/06/2026 12:0\d:00;`).FindAllString(body, -1)
	}
	for query, want := range map[string]string{
		"tache=release&tri=anciens": "[;15/06/2026 12:00:00; ;15/06/2026 12:02:00; ;15/06/2026 12:03:00;]",
		"tache=release":             "[;15/06/2026 12:03:00; ;15/06/2026 12:02:00; ;15/06/2026 12:00:00;]",
		"tri=anciens":               "[;15/06/2026 12:00:00; ;15/06/2026 12:01:00; ;15/06/2026 12:02:00; ;15/06/2026 12:03:00;]",
		"":                          "[;15/06/2026 12:03:00; ;15/06/2026 12:02:00; ;15/06/2026 12:01:00; ;15/06/2026 12:00:00;]",
	} {
		csv := b.do(t, "GET", "/admin/taches.csv?"+query, nil)
		if got := fmt.Sprint(starts(csv.Body.String())); csv.Code != http.StatusOK || got != want {
			t.Errorf("the runs' CSV of %q (%d) starts %s, want %s:\n%s", query, csv.Code, got, want, csv.Body)
		}
	}
}
