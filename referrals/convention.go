package referrals

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/text"
)

// OrgKind is an organisation's kind.
type OrgKind string

const (
	OrgCCAS        OrgKind = "ccas"         // a CCAS or CIAS
	OrgAssociation OrgKind = "sos_medecins" // a local SOS Médecins association
)

// OrgKinds lists them.
var OrgKinds = []OrgKind{OrgCCAS, OrgAssociation}

// Organisation is a CCAS or an association.
type Organisation struct {
	ID        int64
	Kind      OrgKind
	Name      string
	CreatedAt time.Time
}

// CreateOrganisation records a CCAS or an association.
func (s *Store) CreateOrganisation(ctx context.Context, actor audit.Actor, kind, name string) (Organisation, error) {
	k, name, problems := checkOrganisation(kind, name)
	if len(problems) > 0 {
		return Organisation{}, problems[0]
	}
	o := Organisation{Kind: k, Name: name, CreatedAt: s.now()}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO organisations (kind, name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`, k, name, o.CreatedAt).Scan(&o.ID)
		if err == pgx.ErrNoRows {
			return fault.New(fault.Conflict, "an organisation of this name exists").WithField("name")
		}
		if err != nil {
			return fmt.Errorf("referrals: organisation: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "organisation.create", Entity: "organisation",
			EntityID: fmt.Sprint(o.ID), After: map[string]any{"kind": k, "name": name}})
	})
	return o, db.Translate(err)
}

// Organisations lists every organisation, by name.
func (s *Store) Organisations(ctx context.Context) ([]Organisation, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, name, created_at FROM organisations WHERE tenant_id = passd_tenant() ORDER BY name, id`)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("referrals: organisations: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organisation, error) {
		var o Organisation
		err := r.Scan(&o.ID, &o.Kind, &o.Name, &o.CreatedAt)
		return o, err
	})
	return out, db.Translate(err)
}

// Convention is a local convention with its referents.
type Convention struct {
	ID            int64
	CCASID        int64
	CCAS          string
	AssociationID int64
	Association   string
	SignedOn      calendar.Date
	Referents     []Referent
}

// Referent is whom to call on one side of a convention.
type Referent struct {
	ID    int64
	Side  Side
	Name  string
	Title string
	Phone string
	Email string
}

// CreateConvention records a local convention between a CCAS and an
// association.
func (s *Store) CreateConvention(ctx context.Context, actor audit.Actor, ccasID, associationID int64, signedOn calendar.Date) (Convention, error) {
	if signedOn.IsZero() {
		return Convention{}, fault.Field("signed_on", "signed_on is required")
	}
	var id int64
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		for _, o := range []struct {
			field string
			id    int64
			kind  OrgKind
		}{{"ccas_id", ccasID, OrgCCAS}, {"association_id", associationID, OrgAssociation}} {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE id = $1 AND kind = $2 AND tenant_id = passd_tenant())`, o.id, o.kind).Scan(&ok); err != nil {
				return fmt.Errorf("referrals: convention: %w", err)
			}
			if !ok {
				return fault.Field(o.field, "%s must name an organisation of kind %s", o.field, o.kind)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO conventions (ccas_id, association_id, signed_on, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (ccas_id, association_id) DO NOTHING RETURNING id`, ccasID, associationID, signedOn, s.now()).Scan(&id)
		if err == pgx.ErrNoRows {
			return fault.New(fault.Conflict, "these two organisations have a convention already").WithField("association_id")
		}
		if err != nil {
			return fmt.Errorf("referrals: convention: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "convention.create", Entity: "convention", EntityID: fmt.Sprint(id),
			After: map[string]any{"ccas_id": fmt.Sprint(ccasID), "association_id": fmt.Sprint(associationID), "signed_on": signedOn}})
	})
	if err != nil {
		return Convention{}, db.Translate(err)
	}
	return s.convention(ctx, id)
}

// NewReferent is a referent to add to one side of a convention.
type NewReferent struct {
	Side, Name, Title, Phone, Email string
}

