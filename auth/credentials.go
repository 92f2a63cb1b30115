package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
)

// People, not tokens. Through passd (its pages and API), an admin creates
// a user and its first credential, shown once, but never obtains a
// working credential of a user that exists: its holder renews it
// (Rotate), or an admin resets it (Reset), which revokes every credential
// of the user and issues one that works only once a second admin confirms
// it (ConfirmToken). A new finance or admin user's first credential needs
// that confirmation too: otherwise one admin could make the second pair of
// eyes of every money control out of an account of their own. Issue, which
// reuses an existing user, is the operator's (passd token create, the demo
// seed): whoever runs it holds the database's credentials already.

// needsSecondAdmin reports whether a new user of role gets a credential
// that a second admin must confirm: the roles that move or unlock money.
func needsSecondAdmin(role Role) bool { return role == Finance || role == Admin }

// Enrolment is a new user an admin creates.
type Enrolment struct {
	Name       string
	Role       Role
	ProviderID int64
	// OrganisationID: the CCAS or association of a social worker or doctor.
	OrganisationID int64
	TTL            time.Duration // zero: the store's token TTL
	Actor          audit.Actor   // the admin
}

// Enrolled is a new user's first credential, shown once. Pending: it works
// only once a second admin confirms it.
type Enrolled struct {
	Issued
	Pending bool
}

// Enrol creates a user and its first credential. A name already taken is
// a conflict (user_exists): an existing user's credential is renewed by
// its holder or reset, never issued again.
func (s *Store) Enrol(ctx context.Context, e Enrolment) (Enrolled, error) {
	if e.Actor.UserID == 0 {
		return Enrolled{}, fault.New(fault.Forbidden, "a user is enrolled by a signed-in admin")
	}
	if e.Role == PlatformAdmin {
		// The platform's administrator acts over every convention: an
		// admin of one cannot make one (passd token create can).
		return Enrolled{}, fault.Field("role", "a platform administrator is created by the operator (passd token create), not by an admin")
	}
	req := TokenRequest(e)
	pending := needsSecondAdmin(e.Role)
	issued, err := s.issue(ctx, req, issueOptions{newUserOnly: true, pending: pending})
	return Enrolled{Issued: issued, Pending: pending}, err
}

// Rotate gives the holder of the token whose hash is current a new
// credential and revokes that token: the one way a user's credential is
// re-issued without a reset.
func (s *Store) Rotate(ctx context.Context, p Principal, current []byte) (Issued, error) {
	token, hash, err := NewToken()
	if err != nil {
		return Issued{}, err
	}
	now := s.now()
	out := Issued{Token: token, UserID: p.UserID, ExpiresAt: now.Add(s.tokenTTL).UTC()}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var oldID int64
		err := tx.QueryRow(ctx, `UPDATE tokens SET revoked_at = $3 WHERE hash = $1 AND user_id = $2 AND revoked_at IS NULL AND tenant_id = passd_tenant() RETURNING id`,
			current, p.UserID, now).Scan(&oldID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnauthorized
		}
		if err != nil {
			return fmt.Errorf("auth: rotate: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO tokens (user_id, hash, created_at, expires_at, issued_by) VALUES ($1, $2, $3, $4, $1) RETURNING id`,
			p.UserID, hash, now, out.ExpiresAt).Scan(&out.ID); err != nil {
			return fmt.Errorf("auth: rotate: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: p.Actor(), Action: "token.rotate", Entity: "user", EntityID: fmt.Sprint(p.UserID),
			Before: map[string]any{"token_id": fmt.Sprint(oldID)}, After: map[string]any{"token_id": fmt.Sprint(out.ID), "expires_at": out.ExpiresAt}})
	})
	if err != nil {
		return Issued{}, err
	}
	s.cache.forget()
	return out, nil
}

