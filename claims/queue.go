package claims

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/calendar"
	"passd/db"
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

// AwaitingDecision lists up to limit files whose rights were requested,
// the oldest filing first (then the oldest file), the order in which the
// referent should decide them.
func (s *Store) AwaitingDecision(ctx context.Context, limit int) ([]AwaitingFile, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, file_number, coalesce(rights_regime, ''), rights_filed_on
		FROM patients WHERE rights_status = 'requested'
		ORDER BY rights_filed_on, id LIMIT $1`, limit)
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
