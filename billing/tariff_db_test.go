package billing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"passd/billing"
	"passd/fault"
	"passd/rights"
)

// TestTheSeededTariffIsDomainMd: the migration seeds the rates of
// DOMAIN.md and the catalogue's ceilings, which the pure tests copy.
func TestTheSeededTariffIsDomainMd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	history, err := f.billing.Rates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range billing.RatesOn(history, d("2026-03-11")) {
		got[string(r.Regime)+"/"+string(r.Class)] = r.Rate.String()
	}
	want := map[string]string{}
	for _, r := range seedRates {
		if r.EffectiveFrom == jan1 {
			want[string(r.Regime)+"/"+string(r.Class)] = r.Rate.String()
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d rates in force, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		if !amt(got[k]).Equal(amt(w)) {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
	acts, err := f.billing.Acts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]billing.Act{}
	for _, a := range acts {
		byCode[a.Code] = a
	}
	for code, w := range seedAct {
		a := byCode[code]
		if strings.Join(a.ProviderKinds, ",") != strings.Join(w.ProviderKinds, ",") || a.RateClass != w.RateClass ||
			a.DispensingFee != w.DispensingFee || (a.MaxUnitPrice == nil) != (w.MaxUnitPrice == nil) ||
			(a.MaxUnitPrice != nil && !a.MaxUnitPrice.Equal(*w.MaxUnitPrice)) || a.Source == "" {
			t.Errorf("act %s seeded as %+v, want %+v with a source", code, a, w)
		}
	}
}

// TestAnAMEAdultsFifteenPercentDrugIsTheCitys: released under AME, a
// pharmacy's 15 % drug and its dispensing fee are the city's for an adult
// (birth date from the file, on the care date), the CPAM's for a minor;
// the claim keeps each line's rate, and the export shares by them.
func TestAnAMEAdultsFifteenPercentDrugIsTheCitys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	admin := f.user(t, "admin", "admin", 0)
	if _, err := f.billing.PutDrug(ctx, admin, billing.Drug{CIP13: cipListed15, Label: "Veinotonique", Class: 15}); err != nil {
		t.Fatal(err)
	}
	lines := []billing.Line{line(cipListed15, "2.13", 3), line("HD", "1.02", 3), line(cipUnlisted, "7.33", 2), line("HD", "1.02", 2)}
	// 18 on 2026-03-10 (adult on the care date) and 18 on 2026-03-11 (a
	// minor the day before).
	for _, tt := range []struct {
		birth      string
		cpam, city string
		rates      string
	}{
		{"2008-03-10", "16.70", "9.45", "{0.000,0.000,1.000,1.000}"},
		{"2008-03-11", "26.15", "0", "{1.000,1.000,1.000,1.000}"},
	} {
		p := f.patientBorn(t, "Ame", "Test", tt.birth)
		inv := f.submit(t, billing.KindPharmacy, p.FileNumber, "2026-03-10", lines...)
		wantClasses := []billing.RateClass{billing.ClassDrug15, billing.ClassDrug15, billing.ClassDrug65, billing.ClassDrug65}
		for i, l := range inv.Lines {
			if l.RateClass != wantClasses[i] {
				t.Errorf("line %d stored in class %s, want %s", i, l.RateClass, wantClasses[i])
			}
		}
		f.open(t, p.ID, "ame", "2026-03-01", "2027-02-28")
		f.runRelease(t)
		got := f.ledger(t, inv.ID)
		if got.status != billing.StatusReleased || !got.cpam.Equal(amt(tt.cpam)) || !got.city.Equal(amt(tt.city)) {
			t.Errorf("born %s: %s, CPAM %v, city %v; want released, %s / %s", tt.birth, got.status, got.cpam, got.city, tt.cpam, tt.city)
		}
		var rates string
		if err := f.pool.QueryRow(ctx, `SELECT line_rates::text FROM claims WHERE invoice_id = $1`, inv.ID).Scan(&rates); err != nil {
			t.Fatal(err)
		}
		if rates != tt.rates {
			t.Errorf("born %s: the claim keeps the rates %s, want %s", tt.birth, rates, tt.rates)
		}
	}
	// Nothing the CPAM covers: released, no claim, the city pays it all.
	adult := f.patientBorn(t, "Ame", "Adulte", "1980-01-01")
	only := f.submit(t, billing.KindPharmacy, adult.FileNumber, "2026-03-10", line(cipListed15, "2.13", 1), line("HD", "1.02", 1))
	f.open(t, adult.ID, "ame", "2026-03-01", "2027-02-28")
	f.runRelease(t)
	if got := f.ledger(t, only.ID); got.status != billing.StatusReleased || !got.cpam.IsZero() || len(got.claims) != 0 ||
		len(got.payouts) != 1 || got.payouts[0] != "3.15 ticket_moderateur" {
		t.Errorf("an adult's 15 %% drug alone: %+v, want released, no claim, the city's 3.15", got)
	}
	checkMoneyInvariant(t, f.pool)
}

