package referrals

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/keyring"
)

// Side is whose eyes read a case.
type Side string

const (
	SideCCAS        Side = "ccas"         // a social worker of the CCAS
	SideAssociation Side = "sos_medecins" // a doctor of the association
	SideCoordinator Side = "coordinator"  // the PASS's coordinator: referrals oriented to the PASS only
)

// Viewer is who asks: the audit's actor, its side and its organisation.
type Viewer struct {
	Actor          audit.Actor
	Side           Side
	OrganisationID int64
}

// Store reads and writes referrals, alerts and their conventions.
type Store struct {
	pool *db.Pool
	keys *keyring.Ring
	now  func() time.Time
}

// NewStore returns a store on pool that seals identity with keys.
func NewStore(pool *db.Pool, keys *keyring.Ring, now func() time.Time) *Store {
	return &Store{pool: pool, keys: keys, now: now}
}

func (s *Store) today() calendar.Date { return calendar.Today(s.now()) }

// visible is the SQL condition (on referral_cases rc joined to conventions
// cv) under which v sees a case; $1 is v's organisation.
func visible(v Viewer) (string, error) {
	switch v.Side {
	case SideCCAS:
		return "cv.ccas_id = $1", nil
	case SideAssociation:
		return "cv.association_id = $1", nil
	case SideCoordinator:
		// The coordinator belongs to no organisation ($1 is 0): it sees
		// the people the association oriented to the PASS, whatever the
		// convention.
		return "rc.kind = 'referral' AND rc.outcome = 'pass' AND $1::bigint = 0", nil
	}
	return "", fault.New(fault.Forbidden, "this role sees no referral or alert")
}

