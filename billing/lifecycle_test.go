package billing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"passd/billing"
	"passd/db"
	"passd/fault"
	"passd/settlement"
)

var (
	consultation = billing.Line{Code: "G", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}
	xray         = billing.Line{Code: "ZBQK002", Label: "Radiographie du thorax", Quantity: 2, UnitPrice: amt("21.28")}
	// ecg is a CCAM act outside the acts catalogue: any kind may bill it,
	// priced as the billing provider's acts.
	ecg      = billing.Line{Code: "DEQP003", Label: "Électrocardiogramme", Quantity: 2, UnitPrice: amt("21.28")}
	labTests = billing.Line{Code: "B", Label: "Biologie", Quantity: 1, UnitPrice: amt("30.00")}
	nurseAct = billing.Line{Code: "AMI", Label: "Acte infirmier", Quantity: 3, UnitPrice: amt("3.15")}
	travel   = billing.Line{Code: "IFD", Label: "Déplacement", Quantity: 1, UnitPrice: amt("2.75")}
	drug     = billing.Line{Code: "3400935955838", Label: "Médicament", Quantity: 2, UnitPrice: amt("7.33")}
)

// TestLifecycle walks every path of an invoice, checking its status and
// reason, and the claim and payout rows with their amounts.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	type step func(t *testing.T, f *fixture, patientID int64)
	at := func(day string) step { return func(t *testing.T, f *fixture, _ int64) { f.clock.setDay(day) } }
	release := func(t *testing.T, f *fixture, _ int64) { f.runRelease(t) }
	deadline := func(t *testing.T, f *fixture, _ int64) { f.runDeadline(t) }
	open := func(regime, from, to string) step {
		return func(t *testing.T, f *fixture, id int64) { f.open(t, id, regime, from, to) }
	}
	refuse := func(t *testing.T, f *fixture, id int64) { f.refuse(t, id) }
	request := func(t *testing.T, f *fixture, id int64) { f.request(t, id, "puma", "2026-03-02") }
	// Filed 26 days after the period's start, inside the AME look-back.
	requestAME := func(t *testing.T, f *fixture, id int64) { f.request(t, id, "ame", "2026-01-10") }

	// Care on 2026-03-10 (deadline 2026-06-08), submitted 2026-03-11.
	tests := []struct {
		name    string
		kind    string
		lines   []billing.Line
		steps   []step
		status  billing.InvoiceStatus
		reason  settlement.Reason
		claims  []string
		payouts []string
	}{
		{"puma, GP: CPAM 70 %, ticket modérateur to the city", billing.KindGP, []billing.Line{consultation, ecg},
			[]step{request, open("puma", "2026-03-01", ""), release}, "released", "rights_opened", []string{"50.79"}, []string{"21.77 ticket_moderateur"}},
		{"puma, nurse: 60 %", billing.KindNurse, []billing.Line{nurseAct, travel},
			[]step{open("puma", "2026-01-01", ""), release}, "released", "rights_opened", []string{"7.32"}, []string{"4.88 ticket_moderateur"}},
		{"puma, pharmacy: 65 %", billing.KindPharmacy, []billing.Line{drug},
			[]step{open("puma", "2026-01-01", ""), release}, "released", "rights_opened", []string{"9.53"}, []string{"5.13 ticket_moderateur"}},
		{"puma_css: CPAM pays all, no payout", billing.KindRadiology, []billing.Line{xray},
			[]step{open("puma_css", "2026-03-01", "2027-02-28"), release}, "released", "rights_opened", []string{"42.56"}, nil},
		{"ame: CPAM pays all, period start before filing", billing.KindLaboratory, []billing.Line{labTests},
			[]step{requestAME, open("ame", "2025-12-15", "2027-01-09"), release}, "released", "rights_opened", []string{"30.00"}, nil},
		{"refused: the city pays all", billing.KindGP, []billing.Line{consultation},
			[]step{request, refuse, release}, "city_due", "rights_refused", nil, []string{"30.00 rights_refused"}},
		{"opened after the care date: not covered", billing.KindGP, []billing.Line{consultation},
			[]step{open("puma", "2026-03-11", ""), release}, "city_due", "not_covered", nil, []string{"30.00 not_covered"}},
		{"opened, ended before the care date: not covered", billing.KindGP, []billing.Line{consultation},
			[]step{open("puma", "2025-03-01", "2026-03-09"), release}, "city_due", "not_covered", nil, []string{"30.00 not_covered"}},
		{"no rights: still pending on the deadline day", billing.KindGP, []billing.Line{consultation},
			[]step{request, at("2026-06-08"), deadline, release}, "pending", "", nil, nil},
		{"no rights: the day after the deadline the city pays", billing.KindGP, []billing.Line{consultation},
			[]step{request, at("2026-06-09"), deadline}, "city_due", "deadline_passed", nil, []string{"30.00 deadline_passed"}},
		{"rights opened on the deadline day release it", billing.KindGP, []billing.Line{consultation},
			[]step{at("2026-06-08"), open("puma", "2026-03-01", ""), at("2026-06-09"), deadline}, "released", "rights_opened", []string{"21.00"}, []string{"9.00 ticket_moderateur"}},
		{"rights opened the day after the deadline come too late: the city owes it", billing.KindGP, []billing.Line{consultation},
			[]step{at("2026-06-09"), open("puma", "2026-03-01", ""), deadline}, "city_due", "deadline_passed", nil, []string{"30.00 deadline_passed"}},
		{"rights opened after the deadline: the CPAM's share is claimed back, the city's payout cut to the ticket modérateur", billing.KindGP,
			[]billing.Line{consultation},
			[]step{at("2026-06-09"), open("puma", "2026-03-01", ""), deadline, release}, "released", "rights_opened", []string{"21.00"},
			[]string{"9.00 ticket_moderateur"}},
		{"released after the CPAM's two-year limit: prescribed", billing.KindGP, []billing.Line{consultation},
			[]step{open("puma", "2026-03-01", ""), at("2028-04-01"), release}, "city_due", "prescribed", nil, []string{"30.00 prescribed"}},
		{"released on the last day of the two years", billing.KindGP, []billing.Line{consultation},
			[]step{open("puma", "2026-03-01", ""), at("2028-03-31"), release}, "released", "rights_opened", []string{"21.00"}, []string{"9.00 ticket_moderateur"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "2026-03-11")
			p := f.patient(t)
			inv := f.submit(t, tt.kind, p.FileNumber, "2026-03-10", tt.lines...)
			if inv.Status != "pending" || inv.Deadline != d("2026-06-08") {
				t.Fatalf("submitted invoice: status %s deadline %s", inv.Status, inv.Deadline)
			}
			for _, s := range tt.steps {
				s(t, f, p.ID)
			}
			m := f.ledger(t, inv.ID)
			if m.status != tt.status || m.reason != tt.reason {
				t.Fatalf("status %s/%s, want %s/%s", m.status, m.reason, tt.status, tt.reason)
			}
			var claims []string
			for _, c := range m.claims {
				claims = append(claims, c.StringFixed(2))
			}
			if !slices.Equal(claims, tt.claims) {
				t.Errorf("claims %v, want %v", claims, tt.claims)
			}
			if !slices.Equal(m.payouts, tt.payouts) {
				t.Errorf("payouts %v, want %v", m.payouts, tt.payouts)
			}
			if tt.status != "pending" {
				if m.decisionAudits != 1 {
					t.Errorf("%d decision audit rows, want 1", m.decisionAudits)
				}
				// Running both jobs again changes nothing.
				f.clock.setDay("2028-12-31")
				if n := f.runRelease(t) + f.runDeadline(t); n != 0 {
					t.Errorf("a second sweep decided %d invoices", n)
				}
				if again := f.ledger(t, inv.ID); again.status != m.status || len(again.claims) != len(m.claims) || len(again.payouts) != len(m.payouts) {
					t.Errorf("a second sweep changed the invoice: %+v → %+v", m, again)
				}
			}
			checkMoneyInvariant(t, f.pool)
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	p := f.patient(t)
	ctx := context.Background()
	gp := f.provider(t, billing.KindGP)
	nurse := f.provider(t, billing.KindNurse)

	withdrawn := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-10")
	if _, err := f.billing.Cancel(ctx, nurse.actor, withdrawn.ID, nurse.id, settlement.Withdrawn); !fault.Is(err, fault.NotFound) {
		t.Fatalf("another provider's cancel: %v, want not found", err)
	}
	got, err := f.billing.Cancel(ctx, gp.actor, withdrawn.ID, gp.id, settlement.Withdrawn)
	if err != nil || got.Status != "cancelled" || got.DecisionReason != "withdrawn" {
		t.Fatalf("withdraw: %+v, %v", got, err)
	}
	if _, err := f.billing.Cancel(ctx, gp.actor, withdrawn.ID, gp.id, settlement.Withdrawn); !fault.Is(err, fault.Conflict) {
		t.Fatalf("second cancel: %v, want conflict", err)
	}

	voided := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-09")
	if got, err := f.billing.Cancel(ctx, f.staff, voided.ID, 0, settlement.Voided); err != nil || got.DecisionReason != "voided" {
		t.Fatalf("void: %+v, %v", got, err)
	}

	released := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-08")
	f.open(t, p.ID, "puma", "2026-01-01", "")
	f.runRelease(t)
	if _, err := f.billing.Cancel(ctx, f.staff, released.ID, 0, settlement.Voided); !fault.Is(err, fault.Conflict) {
		t.Fatalf("cancel a released invoice: %v, want conflict", err)
	}
	// Cancelled invoices are never decided later.
	for _, id := range []int64{withdrawn.ID, voided.ID} {
		if m := f.ledger(t, id); m.status != "cancelled" || len(m.claims)+len(m.payouts) != 0 {
			t.Fatalf("cancelled invoice %d became %+v", id, m)
		}
	}
	checkMoneyInvariant(t, f.pool)
}

// TestDatabaseRefusesASecondDecision bypasses the Go code: even raw SQL
// cannot move a decided invoice again without a new outcome, or write a
// second claim or decision payout for its outcome.
func TestDatabaseRefusesASecondDecision(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	p := f.patient(t)
	inv := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-10")
	f.open(t, p.ID, "puma", "2026-01-01", "")
	f.runRelease(t)
	ctx := context.Background()
	attempts := []struct {
		name, sql, constraint string
	}{
		{"redecide", `UPDATE invoices SET status = 'city_due', decision_reason = 'deadline_passed', cpam_amount = 0, city_amount = total WHERE id = $1`, "invoices_decided_once"},
		{"back to pending", `UPDATE invoices SET status = 'pending', decision_reason = NULL, cpam_amount = NULL, city_amount = NULL, decided_at = NULL WHERE id = $1`, "invoices_decided_once"},
		{"redecide without keeping the outcome", `UPDATE invoices SET status = 'city_due', decision_reason = 'deadline_passed', cpam_amount = 0,
			city_amount = total, outcome_no = outcome_no + 1 WHERE id = $1`, "invoices_decided_once"},
		{"second claim", `INSERT INTO claims (invoice_id, amount, rate) VALUES ($1, 21.00, 0.7)`, "claims_invoice_outcome_key"},
		{"second decision payout", `INSERT INTO payouts (invoice_id, provider_id, amount, reason) SELECT id, provider_id, total, 'deadline_passed' FROM invoices WHERE id = $1`, "payouts_one_decision_payout"},
	}
	for _, a := range attempts {
		_, err := f.pool.Exec(ctx, a.sql, inv.ID)
		if !db.IsConstraint(err, a.constraint) {
			t.Errorf("%s: err = %v, want a violation of %s", a.name, err, a.constraint)
		}
	}
	// A split that does not add up is refused too.
	other := f.submit(t, billing.KindGP, p.FileNumber, "2026-03-09")
	_, err := f.pool.Exec(ctx, `UPDATE invoices SET status = 'released', decision_reason = 'rights_opened', cpam_amount = 20, city_amount = 9, decided_at = now() WHERE id = $1`, other.ID)
	if !db.IsConstraint(err, "invoices_decision_complete") {
		t.Errorf("unbalanced split: err = %v", err)
	}
	if err == nil {
		t.Fatal(errors.New("unbalanced split stored"))
	}
	checkMoneyInvariant(t, f.pool)
}
