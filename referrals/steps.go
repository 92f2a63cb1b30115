package referrals

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/text"
)

// change is one step of a case: what it sets, its event, who is told.
type change struct {
	set       map[string]any // columns of referral_cases
	event     string
	detail    string
	note      string
	recipient Side   // "" tells nobody
	subject   string // the e-mail's subject
}

// step locks a case v sees, checks it with allowed, applies the change fn
// returns, with its event, audit row and outbox rows, and returns the case
// read back (its identity read logged).
func (s *Store) step(ctx context.Context, v Viewer, kind Kind, id int64, action string,
	fn func(ctx context.Context, tx pgx.Tx, c Case, now time.Time) (change, error)) (Case, error) {
	var out Case
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := s.read(ctx, tx, v, id, "", true)
		if err != nil {
			return err
		}
		if c.Kind != kind {
			return fault.New(fault.NotFound, "no such case")
		}
		now := s.now()
		ch, err := fn(ctx, tx, c, now)
		if err != nil {
			return err
		}
		if err := apply(ctx, tx, id, ch.set); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, id, now, v, ch.event, ch.detail, ch.note); err != nil {
			return err
		}
		before := map[string]any{"status": c.Status}
		after := map[string]any{"status": c.Status, "step": ch.event}
		for k, val := range ch.set {
			if k != "decline_reason" && k != "exception_reason" {
				after[k] = val
			}
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: v.Actor, Action: string(kind) + "." + action, Entity: string(kind),
			EntityID: fmt.Sprint(id), Before: before, After: after}); err != nil {
			return err
		}
		if ch.recipient != "" {
			if err := notify(ctx, tx, now, id, c.ConventionID, ch.recipient, ch.subject); err != nil {
				return err
			}
		}
		out, err = s.read(ctx, tx, v, id, AccessRead, false)
		return err
	})
	return out, db.Translate(err)
}

