package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
	"passd/ident"
)

// The review of an invoice over a ceiling (settings over_ceiling =
// review): it is stored flagged, and no job decides it until the
// coordinator accepts it (or voids it, as any pending invoice).
const (
	ReviewFlagged  = "flagged"
	ReviewAccepted = "accepted"
)

// AcceptReview lets a flagged pending invoice be decided: the jobs take
// it at their next run, the release job included when its file has a
// rights decision already. Anything but a flagged pending invoice is a
// conflict (not_flagged).
func (s *Store) AcceptReview(ctx context.Context, actor audit.Actor, id int64) (Invoice, error) {
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		var patientID int64
		err := tx.QueryRow(ctx, `
			UPDATE invoices SET review_status = 'accepted', reviewed_at = $2, reviewed_by = $3
			WHERE id = $1 AND review_status = 'flagged' AND status = 'pending' AND tenant_id = passd_tenant()
			RETURNING patient_id`, id, now, nullID(actor.UserID)).Scan(&patientID)
		if errors.Is(err, pgx.ErrNoRows) {
			var status, review string
			err := tx.QueryRow(ctx, `SELECT status, coalesce(review_status, '') FROM invoices WHERE id = $1 AND tenant_id = passd_tenant()`, id).Scan(&status, &review)
			if errors.Is(err, pgx.ErrNoRows) {
				return fault.New(fault.NotFound, "not found")
			}
			if err != nil {
				return fmt.Errorf("billing: review lookup: %w", err)
			}
			return fault.New(fault.Conflict, "the invoice is %s and does not wait for a review", status).WithKind(fault.KindNotFlagged)
		}
		if err != nil {
			return fmt.Errorf("billing: accept review: %w", err)
		}
		// The release job read this file's change while the invoice was
		// held: it is told again.
		if _, err := tx.Exec(ctx, `
			INSERT INTO rights_changes (patient_id, changed_at)
			SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = $1 AND d.tenant_id = passd_tenant())
			ON CONFLICT (patient_id) DO UPDATE SET seq = nextval('rights_changes_seq'), changed_at = EXCLUDED.changed_at`,
			patientID, now); err != nil {
			return fmt.Errorf("billing: accept review: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "invoice.review", Entity: "invoice", EntityID: ident.FormatID(id),
			Before: map[string]any{"review_status": ReviewFlagged}, After: map[string]any{"review_status": ReviewAccepted}})
	})
	if err != nil {
		return Invoice{}, db.Translate(err)
	}
	return s.Invoice(ctx, id, 0)
}
