package billing_test

import (
	"context"
	"fmt"
	"passd/db"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db/dbtest"
	"passd/journal"
	"passd/keyring"
	"passd/keyring/keyringtest"
	"passd/settlement"
)

// clock is a settable test clock, safe for concurrent use.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(day string) *clock {
	c := &clock{}
	c.setDay(day)
	return c
}

// setDay moves the clock to noon, Paris time, on day.
func (c *clock) setDay(day string) {
	t := d(day).Time()
	t = time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, calendar.Paris())
	c.t.Store(&t)
}

func (c *clock) Now() time.Time { return *c.t.Load() }

// fixture is a database with the stores wired as cmd/ wires them.
type fixture struct {
	pool     *db.Pool
	keys     *keyring.Ring // every store on this database seals identity with it
	clock    *clock
	claims   *claims.Store
	billing  *billing.Store
	users    *auth.Store
	staff    audit.Actor // a coordinator, for files
	referent audit.Actor

	mu        sync.Mutex
	providers map[string]providerUser
	births    map[string]calendar.Date // by file number: what submit names
}

type providerUser struct {
	id    int64
	actor audit.Actor
}

func newFixture(t testing.TB, today string) *fixture {
	t.Helper()
	return newFixtureOn(t, today, dbtest.New(t))
}

// newFixtureOn is newFixture on a database the test opened itself (with
// dbtest.NewOwner, to alter it as its owner).
func newFixtureOn(t testing.TB, today string, pool *db.Pool) *fixture {
	t.Helper()
	f := &fixture{pool: pool, keys: keyringtest.New(t), clock: newClock(today), users: auth.NewStore(pool), providers: map[string]providerUser{},
		births: map[string]calendar.Date{}}
	f.claims = claims.NewStore(pool, f.keys, f.clock.Now)
	f.billing = billing.NewStore(pool, f.claims, billing.Config{DeadlineDays: 90, Now: f.clock.Now, BatchSize: 50})
	f.staff = f.user(t, "coordinator", auth.Coordinator, 0)
	f.referent = f.user(t, "referent", auth.CPAMReferent, 0)
	return f
}

func (f *fixture) user(t testing.TB, name string, role auth.Role, providerID int64) audit.Actor {
	t.Helper()
	ctx := context.Background()
	token, err := f.users.CreateUser(ctx, name, role, providerID)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	p, err := f.users.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("authenticate %s: %v", name, err)
	}
	return p.Actor()
}

var providerIdents = map[string]billing.Provider{
	billing.KindGP:           {RPPS: "10003456789"},
	billing.KindNurse:        {RPPS: "10004567890"},
	billing.KindHealthCentre: {FINESS: "930000013"},
	billing.KindPharmacy:     {FINESS: "930012345"},
	billing.KindRadiology:    {FINESS: "930023456"},
	billing.KindLaboratory:   {FINESS: "930034567"},
}

// provider returns the provider of a kind, creating it and its user once.
func (f *fixture) provider(t testing.TB, kind string) providerUser {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.providers[kind]; ok {
		return p
	}
	p := providerIdents[kind]
	p.Kind, p.Name, p.IBAN, p.BIC = kind, "Test "+kind, "FR7630006000011234567890189", "AGRIFRPP"
	created, err := f.billing.CreateProvider(context.Background(), audit.Actor{Name: "test"}, p)
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	pu := providerUser{id: created.ID, actor: f.user(t, "provider-"+kind, auth.Provider, created.ID)}
	f.providers[kind] = pu
	return pu
}

func (f *fixture) patient(t testing.TB) claims.Patient {
	t.Helper()
	return f.patientBorn(t, "Test", "Patient", "1990-01-01")
}

// patientBorn opens a file for a patient born on birth, which submit then
// names beside its number.
func (f *fixture) patientBorn(t testing.TB, lastName, firstName, birth string) claims.Patient {
	t.Helper()
	p, err := f.claims.CreatePatient(context.Background(), f.staff,
		claims.NewPatient{LastName: lastName, FirstName: firstName, BirthDate: d(birth)})
	if err != nil {
		t.Fatalf("create patient: %v", err)
	}
	f.mu.Lock()
	f.births[p.FileNumber] = p.BirthDate
	f.mu.Unlock()
	return p
}

