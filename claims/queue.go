package claims

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/calendar"
	"passd/db"
	"passd/rights"
)

// AwaitingFile is a file whose rights application awaits the CPAM's
// decision, as the referent's queue shows it: no identity, so listing the
// queue reads none and logs none.
type AwaitingFile struct {
	ID         int64
	FileNumber string
	Regime     string
	FiledOn    calendar.Date
}

// QueueKey is a file's place in the queue: its filing date, then its id.
type QueueKey struct {
	FiledOn calendar.Date
	ID      int64
}

// AwaitingDecision lists up to limit files whose rights were requested,
// of regime when it is not "", the oldest filing first (then the oldest
// file), the order in which the referent should decide them: those past
// after when its ID is not 0, the previous page's last.
func (s *Store) AwaitingDecision(ctx context.Context, regime rights.Regime, after QueueKey, limit int) ([]AwaitingFile, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, file_number, coalesce(rights_regime, ''), rights_filed_on
		FROM patients WHERE rights_status = 'requested' AND ($1 = '' OR rights_regime = $1)
		  AND tenant_id = passd_tenant()
		  AND ($2::bigint = 0 OR (rights_filed_on, id) > ($3::date, $2))
		ORDER BY rights_filed_on, id LIMIT $4`, regime, after.ID, after.FiledOn, limit)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: awaiting decision: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AwaitingFile, error) {
		var f AwaitingFile
		err := r.Scan(&f.ID, &f.FileNumber, &f.Regime, &f.FiledOn)
		return f, err
	})
	return out, db.Translate(err)
}

// CountAwaitingDecision is how many files await a decision, of regime
// when it is not "".
func (s *Store) CountAwaitingDecision(ctx context.Context, regime rights.Regime) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM patients WHERE rights_status = 'requested' AND ($1 = '' OR rights_regime = $1)
		AND tenant_id = passd_tenant()`,
		regime).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("claims: count awaiting decision: %w", err))
	}
	return n, nil
}
