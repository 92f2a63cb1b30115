package main

// The admin's tariff pages (the acts catalogue, the drug table, the rates)
// driven as a browser without JavaScript would; what each form or import
// stores is read back from billing's store.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/rights"
)

// tariffPages are the admin's tariff pages.
var tariffPages = []string{"/admin/actes", "/admin/medicaments", "/admin/taux"}

func TestWebTariffPagesAreTheAdminsOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Cabinet Tarif", "general_practitioner", "10000000041")
	admin := mustSignIn(t, h, h.admin)

	home := admin.page(t, http.StatusOK, "/admin")
	for _, path := range tariffPages {
		wantContains(t, "the admin's home", home, `<a href="`+path+`">`)
		// Each is in the admin's menu, current on its own page.
		wantContains(t, path, admin.page(t, http.StatusOK, path), `<a href="`+path+`" aria-current="page">`)
	}
	wantContains(t, "the acts page", htmlText(admin.page(t, http.StatusOK, "/admin/actes")), "<h1>Actes</h1>",
		"<td>G</td>", "<td>Consultation de médecine générale</td>", "<td>Médecin généraliste, Centre de santé</td>",
		"<td>celle de l'effecteur qui facture</td>", "30,00\u00a0€", "<td>HD</td>", "<td>celle du médicament qui précède</td>",
		`action="/admin/actes/G/supprimer"`, "Enregistrer l'acte</button>", `enctype="multipart/form-data"`)
	wantContains(t, "the drugs page", htmlText(admin.page(t, http.StatusOK, "/admin/medicaments")), "<h1>Médicaments</h1>",
		"La table est vide", "classe par défaut des", "65\u00a0%", "Enregistrer le médicament</button>")
	wantContains(t, "the rates page", htmlText(admin.page(t, http.StatusOK, "/admin/taux")), "<h1>Taux de remboursement</h1>",
		"Taux en vigueur le 15/06/2026", `<th scope="col" class="num">PUMa + C2S</th>`, `<th scope="row">Médicament 65`+"\u00a0%</th>",
		"ne décide jamais à nouveau une facture déjà décidée", "Enregistrer le changement de taux</button>")

	before := h.tariffState(t)
	others := []struct{ role, token, home string }{
		{"finance", h.finance, "/finances"}, {"coordinator", h.coordinator, "/coordination/dossiers"},
		{"referent", h.referent, "/cpam/dossiers"}, {"provider", pr.token, "/effecteur/factures"},
	}
	for _, o := range others {
		role, b := o.role, mustSignIn(t, h, o.token)
		for _, path := range tariffPages {
			if rec := b.do(t, "GET", path, nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Accès refusé") {
				t.Errorf("%s GET %s: %d, want 403", role, path, rec.Code)
			}
		}
		csrf := b.csrf(t, o.home)
		for _, post := range []struct {
			path string
			form url.Values
		}{
			{"/admin/actes", url.Values{"code": {"ZZZ"}, "label": {"Acte"}, "provider_kinds": {"nurse"}}},
			{"/admin/actes/G/supprimer", url.Values{"confirme": {"oui"}}},
			{"/admin/medicaments", url.Values{"cip13": {cip13(t, "340093000001")}, "label": {"X"}, "class": {"30"}}},
			{"/admin/taux", url.Values{"regime": {"puma"}, "rate_class": {"nurse"}, "effective_from": {today}, "rate": {"50"}, "reason": {"x"}}},
		} {
			post.form.Set("_csrf", csrf)
			if rec := b.do(t, "POST", post.path, post.form); rec.Code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", role, post.path, rec.Code)
			}
		}
	}
	h.assertTariffUnchanged(t, "other roles' posts", before)
}

