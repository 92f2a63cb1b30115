package referrals

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
)

// retentionBatch bounds the cases one transaction anonymises.
const retentionBatch = 500

// RetentionJob anonymises the cases closed more than the setting
// referral_retention_months ago: their sealed identity and every free text
// (the notes of their steps, a decline's or an exception's reason) are
// emptied; the categories, dates and outcomes stay for the indicators.
// Each case gets an 'anonymised' step and its audit row.
func (s *Store) RetentionJob(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			now := s.now()
			rows, err := tx.Query(ctx, `
				UPDATE referral_cases SET identity_enc = NULL, identity_key = NULL, anonymised_at = $1,
				       decline_reason = NULL, exception_reason = CASE WHEN basis = 'consent' THEN NULL ELSE '(anonymisé)' END
				WHERE referral_cases.tenant_id = passd_tenant() AND id IN (SELECT id FROM referral_cases
					WHERE referral_cases.tenant_id = passd_tenant() AND anonymised_at IS NULL AND closed_at IS NOT NULL
					  AND closed_at < $1::timestamptz - make_interval(months => (SELECT referral_retention_months FROM settings WHERE settings.tenant_id = passd_tenant()))
					ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
				RETURNING id`, now, retentionBatch)
			if err != nil {
				return fmt.Errorf("referrals: retention: %w", err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("referrals: retention: %w", err)
			}
			n = int64(len(ids))
			if n == 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE referral_events SET note = '' WHERE case_id = ANY($1) AND note <> '' AND tenant_id = passd_tenant()`, ids); err != nil {
				return fmt.Errorf("referrals: retention: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO referral_events (case_id, at, kind) SELECT id, $2, 'anonymised' FROM unnest($1::bigint[]) AS id`,
				ids, now); err != nil {
				return fmt.Errorf("referrals: retention: %w", err)
			}
			return audit.AppendSame(ctx, tx, audit.Actor{Name: "retention"}, "case.anonymise", "referral_case", ids,
				map[string]any{"anonymised_at": nil}, map[string]any{"anonymised_at": now.UTC()})
		})
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
	}
}
