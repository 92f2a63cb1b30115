package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
)

// Role is what a user may do.
type Role string

const (
	Provider     Role = "provider"
	Coordinator  Role = "coordinator"
	CPAMReferent Role = "cpam_referent"
	Finance      Role = "finance"
	Admin        Role = "admin"
	// Observer reads the programme's figures and nothing else: an elected
	// official, the ARS, the CPAM's management.
	Observer Role = "observer"
	// SocialWorker works for a CCAS/CIAS: refers people to SOS Médecins and
	// follows up its alerts. Doctor is a doctor of a local SOS Médecins
	// association: answers referrals and alerts the CCAS. Both act for
	// their organisation (Principal.OrganisationID).
	SocialWorker Role = "social_worker"
	Doctor       Role = "doctor"
	// PlatformAdmin runs the deployment, not a city: lists the conventions
	// and creates new ones (/plateforme). It reads and writes nothing of a
	// convention's data and has no API route. Only the operator makes one
	// (passd token create): an admin of a convention cannot enrol it.
	PlatformAdmin Role = "platform_admin"
)

// Roles lists every role, in the order demo tokens are printed.
var Roles = []Role{Provider, Coordinator, CPAMReferent, Finance, Admin, Observer, SocialWorker, Doctor, PlatformAdmin}

// ParseRole validates a role name.

// MaxUserName bounds a user's name, in bytes.
const MaxUserName = 200

func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fault.Field("role", "role must be one of provider, coordinator, cpam_referent, finance, admin, observer, social_worker, doctor, platform_admin")
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID     int64
	Name       string
	Role       Role
	ProviderID int64 // set only for the provider role
	// OrganisationID is the CCAS or SOS Médecins association a social
	// worker or a doctor acts for; set only for those roles.
	OrganisationID int64
	// Tenant is the convention the user belongs to: every statement of the
	// user's requests acts in it (db.WithTenant).
	Tenant int64
}

// HasOrganisation reports whether a role acts for an organisation.
func (r Role) HasOrganisation() bool { return r == SocialWorker || r == Doctor }

// Actor is the principal as the audit log names it.
func (p Principal) Actor() audit.Actor { return audit.Actor{UserID: p.UserID, Name: p.Name} }

