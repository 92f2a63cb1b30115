package billing_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/db/dbtest"
	"passd/journal"
	"passd/rights"
	"passd/sepa"
)

// Recoveries from providers: what the régie paid and a re-decision no
// longer owes is deducted from the provider's next payout batch, or, once
// it has waited recovery_offset_days, listed for a titre de recettes.

// recoveryFixture is a fixture with the régie set and two finance users,
// the preparer and the approver of every batch.
type recoveryFixture struct {
	*fixture
	preparer, approver audit.Actor
}

func newRecoveryFixture(t *testing.T, today string) recoveryFixture {
	t.Helper()
	f := recoveryFixture{fixture: newFixture(t, today)}
	if _, err := f.billing.PutSettings(context.Background(), audit.Actor{Name: "cli"}, billing.Settings{RegieName: "Régie PASS",
		RegieIBAN: "FR1830006000010000098765432", RegieBIC: "AGRIFRPPXXX", RegieCeiling: amt("10000.00"), AnnualBudget: amt("50000.00")}); err != nil {
		t.Fatal(err)
	}
	f.preparer = f.user(t, "finance-a", auth.Finance, 0)
	f.approver = f.user(t, "finance-b", auth.Finance, 0)
	return f
}

// cityDue submits an invoice of one act (a CCAM code any kind may bill) at price for a patient
// whose rights are refused and runs the release job: the city owes it all.
func (f recoveryFixture) cityDue(t *testing.T, kind, price string) billing.Invoice {
	t.Helper()
	p := f.patient(t)
	inv := f.submit(t, kind, p.FileNumber, "2026-03-10", billing.Line{Code: "YYYY010", Label: "Acte", Quantity: 1, UnitPrice: amt(price)})
	f.refuse(t, p.ID)
	f.runRelease(t)
	if m := f.ledger(t, inv.ID); m.status != billing.StatusCityDue {
		t.Fatalf("invoice %d is %s, want city_due", inv.ID, m.status)
	}
	return inv
}

// draft drafts a batch of every due payout and fails when nothing is due.
func (f recoveryFixture) draft(t *testing.T) billing.PayoutBatch {
	t.Helper()
	b, ok, err := f.billing.DraftPayoutBatch(context.Background(), f.preparer, 0)
	if err != nil || !ok {
		t.Fatalf("draft: ok %v, %v", ok, err)
	}
	return b
}