// TestARateChangeNeverRedecides: a change on day D prices care from D on;
// care of D−1 keeps the rate before; an invoice decided before the change
// keeps its shares.
func TestARateChangeNeverRedecides(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	admin := f.user(t, "admin", "admin", 0)
	p := f.patient(t)
	f.open(t, p.ID, "puma", "2026-01-01", "")
	decided := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-05")
	f.runRelease(t)
	if _, err := f.billing.AddRate(ctx, admin, billing.Rate{Regime: rights.PUMa, Class: billing.KindGP, EffectiveFrom: d("2026-03-09"),
		Rate: amt("0.6"), Reason: "arrêté du 1er mars 2026"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.billing.AddRate(ctx, admin, billing.Rate{Regime: rights.PUMa, Class: billing.KindGP, EffectiveFrom: d("2026-03-09"),
		Rate: amt("0.5"), Reason: "again"})
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindDuplicateRate {
		t.Fatalf("a second change on the same day: %v, want duplicate_rate", err)
	}
	before := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-08")
	on := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-09")
	f.runRelease(t)
	for _, tt := range []struct {
		id   int64
		cpam string
	}{{decided.ID, "21.00"}, {before.ID, "21.00"}, {on.ID, "18.00"}} {
		if got := f.ledger(t, tt.id); !got.cpam.Equal(amt(tt.cpam)) {
			t.Errorf("invoice %d: CPAM %v, want %s", tt.id, got.cpam, tt.cpam)
		}
	}
	var audits int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'rate.add'`).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("%d rate.add audit rows (%v), want 1", audits, err)
	}
	checkMoneyInvariant(t, f.pool)
}

// TestAnInvoiceOverACeilingWaitsForTheCoordinator: under over_ceiling =
// review, it is stored flagged; no job decides it until it is accepted.
func TestAnInvoiceOverACeilingWaitsForTheCoordinator(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	admin := f.user(t, "admin", "admin", 0)
	st, err := f.billing.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.RegieName, st.RegieIBAN, st.RegieBIC, st.OverCeiling = "Régie", "FR7630006000011234567890189", "AGRIFRPP", billing.OverCeilingReview
	if _, err := f.billing.PutSettings(ctx, admin, st); err != nil {
		t.Fatal(err)
	}
	p := f.patient(t)
	f.refuse(t, p.ID)
	inv := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-10", line("G", "45.00", 1))
	if inv.ReviewStatus != billing.ReviewFlagged || len(inv.ReviewReasons) != 1 || inv.ReviewReasons[0].Field != "lines[0].unit_price" {
		t.Fatalf("stored %s with reasons %+v, want flagged for lines[0].unit_price", inv.ReviewStatus, inv.ReviewReasons)
	}
	f.runRelease(t)
	f.clock.setDay("2026-07-01")
	f.runDeadline(t)
	if got := f.ledger(t, inv.ID); got.status != billing.StatusPending {
		t.Fatalf("flagged, it was decided: %s", got.status)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE invoices SET status = 'city_due', decision_reason = 'rights_refused', cpam_amount = 0,
		city_amount = total, decided_at = now() WHERE id = $1`, inv.ID); err == nil {
		t.Fatal("the database let a flagged invoice be decided")
	}
	if _, err := f.billing.AcceptReview(ctx, f.staff, inv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.billing.AcceptReview(ctx, f.staff, inv.ID); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("accepted twice: %v, want a conflict", err)
	}
	f.runRelease(t)
	if got := f.ledger(t, inv.ID); got.status != billing.StatusCityDue || got.reason != "rights_refused" {
		t.Fatalf("accepted, then %s (%s), want city_due for the refusal", got.status, got.reason)
	}
	checkMoneyInvariant(t, f.pool)
}

// TestAnotherProcessSeesTheTariffAnAdminChanged: a process priced with its
// own copy of the tariff; an admin's change through another one is taken
// at the next submission, a refusal and an acceptance alike.
func TestAnotherProcessSeesTheTariffAnAdminChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	admin := f.user(t, "admin", "admin", 0)
	other := billing.NewStore(f.pool, f.claims, billing.Config{DeadlineDays: 90, Now: f.clock.Now})
	p := f.patient(t)
	pharmacy := f.provider(t, billing.KindPharmacy)
	submit := func(ref string, lines ...billing.Line) (billing.Invoice, error) {
		return other.CreateInvoice(ctx, pharmacy.actor, pharmacy.id,
			billing.NewInvoice{PatientFileNumber: p.FileNumber, BirthDate: p.BirthDate, ExternalRef: ref, CareDate: d("2026-03-10"), Lines: lines})
	}
	inv, err := submit("P-1", line(cipUnlisted, "7.33", 1))
	if err != nil || inv.Lines[0].RateClass != billing.ClassDrug65 {
		t.Fatalf("first submission: %v, class %v", err, inv.Lines)
	}
	if _, err := submit("P-2", line("MAJ", "2.00", 1)); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("an unknown key: %v, want a 422", err)
	}
	if _, err := f.billing.PutDrug(ctx, admin, billing.Drug{CIP13: cipUnlisted, Label: "Antalgique", Class: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.billing.PutAct(ctx, admin, billing.Act{Code: "MAJ", Label: "Majoration", ProviderKinds: []string{billing.KindPharmacy}}); err != nil {
		t.Fatal(err)
	}
	inv, err = submit("P-3", line(cipUnlisted, "7.33", 1), line("MAJ", "2.00", 1))
	if err != nil {
		t.Fatalf("after the admin's change: %v", err)
	}
	if inv.Lines[0].RateClass != billing.ClassDrug30 || inv.Lines[1].RateClass != billing.KindPharmacy {
		t.Fatalf("classes %s, %s; want drug_30, pharmacy", inv.Lines[0].RateClass, inv.Lines[1].RateClass)
	}
	stored, err := f.billing.Invoice(ctx, inv.ID, 0)
	if err != nil || stored.Lines[0].RateClass != billing.ClassDrug30 {
		t.Fatalf("as stored: %v, %+v", err, stored.Lines)
	}
}

// TestImportsStoreAllOrNothing: a file with a bad row stores nothing and
// names each bad row by its line; a good one adds and replaces.
func TestImportsStoreAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	admin := f.user(t, "admin", "admin", 0)
	bad := "\ufeffcip13;label;class\r\n" + cipListed15 + ";Veinotonique;15 %\r\n3400930000015;Mauvaise clé;65\r\n" +
		cipUnlisted + ";Antalgique;50\r\n"
	_, err := f.billing.ImportDrugs(ctx, admin, []byte(bad))
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Field != "file" || fe.Details["lines"] != "3,4" ||
		!strings.Contains(fe.Message, "line 3: cip13") || !strings.Contains(fe.Message, "line 4: class") {
		t.Fatalf("a file with two bad rows: %v (%+v)", err, fe)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM drugs`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d drugs stored (%v), want none", n, err)
	}
	good := "cip13,label,class\n" + cipListed15 + ",Veinotonique,15\n" + cipUnlisted + ",Antalgique,65 %\n"
	res, err := f.billing.ImportDrugs(ctx, admin, []byte(good))
	if err != nil || res.Created != 2 || res.Updated != 0 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if res, err = f.billing.ImportDrugs(ctx, admin, []byte(good)); err != nil || res.Created != 0 || res.Updated != 2 {
		t.Fatalf("import again: %+v, %v", res, err)
	}
	for search, want := range map[string]int{"antal": 1, "340093": 2, "%": 0, "_": 0} {
		if got, err := f.billing.Drugs(ctx, billing.DrugFilter{Search: search}, "", 10); err != nil || len(got) != want {
			t.Errorf("search %q: %d drugs (%v), want %d", search, len(got), err, want)
		}
	}
	acts := "code;label;provider_kinds;max_unit_price;dispensing_fee\r\nG;Consultation;general_practitioner health_centre;30,00;non\r\n" +
		"ZZZ;Inconnu;dentist;;\r\n"
	if _, err := f.billing.ImportActs(ctx, admin, []byte(acts)); !errors.As(err, &fe) || fe.Details["lines"] != "3" {
		t.Fatalf("acts with a bad kind: %v", err)
	}
	acts = "code;label;provider_kinds;max_unit_price;dispensing_fee\r\nG;Consultation;general_practitioner|health_centre;26,50;non\r\n"
	if res, err := f.billing.ImportActs(ctx, admin, []byte(acts)); err != nil || res.Updated != 1 {
		t.Fatalf("acts import: %+v, %v", res, err)
	}
	g, err := f.billing.Act(ctx, "G")
	if err != nil || !g.MaxUnitPrice.Equal(amt("26.50")) || g.Source != "" {
		t.Fatalf("G after the import: %+v, %v", g, err)
	}
	var audits int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('drug.import', 'act.import')`).Scan(&audits); err != nil || audits != 3 {
		t.Fatalf("%d import audit rows (%v), want 3", audits, err)
	}
}
