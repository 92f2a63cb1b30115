package settlement

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/ident"
	"passd/journal"
)

// What a re-decision undoes. An invoice decided again no longer owes what
// its earlier outcome made owed: nothing settled is edited, each of these
// is a new row or a status a trigger allows, with the journal transaction
// that reverses or offsets the money, in the caller's transaction.

// ClaimKind says why a claim asks the CPAM for money.
type ClaimKind string

// Claim kinds.
const (
	ClaimOrdinary ClaimKind = "claim"    // the CPAM's share of a released invoice
	ClaimRecovery ClaimKind = "recovery" // the CPAM's share of care the city had already paid or owed
)

// CancelClaims cancels open claims (queued, or transmitted and not yet
// answered) that a re-decision no longer owes. A transmitted one goes, as a
// cancellation line, into the next claim batch. Each claim's queueing is
// reversed in the journal. A claim that is no longer open is an error: the
// caller locked it and read it open.
func CancelClaims(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		UPDATE claims SET status = 'cancelled', cancelled_at = $2
		WHERE id = ANY($1) AND status IN ('queued', 'transmitted') AND tenant_id = passd_tenant()
		RETURNING id, invoice_id, amount, batch_id IS NOT NULL`, ids, now)
	if err != nil {
		return fmt.Errorf("settlement: cancel claims: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, invoiceID int64
		var amount decimal.Decimal
		var sent bool
		err := r.Scan(&id, &invoiceID, &amount, &sent)
		return audit.Entry{Actor: actor, Action: "claim.cancel", Entity: "claim", EntityID: ident.FormatID(id),
			After: map[string]any{"invoice_id": ident.FormatID(invoiceID), "amount": amount.StringFixed(2),
				"status": ClaimCancelled, "cancellation_line": sent}}, err
	})
	if err != nil {
		return fmt.Errorf("settlement: cancel claims: %w", err)
	}
	return reverseCancelled(ctx, tx, now, journal.ClaimQueued, journal.ByClaim, ids, entries)
}

// reverseCancelled finishes cancelling ids, whose guarded update returned
// one audit entry each: every one of them must have been cancelled (the
// caller locked them and read them cancellable), and each one's movement m
// is reversed in the journal, once.
func reverseCancelled(ctx context.Context, tx pgx.Tx, now time.Time, m journal.Movement, by journal.Owner, ids []int64, entries []audit.Entry) error {
	if len(entries) != len(ids) {
		return fmt.Errorf("settlement: cancel %ss: %d of %d could be cancelled", by, len(entries), len(ids))
	}
	if n, err := journal.ReverseAll(ctx, tx, now, m, by, ids); err != nil {
		return err
	} else if n != int64(len(ids)) {
		return fmt.Errorf("settlement: cancel %ss: reversed %d %s transactions for %d", by, n, m, len(ids))
	}
	return audit.Append(ctx, tx, entries...)
}

// Refund is what the CPAM paid on a claim for care the city now owes.
type Refund struct {
	ClaimID, InvoiceID int64
	Amount             decimal.Decimal
}

// RefundClaims records refunds due to the CPAM (a claim is refunded at
// most once: cpam_refunds.claim_id is unique), posts each and audits it.
func RefundClaims(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, refunds []Refund) error {
	if len(refunds) == 0 {
		return nil
	}
	n := len(refunds)
	claimIDs, invoiceIDs, amounts := make([]int64, n), make([]int64, n), make([]decimal.Decimal, n)
	for i, r := range refunds {
		claimIDs[i], invoiceIDs[i], amounts[i] = r.ClaimID, r.InvoiceID, r.Amount
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO cpam_refunds (claim_id, invoice_id, amount, created_at)
		SELECT c, i, a, $4 FROM unnest($1::bigint[], $2::bigint[], $3::numeric[]) AS u (c, i, a)
		RETURNING id, claim_id, invoice_id, amount`, claimIDs, invoiceIDs, amounts, now)
	if err != nil {
		return fmt.Errorf("settlement: refunds: %w", err)
	}
	postings := make([]journal.Posting, 0, n)
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, claimID, invoiceID int64
		var amount decimal.Decimal
		err := r.Scan(&id, &claimID, &invoiceID, &amount)
		postings = append(postings, journal.Posting{Movement: journal.RefundDue, Amount: amount, InvoiceID: invoiceID, ClaimID: claimID})
		return audit.Entry{Actor: actor, Action: "refund.create", Entity: "cpam_refund", EntityID: ident.FormatID(id),
			After: map[string]any{"claim_id": ident.FormatID(claimID), "invoice_id": ident.FormatID(invoiceID), "amount": amount.StringFixed(2)}}, err
	})
	if err != nil {
		return fmt.Errorf("settlement: refunds: %w", err)
	}
	if err := journal.Post(ctx, tx, now, postings...); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entries...)
}