// approve submits batch id as the preparer and approves it as the other
// finance user.
func (f recoveryFixture) approve(t *testing.T, id int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.billing.SubmitPayoutBatch(ctx, f.preparer, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.billing.ApprovePayoutBatch(ctx, f.approver, id); err != nil {
		t.Fatal(err)
	}
}

// pay marks batch id paid today.
func (f recoveryFixture) pay(t *testing.T, id int64) billing.PayoutBatch {
	t.Helper()
	b, err := f.billing.MarkPayoutBatchPaid(context.Background(), f.preparer, id, f.billing.Today())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paidNormally pays every due payout through a batch drafted, submitted,
// approved by the other finance user and marked paid.
func (f recoveryFixture) paidNormally(t *testing.T) {
	t.Helper()
	b := f.draft(t)
	f.approve(t, b.ID)
	f.pay(t, b.ID)
}

// recover corrects the refusal that made a paid invoice the city's into
// an opening covering its care (PUMa, or AME when the CPAM bears the whole
// of share) and runs the release job, which decides the invoice again: a
// recovery claim for the CPAM's share, and share owed back by the
// provider. It returns the recovery's id.
func (f recoveryFixture) recover(t *testing.T, invoiceID int64, share string) int64 {
	t.Helper()
	ctx := context.Background()
	var patientID, decisionID int64
	var total decimal.Decimal
	var filed calendar.Date
	if err := f.pool.QueryRow(ctx, `SELECT i.patient_id, i.total, p.rights_filed_on,
		(SELECT max(id) FROM rights_decisions d WHERE d.patient_id = i.patient_id AND d.superseded_at IS NULL)
		FROM invoices i JOIN patients p ON p.id = i.patient_id WHERE i.id = $1`, invoiceID).Scan(&patientID, &total, &filed, &decisionID); err != nil {
		t.Fatal(err)
	}
	opening := claims.RightsDecision{Decision: rights.Opened, Regime: "puma", EffectiveFrom: d("2026-01-01"), Reference: "PUMA-TARD"}
	if amt(share).Equal(total) {
		opening = claims.RightsDecision{Decision: rights.Opened, Regime: "ame", EffectiveFrom: filed.AddDays(-30),
			EffectiveTo: filed.AddYears(1).AddDays(-1), Reference: "AME-TARD"}
	}
	if _, _, err := f.claims.CorrectRights(ctx, f.referent, patientID, decisionID,
		claims.Correction{RightsDecision: opening, CorrectionReason: "droits reconnus après coup"}); err != nil {
		t.Fatalf("correct the refusal of invoice %d: %v", invoiceID, err)
	}
	f.runRelease(t)
	var id int64
	if err := f.pool.QueryRow(ctx, `SELECT id FROM provider_recoveries WHERE invoice_id = $1 AND amount = $2`, invoiceID, amt(share)).
		Scan(&id); err != nil {
		t.Fatalf("invoice %d: no recovery of %s: %v", invoiceID, share, err)
	}
	return id
}

// offsetBatch is the batch a recovery is deducted from (0: none).
func offsetBatch(t *testing.T, pool db.DBTX, recoveryID int64) int64 {
	t.Helper()
	var batch *int64
	if err := pool.QueryRow(context.Background(), `SELECT offset_batch_id FROM provider_recoveries WHERE id = $1`, recoveryID).Scan(&batch); err != nil {
		t.Fatal(err)
	}
	if batch == nil {
		return 0
	}
	return *batch
}

// checkBooks fails the test when journal.Check finds an invariant broken.
func checkBooks(t *testing.T, pool db.TxBeginner) {
	t.Helper()
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

func wantAmount(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(amt(want)) {
		t.Errorf("%s = %s, want %s", what, got.StringFixed(2), want)
	}
}

// sepaFile is what the recovery tests read back of a SEPA file.
type sepaFile struct {
	NbOfTxs   string `xml:"CstmrCdtTrfInitn>GrpHdr>NbOfTxs"`
	CtrlSum   string `xml:"CstmrCdtTrfInitn>GrpHdr>CtrlSum"`
	PmtSum    string `xml:"CstmrCdtTrfInitn>PmtInf>CtrlSum"`
	Transfers []struct {
		EndToEndID string `xml:"PmtId>EndToEndId"`
		Amount     string `xml:"Amt>InstdAmt"`
		Ustrd      string `xml:"RmtInf>Ustrd"`
	} `xml:"CstmrCdtTrfInitn>PmtInf>CdtTrfTxInf"`
}

// TestRecoveryIsDeductedFromTheNextBatch: the régie paid a GP 30.00 for an
// invoice the CPAM now bears 21.00 of. The GP's next batch deducts the
// 21.00: the batch's total stays its payouts' gross, its net and the GP's
// transfer in the SEPA file are 21.00 less; cancelling the draft releases
// the recovery to the next one; paying the batch settles it in the
// journal (recovery_offset), and the books hold at every step.
func TestRecoveryIsDeductedFromTheNextBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecoveryFixture(t, "2026-03-11")
	gp, nurse := f.provider(t, billing.KindGP).id, f.provider(t, billing.KindNurse).id
	overpaid := f.cityDue(t, billing.KindGP, "30.00")
	f.cityDue(t, billing.KindNurse, "12.00")
	f.paidNormally(t)

	f.clock.setDay("2026-04-01")
	rec := f.recover(t, overpaid.ID, "21.00")
	checkBooks(t, f.pool)
	f.cityDue(t, billing.KindGP, "50.00")
	f.cityDue(t, billing.KindNurse, "8.00")

	b := f.draft(t)
	wantAmount(t, "draft total", b.Total, "58.00")
	wantAmount(t, "draft offset", b.OffsetTotal, "21.00")
	wantAmount(t, "draft net", b.Net(), "37.00")
	byProvider := map[int64]billing.BatchProvider{}
	for _, p := range b.Providers {
		byProvider[p.ProviderID] = p
	}
	wantAmount(t, "GP amount", byProvider[gp].Amount, "50.00")
	wantAmount(t, "GP offset", byProvider[gp].Offset, "21.00")
	wantAmount(t, "GP net", byProvider[gp].Net, "29.00")
	wantAmount(t, "nurse offset", byProvider[nurse].Offset, "0")
	wantAmount(t, "nurse net", byProvider[nurse].Net, "8.00")
	if got := offsetBatch(t, f.pool, rec); got != b.ID {
		t.Fatalf("recovery %d deducted from batch %d, want the draft %d", rec, got, b.ID)
	}
	list, err := f.billing.Recoveries(ctx, billing.RecoveryFilter{BatchID: b.ID}, db.PageRequest{Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID != rec || list[0].Status != billing.RecoveryOffset || list[0].OffsetBatchStatus != billing.BatchDraft {
		t.Fatalf("recoveries of the draft = %+v, %v", list, err)
	}
	checkBooks(t, f.pool)

	// Cancelling the draft releases the recovery: open again, for the next.
	if _, err := f.billing.CancelPayoutBatch(ctx, f.preparer, b.ID); err != nil {
		t.Fatal(err)
	}
	if got := offsetBatch(t, f.pool, rec); got != 0 {
		t.Fatalf("recovery still deducted from cancelled batch %d", got)
	}
	open, err := f.billing.Recoveries(ctx, billing.RecoveryFilter{Status: billing.RecoveryOpen}, db.PageRequest{Limit: 10})
	if err != nil || len(open) != 1 || open[0].ID != rec {
		t.Fatalf("open recoveries after the cancel = %+v, %v", open, err)
	}
	checkBooks(t, f.pool)

	b = f.draft(t)
	if got := offsetBatch(t, f.pool, rec); got != b.ID {
		t.Fatalf("recovery deducted from batch %d, want the new draft %d", got, b.ID)
	}
	f.approve(t, b.ID)
	if _, err := f.billing.CheckSEPA(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.billing.WriteSEPA(ctx, b.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if err := sepa.Validate(ctx, buf.Bytes()); err != nil {
		t.Fatalf("the SEPA file of a batch with a recovery: %v\n%s", err, buf.Bytes())
	}
	var doc sepaFile
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.NbOfTxs != "2" || doc.CtrlSum != "37.00" || doc.PmtSum != "37.00" || len(doc.Transfers) != 2 {
		t.Fatalf("SEPA header: %d transfers, NbOfTxs %s, CtrlSum %s / %s; want 2, 37.00", len(doc.Transfers), doc.NbOfTxs, doc.CtrlSum, doc.PmtSum)
	}
	transfers := map[string][2]string{}
	for _, tr := range doc.Transfers {
		transfers[tr.EndToEndID] = [2]string{tr.Amount, tr.Ustrd}
	}
	gpTransfer := transfers[fmt.Sprintf("PASSD-%d-%d", b.ID, gp)]
	if gpTransfer[0] != "29.00" || !strings.HasPrefix(gpTransfer[1], fmt.Sprintf("PASS lot %d moins reprise 21,00 EUR factures ", b.ID)) {
		t.Errorf("GP's transfer = %q, want the net 29.00 saying that 21,00 was deducted", gpTransfer)
	}
	nurseTransfer := transfers[fmt.Sprintf("PASSD-%d-%d", b.ID, nurse)]
	if nurseTransfer[0] != "8.00" || !strings.HasPrefix(nurseTransfer[1], fmt.Sprintf("PASS lot %d factures ", b.ID)) {
		t.Errorf("nurse's transfer = %q, want 8.00 and its invoices", nurseTransfer)
	}

	paid := f.pay(t, b.ID)
	wantAmount(t, "paid batch net", paid.Net(), "37.00")
	var offsets int
	if err := f.pool.QueryRow(ctx, `SELECT count(DISTINCT txn_id) FROM journal_entries WHERE movement = 'recovery_offset' AND invoice_id = $1
		AND ((account = 'regie_bank' AND debit = 21) OR (account = 'provider_payable' AND credit = 21))`, overpaid.ID).Scan(&offsets); err != nil {
		t.Fatal(err)
	}
	if offsets != 1 {
		t.Errorf("%d recovery_offset transactions for the recovery, want 1", offsets)
	}
	var audits int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'recovery.offset' AND entity = 'provider_recovery'
		AND entity_id = $1`, fmt.Sprint(rec)).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 1 {
		t.Errorf("%d recovery.offset audit rows, want 1", audits)
	}
	checkBooks(t, f.pool)

	// The budget counts the recovery when it was recorded, and says it is
	// deducted now that its batch is paid.
	budget, err := f.billing.BudgetReport(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	wantAmount(t, "budget paid", budget.Paid, "100.00")
	wantAmount(t, "budget recovered", budget.Recovered, "21.00")
	wantAmount(t, "budget recovered offset", budget.RecoveredOffset, "21.00")
	wantAmount(t, "budget CPAM refunds", budget.CPAMRefunds, "0")
	wantAmount(t, "budget net", budget.Net, "79.00")
	wantAmount(t, "budget net remaining", budget.NetRemaining, "49921.00")
}

// TestRecoveryLargerThanTheBatchWaits: a recovery is deducted whole or not
// at all, and never takes a provider's transfer below a cent; it waits for
// a batch that pays the provider more.
func TestRecoveryLargerThanTheBatchWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecoveryFixture(t, "2026-03-11")
	overpaid := f.cityDue(t, billing.KindGP, "30.00")
	f.paidNormally(t)
	rec := f.recover(t, overpaid.ID, "30.00")

	f.cityDue(t, billing.KindGP, "20.00")
	b := f.draft(t)
	wantAmount(t, "offset of a batch paying 20.00", b.OffsetTotal, "0")
	if got := offsetBatch(t, f.pool, rec); got != 0 {
		t.Fatalf("a 30.00 recovery deducted from a batch paying 20.00 (batch %d)", got)
	}
	f.approve(t, b.ID)
	f.pay(t, b.ID)

	// Exactly the recovery's amount would leave nothing to transfer.
	f.cityDue(t, billing.KindGP, "30.00")
	b = f.draft(t)
	if got := offsetBatch(t, f.pool, rec); got != 0 || !b.OffsetTotal.IsZero() {
		t.Fatalf("a 30.00 recovery deducted from a batch paying 30.00 (batch %d, offset %s)", got, b.OffsetTotal)
	}
	if _, err := f.billing.CancelPayoutBatch(ctx, f.preparer, b.ID); err != nil {
		t.Fatal(err)
	}
	f.cityDue(t, billing.KindGP, "15.00")
	b = f.draft(t)
	wantAmount(t, "offset once the provider is paid 45.00", b.OffsetTotal, "30.00")
	wantAmount(t, "net once the provider is paid 45.00", b.Net(), "15.00")
	if got := offsetBatch(t, f.pool, rec); got != b.ID {
		t.Fatalf("recovery in batch %d, want %d", got, b.ID)
	}
	f.approve(t, b.ID)
	f.pay(t, b.ID)
	checkBooks(t, f.pool)
}

// TestOldRecoveryIsListedForATitreDeRecettes: past the settings'
// recovery_offset_days (here 30), a recovery is no longer deducted; it is
// listed, with the days it waited, in the titre de recettes CSV. On its
// 30th day it still is deducted.
func TestOldRecoveryIsListedForATitreDeRecettes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecoveryFixture(t, "2026-03-11")
	st, err := f.billing.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.RecoveryOffsetDays = 30
	if _, err := f.billing.PutSettings(ctx, audit.Actor{Name: "cli"}, st); err != nil {
		t.Fatal(err)
	}
	first := f.cityDue(t, billing.KindGP, "30.00")
	second := f.cityDue(t, billing.KindGP, "40.00")
	f.paidNormally(t)
	f.clock.setDay("2026-04-01")
	old := f.recover(t, first.ID, "21.00")
	f.clock.setDay("2026-04-20")
	recent := f.recover(t, second.ID, "28.00")

	f.clock.setDay("2026-05-01") // the old one's 30th day
	list, err := f.billing.Recoveries(ctx, billing.RecoveryFilter{Status: billing.RecoveryOpen}, db.PageRequest{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("open recoveries on the 30th day = %+v, %v; want both", list, err)
	}
	f.clock.setDay("2026-05-02")
	titres, err := f.billing.Recoveries(ctx, billing.RecoveryFilter{Status: billing.RecoveryTitre}, db.PageRequest{Limit: 10})
	if err != nil || len(titres) != 1 || titres[0].ID != old || titres[0].DaysWaiting != 31 {
		t.Fatalf("titre recoveries on the 31st day = %+v, %v; want the old one, 31 days", titres, err)
	}

	f.cityDue(t, billing.KindGP, "50.00")
	b := f.draft(t)
	wantAmount(t, "offset", b.OffsetTotal, "28.00")
	if got := offsetBatch(t, f.pool, old); got != 0 {
		t.Errorf("the recovery past its delay was deducted (batch %d)", got)
	}
	if got := offsetBatch(t, f.pool, recent); got != b.ID {
		t.Errorf("the recent recovery is in batch %d, want %d", got, b.ID)
	}

	var buf bytes.Buffer
	if err := f.billing.RecoveriesCSV(ctx, billing.RecoveryFilter{Status: billing.RecoveryTitre}, &buf); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\ufeff"), "\r\n"), "\r\n")
	want := []string{
		"Reprise;Effecteur;RPPS;FINESS;Facture;Réf. facture;Montant;Créée le;Jours d'attente;Statut;Lot",
		fmt.Sprintf("%d;Test general_practitioner;10003456789;;%d;%s;21,00;01/04/2026;31;titre de recettes à émettre;", old, first.ID, first.ExternalRef),
	}
	if !slices.Equal(rows, want) {
		t.Errorf("titre de recettes CSV =\n%q\nwant\n%q", rows, want)
	}
	checkBooks(t, f.pool)

	// The books see a batch whose offset is not its recoveries', and a
	// recovery deducted from a batch that pays its provider nothing.
	owner := dbtest.Owner(t, f.pool.Config().ConnString())
	tamper := func(sql string, args ...any) {
		t.Helper()
		if err := db.InTx(ctx, owner, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	nurseBatch := f.cityDue(t, billing.KindNurse, "5.00")
	nb := f.draft(t)
	if nb.Providers[0].ProviderID != nurseBatch.ProviderID {
		t.Fatalf("the nurse's batch pays %+v", nb.Providers)
	}
	tamper(`UPDATE payout_batches SET offset_total = 0 WHERE id = $1`, b.ID)
	tamper(`UPDATE provider_recoveries SET offset_batch_id = $2 WHERE id = $1`, old, nb.ID)
	report, err := journal.Check(ctx, f.pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, finding := range report.Findings {
		// b's offset is 0 for 28.00 deducted; nb deducts 21.00 for an offset of
		// 0, from a GP it does not pay.
		if finding.Name == "batch_offsets" && finding.Violations != 3 {
			t.Errorf("batch_offsets found %d violations, want 3: %v", finding.Violations, finding.Examples)
		}
	}
	tamper(`UPDATE provider_recoveries SET offset_batch_id = NULL WHERE id = $1`, old)
	tamper(`UPDATE payout_batches SET offset_total = 28 WHERE id = $1`, b.ID)
	checkBooks(t, f.pool)
}

// TestDraftsRacingNeverTakeOneRecoveryTwice: four drafts at once, each on
// its own pool as four passd processes would, over 2,500 due payouts of
// the provider that owes three recoveries (the régie's ceiling holds 1,000
// payouts a batch, so several batches pay that provider): every recovery
// is deducted once, and each batch's offset is exactly its recoveries.
func TestDraftsRacingNeverTakeOneRecoveryTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRecoveryFixture(t, "2026-03-11")
	var overpaid []int64
	for range 3 {
		overpaid = append(overpaid, f.cityDue(t, billing.KindGP, "30.00").ID)
	}
	f.paidNormally(t)
	for _, id := range overpaid {
		f.recover(t, id, "21.00")
	}
	gp := f.provider(t, billing.KindGP)
	owner := dbtest.Owner(t, f.pool.Config().ConnString())
	if _, err := owner.Exec(ctx, `
		INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by)
		SELECT $1, $2, 'RACE-' || g, '2026-01-02', '2026-02-01', 10, $3 FROM generate_series(1, 2500) g`,
		gp.id, f.patient(t).ID, gp.actor.UserID); err != nil {
		t.Fatal(err)
	}
	if n := f.runDeadline(t); n != 2500 {
		t.Fatalf("deadline job decided %d, want 2500", n)
	}

	cfg := f.pool.Config().ConnString()
	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := db.Open(ctx, cfg)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			store := billing.NewStore(db.NewPool(pool).Bind(dbtest.Convention), f.claims, billing.Config{DeadlineDays: 90, Now: f.clock.Now})
			start.Wait()
			if _, _, err := store.DraftPayoutBatch(ctx, f.preparer, 0); err != nil {
				errs <- err
			}
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a concurrent draft: %v", err)
	}
	var batches, deducted int
	var offsets, recovered decimal.Decimal
	if err := f.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(offset_total), 0) FROM payout_batches WHERE status = 'draft'`).
		Scan(&batches, &offsets); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM provider_recoveries WHERE offset_batch_id IS NOT NULL`).
		Scan(&deducted, &recovered); err != nil {
		t.Fatal(err)
	}
	if batches < 2 || deducted != 3 || !offsets.Equal(amt("63.00")) || !recovered.Equal(amt("63.00")) {
		t.Fatalf("%d drafts deduct %s in all; %d recoveries (%s) deducted; want at least 2 drafts, the 3 recoveries once: 63.00",
			batches, offsets, deducted, recovered)
	}
	checkBooks(t, f.pool)
}