// apply updates the columns of a case.
func apply(ctx context.Context, tx pgx.Tx, id int64, set map[string]any) error {
	if len(set) == 0 {
		return nil
	}
	sql, args := "", []any{id}
	for k, val := range set {
		if sql != "" {
			sql += ", "
		}
		args = append(args, val)
		sql += fmt.Sprintf("%s = $%d", k, len(args))
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE referral_cases SET %s WHERE id = $1 AND tenant_id = passd_tenant()`, sql), args...); err != nil {
		return fmt.Errorf("referrals: update case %d: %w", id, err)
	}
	return nil
}

func wrongStatus(c Case, what string) error {
	return fault.New(fault.Conflict, "this %s is %s: it cannot be %s", c.Kind, c.Status, what).WithField("status")
}

// Answer records the association's answer to a referral: accepted, or
// declined with its reason (which closes it).
func (s *Store) Answer(ctx context.Context, v Viewer, id int64, in Answer) (Case, error) {
	if v.Side != SideAssociation {
		return Case{}, fault.New(fault.Forbidden, "only the association answers a referral")
	}
	decision, err := text.OneOf("decision", in.Decision, "accept", "decline")
	if err != nil {
		return Case{}, err
	}
	reason := ""
	if decision == "decline" {
		if reason, err = text.Required("reason", in.Reason, MaxNote); err != nil {
			return Case{}, err
		}
	} else if in.Reason != "" {
		return Case{}, fault.Field("reason", "a reason is given only to decline")
	}
	return s.step(ctx, v, KindReferral, id, decision, func(_ context.Context, _ pgx.Tx, c Case, now time.Time) (change, error) {
		if c.Status != StatusSent {
			return change{}, wrongStatus(c, "answered")
		}
		ch := change{event: "accepted", set: map[string]any{"status": StatusAccepted, "first_answer_at": now},
			recipient: SideCCAS, subject: "passd : SOS Médecins a répondu à votre demande"}
		if decision == "decline" {
			ch.event, ch.note = "declined", reason
			ch.set = map[string]any{"status": StatusDeclined, "first_answer_at": now, "decline_reason": reason, "closed_at": now}
		}
		return ch, nil
	})
}

// RecordOutcome records what the association did for a referral it
// accepted, which closes it; an orientation to the PASS waits for the
// coordinator to link a patient file.
func (s *Store) RecordOutcome(ctx context.Context, v Viewer, id int64, in Result) (Case, error) {
	if v.Side != SideAssociation {
		return Case{}, fault.New(fault.Forbidden, "only the association records a referral's outcome")
	}
	outcome, note, problems := in.checked(s.today())
	if len(problems) > 0 {
		return Case{}, problems[0]
	}
	return s.step(ctx, v, KindReferral, id, "outcome", func(_ context.Context, _ pgx.Tx, c Case, now time.Time) (change, error) {
		if c.Status != StatusAccepted {
			return change{}, wrongStatus(c, "given an outcome (accept it first)")
		}
		if in.On.Before(calendar.Today(c.CreatedAt)) {
			return change{}, fault.Field("on", "on is before the referral was sent")
		}
		return change{event: "outcome", detail: string(outcome), note: note,
			set:       map[string]any{"status": StatusClosed, "outcome": outcome, "outcome_on": in.On, "closed_at": now},
			recipient: SideCCAS, subject: "passd : SOS Médecins vous fait un retour d'intervention"}, nil
	})
}

// Acknowledge records the CCAS taking an alert on, and the social worker of
// the CCAS who follows it.
func (s *Store) Acknowledge(ctx context.Context, v Viewer, id int64, in Acknowledgement) (Case, error) {
	if v.Side != SideCCAS {
		return Case{}, fault.New(fault.Forbidden, "only the CCAS acknowledges an alert")
	}
	assignee := in.AssignTo
	if assignee == 0 {
		assignee = v.Actor.UserID
	}
	return s.step(ctx, v, KindAlert, id, "acknowledge", func(ctx context.Context, tx pgx.Tx, c Case, now time.Time) (change, error) {
		if c.Status != StatusSent {
			return change{}, wrongStatus(c, "acknowledged")
		}
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = $1 AND role = 'social_worker' AND organisation_id = $2 AND tenant_id = passd_tenant()`,
			assignee, v.OrganisationID).Scan(&name)
		if err != nil {
			return change{}, fault.Field("assign_to", "assign_to must be a social worker of your CCAS")
		}
		return change{event: "acknowledged", detail: "", note: "suivi par " + name,
			set:       map[string]any{"status": StatusAcknowledged, "first_answer_at": now, "assigned_to": assignee},
			recipient: SideAssociation, subject: "passd : le CCAS a pris en charge votre alerte"}, nil
	})
}

// FollowUp records a step of the CCAS's follow-up of an alert it
// acknowledged; FollowUpClosed closes it. The association reads each step
// (the convention's retour d'information).
func (s *Store) FollowUp(ctx context.Context, v Viewer, id int64, in Step) (Case, error) {
	if v.Side != SideCCAS {
		return Case{}, fault.New(fault.Forbidden, "only the CCAS follows an alert up")
	}
	step, note, problems := in.checked()
	if len(problems) > 0 {
		return Case{}, problems[0]
	}
	return s.step(ctx, v, KindAlert, id, "follow_up", func(_ context.Context, _ pgx.Tx, c Case, now time.Time) (change, error) {
		if c.Status != StatusAcknowledged {
			return change{}, wrongStatus(c, "followed up (acknowledge it first)")
		}
		ch := change{event: "follow_up", detail: string(step), note: note, set: map[string]any{},
			recipient: SideAssociation, subject: "passd : le CCAS vous fait un retour sur votre alerte"}
		if step == FollowUpClosed {
			ch.set = map[string]any{"status": StatusClosed, "closed_at": now}
		}
		return ch, nil
	})
}