func TestWebAdminAddsReplacesAndDeletesAnAct(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	ctx := context.Background()

	// A French amount with a thousands space and a decimal comma.
	form := url.Values{"code": {"zzt"}, "label": {"Acte de test"}, "provider_kinds": {"nurse", "health_centre"}, "rate_class": {"nurse"},
		"max_unit_price": {"1 234,50"}, "source": {"test"}}
	code, loc, body := b.post(t, "/admin/actes", "/admin/actes", form)
	if code != http.StatusSeeOther || loc != "/admin/actes" {
		t.Fatalf("Enregistrer l'acte: %d → %q:\n%s", code, loc, body)
	}
	a, err := h.app.billing.Act(inConvention(ctx), "ZZT")
	if err != nil {
		t.Fatal(err)
	}
	if a.Label != "Acte de test" || !slices.Equal(a.ProviderKinds, []string{"nurse", "health_centre"}) || a.RateClass != "nurse" ||
		a.MaxUnitPrice == nil || a.MaxUnitPrice.String() != "1234.5" || a.DispensingFee || a.Source != "test" || a.UpdatedBy != "admin" {
		t.Errorf("the stored act: %+v", a)
	}
	page := htmlText(b.page(t, http.StatusOK, "/admin/actes"))
	wantContains(t, "the catalogue", page, "Acte enregistré.", "<td>ZZT</td>", "<td>Infirmier, Centre de santé</td>", "<td>Infirmier</td>",
		"1\u202f234,50\u00a0€")

	// The edit link fills the form; saving it again replaces the act.
	edit := htmlText(b.page(t, http.StatusOK, "/admin/actes?modifier=ZZT"))
	wantContains(t, "the edit form", edit, `id="code" name="code" value="ZZT"`, "value=\"1\u202f234,50\"", `value="nurse" checked`,
		`value="health_centre" checked`, `<option value="nurse" selected>`)
	form = url.Values{"code": {"ZZT"}, "label": {"Acte de test remplacé"}, "provider_kinds": {"pharmacy"}, "rate_class": {""},
		"max_unit_price": {""}, "dispensing_fee": {"oui"}}
	if code, _, body := b.post(t, "/admin/actes", "/admin/actes", form); code != http.StatusSeeOther {
		t.Fatalf("replacing the act: %d:\n%s", code, body)
	}
	if a, err = h.app.billing.Act(inConvention(ctx), "ZZT"); err != nil || a.Label != "Acte de test remplacé" || a.MaxUnitPrice != nil || !a.DispensingFee ||
		!slices.Equal(a.ProviderKinds, []string{"pharmacy"}) || a.RateClass != "" {
		t.Errorf("the replaced act: %+v, %v", a, err)
	}

	// Refusals in French next to their field, as typed; nothing stored.
	before := h.tariffState(t)
	for _, c := range []struct {
		set   url.Values
		field string
		want  string
	}{
		{url.Values{"max_unit_price": {"12,345"}}, "max_unit_price", "au centime près (par exemple 30,00 ou 1 234,50)"},
		{url.Values{"max_unit_price": {"1 23,00"}}, "max_unit_price", "au centime près"},
		{url.Values{"provider_kinds": nil}, "provider_kinds", "Cochez au moins un type d'effecteur"},
		{url.Values{"code": {"3400930000011"}}, "code", "Les médicaments (CIP13) vont dans la table des médicaments."},
		{url.Values{"label": {""}}, "label", "Indiquez le libellé de l'acte"},
		{url.Values{"dispensing_fee": {"oui"}, "rate_class": {"nurse"}}, "rate_class", "Un honoraire de dispensation prend le taux du médicament"},
	} {
		f := url.Values{"code": {"ZZU"}, "label": {"Autre"}, "provider_kinds": {"nurse"}, "max_unit_price": {"10,00"}}
		for k, v := range c.set {
			f[k] = v
		}
		code, _, body := b.post(t, "/admin/actes", "/admin/actes", f)
		body = htmlText(body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+c.field+`-error">`) || !strings.Contains(body, c.want) ||
			!strings.Contains(body, "L'acte n'a pas été enregistré") {
			t.Errorf("%v: %d, want 422 with %q next to %s:\n%s", c.set, code, c.want, c.field, body)
		}
	}
	h.assertTariffUnchanged(t, "refused acts", before)

	// Delete: the button only asks, and says what follows; confirming
	// deletes.
	code, _, body = b.post(t, "/admin/actes", "/admin/actes/ZZT/supprimer", nil)
	body = htmlText(body)
	if code != http.StatusOK {
		t.Fatalf("Supprimer: %d:\n%s", code, body)
	}
	wantContains(t, "the confirmation", body, "Retirer l'acte ZZT (Acte de test remplacé) du catalogue ?",
		"Une clé NGAP absente du catalogue est refusée", "Les factures déjà reçues gardent leurs lignes", `name="confirme" value="oui"`,
		"Retirer l'acte ZZT</button>", `<a href="/admin/actes">Garder l'acte`)
	if _, err := h.app.billing.Act(inConvention(ctx), "ZZT"); err != nil {
		t.Fatalf("the act is gone before the confirmation: %v", err)
	}
	code, loc, body = b.post(t, "/admin/actes", "/admin/actes/ZZT/supprimer", url.Values{"confirme": {"oui"}})
	if code != http.StatusSeeOther || loc != "/admin/actes" {
		t.Fatalf("confirmed delete: %d → %q:\n%s", code, loc, body)
	}
	if _, err := h.app.billing.Act(inConvention(ctx), "ZZT"); !fault.Is(err, fault.NotFound) {
		t.Errorf("the deleted act: %v, want not found", err)
	}
	page = htmlText(b.page(t, http.StatusOK, "/admin/actes"))
	wantContains(t, "after the delete", page, "Acte retiré du catalogue.")
	if strings.Contains(page, "<td>ZZT</td>") {
		t.Errorf("the catalogue still lists ZZT")
	}
	if code, _, _ := b.post(t, "/admin/actes", "/admin/actes/ZZT/supprimer", url.Values{"confirme": {"oui"}}); code != http.StatusNotFound {
		t.Errorf("deleting it again: %d, want 404", code)
	}
	if n := h.count(t, "audit_log", "entity = 'act' AND actor = 'admin'"); n != 3 {
		t.Errorf("%d act audit rows by the admin, want 3 (two puts, one delete)", n)
	}
}

