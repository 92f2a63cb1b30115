package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/db"
)

// Account is one of the accounts of the books.
type Account string

const (
	ProviderPayable Account = "provider_payable"
	CPAMReceivable  Account = "cpam_receivable"
	PassExpense     Account = "pass_expense"
	RegieBank       Account = "regie_bank"
	CPAMPayable     Account = "cpam_payable" // what the city must refund the CPAM
)

// Movement names what happened to the money.
type Movement string

const (
	ClaimQueued    Movement = "claim_queued"    // Dr cpam_receivable, Cr provider_payable
	ClaimPaid      Movement = "claim_paid"      // Dr provider_payable, Cr cpam_receivable (the CPAM paid the provider)
	ClaimRejected  Movement = "claim_rejected"  // Dr provider_payable, Cr cpam_receivable (the CPAM will not pay; a payout takes over)
	ClaimShortfall Movement = "claim_shortfall" // the unpaid part of a claim paid in part, as a rejection
	PayoutDue      Movement = "payout_due"      // Dr pass_expense, Cr provider_payable
	PayoutPaid     Movement = "payout_paid"     // Dr provider_payable, Cr regie_bank
	Reversal       Movement = "reversal"        // the mirror of an earlier transaction
	RefundDue      Movement = "refund_due"      // Dr pass_expense, Cr cpam_payable (the CPAM paid a claim the city now owes)
	RecoveryDue    Movement = "recovery_due"    // Dr provider_payable, Cr pass_expense (the régie paid what it no longer owes)
	RecoveryOffset Movement = "recovery_offset" // Dr regie_bank, Cr provider_payable (a recovery deducted from a paid batch)
)

// accounts is each movement's debit and credit account.
var accounts = map[Movement][2]Account{
	ClaimQueued:    {CPAMReceivable, ProviderPayable},
	ClaimPaid:      {ProviderPayable, CPAMReceivable},
	ClaimRejected:  {ProviderPayable, CPAMReceivable},
	ClaimShortfall: {ProviderPayable, CPAMReceivable},
	PayoutDue:      {PassExpense, ProviderPayable},
	PayoutPaid:     {ProviderPayable, RegieBank},
	RefundDue:      {PassExpense, CPAMPayable},
	RecoveryDue:    {ProviderPayable, PassExpense},
	RecoveryOffset: {RegieBank, ProviderPayable},
}

// Posting is one movement of one amount; it becomes one balanced
// transaction of two lines. The ids say what the money belongs to (0: none).
type Posting struct {
	Movement  Movement
	Amount    decimal.Decimal
	InvoiceID int64
	ClaimID   int64
	PayoutID  int64
}

// Post writes postings, one transaction each, with one statement. Call it
// in the database transaction that moves the money.
func Post(ctx context.Context, q db.DBTX, at time.Time, postings ...Posting) error {
	if len(postings) == 0 {
		return nil
	}
	n := len(postings)
	movements, debits, credits := make([]string, n), make([]string, n), make([]string, n)
	amounts := make([]decimal.Decimal, n)
	invoices, claimIDs, payouts := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, p := range postings {
		acc, ok := accounts[p.Movement]
		if !ok {
			return fmt.Errorf("journal: unknown movement %q", p.Movement)
		}
		if !p.Amount.IsPositive() || !p.Amount.Equal(p.Amount.Round(2)) {
			return fmt.Errorf("journal: %s of %s: the amount must be positive, to the cent", p.Movement, p.Amount)
		}
		movements[i], debits[i], credits[i] = string(p.Movement), string(acc[0]), string(acc[1])
		amounts[i], invoices[i], claimIDs[i], payouts[i] = p.Amount, p.InvoiceID, p.ClaimID, p.PayoutID
	}
	// The CTE is evaluated once, so both lines of a posting share its txn_id.
	_, err := q.Exec(ctx, `
		WITH p AS MATERIALIZED (
			SELECT nextval('journal_txn_seq') AS txn, u.*
			FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::bigint[], $6::bigint[], $7::bigint[])
			     AS u (movement, debit_account, credit_account, amount, invoice_id, claim_id, payout_id))
		INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id)
		SELECT txn, $8::timestamptz, movement, debit_account, amount, 0, nullif(invoice_id, 0), nullif(claim_id, 0), nullif(payout_id, 0) FROM p
		UNION ALL
		SELECT txn, $8::timestamptz, movement, credit_account, 0, amount, nullif(invoice_id, 0), nullif(claim_id, 0), nullif(payout_id, 0) FROM p`,
		movements, debits, credits, amounts, invoices, claimIDs, payouts, at)
	if err != nil {
		return fmt.Errorf("journal: post: %w", err)
	}
	return nil
}

