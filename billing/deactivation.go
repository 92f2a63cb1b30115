package billing

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
	"passd/ident"
)

// errProviderInactive: a deactivated provider's user sends an invoice.
var errProviderInactive = fault.New(fault.Forbidden, "this provider has left the programme: it can no longer send invoices")

// SetProviderActive deactivates a provider (active false) or brings it
// back. Deactivated, it sends no new invoice; its pending invoices, its
// payouts and its history stay as they are, and what it is owed is still
// batched and paid. Setting what already is changes nothing and writes no
// audit row.
func (s *Store) SetProviderActive(ctx context.Context, actor audit.Actor, id int64, active bool) (Provider, error) {
	var out Provider
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := db.One[Provider](ctx, tx, `SELECT `+providerColumns+` FROM providers WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`, id)
		if err != nil {
			return err
		}
		out = cur
		if (cur.DeactivatedAt == nil) == active {
			return nil
		}
		out, err = db.One[Provider](ctx, tx, `UPDATE providers SET deactivated_at = CASE WHEN $2 THEN NULL ELSE $3::timestamptz END
			WHERE id = $1 AND tenant_id = passd_tenant() RETURNING `+providerColumns, id, active, s.now())
		if err != nil {
			return fmt.Errorf("billing: set provider %d active: %w", id, err)
		}
		action := "provider.deactivate"
		if active {
			action = "provider.reactivate"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: action, Entity: "provider", EntityID: ident.FormatID(id),
			Before: map[string]any{"active": !active}, After: map[string]any{"active": active}})
	})
	return out, db.Translate(err)
}