func TestWebAdminImportsActsWholeOrNotAtAll(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	ctx := context.Background()

	// Line 3 names a kind that does not exist, line 5 a drug: nothing is
	// stored, and both lines are named.
	bad := "code;label;provider_kinds;rate_class;max_unit_price;dispensing_fee;source\n" +
		"ZZA;Acte A;nurse;;10,00;non;test\n" +
		"ZZB;Acte B;dentist;;;;test\n" +
		"G;Consultation de médecine générale;general_practitioner health_centre;;31,00;non;revalorisation\n" +
		"3400930000011;Médicament;pharmacy;;;;\n"
	before := h.tariffState(t)
	rec := b.upload(t, "/admin/actes", "/admin/actes/importer", "file", "actes.csv", bad)
	body := htmlText(rec.Body.String())
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a file with bad rows: %d, want 422:\n%s", rec.Code, body)
	}
	wantContains(t, "the refusal", body, "Le fichier n'a pas été importé, rien n'a été enregistré : les lignes 3 et 5 ne sont pas valides.",
		`id="import-error"`, "line 3:", "line 5:")
	h.assertTariffUnchanged(t, "a refused acts file", before)

	// One bad line is named alone.
	rec = b.upload(t, "/admin/actes", "/admin/actes/importer", "file", "actes.csv", strings.Replace(bad, "3400930000011;Médicament;pharmacy;;;;\n", "", 1))
	if body := htmlText(rec.Body.String()); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "la ligne 3 n'est pas valide") {
		t.Errorf("one bad line: %d:\n%s", rec.Code, body)
	}
	// A header the import does not know, and no file at all.
	rec = b.upload(t, "/admin/actes", "/admin/actes/importer", "file", "actes.csv", "code;libelle\nG;x\n")
	if body := htmlText(rec.Body.String()); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "La ligne d'en-tête du fichier n'est pas valide") {
		t.Errorf("a bad header: %d:\n%s", rec.Code, body)
	}
	csrf := b.csrf(t, "/admin/actes")
	if rec := b.do(t, "POST", "/admin/actes/importer", url.Values{"_csrf": {csrf}}); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(htmlText(rec.Body.String()), "Choisissez le fichier CSV des actes.") {
		t.Errorf("no file: %d:\n%s", rec.Code, rec.Body.String())
	}
	h.assertTariffUnchanged(t, "refused acts files", before)

	// Fixed, it is stored whole: one act created, one replaced.
	good := strings.Replace(strings.Replace(bad, "ZZB;Acte B;dentist;;;;test\n", "", 1), "3400930000011;Médicament;pharmacy;;;;\n", "", 1)
	rec = b.upload(t, "/admin/actes", "/admin/actes/importer", "file", "actes.csv", good)
	body = htmlText(rec.Body.String())
	if rec.Code != http.StatusOK {
		t.Fatalf("the fixed file: %d:\n%s", rec.Code, body)
	}
	wantContains(t, "the import's result", body, "Import terminé : 1 créé, 1 modifié.", "<td>ZZA</td>", "31,00\u00a0€")
	a, err := h.app.billing.Act(inConvention(ctx), "ZZA")
	if err != nil || a.MaxUnitPrice == nil || a.MaxUnitPrice.StringFixed(2) != "10.00" || !slices.Equal(a.ProviderKinds, []string{"nurse"}) {
		t.Errorf("the imported act: %+v, %v", a, err)
	}
	if g, err := h.app.billing.Act(inConvention(ctx), "G"); err != nil || g.MaxUnitPrice == nil || g.MaxUnitPrice.StringFixed(2) != "31.00" || g.Source != "revalorisation" {
		t.Errorf("the replaced G: %+v, %v", g, err)
	}
	if n := h.count(t, "audit_log", "action = 'act.import'"); n != 2 {
		t.Errorf("%d act.import audit rows, want 2", n)
	}
}