// conventionFor resolves the convention a new case goes through: the one
// named, which must be the organisation's, or its only one.
func conventionFor(ctx context.Context, tx pgx.Tx, v Viewer, id int64) (int64, error) {
	column := "ccas_id"
	if v.Side == SideAssociation {
		column = "association_id"
	}
	rows, err := tx.Query(ctx, `SELECT id FROM conventions WHERE tenant_id = passd_tenant() AND `+column+` = $1 AND ($2 = 0 OR id = $2) ORDER BY id`, v.OrganisationID, id)
	if err != nil {
		return 0, fmt.Errorf("referrals: convention: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("referrals: convention: %w", err)
	}
	switch {
	case len(ids) == 1:
		return ids[0], nil
	case id != 0 || len(ids) == 0:
		return 0, fault.Field("convention_id", "your organisation has no such convention")
	}
	return 0, fault.Field("convention_id", "your organisation has %d conventions: name one with convention_id", len(ids))
}

// newCase is what inserting a case needs beyond its kind's fields.
type newCase struct {
	kind         Kind
	conventionID int64
	reason       Reason
	person       Identity
	columns      map[string]any // the kind's own columns
	recipient    Side           // whose referents are told
	subject      string
}

// insertCase writes a case, its first event, its audit row, the outbox
// rows to the other side and the access log of the answer, and returns the
// case as read back.
func (s *Store) insertCase(ctx context.Context, v Viewer, n newCase, auditAfter map[string]any) (Case, error) {
	var out Case
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		conventionID, err := conventionFor(ctx, tx, v, n.conventionID)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('referral_cases', 'id'))`).Scan(&id); err != nil {
			return fmt.Errorf("referrals: case id: %w", err)
		}
		sealed, key, err := s.seal(id, n.person)
		if err != nil {
			return err
		}
		now := s.now()
		cols := map[string]any{"id": id, "kind": n.kind, "convention_id": conventionID, "status": StatusSent, "reason": n.reason,
			"identity_enc": sealed, "identity_key": key, "created_by": v.Actor.UserID, "created_at": now}
		for k, val := range n.columns {
			cols[k] = val
		}
		if err := insertRow(ctx, tx, "referral_cases", cols); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, id, now, v, "sent", "", ""); err != nil {
			return err
		}
		auditAfter["convention_id"], auditAfter["status"], auditAfter["reason"] = fmt.Sprint(conventionID), StatusSent, n.reason
		if err := audit.Append(ctx, tx, audit.Entry{Actor: v.Actor, Action: string(n.kind) + ".create", Entity: string(n.kind),
			EntityID: fmt.Sprint(id), After: auditAfter}); err != nil {
			return err
		}
		if err := notify(ctx, tx, now, id, conventionID, n.recipient, n.subject); err != nil {
			return err
		}
		out, err = s.read(ctx, tx, v, id, AccessCreate, false)
		return err
	})
	return out, db.Translate(err)
}

// insertRow inserts one row from its columns.
func insertRow(ctx context.Context, tx pgx.Tx, table string, cols map[string]any) error {
	names, marks, args := "", "", make([]any, 0, len(cols))
	for k, val := range cols {
		if names != "" {
			names, marks = names+", ", marks+", "
		}
		args = append(args, val)
		names, marks = names+k, marks+fmt.Sprintf("$%d", len(args))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+names+`) VALUES (`+marks+`)`, args...); err != nil {
		return fmt.Errorf("referrals: insert %s: %w", table, err)
	}
	return nil
}

func addEvent(ctx context.Context, tx pgx.Tx, caseID int64, at time.Time, v Viewer, kind, detail, note string) error {
	var userID *int64
	if v.Actor.UserID != 0 {
		userID = &v.Actor.UserID
	}
	_, err := tx.Exec(ctx, `INSERT INTO referral_events (case_id, at, user_id, kind, detail, note) VALUES ($1, $2, $3, $4, $5, $6)`,
		caseID, at, userID, kind, detail, note)
	if err != nil {
		return fmt.Errorf("referrals: event: %w", err)
	}
	return nil
}

// CreateReferral records a social worker's request for a visit.
func (s *Store) CreateReferral(ctx context.Context, v Viewer, in NewReferral) (Case, error) {
	if v.Side != SideCCAS {
		return Case{}, fault.New(fault.Forbidden, "only a CCAS's social worker refers a person")
	}
	r, err := in.check(s.today())
	if err != nil {
		return Case{}, err
	}
	return s.insertCase(ctx, v, newCase{kind: KindReferral, conventionID: in.ConventionID, reason: r.reason, person: r.person,
		columns:   map[string]any{"urgency": r.urgency, "place": r.place},
		recipient: SideAssociation, subject: "passd : une demande d'intervention vous attend"},
		map[string]any{"urgency": r.urgency, "place": r.place})
}

// CreateAlert records a doctor's alert to the CCAS, refused without the
// person's consent or a recorded exception.
func (s *Store) CreateAlert(ctx context.Context, v Viewer, in NewAlert) (Case, error) {
	if v.Side != SideAssociation {
		return Case{}, fault.New(fault.Forbidden, "only an SOS Médecins doctor alerts the CCAS")
	}
	a, err := in.check(s.today())
	if err != nil {
		return Case{}, err
	}
	return s.insertCase(ctx, v, newCase{kind: KindAlert, conventionID: in.ConventionID, reason: a.reason, person: a.person,
		columns: map[string]any{"basis": a.basis, "consent_on": a.consentOn, "consent_how": a.consentHow, "consent_by": a.consentBy,
			"exception_reason": a.exceptionReason},
		recipient: SideCCAS, subject: "passd : une alerte de SOS Médecins vous attend"},
		map[string]any{"basis": a.basis, "consent_on": a.consentOn, "consent_how": a.consentHow, "consent_by": a.consentBy,
			"exception": a.exceptionReason != nil})
}

// caseColumns are read by read and list, in this order (scanCase).
const caseColumns = `rc.id, rc.kind, rc.convention_id, oc.name, oa.name, rc.status, rc.reason, coalesce(rc.urgency, ''), coalesce(rc.place, ''),
	coalesce(rc.identity_enc, ''), coalesce(rc.basis, ''), rc.consent_on, coalesce(rc.consent_how, ''), coalesce(rc.consent_by, ''),
	coalesce(rc.exception_reason, ''), rc.informed_on, coalesce(rc.decline_reason, ''), coalesce(rc.outcome, ''), rc.outcome_on,
	coalesce(rc.pass_file_number, ''), coalesce(ua.name, ''), uc.name, rc.created_at, rc.first_answer_at, rc.closed_at, rc.anonymised_at`

const caseFrom = ` FROM referral_cases rc
	JOIN conventions cv ON cv.id = rc.convention_id AND cv.tenant_id = passd_tenant() AND rc.tenant_id = passd_tenant()
	JOIN organisations oc ON oc.id = cv.ccas_id AND oc.tenant_id = passd_tenant()
	JOIN organisations oa ON oa.id = cv.association_id AND oa.tenant_id = passd_tenant()
	JOIN users uc ON uc.id = rc.created_by AND uc.tenant_id = passd_tenant()
	LEFT JOIN users ua ON ua.id = rc.assigned_to AND ua.tenant_id = passd_tenant()`

func scanCase(row pgx.Row, sealed *string) (Case, error) {
	var c Case
	err := row.Scan(&c.ID, &c.Kind, &c.ConventionID, &c.CCAS, &c.Association, &c.Status, &c.Reason, &c.Urgency, &c.Place,
		sealed, &c.Basis, &c.ConsentOn, &c.ConsentHow, &c.ConsentBy, &c.ExceptionReason, &c.InformedOn, &c.DeclineReason,
		&c.Outcome, &c.OutcomeOn, &c.PASSFileNumber, &c.AssignedTo, &c.CreatedBy, &c.CreatedAt, &c.FirstAnswerAt, &c.ClosedAt, &c.AnonymisedAt)
	return c, err
}

// read reads one case v sees, with its identity (the read logged for
// purpose) and its timeline; lock takes it FOR UPDATE.
func (s *Store) read(ctx context.Context, tx pgx.Tx, v Viewer, id int64, purpose string, lock bool) (Case, error) {
	cond, err := visible(v)
	if err != nil {
		return Case{}, err
	}
	sql := `SELECT ` + caseColumns + caseFrom + ` WHERE ` + cond + ` AND rc.id = $2`
	if lock {
		sql += ` FOR UPDATE OF rc`
	}
	var sealed string
	c, err := scanCase(tx.QueryRow(ctx, sql, v.OrganisationID, id), &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, fault.New(fault.NotFound, "no such case")
	}
	if err != nil {
		return Case{}, fmt.Errorf("referrals: case %d: %w", id, err)
	}
	if sealed != "" && purpose != "" {
		if err := logAccess(ctx, tx, s.now(), v, purpose, id); err != nil {
			return Case{}, err
		}
		if c.Person, err = s.open(id, sealed); err != nil {
			return Case{}, err
		}
	}
	c.Events, err = events(ctx, tx, id)
	return c, err
}

func events(ctx context.Context, tx pgx.Tx, id int64) ([]Event, error) {
	rows, err := tx.Query(ctx, `SELECT e.at, coalesce(u.name, 'passd'), e.kind, e.detail, e.note
		FROM referral_events e LEFT JOIN users u ON u.id = e.user_id AND u.tenant_id = passd_tenant()
		WHERE e.case_id = $1 AND e.tenant_id = passd_tenant() ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("referrals: events of case %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.At, &e.By, &e.Kind, &e.Detail, &e.Note)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("referrals: events of case %d: %w", id, err)
	}
	return out, nil
}