// Store reads and writes users and tokens.
type Store struct {
	pool     *db.Pool
	now      func() time.Time
	tokenTTL time.Duration
	cache    *principalCache // nil: every request looks its token up
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock tokens are issued, expired and used by.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithTokenTTL sets how long the tokens CreateUser issues live; zero keeps
// DefaultTokenTTL.
func WithTokenTTL(ttl time.Duration) Option {
	return func(s *Store) {
		if ttl != 0 {
			s.tokenTTL = ttl
		}
	}
}

// WithCache keeps the principal of a token that authenticated for ttl, so
// that a burst of requests with one token (a pharmacy pushing its day's
// invoices) costs one lookup, not one per request. A token revoked through
// this store is forgotten at once; revoked by another process (passd token
// revoke, another replica), it keeps working here for at most ttl. Its
// expiry is checked at every request. Zero or less: no cache.
func WithCache(ttl time.Duration) Option {
	return func(s *Store) {
		if ttl > 0 {
			s.cache = &principalCache{ttl: ttl, entries: map[[32]byte]cachedPrincipal{}}
		}
	}
}

// NewStore returns a store on pool.
func NewStore(pool *db.Pool, opts ...Option) *Store {
	s := &Store{pool: pool, now: time.Now, tokenTTL: DefaultTokenTTL}
	for _, o := range opts {
		o(s)
	}
	return s
}

// tokenPrefix makes passd tokens recognisable in a leaked file or a log.
const tokenPrefix = "passd_"

// NewToken returns a fresh random token and its hash.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("auth: random: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is how a token is stored and looked up.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateUser creates a named user, or reuses the user of that name when its
// role and provider match (providerID names the organisation of a social
// worker or a doctor), and issues a new token for it that lives the
// store's token TTL. The token is returned once and never stored in clear.
func (s *Store) CreateUser(ctx context.Context, name string, role Role, providerID int64) (string, error) {
	if role.HasOrganisation() {
		issued, err := s.Issue(ctx, TokenRequest{Name: name, Role: role, OrganisationID: providerID})
		return issued.Token, err
	}
	issued, err := s.Issue(ctx, TokenRequest{Name: name, Role: role, ProviderID: providerID})
	return issued.Token, err
}

// TokenRequest is whom a token is for and how long it lives.
type TokenRequest struct {
	Name       string
	Role       Role
	ProviderID int64 // the provider a provider user acts for
	// OrganisationID: the CCAS or association a social worker or doctor
	// acts for.
	OrganisationID int64
	TTL            time.Duration // zero: the store's token TTL
	Actor          audit.Actor   // who issues it, for the audit rows; zero: the CLI
}

// Issued is a token just issued: the token itself, shown once, and its
// record.
type Issued struct {
	Token     string
	ID        int64 // the token's id, for passd token list and revoke
	UserID    int64
	ExpiresAt time.Time
}

// Issue creates the named user, or reuses the user of that name when its
// role and provider match, and issues a new token for it: the operator's
// way (passd token create, the demo seed), never reachable over HTTP.
func (s *Store) Issue(ctx context.Context, req TokenRequest) (Issued, error) {
	return s.issue(ctx, req, issueOptions{})
}

// Problems checks every field of a request for a new user, in the order
// the error of a refused issue names the first: the name, the role, and
// the provider or organisation the role needs (and no other role may
// have). A form shows them all at once.
func (req TokenRequest) Problems() []error {
	var out []error
	if err := checkUserName(strings.TrimSpace(req.Name)); err != nil {
		out = append(out, err)
	}
	if _, err := ParseRole(string(req.Role)); err != nil {
		// Which provider or organisation is needed depends on the role.
		return append(out, err)
	}
	if (req.Role == Provider) != (req.ProviderID != 0) {
		out = append(out, fault.Field("provider_id", "a provider user needs --provider-id, and only a provider user may have one"))
	}
	if req.Role.HasOrganisation() != (req.OrganisationID != 0) {
		out = append(out, fault.Field("organisation_id", "a social worker or a doctor needs --organisation-id, and only they may have one"))
	}
	return out
}

func checkUserName(name string) error {
	if name == "" || len(name) > MaxUserName {
		return fault.Field("name", "name is required (at most %d characters)", MaxUserName)
	}
	return nil
}

func (s *Store) issue(ctx context.Context, req TokenRequest, opts issueOptions) (Issued, error) {
	name, role, providerID := strings.TrimSpace(req.Name), req.Role, req.ProviderID
	actor := req.Actor
	if actor == (audit.Actor{}) {
		actor = audit.Actor{Name: "cli"}
	}
	ttl := cmp.Or(req.TTL, s.tokenTTL, DefaultTokenTTL)
	if err := CheckTTL(ttl); err != nil {
		return Issued{}, err
	}
	if opts.existingOnly {
		if err := checkUserName(name); err != nil {
			return Issued{}, err
		}
	} else if problems := req.Problems(); len(problems) > 0 {
		return Issued{}, problems[0]
	}
	token, hash, err := NewToken()
	if err != nil {
		return Issued{}, err
	}
	issuedAt := s.now()
	out := Issued{Token: token, ExpiresAt: issuedAt.Add(ttl).UTC()}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkOrganisation(ctx, tx, role, req.OrganisationID); err != nil {
			return err
		}
		userID, err := s.userFor(ctx, tx, actor, userKey{name, role, providerID, req.OrganisationID}, opts)
		if err != nil {
			return err
		}
		out.UserID = userID
		if err := tx.QueryRow(ctx, `INSERT INTO tokens (user_id, hash, created_at, expires_at, issued_by, needs_confirmation)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			userID, hash, issuedAt, out.ExpiresAt, nullUser(actor.UserID), opts.pending).Scan(&out.ID); err != nil {
			return fmt.Errorf("auth: insert token: %w", err)
		}
		action := "token.create"
		if opts.existingOnly {
			action = "token.reset"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: action, Entity: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"token_id": fmt.Sprint(out.ID), "expires_at": out.ExpiresAt, "user": name,
				"awaits_second_admin": opts.pending}})
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

func nullUser(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// userKey is who a token is for: a user's name, role and what it acts for.
type userKey struct {
	name           string
	role           Role
	providerID     int64
	organisationID int64
}

// checkOrganisation refuses an organisation that does not exist or is not
// of the role's kind (a social worker's is a CCAS, a doctor's an
// association).
func checkOrganisation(ctx context.Context, tx pgx.Tx, role Role, organisationID int64) error {
	if organisationID == 0 {
		return nil
	}
	kind := "sos_medecins"
	if role == SocialWorker {
		kind = "ccas"
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE id = $1 AND kind = $2 AND tenant_id = passd_tenant())`, organisationID, kind).Scan(&exists); err != nil {
		return fmt.Errorf("auth: organisation lookup: %w", err)
	}
	if !exists {
		return fault.Field("organisation_id", "no %s organisation with id %d", kind, organisationID)
	}
	return nil
}

// userFor finds or creates the user a token is issued for, as opts allow.
func (s *Store) userFor(ctx context.Context, tx pgx.Tx, actor audit.Actor, key userKey, opts issueOptions) (int64, error) {
	name, role, providerID := key.name, key.role, key.providerID
	var oid *int64
	if key.organisationID != 0 {
		oid = &key.organisationID
	}
	var pid *int64
	if providerID != 0 {
		pid = &providerID
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM providers WHERE id = $1 AND tenant_id = passd_tenant())`, providerID).Scan(&exists); err != nil {
			return 0, fmt.Errorf("auth: provider lookup: %w", err)
		}
		if !exists {
			return 0, fault.Field("provider_id", "no provider with id %d", providerID)
		}
	}
	var userID int64
	var gotRole string
	var gotProvider, gotOrganisation *int64
	err := tx.QueryRow(ctx, `SELECT id, role, provider_id, organisation_id FROM users WHERE name = $1 AND tenant_id = passd_tenant() FOR UPDATE`, name).Scan(&userID, &gotRole, &gotProvider, &gotOrganisation)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && opts.existingOnly:
		return 0, fault.New(fault.NotFound, "no such user")
	case errors.Is(err, pgx.ErrNoRows):
		err = tx.QueryRow(ctx, `INSERT INTO users (name, role, provider_id, organisation_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO NOTHING RETURNING id`, name, role, pid, oid).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			// The name is taken: a moment ago by someone else (a retry
			// sees the user), or in another convention, whose users this
			// one cannot see (names are the deployment's). The answer is
			// the same for both, and says nothing of the other convention.
			return 0, &fault.Error{Code: fault.Conflict, Message: "this user name is taken on this deployment; if it was just created here, retry", Field: "name"}
		}
		if err != nil {
			return 0, fmt.Errorf("auth: insert user: %w", err)
		}
		after := map[string]any{"name": name, "role": role, "provider_id": pid}
		if oid != nil {
			after["organisation_id"] = oid
		}
		return userID, audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "user.create", Entity: "user",
			EntityID: fmt.Sprint(userID), After: after})
	case err != nil:
		return 0, fmt.Errorf("auth: user lookup: %w", err)
	case opts.newUserOnly:
		return 0, fault.New(fault.Conflict, "user %q exists: its holder renews their credential, or an admin resets it", name).
			WithField("name").WithKind(fault.KindUserExists)
	case opts.existingOnly:
		return userID, nil
	}
	if Role(gotRole) != role || (gotProvider == nil) != (pid == nil) || (gotProvider != nil && *gotProvider != providerID) ||
		(gotOrganisation == nil) != (oid == nil) || (gotOrganisation != nil && *gotOrganisation != key.organisationID) {
		return 0, fault.New(fault.Conflict, "user %q exists with another role or provider", name).WithField("name")
	}
	return userID, nil
}

// Authenticate returns the principal a token belongs to, or an
// Unauthorized fault that says nothing about why (unknown, revoked, expired).
func (s *Store) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return Principal{}, errUnauthorized
	}
	hash := HashToken(token)
	now := s.now()
	if p, ok := s.cache.get(hash, now); ok {
		return p, nil
	}
	var p Principal
	var role string
	var providerID, organisationID *int64
	var expiresAt *time.Time
	// last_used_at is refreshed at most once a minute, so that reading
	// does not turn every request into a write of the tokens table.
	// The token names its convention (db.TokenDoor), in the same round trip.
	err := s.pool.QueryRow(db.ThroughDoor(ctx, db.TokenDoor, hash), `
		WITH found AS (
			SELECT t.id, t.last_used_at, t.expires_at, u.id AS user_id, u.name, u.role, u.provider_id, u.organisation_id, u.tenant_id
			FROM tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = passd_tenant()
			WHERE t.hash = $1 AND t.tenant_id = passd_tenant() AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
			  AND (NOT t.needs_confirmation OR t.confirmed_at IS NOT NULL) AND u.disabled_at IS NULL
		), touched AS (
			UPDATE tokens SET last_used_at = $2
			FROM found
			WHERE tokens.id = found.id AND tokens.tenant_id = passd_tenant() AND (found.last_used_at IS NULL OR found.last_used_at < $2 - interval '1 minute')
		)
		SELECT user_id, name, role, provider_id, organisation_id, expires_at, tenant_id FROM found`, hash, now).
		Scan(&p.UserID, &p.Name, &role, &providerID, &organisationID, &expiresAt, &p.Tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, errUnauthorized
	}
	if err != nil {
		return Principal{}, db.Translate(fmt.Errorf("auth: authenticate: %w", err))
	}
	p.Role = Role(role)
	if providerID != nil {
		p.ProviderID = *providerID
	}
	if organisationID != nil {
		p.OrganisationID = *organisationID
	}
	s.cache.put(hash, p, expiresAt, now)
	return p, nil
}

var errUnauthorized = &fault.Error{Code: fault.Unauthorized, Message: "a valid bearer token is required"}