// birthOf is the birth date of a file opened by patientBorn.
func (f *fixture) birthOf(t testing.TB, fileNumber string) calendar.Date {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.births[fileNumber]
	if !ok {
		t.Fatalf("file %s was not opened by the fixture", fileNumber)
	}
	return b
}

var refs atomic.Int64

// submit holds an invoice and returns it as stored.
func (f *fixture) submit(t *testing.T, kind, fileNumber, care string, lines ...billing.Line) billing.Invoice {
	t.Helper()
	if len(lines) == 0 {
		lines = []billing.Line{{Code: "G", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}}
	}
	pu := f.provider(t, kind)
	inv, err := f.billing.CreateInvoice(context.Background(), pu.actor, pu.id,
		billing.NewInvoice{PatientFileNumber: fileNumber, BirthDate: f.birthOf(t, fileNumber), ExternalRef: fmt.Sprintf("T-%d", refs.Add(1)),
			CareDate: d(care), Lines: lines})
	if err != nil {
		t.Fatalf("submit invoice: %v", err)
	}
	return inv
}

func (f *fixture) open(t *testing.T, patientID int64, regime, from, to string) {
	t.Helper()
	dec := claims.RightsDecision{Decision: "opened", Regime: regime, EffectiveFrom: d(from), Reference: "REF-1"}
	if to != "" {
		dec.EffectiveTo = d(to)
	}
	f.applied(t, patientID, regime, d(from))
	if _, err := f.claims.DecideRights(context.Background(), f.referent, patientID, dec); err != nil {
		t.Fatalf("open rights: %v", err)
	}
}

// applied records an application filed on filed (today at the latest)
// when the file has none yet: a decision answers one.
func (f *fixture) applied(t *testing.T, patientID int64, regime string, filed calendar.Date) {
	t.Helper()
	var none bool
	if err := f.pool.QueryRow(context.Background(), `SELECT rights_filed_on IS NULL FROM patients WHERE id = $1`, patientID).Scan(&none); err != nil {
		t.Fatal(err)
	}
	if today := calendar.Today(f.clock.Now()); filed.After(today) {
		filed = today
	}
	if none {
		f.request(t, patientID, regime, filed.String())
	}
}

func (f *fixture) refuse(t *testing.T, patientID int64) {
	t.Helper()
	f.applied(t, patientID, "puma", calendar.Today(f.clock.Now()))
	if _, err := f.claims.DecideRights(context.Background(), f.referent, patientID,
		claims.RightsDecision{Decision: "refused", Reason: "conditions not met"}); err != nil {
		t.Fatalf("refuse rights: %v", err)
	}
}

func (f *fixture) request(t *testing.T, patientID int64, regime, filed string) {
	t.Helper()
	if _, err := f.claims.RequestRights(context.Background(), f.staff, patientID, claims.RightsRequest{Regime: regime, FiledOn: d(filed)}); err != nil {
		t.Fatalf("request rights: %v", err)
	}
}

// ledger is what exists in the database for one invoice.
type ledger struct {
	status         billing.InvoiceStatus
	reason         settlement.Reason
	cpam, city     *decimal.Decimal
	claims         []decimal.Decimal
	payouts        []string // "amount reason"
	decisionAudits int
}