// Case reads one case v sees, with its identity and timeline; the read is
// logged.
func (s *Store) Case(ctx context.Context, v Viewer, kind Kind, id int64) (Case, error) {
	var out Case
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := s.read(ctx, tx, v, id, AccessRead, false)
		if err == nil && kind != "" && c.Kind != kind {
			err = fault.New(fault.NotFound, "no such case")
		}
		out = c
		return err
	})
	return out, db.Translate(err)
}

// Filter narrows a list of cases.
type Filter struct {
	Kind   Kind
	Status Status
	// ToHandle: only the cases waiting for v's side (a referral the
	// association has not closed, an alert the CCAS has not closed).
	ToHandle bool
}

// Cases lists the cases v sees, newest first, with their identity (each
// case listed is logged).
func (s *Store) Cases(ctx context.Context, v Viewer, f Filter, page db.PageRequest) ([]Case, error) {
	cond, err := visible(v)
	if err != nil {
		return nil, err
	}
	if f.ToHandle {
		switch v.Side {
		case SideAssociation:
			cond += ` AND rc.kind = 'referral' AND rc.status IN ('sent', 'accepted')`
		case SideCCAS:
			cond += ` AND rc.kind = 'alert' AND rc.status IN ('sent', 'acknowledged')`
		default:
			cond += ` AND rc.pass_file_number IS NULL`
		}
	}
	var out []Case
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+caseColumns+caseFrom+` WHERE `+cond+`
			AND ($2 = '' OR rc.kind = $2) AND ($3 = '' OR rc.status = $3) AND ($4::bigint = 0 OR rc.id < $4)
			ORDER BY rc.id DESC LIMIT $5`, v.OrganisationID, f.Kind, f.Status, page.Before, page.Limit+1)
		if err != nil {
			return fmt.Errorf("referrals: list: %w", err)
		}
		var sealed []string
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Case, error) {
			var one string
			c, err := scanCase(r, &one)
			sealed = append(sealed, one)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("referrals: list: %w", err)
		}
		return s.openList(ctx, tx, v, out, sealed)
	})
	return out, db.Translate(err)
}

// openList opens the identity of the cases listed, after logging the read.
func (s *Store) openList(ctx context.Context, tx pgx.Tx, v Viewer, list []Case, sealed []string) error {
	var ids []int64
	for i, c := range list {
		if sealed[i] != "" {
			ids = append(ids, c.ID)
		}
	}
	if err := logAccess(ctx, tx, s.now(), v, AccessList, ids...); err != nil {
		return err
	}
	for i := range list {
		if sealed[i] == "" {
			continue
		}
		p, err := s.open(list[i].ID, sealed[i])
		if err != nil {
			return err
		}
		list[i].Person = p
	}
	return nil
}
