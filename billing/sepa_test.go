package billing_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/db/dbtest"
	"passd/sepa"
)

// pain001 is what TestSEPAFileOfALargeBatch reads back of a file.
type pain001 struct {
	NbOfTxs   string `xml:"CstmrCdtTrfInitn>GrpHdr>NbOfTxs"`
	CtrlSum   string `xml:"CstmrCdtTrfInitn>GrpHdr>CtrlSum"`
	Transfers []struct {
		EndToEndID string `xml:"PmtId>EndToEndId"`
		Amount     string `xml:"Amt>InstdAmt"`
		Ustrd      string `xml:"RmtInf>Ustrd"`
	} `xml:"CstmrCdtTrfInitn>PmtInf>CdtTrfTxInf"`
}

// TestSEPAFileOfALargeBatch makes 5,000 payouts the way passd does (the
// deadline job, then a draft batch submitted and approved by two finance
// users) and writes the batch's file through CheckSEPA and WriteSEPA: it
// validates against the XSD, and each provider's transfer carries the sum
// of its payouts and a remittance text naming its invoices in order, as
// sepa.Remittance would from the whole list. That the file is built one
// payout at a time is TestTransfersHoldOneProviderAtATime's business.
func TestSEPAFileOfALargeBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 5000
	store, owner, batch, providers := approvedBatch(t, n)
	if _, err := store.CheckSEPA(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := store.WriteSEPA(ctx, batch, &buf); err != nil {
		t.Fatal(err)
	}
	if err := sepa.Validate(ctx, buf.Bytes()); err != nil {
		t.Fatal(err)
	}

	var doc pain001
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var payouts int
	var sum decimal.Decimal
	if err := owner.QueryRow(ctx, `SELECT count(*), sum(amount) FROM payouts WHERE batch_id = $1`, batch).Scan(&payouts, &sum); err != nil {
		t.Fatal(err)
	}
	if payouts != n || doc.NbOfTxs != fmt.Sprint(len(providers)) || doc.CtrlSum != sum.StringFixed(2) || len(doc.Transfers) != len(providers) {
		t.Fatalf("%d payouts in the batch; the file has NbOfTxs %s, CtrlSum %s (want %s), %d transfers",
			payouts, doc.NbOfTxs, doc.CtrlSum, sum.StringFixed(2), len(doc.Transfers))
	}
	for i, id := range providers {
		var total decimal.Decimal
		var refs []string
		if err := owner.QueryRow(ctx, `SELECT sum(p.amount), array_agg(i.external_ref ORDER BY i.id)
			FROM payouts p JOIN invoices i ON i.id = p.invoice_id WHERE p.batch_id = $1 AND p.provider_id = $2`,
			batch, id).Scan(&total, &refs); err != nil {
			t.Fatal(err)
		}
		tr := doc.Transfers[i]
		want := sepa.Remittance(fmt.Sprintf("PASS lot %d factures ", batch), refs)
		if tr.EndToEndID != fmt.Sprintf("PASSD-%d-%d", batch, id) || tr.Amount != total.StringFixed(2) || tr.Ustrd != want {
			t.Errorf("transfer %d: %s %s %q; want provider %d's %s %q", i+1, tr.EndToEndID, tr.Amount, tr.Ustrd, id, total.StringFixed(2), want)
		}
	}
}

// BenchmarkWriteSEPA writes the file of an approved batch of 10,000
// payouts (four providers) from PostgreSQL to io.Discard.
func BenchmarkWriteSEPA(b *testing.B) {
	ctx := context.Background()
	store, _, batch, _ := approvedBatch(b, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := store.WriteSEPA(ctx, batch, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// approvedBatch returns a store on a new database holding an approved
// payout batch of n payouts of four providers, most of them the first's,
// made the way passd makes them: invoices past their deadline (written
// straight into the table, with references of varied lengths), the
// deadline job, a draft submitted by one finance user and approved by
// another. It also returns a pool acting as the owner, and the providers.
func approvedBatch(t testing.TB, n int) (store *billing.Store, owner *pgxpool.Pool, batch int64, providers []int64) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, "2026-11-23")
	owner = dbtest.Owner(t, f.pool.Config().ConnString())
	store = billing.NewStore(f.pool, f.claims, billing.Config{Now: f.clock.Now})
	if _, err := store.PutSettings(ctx, audit.Actor{Name: "cli"}, billing.Settings{RegieName: "Régie PASS", RegieIBAN: "FR7630006000011234567890189",
		RegieBIC: "AGRIFRPPXXX", RegieCeiling: amt("9999999.00"), AnnualBudget: amt("9999999.00")}); err != nil {
		t.Fatal(err)
	}
	kinds := []string{billing.KindPharmacy, billing.KindGP, billing.KindNurse, billing.KindLaboratory}
	providers = make([]int64, len(kinds))
	for i, k := range kinds {
		providers[i] = f.provider(t, k).id
	}
	patient := f.patient(t)
	if _, err := owner.Exec(ctx, `
		INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by)
		SELECT ($1::bigint[])[CASE WHEN g % 10 < 7 THEN 1 ELSE 2 + g % 3 END], $2, 'PH-' || repeat('x', g % 7) || g,
		       '2026-06-01', '2026-08-30', 10 + (g % 97) + (g % 100) / 100.0, $3
		FROM generate_series(1, $4::int) g`, providers, patient.ID, f.provider(t, kinds[0]).actor.UserID, n); err != nil {
		t.Fatal(err)
	}
	if got, err := store.DeadlineJob(ctx); err != nil || got != int64(n) {
		t.Fatalf("deadline job: %d decided, %v; want %d", got, err, n)
	}
	a := f.user(t, "finance-a", auth.Finance, 0)
	b := f.user(t, "finance-b", auth.Finance, 0)
	draft, ok, err := store.DraftPayoutBatch(ctx, a, 0)
	if err != nil || !ok {
		t.Fatalf("draft: %v %v", ok, err)
	}
	if _, err := store.SubmitPayoutBatch(ctx, a, draft.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ApprovePayoutBatch(ctx, b, draft.ID); err != nil {
		t.Fatal(err)
	}
	return store, owner, draft.ID, providers
}
