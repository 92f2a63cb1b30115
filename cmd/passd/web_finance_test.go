package main

// The finance role's pages, driven as a browser without JavaScript would;
// what each form stores is compared with what the JSON API answers.

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"passd/web"
)

// post submits a form of path's page (its CSRF token read from from) and
// returns the answer.
func (b *browser) post(t *testing.T, from, path string, form url.Values) (int, string, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf(t, from))
	rec := b.do(t, "POST", path, form)
	return rec.Code, rec.Header().Get("Location"), rec.Body.String()
}

// htmlText undoes the page's HTML escaping, to compare French text.
func htmlText(body string) string { return html.UnescapeString(body) }

func mustDecimal(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wantContains(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, page)
		}
	}
}

func TestWebFinanceBatchFromDraftToPaidAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	h.cityDue(t, gp, h.newPatient(t, "Diallo"), "F-WEB", "1200.50", "34.00")
	preparer := mustSignIn(t, h, h.finance)
	approver := mustSignIn(t, h, h.newFinance(t, "finance-b"))

	// The dashboard: the budget's bar and figures, what is due by provider.
	home := preparer.page(t, http.StatusOK, "/finances")
	wantContains(t, "the dashboard", home, "<h1>Tableau de bord</h1>", "Budget 2026", `<meter id="budget-utilise" min="0" max="50000.00" value="1234.50">`,
		"Budget annuel", web.FormatAmount(mustDecimal(t, "50000.00")), "Restant", web.FormatAmount(mustDecimal(t, "48765.50")),
		"<td>Dr Martin</td><td class=\"num\">2</td><td class=\"num\">"+web.FormatAmount(mustDecimal(t, "1234.50"))+"</td>",
		"brouillon : 0", `href="/finances/paiements.csv"`, `href="/finances/lots"`,
		"<td>À mettre dans un lot</td><td class=\"num\">2</td>")

	// Other roles may not open the finance pages.
	other := mustSignIn(t, h, gp.token)
	for _, path := range []string{"/finances", "/finances/lots", "/finances/lots.csv", "/finances/paiements.csv"} {
		wantContains(t, "GET "+path+" as a provider", other.page(t, http.StatusForbidden, path), "Accès refusé")
	}

	// "Préparer un lot" drafts every due payout, as POST /payout-batches.
	wantContains(t, "the batches", preparer.page(t, http.StatusOK, "/finances/lots"), "Préparer un lot", "Aucun lot de paiement.", `href="/finances/lots.csv"`)
	code, loc, body := preparer.post(t, "/finances/lots", "/finances/lots", nil)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/finances/lots/") {
		t.Fatalf("Préparer un lot: %d → %q, want 303 → the batch:\n%s", code, loc, body)
	}
	id := strings.TrimPrefix(loc, "/finances/lots/")
	wantFields(t, "the drafted batch", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""),
		map[string]any{"status": "draft", "payout_count": 2, "total": "1234.50", "created_by": "finance", "provider_id": nil})
	page := preparer.page(t, http.StatusOK, loc)
	wantContains(t, "the draft", page, "Lot préparé.", "Lot de paiement n° "+id, "brouillon", "Soumettre", "Annuler le lot", "Dr Martin",
		web.FormatAmount(mustDecimal(t, "1200.50")), "échéance dépassée", ">F-WEB-1</a> du 01/03/2026</td>")
	if strings.Contains(page, "Approuver</button>") || strings.Contains(page, "Télécharger le fichier SEPA") {
		t.Error("a draft offers to approve it or its SEPA file")
	}
	wantContains(t, "the batches", preparer.page(t, http.StatusOK, "/finances/lots"), `<a href="/finances/lots/`+id+`">Lot n° `+id+`</a>`, "brouillon")
	// The dashboard agrees with the draft: nothing left to batch, the
	// 1 234,50 in a batch being prepared.
	stage := func(label string, n int, amount string) string {
		return "<td>" + label + "</td><td class=\"num\">" + strconv.Itoa(n) + "</td><td class=\"num\">" + web.FormatAmount(mustDecimal(t, amount)) + "</td>"
	}
	wantContains(t, "the dashboard with a draft", htmlText(preparer.page(t, http.StatusOK, "/finances")), stage("À mettre dans un lot", 0, "0.00"),
		stage("Dans un lot en préparation", 2, "1234.50"), stage("Approuvés, à virer", 0, "0.00"), "Aucun paiement en attente d'un lot.")

	// Soumettre makes the agent its preparer.
	if code, loc, body := preparer.post(t, loc, loc+"/soumettre", nil); code != http.StatusSeeOther || loc != "/finances/lots/"+id {
		t.Fatalf("Soumettre: %d → %q:\n%s", code, loc, body)
	}
	wantFields(t, "the submitted batch", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""),
		map[string]any{"status": "submitted", "prepared_by": "finance"})

	// The preparer may not approve: the French four-eyes message, nothing changed.
	code, _, body = preparer.post(t, loc, loc+"/approuver", nil)
	if code != http.StatusForbidden {
		t.Fatalf("the preparer approves: %d, want 403:\n%s", code, body)
	}
	wantContains(t, "the four-eyes refusal", htmlText(body), "Vous avez préparé ce lot : un autre agent doit l'approuver.", "Approuver")
	wantFields(t, "the batch after the preparer's attempt", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""),
		map[string]any{"status": "submitted", "approved_by": nil})

	// Another agent approves, through a page that says what will follow
	// and changes nothing until confirmed; the SEPA file is the API's,
	// byte for byte.
	code, _, body = approver.post(t, loc, loc+"/approuver", nil)
	wantContains(t, "the approval's confirmation", htmlText(body), "Approuver le lot n° "+id+" : 2 virements, "+web.FormatAmount(mustDecimal(t, "1234.50"))+
		", vers 1 effecteur ?", "préparé par finance ; vous, finance-b, l'approuvez", `<input type="hidden" name="confirme" value="oui">`,
		`href="/finances/lots/`+id+`"`)
	if code != http.StatusOK {
		t.Fatalf("Approuver asks first: %d", code)
	}
	wantFields(t, "the batch before the confirmation", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""), map[string]any{"status": "submitted"})
	if code, _, body := approver.post(t, loc, loc+"/approuver", url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Approuver, confirmed: %d:\n%s", code, body)
	}
	wantFields(t, "the approved batch", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""),
		map[string]any{"status": "approved", "approved_by": "finance-b", "budget_override": false})
	approved := approver.page(t, http.StatusOK, loc)
	wantContains(t, "the approved batch", approved, "Lot approuvé.", "Télécharger le fichier SEPA", "Marquer payé",
		`<label for="paid_on">Date du paiement</label>`)
	if strings.Contains(approved, "Annuler le lot") {
		t.Error("the approved batch still offers \"Annuler le lot\", which the store and the trigger refuse")
	}
	sepa := approver.do(t, "GET", loc+"/sepa.xml", nil)
	apiSEPA := h.doRaw(t, "GET", pbPath(id, "sepa.xml"), h.finance, "")
	if sepa.Code != http.StatusOK || apiSEPA.Code != http.StatusOK || sepa.Body.String() != apiSEPA.Body.String() {
		t.Errorf("sepa.xml: page %d, API %d; same bytes: %v", sepa.Code, apiSEPA.Code, sepa.Body.String() == apiSEPA.Body.String())
	}

	// Marquer payé: French errors (422, the date kept), then the API's paid_on.
	for _, c := range []struct{ paidOn, want string }{
		{"", "Indiquez la date du paiement (jj/mm/aaaa)."},
		{"15/06/2026", "Indiquez la date du paiement (jj/mm/aaaa)."},
		{"2026-06-16", "La date du paiement ne peut pas être dans le futur."},
		{"2026-01-02", "La date du paiement ne peut pas précéder l'approbation du lot."},
	} {
		code, _, body := approver.post(t, loc, loc+"/paye", url.Values{"paid_on": {c.paidOn}})
		if code != http.StatusUnprocessableEntity {
			t.Errorf("paid_on %q: %d, want 422", c.paidOn, code)
		}
		wantContains(t, "paid_on "+c.paidOn, htmlText(body), c.want, `value="`+c.paidOn+`"`)
	}
	wantFields(t, "the batch after refused dates", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""), map[string]any{"status": "approved"})
	code, _, body = approver.post(t, loc, loc+"/paye", url.Values{"paid_on": {"2026-06-15"}})
	wantContains(t, "the payment's confirmation", htmlText(body), "Marquer le lot n° "+id+" payé le 15/06/2026 : 2 virements",
		`<input type="hidden" name="paid_on" value="2026-06-15">`)
	if code != http.StatusOK {
		t.Fatalf("Marquer payé asks first: %d", code)
	}
	if code, _, body := approver.post(t, loc, loc+"/paye", url.Values{"paid_on": {"2026-06-15"}, "confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Marquer payé, confirmed: %d:\n%s", code, body)
	}
	wantFields(t, "the paid batch", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""), map[string]any{"status": "paid", "paid_on": "2026-06-15"})
	wantContains(t, "the paid batch", approver.page(t, http.StatusOK, loc), "Lot marqué payé.", "payé", "15/06/2026")

	// The CSV downloads are the API's, byte for byte.
	for page, api := range map[string]string{
		"/finances/lots.csv":                "/api/v1/payout-batches?format=csv",
		"/finances/paiements.csv":           "/api/v1/payouts?format=csv",
		"/finances/paiements.csv?lot=" + id: "/api/v1/payouts?format=csv&batch_id=" + id,
	} {
		got, want := preparer.do(t, "GET", page, nil), h.doRaw(t, "GET", api, h.finance, "")
		if got.Code != http.StatusOK || got.Body.String() != want.Body.String() || got.Header().Get("Content-Disposition") != want.Header().Get("Content-Disposition") {
			t.Errorf("GET %s: %d %q, want the API's %s:\n%s\n---\n%s", page, got.Code, got.Header().Get("Content-Disposition"), api, got.Body.String(), want.Body.String())
		}
	}
	h.checkInvariants(t)
}