func TestWebAdminKeepsTheDrugTable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	ctx := context.Background()

	// 55 drugs by import: a page lists 50, the next the other 5.
	var csv strings.Builder
	csv.WriteString("cip13;label;class\n")
	for i := range 55 {
		class := []string{"65", "30 %", "15"}[i%3]
		fmt.Fprintf(&csv, "%s;Médicament %02d;%s\n", cip13(t, fmt.Sprintf("3400930%05d", i)), i, class)
	}
	rec := b.upload(t, "/admin/medicaments", "/admin/medicaments/importer", "file", "medicaments.csv", csv.String())
	body := htmlText(rec.Body.String())
	if rec.Code != http.StatusOK {
		t.Fatalf("the import: %d:\n%s", rec.Code, body)
	}
	wantContains(t, "the import's result", body, "Import terminé : 55 créés, 0 modifié.")
	first := cip13(t, "340093000000")
	if d, err := h.app.billing.Drug(inConvention(ctx), first); err != nil || d.Class != 65 || d.Label != "Médicament 00" {
		t.Errorf("the first drug: %+v, %v", d, err)
	}
	if d, err := h.app.billing.Drug(inConvention(ctx), cip13(t, "340093000001")); err != nil || d.Class != 30 {
		t.Errorf("a drug of class \"30 %%\": %+v, %v", d, err)
	}

	page := htmlText(b.page(t, http.StatusOK, "/admin/medicaments"))
	if n := strings.Count(page, "<td>Médicament "); n != 50 {
		t.Errorf("the first page lists %d drugs, want 50", n)
	}
	last := cip13(t, "340093000049")
	next := "/admin/medicaments?apres=" + last
	wantContains(t, "the first page", page, `<a href="`+next+`">Médicaments suivants</a>`)
	page = htmlText(b.page(t, http.StatusOK, next))
	if n := strings.Count(page, "<td>Médicament "); n != 5 || !strings.Contains(page, "<td>Médicament 54</td>") || strings.Contains(page, "Médicaments suivants") {
		t.Errorf("the second page lists %d drugs:\n%s", n, page)
	}
	// Search by a part of the label, by the start of a CIP13, by class.
	page = htmlText(b.page(t, http.StatusOK, "/admin/medicaments?q=ment+1&classe="))
	if n := strings.Count(page, "<td>Médicament 1"); n != 10 || strings.Count(page, "<td>Médicament ") != 10 {
		t.Errorf("searching \"ment 1\" lists %d drugs, want 10", strings.Count(page, "<td>Médicament "))
	}
	page = htmlText(b.page(t, http.StatusOK, "/admin/medicaments?q="+first[:12]))
	if strings.Count(page, "<td>Médicament ") != 1 {
		t.Errorf("searching a CIP13's start lists %d drugs, want 1", strings.Count(page, "<td>Médicament "))
	}
	page = htmlText(b.page(t, http.StatusOK, "/admin/medicaments?classe=15"))
	if n := strings.Count(page, "15\u00a0%</td>"); n != 18 || !strings.Contains(page, `<option value="15" selected>`) {
		t.Errorf("the class 15 filter lists %d drugs of 15 %%, want 18", n)
	}

	// The form replaces a drug; a bad CIP13 is refused next to its field.
	code, loc, body := b.post(t, "/admin/medicaments", "/admin/medicaments", url.Values{"cip13": {first}, "label": {"Paracétamol 500 mg"}, "class": {"100"}})
	if code != http.StatusSeeOther || loc != "/admin/medicaments" {
		t.Fatalf("Enregistrer le médicament: %d → %q:\n%s", code, loc, body)
	}
	if d, err := h.app.billing.Drug(inConvention(ctx), first); err != nil || d.Class != 100 || d.Label != "Paracétamol 500 mg" || d.UpdatedBy != "admin" {
		t.Errorf("the replaced drug: %+v, %v", d, err)
	}
	before := h.tariffState(t)
	for field, f := range map[string]url.Values{
		"cip13": {"cip13": {"3400930000010"}, "label": {"X"}, "class": {"65"}}, // wrong check digit
		"class": {"cip13": {first}, "label": {"X"}, "class": {"50"}},
		"label": {"cip13": {first}, "label": {""}, "class": {"65"}},
	} {
		code, _, body := b.post(t, "/admin/medicaments", "/admin/medicaments", f)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+field+`-error"`) {
			t.Errorf("a bad %s: %d:\n%s", field, code, body)
		}
	}
	rec = b.upload(t, "/admin/medicaments", "/admin/medicaments/importer", "file", "medicaments.csv",
		"cip13;label;class\n"+first+";Paracétamol;65\n"+first[:12]+"9;Autre;65\n")
	if body := htmlText(rec.Body.String()); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "la ligne 3 n'est pas valide") {
		t.Errorf("an import with a bad CIP13: %d:\n%s", rec.Code, body)
	}
	h.assertTariffUnchanged(t, "refused drugs", before)

	// Delete, after the confirmation that says which class follows.
	code, _, body = b.post(t, "/admin/medicaments", "/admin/medicaments/"+first+"/supprimer", nil)
	if code != http.StatusOK || !strings.Contains(htmlText(body), "dans la classe par défaut : 65\u00a0% (au lieu de 100\u00a0%)") {
		t.Fatalf("Supprimer: %d:\n%s", code, body)
	}
	if _, err := h.app.billing.Drug(inConvention(ctx), first); err != nil {
		t.Fatalf("the drug is gone before the confirmation: %v", err)
	}
	if code, loc, _ := b.post(t, "/admin/medicaments", "/admin/medicaments/"+first+"/supprimer", url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther || loc != "/admin/medicaments" {
		t.Fatalf("confirmed delete: %d → %q", code, loc)
	}
	if _, err := h.app.billing.Drug(inConvention(ctx), first); !fault.Is(err, fault.NotFound) {
		t.Errorf("the deleted drug: %v, want not found", err)
	}
	wantContains(t, "after the delete", htmlText(b.page(t, http.StatusOK, "/admin/medicaments")), "Médicament retiré de la table.")
}