func (f *fixture) ledger(t *testing.T, invoiceID int64) ledger {
	t.Helper()
	ctx := context.Background()
	var m ledger
	if err := f.pool.QueryRow(ctx, `SELECT status, coalesce(decision_reason, ''), cpam_amount, city_amount FROM invoices WHERE id = $1`,
		invoiceID).Scan(&m.status, &m.reason, &m.cpam, &m.city); err != nil {
		t.Fatalf("read invoice: %v", err)
	}
	rows, err := f.pool.Query(ctx, `SELECT c.amount FROM claims c JOIN invoices i ON i.id = c.invoice_id AND c.outcome_no = i.outcome_no
		WHERE c.invoice_id = $1 ORDER BY c.id`, invoiceID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a decimal.Decimal
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		m.claims = append(m.claims, a)
	}
	rows, err = f.pool.Query(ctx, `SELECT amount::text || ' ' || reason FROM payouts WHERE invoice_id = $1 AND status = 'due' ORDER BY id`, invoiceID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		m.payouts = append(m.payouts, s)
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE entity = 'invoice' AND entity_id = $1 AND action IN ('invoice.decide', 'invoice.cancel')`,
		fmt.Sprint(invoiceID)).Scan(&m.decisionAudits); err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) runRelease(t *testing.T) int64 {
	t.Helper()
	n, err := f.billing.ReleaseJob(context.Background())
	if err != nil {
		t.Fatalf("release job: %v", err)
	}
	return n
}

func (f *fixture) runDeadline(t *testing.T) int64 {
	t.Helper()
	n, err := f.billing.DeadlineJob(context.Background())
	if err != nil {
		t.Fatalf("deadline job: %v", err)
	}
	return n
}

// checkMoneyInvariant asserts over the whole database: every decided
// invoice's claims plus payouts equal its total, at most one claim and one
// decision payout per invoice, and exactly one decision audit row.
func checkMoneyInvariant(t *testing.T, pool *db.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT i.id, i.status, i.total,
		       coalesce((SELECT sum(amount) FROM claims c WHERE c.invoice_id = i.id AND c.outcome_no = i.outcome_no), 0) AS claimed,
		       coalesce((SELECT sum(amount) FROM payouts p WHERE p.invoice_id = i.id AND p.status <> 'cancelled'), 0)
		         - coalesce((SELECT sum(amount) FROM provider_recoveries r WHERE r.invoice_id = i.id), 0)
		         + coalesce((SELECT sum(amount) FROM cpam_refunds f WHERE f.invoice_id = i.id), 0) AS paid,
		       (SELECT count(*) FROM claims c WHERE c.invoice_id = i.id AND c.outcome_no = i.outcome_no) AS n_claims,
		       (SELECT count(*) FROM payouts p WHERE p.invoice_id = i.id AND p.outcome_no = i.outcome_no AND p.status <> 'cancelled') AS n_payouts,
		       (SELECT count(*) FROM audit_log a WHERE a.entity = 'invoice' AND a.entity_id = i.id::text
		          AND a.action IN ('invoice.decide', 'invoice.cancel'))
		         + (SELECT count(*) FROM audit_log a WHERE a.entity = 'invoice' AND a.entity_id = i.id::text
		          AND a.action = 'invoice.redecide') - (i.outcome_no - 1) AS n_decisions
		FROM invoices i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, nClaims, nPayouts, nDecisions int64
		var status string
		var total, claimed, paid decimal.Decimal
		if err := rows.Scan(&id, &status, &total, &claimed, &paid, &nClaims, &nPayouts, &nDecisions); err != nil {
			t.Fatal(err)
		}
		switch status {
		case "pending":
			if nClaims+nPayouts+nDecisions != 0 {
				t.Errorf("pending invoice %d has %d claims, %d payouts, %d decisions", id, nClaims, nPayouts, nDecisions)
			}
		case "cancelled":
			if nClaims+nPayouts != 0 || nDecisions != 1 {
				t.Errorf("cancelled invoice %d has %d claims, %d payouts, %d decisions", id, nClaims, nPayouts, nDecisions)
			}
		default:
			if !claimed.Add(paid).Equal(total) {
				t.Errorf("invoice %d (%s): claims %s + payouts %s != total %s", id, status, claimed, paid, total)
			}
			if nClaims > 1 || nPayouts > 1 || nDecisions != 1 {
				t.Errorf("invoice %d has %d claims, %d payouts, %d decisions", id, nClaims, nPayouts, nDecisions)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// And the books: the journal balances and matches the tables.
	report, err := journal.Check(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.Violations > 0 {
			t.Errorf("invariant %s broken %d time(s): %v", f.Name, f.Violations, f.Examples)
		}
	}
}