// CancelPayouts cancels due payouts (in no batch) that a re-decision no
// longer owes, and reverses each one's journal transaction.
func CancelPayouts(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		UPDATE payouts SET status = 'cancelled', cancelled_at = $2 WHERE id = ANY($1) AND status = 'due' AND tenant_id = passd_tenant()
		RETURNING id, invoice_id, amount`, ids, now)
	if err != nil {
		return fmt.Errorf("settlement: cancel payouts: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, invoiceID int64
		var amount decimal.Decimal
		err := r.Scan(&id, &invoiceID, &amount)
		return audit.Entry{Actor: actor, Action: "payout.cancel", Entity: "payout", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": PayoutDue},
			After:  map[string]any{"invoice_id": ident.FormatID(invoiceID), "amount": amount.StringFixed(2), "status": PayoutCancelled}}, err
	})
	if err != nil {
		return fmt.Errorf("settlement: cancel payouts: %w", err)
	}
	return reverseCancelled(ctx, tx, now, journal.PayoutDue, journal.ByPayout, ids, entries)
}

// Recovery is what the régie paid a provider for an invoice and no longer
// owes after the invoice's outcome OutcomeNo.
type Recovery struct {
	InvoiceID, ProviderID int64
	OutcomeNo             int
	Amount                decimal.Decimal
}

// Recover records recoveries from providers, posts and audits each. The
// next payout batch of the provider deducts it, or finance lists it for a
// titre de recettes.
func Recover(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, recoveries []Recovery) error {
	if len(recoveries) == 0 {
		return nil
	}
	n := len(recoveries)
	invoiceIDs, providerIDs, outcomes, amounts := make([]int64, n), make([]int64, n), make([]int, n), make([]decimal.Decimal, n)
	for i, r := range recoveries {
		invoiceIDs[i], providerIDs[i], outcomes[i], amounts[i] = r.InvoiceID, r.ProviderID, r.OutcomeNo, r.Amount
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO provider_recoveries (invoice_id, provider_id, outcome_no, amount, created_at)
		SELECT i, p, o, a, $5 FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::numeric[]) AS u (i, p, o, a)
		RETURNING id, invoice_id, provider_id, amount`, invoiceIDs, providerIDs, outcomes, amounts, now)
	if err != nil {
		return fmt.Errorf("settlement: recoveries: %w", err)
	}
	postings := make([]journal.Posting, 0, n)
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, invoiceID, providerID int64
		var amount decimal.Decimal
		err := r.Scan(&id, &invoiceID, &providerID, &amount)
		postings = append(postings, journal.Posting{Movement: journal.RecoveryDue, Amount: amount, InvoiceID: invoiceID})
		return audit.Entry{Actor: actor, Action: "recovery.create", Entity: "provider_recovery", EntityID: ident.FormatID(id),
			After: map[string]any{"invoice_id": ident.FormatID(invoiceID), "provider_id": ident.FormatID(providerID),
				"amount": amount.StringFixed(2)}}, err
	})
	if err != nil {
		return fmt.Errorf("settlement: recoveries: %w", err)
	}
	if err := journal.Post(ctx, tx, now, postings...); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entries...)
}