func TestWebFinanceCancelsABatchAndExplainsRefusalsInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	b := mustSignIn(t, h, h.finance)

	// Nothing due: the list explains it (409) and stores nothing.
	before := h.state(t)
	code, _, body := b.post(t, "/finances/lots", "/finances/lots", nil)
	if code != http.StatusConflict {
		t.Fatalf("Préparer un lot with nothing due: %d, want 409", code)
	}
	wantContains(t, "nothing to batch", htmlText(body), "Aucun paiement à verser ne peut entrer dans un lot")
	h.assertUnchanged(t, "nothing to batch", before)

	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	h.cityDue(t, gp, h.newPatient(t, "Diallo"), "F-WEB", "40.00")
	_, loc, _ := b.post(t, "/finances/lots", "/finances/lots", nil)
	id := strings.TrimPrefix(loc, "/finances/lots/")
	code, _, body = b.post(t, loc, loc+"/annuler", nil)
	wantContains(t, "the cancel's confirmation", htmlText(body), "Annuler le lot n° "+id+" (1 virement, "+web.FormatAmount(mustDecimal(t, "40.00"))+
		", vers 1 effecteur) ?", "reviennent « à mettre dans un lot »")
	if code != http.StatusOK {
		t.Fatalf("Annuler le lot asks first: %d", code)
	}
	if code, _, body := b.post(t, loc, loc+"/annuler", url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Annuler le lot, confirmed: %d:\n%s", code, body)
	}
	wantFields(t, "the cancelled batch", h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, ""), map[string]any{"status": "cancelled"})
	wantContains(t, "the cancelled batch", b.page(t, http.StatusOK, loc), "Lot annulé.", "annulé")
	// The list filters by status, counts, and its CSV holds what is filtered.
	wantContains(t, "the cancelled batches", htmlText(b.page(t, http.StatusOK, "/finances/lots?statut=cancelled")), "1 ligne correspondant au filtre.",
		`<a href="/finances/lots/`+id+`">Lot n° `+id+`</a>`, `<option value="cancelled" selected>`, `href="/finances/lots.csv?statut=cancelled"`)
	wantContains(t, "the draft batches", htmlText(b.page(t, http.StatusOK, "/finances/lots?statut=draft")), "0 lignes correspondant au filtre.",
		"Aucun lot de ce statut.")
	if csv := b.do(t, "GET", "/finances/lots.csv?statut=draft", nil); csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 1 {
		t.Errorf("the CSV of the draft batches (none): %d\n%s", csv.Code, csv.Body)
	}
	// Oldest first from the date column's head, a page at a time.
	h.cityDue(t, gp, h.newPatient(t, "Sow"), "F-WEB-2", "25.00")
	_, second, _ := b.post(t, "/finances/lots", "/finances/lots", nil)
	first := b.page(t, http.StatusOK, "/finances/lots?tri=anciens&limit=1")
	wantContains(t, "the batches, oldest first", first, `<a href="/finances/lots/`+id+`">`, `aria-sort="ascending"`)
	if strings.Contains(first, `href="`+second+`"`) {
		t.Errorf("the oldest batch's page shows the newer one")
	}
	wantContains(t, "the batches, oldest first, page 2", b.page(t, http.StatusOK, nextLink(t, "the batches", first)), `<a href="`+second+`">`)
	// The CSV follows the list's order: newest first, or oldest when turned.
	secondID := strings.TrimPrefix(second, "/finances/lots/")
	for query, want := range map[string][]string{"": {secondID, id}, "?tri=anciens": {id, secondID}} {
		lines := strings.Split(strings.TrimSpace(b.do(t, "GET", "/finances/lots.csv"+query, nil).Body.String()), "\r\n")
		var got []string
		for _, line := range lines[1:] {
			got = append(got, strings.SplitN(line, ";", 2)[0])
		}
		if !slices.Equal(got, want) {
			t.Errorf("/finances/lots.csv%s lists the batches %v, want %v:\n%s", query, got, want, strings.Join(lines, "\n"))
		}
	}

	// A step the batch's status no longer allows: 409 with a French message.
	code, _, body = b.post(t, loc, loc+"/soumettre", url.Values{})
	if code != http.StatusConflict {
		t.Fatalf("submitting a cancelled batch: %d, want 409", code)
	}
	wantContains(t, "submitting a cancelled batch", htmlText(body), "Ce lot a changé d'état entre-temps")
	// Unknown or malformed batches are the French 404 page.
	for _, path := range []string{"/finances/lots/999999", "/finances/lots/abc", "/finances/lots/999999/sepa.xml"} {
		b.page(t, http.StatusNotFound, path)
	}
	h.checkInvariants(t)
}

