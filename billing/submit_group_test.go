package billing_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"passd/billing"
	"passd/claims"
	"passd/db/dbtest"
	"passd/fault"
)

// groupBench is a database whose invoices table a test can hold shut, so
// that submissions queue behind the groups in flight.
type groupBench struct {
	f        *fixture
	owner    *pgxpool.Pool
	provider providerUser
	patients []claims.Patient
}

func newGroupBench(t *testing.T) *groupBench {
	app, owner := dbtest.NewOwner(t)
	f := newFixtureOn(t, "2026-03-02", app)
	g := &groupBench{f: f, owner: owner, provider: f.provider(t, billing.KindGP)}
	for range 6 {
		g.patients = append(g.patients, f.patient(t))
	}
	return g
}

// submitted is what one CreateInvoice answered.
type submitted struct {
	ref string
	inv billing.Invoice
	err error
}

// submitQueued holds the invoices table shut, submits leaders one by one
// until each is a group in flight waiting on the lock (two: the most that
// may be), then the others, which queue; once they all wait it opens the
// table and returns every answer, in the order of refs.
func (g *groupBench) submitQueued(t *testing.T, refs []string) []submitted {
	t.Helper()
	ctx := context.Background()
	lock, err := g.owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `LOCK TABLE invoices IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	out := make([]submitted, len(refs))
	var wg sync.WaitGroup
	submit := func(i int) {
		wg.Go(func() {
			p := g.patients[i%len(g.patients)]
			inv, err := g.f.billing.CreateInvoice(ctx, g.provider.actor, g.provider.id, billing.NewInvoice{
				PatientFileNumber: p.FileNumber, BirthDate: p.BirthDate, ExternalRef: refs[i], CareDate: d("2026-02-27"),
				Lines: []billing.Line{{Code: "G", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}}})
			out[i] = submitted{ref: refs[i], inv: inv, err: err}
		})
	}
	const leaders = 2
	for i := range leaders {
		submit(i)
		waitUntil(t, fmt.Sprintf("%d submissions waiting on the lock", i+1), func() bool {
			return g.lockWaiters(t) == i+1
		})
	}
	for i := leaders; i < len(refs); i++ {
		submit(i)
	}
	waitUntil(t, "the other submissions queued", func() bool {
		return g.f.billing.WaitingSubmissions() == len(refs)-leaders
	})
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return out
}

func (g *groupBench) lockWaiters(t *testing.T) int {
	t.Helper()
	var n int
	if err := g.owner.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s", what)
		}
	}
}

// transactions is how many transactions wrote the invoices of refs
// (their rows' xmin), and how many audit rows each invoice has.
func (g *groupBench) transactions(t *testing.T, refs []string) (txs int, auditRows map[int64]int) {
	t.Helper()
	ctx := context.Background()
	if err := g.owner.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM invoices WHERE external_ref = ANY($1)`, refs).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	rows, err := g.owner.Query(ctx, `SELECT i.id, count(a.id) FROM invoices i
		LEFT JOIN audit_log a ON a.entity = 'invoice' AND a.entity_id = i.id::text AND a.action = 'invoice.create'
		WHERE i.external_ref = ANY($1) GROUP BY i.id`, refs)
	if err != nil {
		t.Fatal(err)
	}
	auditRows = map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		auditRows[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return txs, auditRows
}

// TestSubmissionsThatComeTogetherCommitTogether: the submissions that queue
// while two groups are in flight are committed in one transaction, each
// with its audit row, and an external_ref sent twice, in one group or in
// two, is stored once; the other submission is told it is a duplicate of
// the invoice stored.
func TestSubmissionsThatComeTogetherCommitTogether(t *testing.T) {
	t.Parallel()
	g := newGroupBench(t)
	refs := make([]string, 30)
	for i := range refs {
		refs[i] = "G-" + strconv.Itoa(i)
	}
	// Queued beside the original: the leader's (in another transaction)
	// and two of the group's own.
	refs[27], refs[28], refs[29] = refs[0], refs[5], refs[6]
	got := g.submitQueued(t, refs)

	stored := map[string]int64{}
	for _, s := range got {
		if s.err == nil {
			if _, twice := stored[s.ref]; twice {
				t.Fatalf("%s stored twice", s.ref)
			}
			stored[s.ref] = s.inv.ID
		}
	}
	if len(stored) != 27 {
		t.Fatalf("stored %d distinct refs, want 27", len(stored))
	}
	for _, s := range got {
		if s.err == nil {
			continue
		}
		fe, ok := fault.As(s.err)
		if !ok || fe.Kind != fault.KindDuplicateInvoice || fe.Details["existing_id"] != strconv.FormatInt(stored[s.ref], 10) {
			t.Errorf("%s: %v, want the duplicate of invoice %d", s.ref, s.err, stored[s.ref])
		}
	}
	txs, audits := g.transactions(t, refs)
	// The two leaders alone, then the 28 that queued in one group.
	if txs != 3 {
		t.Errorf("the invoices were written by %d transactions, want 3", txs)
	}
	for id, n := range audits {
		if n != 1 {
			t.Errorf("invoice %d has %d invoice.create audit rows, want 1", id, n)
		}
	}
	if len(audits) != 27 {
		t.Errorf("%d invoices in the database, want 27", len(audits))
	}
}

// TestOneFailingSubmissionDoesNotRefuseItsGroup: a statement that fails
// rolls its whole group back; every other submission of the group is then
// written on its own and stored, once, and the failing one is refused.
func TestOneFailingSubmissionDoesNotRefuseItsGroup(t *testing.T) {
	t.Parallel()
	g := newGroupBench(t)
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.external_ref = 'BOOM' THEN RAISE EXCEPTION 'refused for the test'; END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse_boom BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
	} {
		if _, err := g.owner.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	refs := []string{"L-1", "L-2", "F-1", "F-2", "BOOM", "F-3", "F-4", "F-5"}
	got := g.submitQueued(t, refs)
	var fine []string
	for _, s := range got {
		switch {
		case s.ref == "BOOM" && s.err == nil:
			t.Errorf("BOOM stored as invoice %d", s.inv.ID)
		case s.ref != "BOOM" && s.err != nil:
			t.Errorf("%s refused: %v", s.ref, s.err)
		case s.ref != "BOOM":
			fine = append(fine, s.ref)
		}
	}
	txs, audits := g.transactions(t, refs)
	if len(audits) != len(refs)-1 || len(fine) != len(refs)-1 {
		t.Fatalf("%d invoices stored, %d answered stored; want %d", len(audits), len(fine), len(refs)-1)
	}
	// The group failed, so each of its members was written on its own.
	if txs != len(refs)-1 {
		t.Errorf("the invoices were written by %d transactions, want %d", txs, len(refs)-1)
	}
	for id, n := range audits {
		if n != 1 {
			t.Errorf("invoice %d has %d invoice.create audit rows, want 1", id, n)
		}
	}
	var boom int
	if err := g.owner.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE external_ref = 'BOOM'`).Scan(&boom); err != nil || boom != 0 {
		t.Errorf("BOOM rows: %d (%v)", boom, err)
	}
}