// Reverse posts the mirror of transaction txnID (each debit becomes a
// credit and the reverse) and returns the new transaction's id. A
// transaction is reversed at most once.
func Reverse(ctx context.Context, tx pgx.Tx, txnID int64, at time.Time) (int64, error) {
	var already bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM journal_entries WHERE reverses = $1 AND tenant_id = passd_tenant())`, txnID).Scan(&already); err != nil {
		return 0, fmt.Errorf("journal: reverse %d: %w", txnID, err)
	}
	if already {
		return 0, fmt.Errorf("journal: transaction %d is already reversed", txnID)
	}
	var newID int64
	err := tx.QueryRow(ctx, `
		WITH t AS (SELECT nextval('journal_txn_seq') AS txn),
		ins AS (
			INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id, reverses)
			SELECT t.txn, $2::timestamptz, 'reversal', e.account, e.credit, e.debit, e.invoice_id, e.claim_id, e.payout_id, e.txn_id
			FROM journal_entries e, t WHERE e.txn_id = $1 AND e.reverses IS NULL AND e.tenant_id = passd_tenant()
			RETURNING txn_id)
		SELECT txn_id FROM ins LIMIT 1`, txnID, at).Scan(&newID)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("journal: reverse %d: %w", txnID, err))
	}
	return newID, nil
}

// ReverseAll posts the mirror of the transactions of movement m that
// belong to the given claims (by is ByClaim) or payouts (ByPayout), one
// reversing transaction each, with one statement. It returns how many it
// reversed: a transaction already reversed is not reversed again.
func ReverseAll(ctx context.Context, q db.DBTX, at time.Time, m Movement, by Owner, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	column, ok := ownerColumns[by]
	if !ok {
		return 0, fmt.Errorf("journal: reverse by %q", by)
	}
	tag, err := q.Exec(ctx, `
		WITH src AS MATERIALIZED (
			SELECT DISTINCT e.txn_id FROM journal_entries e
			WHERE e.movement = $1 AND e.tenant_id = passd_tenant() AND e.`+column+` = ANY($2)
			  AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = e.txn_id AND r.tenant_id = passd_tenant())),
		t AS MATERIALIZED (SELECT txn_id AS old, nextval('journal_txn_seq') AS txn FROM src)
		INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id, reverses)
		SELECT t.txn, $3::timestamptz, 'reversal', e.account, e.credit, e.debit, e.invoice_id, e.claim_id, e.payout_id, e.txn_id
		FROM journal_entries e JOIN t ON e.txn_id = t.old WHERE e.tenant_id = passd_tenant()`, string(m), ids, at)
	if err != nil {
		return 0, fmt.Errorf("journal: reverse %s: %w", m, err)
	}
	return tag.RowsAffected() / 2, nil
}

// Owner says what the ids given to ReverseAll are.
type Owner string

// Owners of journal lines.
const (
	ByClaim  Owner = "claim"
	ByPayout Owner = "payout"
)

var ownerColumns = map[Owner]string{ByClaim: "claim_id", ByPayout: "payout_id"}
