package claims

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/ident"
)

// SetCommune records the commune the file's person lives in, or clears it
// (code ""): people of the PASS move, or give an address later. code is
// ParseCommune's. The audit row says the code changed and what it is now
// set or not, not which commune: the log is read by more people than the
// file, and a commune beside a file number narrows who it is.
func (s *Store) SetCommune(ctx context.Context, actor audit.Actor, id int64, code string) (Patient, []RightsEvent, error) {
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var before string
		err := tx.QueryRow(ctx, `SELECT coalesce(commune_code, '') FROM patients WHERE id = $1 AND tenant_id = passd_tenant() FOR NO KEY UPDATE`, id).Scan(&before)
		if err != nil {
			return db.Translate(fmt.Errorf("claims: patient %d: %w", id, err))
		}
		if before == code {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE patients SET commune_code = nullif($2, '') WHERE id = $1 AND tenant_id = passd_tenant()`, id, code); err != nil {
			return fmt.Errorf("claims: set commune: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "patient.commune", Entity: "patient",
			EntityID: ident.FormatID(id), Before: map[string]any{"commune_known": before != ""},
			After: map[string]any{"commune_known": code != ""}})
	})
	if err != nil {
		return Patient{}, nil, err
	}
	return s.Patient(ctx, actor, id)
}
