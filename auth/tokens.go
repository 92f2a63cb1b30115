package auth

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
)

// Every token expires. A stolen token works for DefaultTokenTTL at most,
// unless revoked sooner; a longer life than MaxTokenTTL is refused so that
// tokens are rotated at least that often.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MinTokenTTL     = time.Minute
	MaxTokenTTL     = 730 * 24 * time.Hour
)

// ParseTTL reads a token lifetime: whole days ("90d") or a Go duration
// ("12h", "30m"). It must lie between MinTokenTTL and MaxTokenTTL.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var ttl time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > int64(MaxTokenTTL/(24*time.Hour))+1 {
			return 0, fault.Field("ttl", "%q is not a token lifetime: write days (90d) or a duration (12h, 30m)", s)
		}
		ttl = time.Duration(n) * 24 * time.Hour
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fault.Field("ttl", "%q is not a token lifetime: write days (90d) or a duration (12h, 30m)", s)
		}
		ttl = d
	}
	return ttl, CheckTTL(ttl)
}

// CheckTTL refuses a token lifetime outside MinTokenTTL..MaxTokenTTL.
func CheckTTL(ttl time.Duration) error {
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		return fault.Field("ttl", "a token lives between %s and %d days, not %s", MinTokenTTL, MaxTokenTTL/(24*time.Hour), ttl)
	}
	return nil
}

// TokenInfo is a token's record, never the token itself.
type TokenInfo struct {
	ID         int64
	UserID     int64
	User       string
	Role       Role
	ProviderID int64
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: a token issued before tokens expired
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	IssuedBy   string // the admin who issued it for this user; "" for the CLI or the user itself
	// AwaitsSecondAdmin: issued by an admin for someone else (a reset, a
	// new finance or admin user) and not confirmed by another admin yet.
	AwaitsSecondAdmin bool
	// UserDisabledAt: the user was disabled (nil: enabled); none of their
	// tokens authenticates.
	UserDisabledAt *time.Time
}

// Active reports whether the token still authenticates at now.
func (t TokenInfo) Active(now time.Time) bool {
	return t.RevokedAt == nil && !t.AwaitsSecondAdmin && t.UserDisabledAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// Tokens calls fn with every token, oldest first, or only those of the
// named user when user is not empty. Rows are streamed, not collected.
func (s *Store) Tokens(ctx context.Context, user string, fn func(TokenInfo) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, u.id, u.name, u.role, coalesce(u.provider_id, 0), t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
		       coalesce(ui.name, ''), t.needs_confirmation AND t.confirmed_at IS NULL, u.disabled_at
		FROM tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
		LEFT JOIN users ui ON ui.id = t.issued_by AND t.issued_by <> t.user_id AND ui.tenant_id = passd_tenant()
		WHERE ($1 = '' OR u.name = $1) AND t.tenant_id = passd_tenant()
		ORDER BY t.id`, strings.TrimSpace(user))
	if err != nil {
		return db.Translate(fmt.Errorf("auth: list tokens: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var t TokenInfo
		var role string
		if err := rows.Scan(&t.ID, &t.UserID, &t.User, &role, &t.ProviderID, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt,
			&t.IssuedBy, &t.AwaitsSecondAdmin, &t.UserDisabledAt); err != nil {
			return fmt.Errorf("auth: list tokens: %w", err)
		}
		t.Role = Role(role)
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.Translate(fmt.Errorf("auth: list tokens: %w", err))
	}
	return nil
}

// TokenHolder names the user of token id and its role, for a page that
// asks before revoking it; an unknown token is not found.
func (s *Store) TokenHolder(ctx context.Context, id int64) (string, Role, error) {
	var name, role string
	err := s.pool.QueryRow(ctx, `SELECT u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
		WHERE t.id = $1 AND t.tenant_id = passd_tenant()`, id).Scan(&name, &role)
	if err != nil {
		return "", "", db.Translate(fmt.Errorf("auth: token %d: %w", id, err))
	}
	return name, Role(role), nil
}

// Revocation says which tokens to revoke: exactly one of a token's id,
// the token itself, or every token of a user.
type Revocation struct {
	ID    int64
	Token string
	User  string
}

// Revoke revokes the chosen tokens that are not revoked yet, each with its
// audit row, and returns the ids it revoked (none when they all were
// already). Naming no token, or a user or token that does not exist, is a
// not_found fault.
func (s *Store) Revoke(ctx context.Context, actor audit.Actor, r Revocation) ([]int64, error) {
	chosen := 0
	for _, set := range []bool{r.ID != 0, r.Token != "", r.User != ""} {
		if set {
			chosen++
		}
	}
	if chosen != 1 {
		return nil, fault.New(fault.Invalid, "name exactly one of a token id, a token or a user")
	}
	var revoked []int64
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		at := s.now()
		var where string
		var arg any
		switch {
		case r.ID != 0:
			where, arg = "t.id = $1", r.ID
		case r.Token != "":
			where, arg = "t.hash = $1", HashToken(strings.TrimSpace(r.Token))
		default:
			where, arg = "u.name = $1", strings.TrimSpace(r.User)
		}
		// Does what is named exist at all (a user may have no token)?
		var found int
		var userID int64
		err := tx.QueryRow(ctx, `
			SELECT count(*), coalesce(min(u.id), 0) FROM users u LEFT JOIN tokens t ON t.user_id = u.id AND t.tenant_id = passd_tenant()
			WHERE u.tenant_id = passd_tenant() AND `+where, arg).Scan(&found, &userID)
		if err != nil {
			return fmt.Errorf("auth: revoke: %w", err)
		}
		if found == 0 {
			return fault.New(fault.NotFound, "no such token or user")
		}
		// The tokens are locked and rechecked, so that of two concurrent
		// revocations only one revokes (and audits) each token.
		rows, err := tx.Query(ctx, `
			UPDATE tokens SET revoked_at = $2
			WHERE tokens.tenant_id = passd_tenant() AND id IN (SELECT t.id FROM tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
				WHERE t.tenant_id = passd_tenant() AND `+where+` AND t.revoked_at IS NULL FOR UPDATE OF t)
			  AND revoked_at IS NULL
			RETURNING id`, arg, at)
		if err != nil {
			return fmt.Errorf("auth: revoke: %w", err)
		}
		revoked, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("auth: revoke: %w", err)
		}
		slices.Sort(revoked)
		// Every token chosen belongs to one user.
		return audit.AppendSame(ctx, tx, actor, "token.revoke", "token", revoked,
			map[string]any{"revoked_at": nil}, map[string]any{"revoked_at": at.UTC(), "user_id": fmt.Sprint(userID)})
	})
	if err != nil {
		return nil, err
	}
	s.cache.forget()
	return revoked, nil
}
