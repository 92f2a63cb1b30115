package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/db"
	"passd/lifecycle"
)

// What a re-decision leaves the city to get back (package settlement
// records both): a recovery is what the régie paid a provider and no
// longer owes; a refund is what the CPAM paid on a claim the city now
// owes, due back to the CPAM.

// RecoveryStatus is where a recovery from a provider stands. It is derived
// from the row and the settings, never stored: a recovery is offset once a
// payout batch deducts it; until then it is open, and once it has waited
// more than the settings' RecoveryOffset days, no draft deducts it any
// more: it is listed for a titre de recettes. A recovery released by a
// cancelled batch is open or titre again, by its age.
type RecoveryStatus string

// Recovery statuses.
const (
	RecoveryOpen   RecoveryStatus = "open"   // waiting for the provider's next payout batch
	RecoveryOffset RecoveryStatus = "offset" // deducted from a payout batch (settled once the batch is paid)
	RecoveryTitre  RecoveryStatus = "titre"  // waited too long: finance issues a titre de recettes
)

// RecoveryStatuses lists every recovery status, for filters.
var RecoveryStatuses = []RecoveryStatus{RecoveryOpen, RecoveryOffset, RecoveryTitre}

var recoveryStatusFR = lifecycle.Labels[RecoveryStatus]{RecoveryOpen: "à déduire", RecoveryOffset: "déduite d'un lot",
	RecoveryTitre: "titre de recettes à émettre"}

// Label is a recovery's status in French.
func (s RecoveryStatus) Label() string { return recoveryStatusFR.Of(s) }

// Recovery is what the régie paid a provider for an invoice and no longer
// owes, with what finance needs to get it back.
type Recovery struct {
	ID                int64           `db:"id"`
	InvoiceID         int64           `db:"invoice_id"`
	ExternalRef       string          `db:"external_ref"` // the invoice's, as the provider knows it
	ProviderID        int64           `db:"provider_id"`
	ProviderName      string          `db:"provider_name"`
	RPPS              string          `db:"rpps"`   // the provider's, or empty
	FINESS            string          `db:"finess"` // the provider's, or empty
	OutcomeNo         int             `db:"outcome_no"`
	Amount            decimal.Decimal `db:"amount"`
	CreatedAt         time.Time       `db:"created_at"`
	OffsetBatchID     int64           `db:"offset_batch_id"` // 0: not deducted
	OffsetBatchStatus BatchStatus     `db:"offset_batch_status"`
	Status            RecoveryStatus  `db:"status"`
	DaysWaiting       int             `db:"days_waiting"` // Paris days since it was recorded
}

// RecoveryFilter selects recoveries; zero values select all.
type RecoveryFilter struct {
	Status     RecoveryStatus
	ProviderID int64
	BatchID    int64 // deducted from this payout batch
}

// recoverySelect reads recoveries with their derived status as of $1
// (today), the settings' delay defaulting to $2, filtered by $3 (status),
// $4 (provider) and $5 (batch). The delay is in Paris days, as the drafts
// count it (lockOffsets): offset while waiting at most that many days.
const recoverySelect = `
	SELECT * FROM (
		SELECT r.id, r.invoice_id, i.external_ref, r.provider_id, pr.name AS provider_name, coalesce(pr.rpps, '') AS rpps,
		       coalesce(pr.finess, '') AS finess, r.outcome_no, r.amount, r.created_at, coalesce(r.offset_batch_id, 0) AS offset_batch_id,
		       coalesce(b.status, '') AS offset_batch_status,
		       CASE WHEN r.offset_batch_id IS NOT NULL THEN 'offset' WHEN w.days > s.days THEN 'titre' ELSE 'open' END AS status,
		       w.days AS days_waiting
		FROM provider_recoveries r JOIN providers pr ON pr.id = r.provider_id AND pr.tenant_id = passd_tenant()
		JOIN invoices i ON i.id = r.invoice_id AND i.tenant_id = passd_tenant()
		LEFT JOIN payout_batches b ON b.id = r.offset_batch_id AND b.tenant_id = passd_tenant()
		CROSS JOIN (SELECT coalesce(recovery_offset_days, $2::int) AS days FROM settings WHERE settings.tenant_id = passd_tenant()) s
		CROSS JOIN LATERAL (SELECT $1::date - (r.created_at AT TIME ZONE 'Europe/Paris')::date AS days) w
		WHERE r.tenant_id = passd_tenant()) x
	WHERE ($3 = '' OR x.status = $3) AND ($4::bigint = 0 OR x.provider_id = $4) AND ($5::bigint = 0 OR x.offset_batch_id = $5)`

func (s *Store) recoveryArgs(f RecoveryFilter) []any {
	return []any{s.Today(), DefaultRecoveryOffsetDays, string(f.Status), f.ProviderID, f.BatchID}
}

// Recoveries lists recoveries, newest first.
func (s *Store) Recoveries(ctx context.Context, f RecoveryFilter, page db.PageRequest) ([]Recovery, error) {
	rows, err := s.pool.Query(ctx, recoverySelect+` AND ($6::bigint = 0 OR x.id < $6) ORDER BY x.id DESC LIMIT $7`,
		append(s.recoveryArgs(f), page.Before, page.Limit+1)...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list recoveries: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Recovery])
	return out, db.Translate(err)
}

// CPAMRefund is what the CPAM paid on a claim for care the city now owes:
// the city pays it back.
type CPAMRefund struct {
	ID           int64           `db:"id"`
	InvoiceID    int64           `db:"invoice_id"`
	ExternalRef  string          `db:"external_ref"`
	ProviderID   int64           `db:"provider_id"`
	ProviderName string          `db:"provider_name"`
	ClaimID      int64           `db:"claim_id"`
	ClaimBatchID int64           `db:"claim_batch_id"` // the claim batch the CPAM paid it from
	ClaimPaidOn  calendar.Date   `db:"claim_paid_on"`
	Amount       decimal.Decimal `db:"amount"`
	CreatedAt    time.Time       `db:"created_at"`
}

const refundSelect = `
	SELECT f.id, f.invoice_id, i.external_ref, i.provider_id, pr.name AS provider_name, f.claim_id,
	       coalesce(c.batch_id, 0) AS claim_batch_id, c.paid_on AS claim_paid_on, f.amount, f.created_at
	FROM cpam_refunds f JOIN claims c ON c.id = f.claim_id AND c.tenant_id = passd_tenant()
	JOIN invoices i ON i.id = f.invoice_id AND i.tenant_id = passd_tenant()
	JOIN providers pr ON pr.id = i.provider_id AND pr.tenant_id = passd_tenant()
	WHERE f.tenant_id = passd_tenant()`

// CPAMRefunds lists the refunds due to the CPAM, newest first.
func (s *Store) CPAMRefunds(ctx context.Context, page db.PageRequest) ([]CPAMRefund, error) {
	rows, err := s.pool.Query(ctx, refundSelect+` AND ($1::bigint = 0 OR f.id < $1) ORDER BY f.id DESC LIMIT $2`, page.Before, page.Limit+1)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list cpam refunds: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CPAMRefund])
	return out, db.Translate(err)
}