// LinkPASSFile records the PASS patient file the coordinator opened (or
// found) for a person the association oriented to the PASS.
func (s *Store) LinkPASSFile(ctx context.Context, v Viewer, id int64, fileNumber string) (Case, error) {
	if v.Side != SideCoordinator {
		return Case{}, fault.New(fault.Forbidden, "only the coordinator links a PASS file")
	}
	fileNumber, err := text.Required("file_number", fileNumber, 32)
	if err != nil {
		return Case{}, err
	}
	return s.step(ctx, v, KindReferral, id, "link_pass_file", func(ctx context.Context, tx pgx.Tx, c Case, _ time.Time) (change, error) {
		if c.PASSFileNumber != "" {
			return change{}, fault.New(fault.Conflict, "this referral is linked to file %s already", c.PASSFileNumber).WithField("file_number")
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE file_number = $1 AND tenant_id = passd_tenant())`, fileNumber).Scan(&exists); err != nil {
			return change{}, fmt.Errorf("referrals: file lookup: %w", err)
		}
		if !exists {
			return change{}, fault.Field("file_number", "no patient file has this number").WithKind(fault.KindUnknownFileNumber)
		}
		return change{event: "pass_linked", detail: fileNumber, set: map[string]any{"pass_file_number": fileNumber}}, nil
	})
}

// RecordInformed records the day the person was informed of an alert sent
// under an exception (DOMAIN.md: informed afterwards), once.
func (s *Store) RecordInformed(ctx context.Context, v Viewer, id int64, on calendar.Date) (Case, error) {
	if v.Side != SideAssociation {
		return Case{}, fault.New(fault.Forbidden, "only the association records that the person was informed")
	}
	if on.IsZero() {
		return Case{}, fault.Field("informed_on", "informed_on (the day the person was informed) is required")
	}
	if on.After(s.today()) {
		return Case{}, fault.Field("informed_on", "informed_on is in the future")
	}
	return s.step(ctx, v, KindAlert, id, "informed", func(_ context.Context, _ pgx.Tx, c Case, _ time.Time) (change, error) {
		if c.Basis == BasisConsent {
			return change{}, fault.New(fault.Conflict, "this alert was sent with the person's consent: there is nothing to inform afterwards").WithField("basis")
		}
		if c.InformedOn != nil {
			return change{}, fault.New(fault.Conflict, "the person's information is recorded already").WithField("informed_on")
		}
		if on.Before(calendar.Today(c.CreatedAt)) {
			return change{}, fault.Field("informed_on", "informed_on is before the alert")
		}
		return change{event: "informed", detail: on.String(), set: map[string]any{"informed_on": on}}, nil
	})
}

// Problems checks every field of an outcome recorded on day today, as
// RecordOutcome does (which answers the first): a form shows them all.
func (in Result) Problems(today calendar.Date) []error {
	_, _, problems := in.checked(today)
	return problems
}

func (in Result) checked(today calendar.Date) (outcome Outcome, note string, problems []error) {
	var err error
	if outcome, err = text.OneOf("outcome", in.Outcome, Outcomes...); err != nil {
		problems = append(problems, err)
	}
	switch {
	case in.On.IsZero():
		problems = append(problems, fault.Field("on", "on (the day of the visit or the attempt) is required"))
	case in.On.After(today):
		problems = append(problems, fault.Field("on", "on is in the future"))
	}
	if note, err = text.Clean("note", in.Note, MaxNote); err != nil {
		problems = append(problems, err)
	}
	return outcome, note, problems
}

// Problems checks every field of a follow-up step, as FollowUp does
// (which answers the first): a form shows them all.
func (in Step) Problems() []error {
	_, _, problems := in.checked()
	return problems
}

func (in Step) checked() (step FollowUp, note string, problems []error) {
	var err error
	if step, err = text.OneOf("step", in.Step, FollowUps...); err != nil {
		problems = append(problems, err)
	}
	if note, err = text.Clean("note", in.Note, MaxNote); err != nil {
		problems = append(problems, err)
	}
	return step, note, problems
}