// AddReferent names a referent on one side of a convention.
func (s *Store) AddReferent(ctx context.Context, actor audit.Actor, conventionID int64, in NewReferent) (Convention, error) {
	r, problems := in.checked()
	if len(problems) > 0 {
		return Convention{}, problems[0]
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO convention_referents (convention_id, side, name, title, phone, email, created_at)
			SELECT id, $2, $3, $4, $5, $6, $7 FROM conventions WHERE id = $1 AND tenant_id = passd_tenant() RETURNING id`,
			conventionID, r.Side, r.Name, r.Title, r.Phone, r.Email, s.now()).Scan(&r.ID)
		if err == pgx.ErrNoRows {
			return fault.New(fault.NotFound, "no such convention")
		}
		if err != nil {
			return fmt.Errorf("referrals: referent: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "convention.referent_add", Entity: "convention",
			EntityID: fmt.Sprint(conventionID), After: map[string]any{"referent_id": fmt.Sprint(r.ID), "side": r.Side, "name": r.Name}})
	})
	if err != nil {
		return Convention{}, db.Translate(err)
	}
	return s.convention(ctx, conventionID)
}

func (s *Store) convention(ctx context.Context, id int64) (Convention, error) {
	list, err := s.conventions(ctx, "cv.id = $1", id)
	if err != nil {
		return Convention{}, err
	}
	if len(list) == 0 {
		return Convention{}, fault.New(fault.NotFound, "no such convention")
	}
	return list[0], nil
}

// Conventions is the directory: the conventions v's organisation is party
// to (every one for an admin: organisationID 0 and side ""), with their
// referents.
func (s *Store) Conventions(ctx context.Context, side Side, organisationID int64) ([]Convention, error) {
	switch side {
	case SideCCAS:
		return s.conventions(ctx, "cv.ccas_id = $1", organisationID)
	case SideAssociation:
		return s.conventions(ctx, "cv.association_id = $1", organisationID)
	}
	return s.conventions(ctx, "$1::bigint = 0", int64(0))
}

func (s *Store) conventions(ctx context.Context, cond string, arg int64) ([]Convention, error) {
	rows, err := s.pool.Query(ctx, `SELECT cv.id, cv.ccas_id, oc.name, cv.association_id, oa.name, cv.signed_on
		FROM conventions cv JOIN organisations oc ON oc.id = cv.ccas_id AND oc.tenant_id = passd_tenant()
		JOIN organisations oa ON oa.id = cv.association_id AND oa.tenant_id = passd_tenant()
		WHERE cv.tenant_id = passd_tenant() AND `+cond+` ORDER BY cv.id`, arg)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("referrals: conventions: %w", err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Convention, error) {
		var c Convention
		err := r.Scan(&c.ID, &c.CCASID, &c.CCAS, &c.AssociationID, &c.Association, &c.SignedOn)
		return c, err
	})
	if err != nil {
		return nil, db.Translate(fmt.Errorf("referrals: conventions: %w", err))
	}
	for i := range list {
		rows, err := s.pool.Query(ctx, `SELECT id, side, name, title, phone, email FROM convention_referents
			WHERE convention_id = $1 AND tenant_id = passd_tenant() ORDER BY side, id`, list[i].ID)
		if err != nil {
			return nil, db.Translate(fmt.Errorf("referrals: referents: %w", err))
		}
		list[i].Referents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Referent, error) {
			var x Referent
			err := r.Scan(&x.ID, &x.Side, &x.Name, &x.Title, &x.Phone, &x.Email)
			return x, err
		})
		if err != nil {
			return nil, db.Translate(fmt.Errorf("referrals: referents: %w", err))
		}
	}
	return list, nil
}

// Member is a user of an organisation.
type Member struct {
	ID   int64
	Name string
}

// SocialWorkers lists the social workers of a CCAS, for the
// acknowledgement's choice of who follows an alert.
func (s *Store) SocialWorkers(ctx context.Context, organisationID int64) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name FROM users WHERE role = 'social_worker' AND organisation_id = $1 AND tenant_id = passd_tenant() ORDER BY name`, organisationID)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("referrals: social workers: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.ID, &m.Name)
		return m, err
	})
	return out, db.Translate(err)
}

// OrganisationProblems checks every field of a new organisation, as
// CreateOrganisation does (which answers the first): a form shows them
// all at once.
func OrganisationProblems(kind, name string) []error {
	_, _, problems := checkOrganisation(kind, name)
	return problems
}

func checkOrganisation(kind, name string) (OrgKind, string, []error) {
	var problems []error
	k, err := text.OneOf("kind", kind, OrgKinds...)
	if err != nil {
		problems = append(problems, err)
	}
	if name, err = text.Required("name", name, 200); err != nil {
		problems = append(problems, err)
	}
	return k, name, problems
}

// Problems checks every field of a referent, as AddReferent does (which
// answers the first): a form shows them all at once.
func (in NewReferent) Problems() []error {
	_, problems := in.checked()
	return problems
}

func (in NewReferent) checked() (r Referent, problems []error) {
	keep := fault.Collect(&problems)
	var err error
	r.Side, err = text.OneOf("side", in.Side, SideCCAS, SideAssociation)
	keep(err)
	r.Name, err = text.Required("name", in.Name, 200)
	keep(err)
	r.Title, err = text.Clean("title", in.Title, 200)
	keep(err)
	r.Phone, err = cleanPhone(in.Phone)
	keep(err)
	if r.Email, err = text.Clean("email", in.Email, 254); err != nil {
		keep(err)
	} else if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email {
			keep(fault.Field("email", "email must be an e-mail address (name@example.fr)"))
		}
	}
	return r, problems
}
