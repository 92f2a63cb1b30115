package auth

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

// SetUserEnabled disables a user (enabled false), or enables them again.
// Disabled, none of their tokens authenticates, at once on this server
// (its token cache is emptied) and within PASSD_TOKEN_CACHE on others;
// their name stays in every history. An admin cannot disable themselves:
// a programme left with no admin has no one to enable one. Setting what
// already is changes nothing and writes no audit row.
func (s *Store) SetUserEnabled(ctx context.Context, actor audit.Actor, userID int64, enabled bool) error {
	if !enabled && userID == actor.UserID {
		return fault.New(fault.Conflict, "you cannot disable yourself: another admin can")
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT name, disabled_at IS NOT NULL FROM users WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`, userID).Scan(&name, &disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "no such user")
		}
		if err != nil {
			return fmt.Errorf("auth: user %d: %w", userID, err)
		}
		if disabled != enabled {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = CASE WHEN $2 THEN NULL ELSE $3::timestamptz END,
			disabled_by = CASE WHEN $2 THEN NULL ELSE $4::bigint END WHERE id = $1 AND tenant_id = passd_tenant()`, userID, enabled, s.now(), actor.UserID); err != nil {
			return fmt.Errorf("auth: set user %d enabled: %w", userID, err)
		}
		action := "user.disable"
		if enabled {
			action = "user.enable"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: action, Entity: "user", EntityID: ident.FormatID(userID),
			Before: map[string]any{"name": name, "enabled": !enabled}, After: map[string]any{"name": name, "enabled": enabled}})
	})
	if err != nil {
		return db.Translate(err)
	}
	s.cache.forget()
	return nil
}