func TestWebAdminAddsARateInPercent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	ctx := context.Background()

	form := url.Values{"regime": {"puma"}, "rate_class": {"nurse"}, "effective_from": {"2026-06-01"}, "rate": {"62,5"}, "reason": {"Arrêté du 20 mai 2026"}}
	code, loc, body := b.post(t, "/admin/taux", "/admin/taux", form)
	if code != http.StatusSeeOther || loc != "/admin/taux" {
		t.Fatalf("Enregistrer le changement de taux: %d → %q:\n%s", code, loc, body)
	}
	history, err := h.app.billing.Rates(inConvention(ctx))
	if err != nil {
		t.Fatal(err)
	}
	var got []billing.Rate
	for _, r := range billing.RatesOn(history, calendar.NewDate(2026, 6, 15)) {
		if r.Regime == rights.PUMa && r.Class == billing.RateClass(billing.KindNurse) {
			got = append(got, r)
		}
	}
	if len(got) != 1 || got[0].Rate.StringFixed(3) != "0.625" || got[0].EffectiveFrom != calendar.NewDate(2026, 6, 1) ||
		got[0].Reason != "Arrêté du 20 mai 2026" || got[0].CreatedBy != "admin" {
		t.Fatalf("the nurse's PUMa rate in force: %+v", got)
	}
	page := htmlText(b.page(t, http.StatusOK, "/admin/taux"))
	wantContains(t, "the rates page", page, "Changement de taux enregistré.", "62,5\u00a0% <span class=\"motif\">(depuis le 01/06/2026)</span>",
		"<td>Arrêté du 20 mai 2026</td>", "<td>01/06/2026</td><td class=\"num\">62,5\u00a0%</td>", "<td>01/01/2000</td><td class=\"num\">60\u00a0%</td>")

	// "70" and "70 %" read as 0.700; a later date is not in force yet.
	form.Set("rate", "70 %")
	form.Set("effective_from", "2026-09-01")
	if code, _, body := b.post(t, "/admin/taux", "/admin/taux", form); code != http.StatusSeeOther {
		t.Fatalf("70 %%: %d:\n%s", code, body)
	}
	if history, err = h.app.billing.Rates(inConvention(ctx)); err != nil {
		t.Fatal(err)
	}
	if r := rateOn(history, rights.PUMa, billing.KindNurse, calendar.NewDate(2026, 9, 1)); r.StringFixed(3) != "0.700" {
		t.Errorf("the nurse's PUMa rate from 1 September: %s, want 0.700", r)
	}

	// Refusals in French next to their field, nothing stored.
	before := h.tariffState(t)
	for _, c := range []struct {
		field, value, want string
	}{
		{"rate", "62,55", "avec au plus une décimale (par exemple 70 ou 62,5)"},
		{"rate", "150", "de 0 à 100"},
		{"rate", "beaucoup", "en pourcentage"},
		{"effective_from", "2026-06-01", "Un taux de ce régime et de cette classe commence déjà ce jour-là"},
		{"effective_from", "", "Indiquez la date d'effet"},
		{"reason", "", "Indiquez le motif du changement"},
		{"regime", "css", "Choisissez le régime."},
		{"rate_class", "drug_50", "Choisissez la classe."},
	} {
		f := url.Values{"regime": {"puma"}, "rate_class": {"nurse"}, "effective_from": {"2026-07-01"}, "rate": {"65"}, "reason": {"x"}}
		f.Set(c.field, c.value)
		code, _, body := b.post(t, "/admin/taux", "/admin/taux", f)
		body = htmlText(body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+c.field+`-error">`) || !strings.Contains(body, c.want) {
			t.Errorf("%s=%q: %d, want 422 with %q:\n%s", c.field, c.value, code, c.want, body)
		}
	}
	h.assertTariffUnchanged(t, "refused rates", before)
}