// TestWebFinancePayoutsFilterCountAndDownload: /finances/paiements filters
// the payouts by provider and status from the query string, says how many
// match, pages through them with the filters kept, and its CSV holds
// exactly what is filtered.
func TestWebFinancePayoutsFilterCountAndDownload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet Lilas", "nurse", "10000000002")
	h.cityDue(t, gp, h.newPatient(t, "Diallo"), "F-1", "40.00")
	h.cityDue(t, gp, h.newPatient(t, "Nguyen"), "F-2", "25.00")
	h.cityDue(t, nurse, h.newPatient(t, "Popescu"), "F-3", "12.00")
	b := mustSignIn(t, h, h.finance)
	wantContains(t, "the finance menu", b.page(t, http.StatusOK, "/finances"), `<a href="/finances/paiements">Paiements</a>`)

	page := htmlText(b.page(t, http.StatusOK, "/finances/paiements?statut=due&effecteur="+gp.id))
	wantContains(t, "the filtered payouts", page, "2 paiements correspondant aux filtres", "<td>Dr Martin</td>", ">F-1-1</a> du 01/03/2026</td>",
		`<option value="`+gp.id+`" selected>Dr Martin</option>`, `href="/finances/paiements.csv?effecteur=`+gp.id+`&statut=due"`)
	if strings.Contains(page, "<td>Cabinet Lilas</td>") {
		t.Error("the list filtered on Dr Martin shows another provider's payout")
	}
	first := htmlText(b.page(t, http.StatusOK, "/finances/paiements?effecteur="+gp.id+"&limit=1"))
	next := regexp.MustCompile(`href="(/finances/paiements\?cursor=[^"]+)"`).FindStringSubmatch(first)
	if next == nil || !strings.Contains(next[1], "effecteur="+gp.id) {
		t.Fatalf("the next page's link keeps no filter: %v", next)
	}
	if second := htmlText(b.page(t, http.StatusOK, next[1])); strings.Contains(second, "<td>Cabinet Lilas</td>") || !strings.Contains(second, "<td>Dr Martin</td>") {
		t.Errorf("the second page of Dr Martin's payouts:\n%s", second)
	}
	csv := b.do(t, "GET", "/finances/paiements.csv?effecteur="+gp.id+"&statut=due", nil)
	if csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 3 || strings.Contains(csv.Body.String(), "Cabinet Lilas") {
		t.Errorf("the filtered CSV (%d):\n%s", csv.Code, csv.Body)
	}
	wantContains(t, "a filter that is none", htmlText(b.page(t, http.StatusOK, "/finances/paiements?statut=bidon")), "Ce statut n'existe pas", "3 paiements.")
	// By reason: the refusal's payout apart from the deadline's.
	h.refusedCityDue(t, gp, "Refus", "R-1")
	refused := htmlText(b.page(t, http.StatusOK, "/finances/paiements?motif=rights_refused"))
	wantContains(t, "the refusals' payouts", refused, "1 paiement correspondant aux filtres", `<option value="rights_refused" selected>droits refusés</option>`,
		`href="/finances/paiements.csv?motif=rights_refused"`, "<td>droits refusés</td>")
	if strings.Contains(refused, "<td>échéance dépassée</td>") {
		t.Error("the refusals' payouts list a deadline's")
	}
	if csv := b.do(t, "GET", "/finances/paiements.csv?motif=deadline_passed", nil); csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 4 {
		t.Errorf("the deadline's payouts' CSV (%d):\n%s", csv.Code, csv.Body)
	}
	wantContains(t, "a reason that is none", htmlText(b.page(t, http.StatusOK, "/finances/paiements?motif=bidon")), "Ce motif n'existe pas", "4 paiements.")

	// The largest first, a page of one at a time, past each page's last row.
	var amounts []string
	path := "/finances/paiements?tri=montant&limit=1"
	for range 5 {
		page := htmlText(b.page(t, http.StatusOK, path))
		if m := regexp.MustCompile(`<td class="num">([0-9,]+)\x{a0}€</td>`).FindStringSubmatch(page); m != nil {
			amounts = append(amounts, m[1])
		}
		next := regexp.MustCompile(`href="(/finances/paiements\?apres=[^"]+)"`).FindStringSubmatch(page)
		if next == nil {
			break
		}
		path = next[1] + "&limit=1"
	}
	if strings.Join(amounts, " ") != "40,00 30,00 25,00 12,00" {
		t.Errorf("the payouts by amount, a page at a time: %v", amounts)
	}
}