// Reset revokes every credential of the named user and issues a new one
// that works once a second admin confirms it. An admin resets someone
// else: their own credential they rotate.
func (s *Store) Reset(ctx context.Context, actor audit.Actor, name string) (Issued, error) {
	name = strings.TrimSpace(name)
	var userID int64
	var role Role
	if err := s.pool.QueryRow(ctx, `SELECT id, role FROM users WHERE name = $1 AND tenant_id = passd_tenant()`, name).Scan(&userID, &role); errors.Is(err, pgx.ErrNoRows) {
		return Issued{}, fault.New(fault.NotFound, "no such user")
	} else if err != nil {
		return Issued{}, db.Translate(fmt.Errorf("auth: reset: %w", err))
	}
	if userID == actor.UserID {
		return Issued{}, fault.New(fault.Forbidden, "renew your own credential from your account page, not by a reset").WithField("name")
	}
	if role == PlatformAdmin {
		// Two admins of one convention must not take over the account
		// that acts over every convention: the operator issues it anew.
		return Issued{}, fault.New(fault.Forbidden, "a platform administrator's credential is reset by the operator (passd token create)").WithField("name")
	}
	if _, err := s.Revoke(ctx, actor, Revocation{User: name}); err != nil {
		return Issued{}, err
	}
	issued, err := s.issue(ctx, TokenRequest{Name: name, Actor: actor}, issueOptions{existingOnly: true, pending: true})
	if err != nil {
		return Issued{}, err
	}
	return issued, nil
}

// ConfirmToken lets a credential an admin issued for someone else work:
// the confirmer is an admin who neither issued nor holds it. Of two admins
// confirming at once, one does.
func (s *Store) ConfirmToken(ctx context.Context, actor audit.Actor, id int64) error {
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var userID, issuedBy int64
		var userName, issuer string
		var pending, revoked, confirmed bool
		err := tx.QueryRow(ctx, `
			SELECT t.user_id, u.name, coalesce(t.issued_by, 0), coalesce(ui.name, ''), t.needs_confirmation, t.revoked_at IS NOT NULL,
			       t.confirmed_at IS NOT NULL
			FROM tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
			LEFT JOIN users ui ON ui.id = t.issued_by AND ui.tenant_id = passd_tenant()
			WHERE t.id = $1 AND t.tenant_id = passd_tenant() FOR UPDATE OF t`, id).Scan(&userID, &userName, &issuedBy, &issuer, &pending, &revoked, &confirmed)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "no such token")
		}
		if err != nil {
			return fmt.Errorf("auth: confirm token: %w", err)
		}
		switch {
		case !pending || confirmed:
			return fault.New(fault.Conflict, "this credential needs no confirmation, or has it already").WithKind(fault.KindAlreadyDecided)
		case revoked:
			return fault.New(fault.Conflict, "this credential was revoked").WithKind(fault.KindAlreadyDecided)
		case issuedBy == actor.UserID || userID == actor.UserID:
			return fault.New(fault.Forbidden, "a credential is confirmed by an admin who neither issued nor holds it").WithKind(fault.KindFourEyes)
		}
		var admin bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin' AND tenant_id = passd_tenant())`, actor.UserID).Scan(&admin); err != nil {
			return fmt.Errorf("auth: confirm token: %w", err)
		}
		if !admin {
			return fault.New(fault.Forbidden, "only an admin confirms a credential").WithKind(fault.KindFourEyes)
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET confirmed_at = $2, confirmed_by = $3 WHERE id = $1 AND confirmed_at IS NULL AND tenant_id = passd_tenant()`,
			id, s.now(), actor.UserID); err != nil {
			return fmt.Errorf("auth: confirm token: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "token.confirm", Entity: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"token_id": fmt.Sprint(id), "user": userName, "issued_by": issuer, "confirmed_by": actor.Name}})
	})
	return db.Translate(err)
}

// issueOptions say which user a credential may go to and whether it waits
// for a second admin.
type issueOptions struct {
	newUserOnly, existingOnly, pending bool
}