// rateOn is the rate in force on day of regime and a provider kind.
func rateOn(history []billing.Rate, regime rights.Regime, kind string, day calendar.Date) decimal.Decimal {
	for _, r := range billing.RatesOn(history, day) {
		if r.Regime == regime && r.Class == billing.RateClass(kind) {
			return r.Rate
		}
	}
	return decimal.Decimal{}
}

func TestWebAdminSettingsKeepTheTariffSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	ctx := context.Background()

	page := htmlText(b.page(t, http.StatusOK, "/admin/parametres"))
	wantContains(t, "the settings page", page, `<label for="invoice_ceiling">Plafond d'une facture (€)</label>`,
		"Laissez vide pour 2\u202f000,00\u00a0€.", `<option value="refuse" selected>Refuser la facture</option>`,
		`<option value="">Par défaut (65`+"\u00a0%)</option>")

	form := url.Values{"regie_name": {"Régie PASS"}, "regie_iban": {validIBAN2}, "regie_bic": {validBIC}, "regie_ceiling": {"10000"},
		"annual_budget": {"120000"}, "invoice_ceiling": {"2 500,00"}, "over_ceiling": {"review"}, "default_drug_class": {"30"}}
	if code, loc, body := b.post(t, "/admin/parametres", "/admin/parametres", form); code != http.StatusSeeOther || loc != "/admin/parametres" {
		t.Fatalf("Enregistrer: %d → %q:\n%s", code, loc, body)
	}
	wantTariffSettings(t, h, "2500.00", "review", 30)

	// The page shows them as saved, so that saving it again, for another
	// field, keeps them.
	page = htmlText(b.page(t, http.StatusOK, "/admin/parametres"))
	wantContains(t, "the saved settings", page, "id=\"invoice_ceiling\" name=\"invoice_ceiling\" value=\"2\u202f500,00\"",
		`<option value="review" selected>`, `<option value="30" selected>`)
	again := shownForm(page)
	if again.Get("invoice_ceiling") != "2\u202f500,00" || again.Get("over_ceiling") != "review" || again.Get("regie_name") != "Régie PASS" {
		t.Fatalf("the form as shown: %v", again)
	}
	again.Set("deadline_days", "45")
	if code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", again); code != http.StatusSeeOther {
		t.Fatalf("saving the page as shown: %d:\n%s", code, body)
	}
	wantTariffSettings(t, h, "2500.00", "review", 30)
	// The régie's account waits for finance's confirmation: still unset.
	if st, err := h.app.billing.Settings(inConvention(ctx)); err != nil || st.DeadlineDays != 45 || st.RegieName != "" {
		t.Errorf("the other settings: %+v, %v", st, err)
	}

	// Blank is the default again; refusals name their field.
	form.Set("invoice_ceiling", "")
	form.Set("default_drug_class", "")
	form.Set("over_ceiling", "refuse")
	if code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", form); code != http.StatusSeeOther {
		t.Fatalf("blank tariff settings: %d:\n%s", code, body)
	}
	wantTariffSettings(t, h, "0.00", "refuse", 0)
	for field, bad := range map[string]string{"invoice_ceiling": "0", "over_ceiling": "ignore", "default_drug_class": "50"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(field, bad)
		code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", f)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+field+`-error"`) {
			t.Errorf("%s=%q: %d, want 422 with the error next to the field:\n%s", field, bad, code, body)
		}
	}
	wantTariffSettings(t, h, "0.00", "refuse", 0)
}

func wantTariffSettings(t *testing.T, h *harness, ceiling, over string, class int) {
	t.Helper()
	st, err := h.app.billing.Settings(inConvention(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if st.InvoiceCeiling.StringFixed(2) != ceiling || st.OverCeiling != over || st.DefaultDrugClass != class {
		t.Errorf("the tariff settings: ceiling %s, over %q, class %d; want %s, %q, %d", st.InvoiceCeiling.StringFixed(2), st.OverCeiling,
			st.DefaultDrugClass, ceiling, over, class)
	}
}

// ---- helpers ----

// cip13 completes 12 digits with their EAN-13 check digit.
func cip13(t *testing.T, twelve string) string {
	t.Helper()
	if len(twelve) != 12 {
		t.Fatalf("cip13(%q): 12 digits, please", twelve)
	}
	sum := 0
	for i, r := range twelve {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += int(r-'0') * w
	}
	return fmt.Sprintf("%s%d", twelve, (10-sum%10)%10)
}

// shownForm reads the fields of a page's form as a browser would send
// them: each input's value and each select's selected option.
func shownForm(page string) url.Values {
	out := url.Values{}
	for _, m := range shownInput.FindAllStringSubmatch(page, -1) {
		out.Set(m[1], m[2])
	}
	for _, m := range shownSelect.FindAllStringSubmatch(page, -1) {
		if o := selectedOption.FindStringSubmatch(m[2]); o != nil {
			out.Set(m[1], o[1])
		}
	}
	return out
}

var (
	shownInput     = regexp.MustCompile(`<input id="[^"]+" name="([^"]+)" value="([^"]*)"`)
	shownSelect    = regexp.MustCompile(`(?s)<select id="[^"]+" name="([^"]+)"(.*?)</select>`)
	selectedOption = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// tariffState summarises the tariff's tables and their audit rows, which
// the harness's state leaves aside (signing in writes audit rows of its
// own: those are left out).
func (h *harness) tariffState(t *testing.T) state {
	t.Helper()
	out := state{}
	for name, from := range map[string]string{"acts": "acts", "drugs": "drugs", "rates": "rates", "settings": "settings",
		"audit_log": "(SELECT * FROM audit_log WHERE entity IN ('act', 'drug', 'rate', 'settings', 'invoice'))"} {
		var digest string
		if err := h.pool.QueryRow(context.Background(), fmt.Sprintf(
			`SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, from)).Scan(&digest); err != nil {
			t.Fatalf("state of %s: %v", name, err)
		}
		out[name] = digest
	}
	return out
}

func (h *harness) assertTariffUnchanged(t *testing.T, what string, before state) {
	t.Helper()
	after := h.tariffState(t)
	for table, b := range before {
		if after[table] != b {
			t.Errorf("%s: table %s changed: nothing may be stored", what, table)
		}
	}
}
