package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/auth"
	"passd/db"
)

// sessions keeps the browser sessions in web_sessions. A session's id is
// 32 random bytes shown once, in the cookie, and stored as its SHA-256.
type sessions struct {
	pool *db.Pool
	now  func() time.Time
	idle time.Duration
}

// newSessionID returns a fresh random session id and its hash.
func newSessionID() (id string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("web: random session id: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hashSessionID(id), nil
}

func hashSessionID(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// errNoSession: the cookie names no live session.
var errNoSession = errors.New("web: no live session")

// open starts a session for the token p authenticated with, writes the
// audit row in the same transaction, and forgets expired sessions on the way.
func (s *sessions) open(ctx context.Context, token string, p auth.Principal) (string, time.Time, error) {
	id, hash, err := newSessionID()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	expires := now.Add(s.idle)
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1 AND tenant_id = passd_tenant()`, now); err != nil {
			return fmt.Errorf("web: forget expired sessions: %w", err)
		}
		var sessionID int64
		err := tx.QueryRow(ctx, `
			INSERT INTO web_sessions (hash, token_id, created_at, last_seen_at, expires_at)
			SELECT $1, t.id, $2, $2, $3 FROM tokens t
			WHERE t.hash = $4 AND t.tenant_id = passd_tenant() AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
			RETURNING id`, hash, now, expires, auth.HashToken(token)).Scan(&sessionID)
		if errors.Is(err, pgx.ErrNoRows) {
			// Revoked between Authenticate and here.
			return errNoSession
		}
		if err != nil {
			return fmt.Errorf("web: open session: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: p.Actor(), Action: "session.open", Entity: "user",
			EntityID: strconv.FormatInt(p.UserID, 10), After: map[string]any{"session_id": strconv.FormatInt(sessionID, 10), "expires_at": expires}})
	})
	if err != nil {
		return "", time.Time{}, db.Translate(err)
	}
	return id, expires, nil
}

// principal returns whom a live session belongs to and slides its idle
// expiry (at most once a minute, so that reading pages does not write on
// every request). A session ends with its token: revoked or expired tokens
// end their sessions at once.
func (s *sessions) principal(ctx context.Context, id string) (auth.Principal, error) {
	var p auth.Principal
	var role string
	var providerID, organisationID *int64
	now := s.now()
	hash := hashSessionID(id)
	// The session names its convention (db.SessionDoor), in the same round
	// trip.
	err := s.pool.QueryRow(db.ThroughDoor(ctx, db.SessionDoor, hash), `
		WITH found AS (
			SELECT s.id, s.last_seen_at, u.id AS user_id, u.name, u.role, u.provider_id, u.organisation_id, u.tenant_id
			FROM web_sessions s JOIN tokens t ON t.id = s.token_id AND t.tenant_id = passd_tenant()
			JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
			WHERE s.hash = $1 AND s.tenant_id = passd_tenant() AND s.expires_at > $2
			  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
		), touched AS (
			UPDATE web_sessions SET last_seen_at = $2, expires_at = $2 + make_interval(secs => $3)
			FROM found
			WHERE web_sessions.id = found.id AND web_sessions.tenant_id = passd_tenant() AND found.last_seen_at < $2 - interval '1 minute'
		)
		SELECT user_id, name, role, provider_id, organisation_id, tenant_id FROM found`, hash, now, s.idle.Seconds()).
		Scan(&p.UserID, &p.Name, &role, &providerID, &organisationID, &p.Tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, errNoSession
	}
	if err != nil {
		return p, db.Translate(fmt.Errorf("web: read session: %w", err))
	}
	p.Role = auth.Role(role)
	if providerID != nil {
		p.ProviderID = *providerID
	}
	if organisationID != nil {
		p.OrganisationID = *organisationID
	}
	return p, nil
}

// close deletes the session and writes the audit row in the same
// transaction. Closing a session that is already gone does nothing.
func (s *sessions) close(ctx context.Context, id string, p auth.Principal) error {
	return db.Translate(db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var sessionID int64
		err := tx.QueryRow(ctx, `DELETE FROM web_sessions WHERE hash = $1 AND tenant_id = passd_tenant() RETURNING id`, hashSessionID(id)).Scan(&sessionID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("web: close session: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: p.Actor(), Action: "session.close", Entity: "user",
			EntityID: strconv.FormatInt(p.UserID, 10), Before: map[string]any{"session_id": strconv.FormatInt(sessionID, 10)}})
	}))
}

// tokenHash returns the hash of the token a live session was opened with,
// for a rotation from the account page.
func (s *sessions) tokenHash(ctx context.Context, id string) ([]byte, error) {
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT t.hash FROM web_sessions s JOIN tokens t ON t.id = s.token_id AND t.tenant_id = passd_tenant()
		WHERE s.hash = $1 AND s.tenant_id = passd_tenant()`,
		hashSessionID(id)).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSession
	}
	return hash, db.Translate(err)
}
