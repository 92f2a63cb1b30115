package claims

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
	"passd/ident"
	"passd/rights"
	"passd/text"
)

// MaxCorrectionReasonLength bounds why a decision is corrected.
const MaxCorrectionReasonLength = 500

// Correction is a decision corrected: its content as it should have been
// (an opening may correct a refusal, and the reverse) and why.
type Correction struct {
	RightsDecision
	CorrectionReason string
}

// Validate checks the corrected content as any decision, and that a reason
// is given: the first of Problems.
func (c *Correction) Validate() error {
	return fault.First(c.Problems())
}

// Problems is the decision's problems, then the reason's, as Validate
// checks them: a form shows them all at once.
func (c *Correction) Problems() []error {
	out := c.RightsDecision.Problems()
	var err error
	if c.CorrectionReason, err = text.Required("correction_reason", c.CorrectionReason, MaxCorrectionReasonLength); err != nil {
		out = append(out, err)
	}
	return out
}

// Redecider decides again, in the transaction of a correction, the
// invoices of the file whose rights were corrected; a payout in a batch
// not yet paid makes it fail with a 409 naming the batch, and nothing of
// the correction is stored. billing provides it; cmd/passd wires it
// (claims does not depend on billing).
type Redecider func(ctx context.Context, tx pgx.Tx, actor audit.Actor, patientID int64, cause string) error

// WithRedecider gives the store what decides invoices again after a
// correction. Without it, the next release run does.
func WithRedecider(r Redecider) Option {
	return func(s *Store) { s.redecide = r }
}

// storedDecision is what a correction reads of the decision it corrects.
type storedDecision struct {
	id int64
	RightsDecision
	filedOn    calendar.Date
	superseded bool
	latest     bool // no decision of the file recorded after it still stands
}

// CorrectRights corrects decision decisionID of file patientID: the
// corrected content becomes a new decision that supersedes it (the old one
// stays in the history, marked superseded, with who corrected it and why).
// The invoices decided on the file are decided again in the same
// transaction (WithRedecider); its pending ones by the next release run.
// A decision already corrected cannot be corrected again (409
// already_superseded): the correction is what stands.
func (s *Store) CorrectRights(ctx context.Context, actor audit.Actor, patientID, decisionID int64, c Correction) (Patient, []RightsEvent, error) {
	policy, err := s.policy(ctx)
	if err != nil {
		return Patient{}, nil, fmt.Errorf("claims: rights policy: %w", err)
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockPatientRights(ctx, tx, patientID)
		if err != nil {
			return err
		}
		old, err := lockDecision(ctx, tx, patientID, decisionID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := c.CheckPeriod(old.filedOn, calendar.Today(now), policy); err != nil {
			return err
		}
		newID, err := insertDecision(ctx, tx, actor, patientID, old.filedOn, c.RightsDecision, now, old.id)
		if err != nil {
			return err
		}
		if err := supersede(ctx, tx, actor, old.id, newID, now, c.CorrectionReason); err != nil {
			return err
		}
		if old.latest {
			// The file's current state follows its latest decision.
			if _, err = s.setCurrentRights(ctx, tx, actor, patientID, c.RightsDecision, before.Rights.Regime, now); err != nil {
				return err
			}
		}
		if err := noteRightsChange(ctx, tx, patientID, now); err != nil {
			return err
		}
		// The cause goes with each invoice, which its provider reads: it
		// names the decisions, not the referent's free text, which stays
		// on the file (health and social data, seen by those who need it).
		cause := fmt.Sprintf("décision %d corrigée par la décision %d", old.id, newID)
		if s.redecide != nil {
			if err := s.redecide(ctx, tx, actor, patientID, cause); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "patient.rights_correction", Entity: "patient",
			EntityID: ident.FormatID(patientID), Before: decisionAudit(old.id, old.RightsDecision), After: correctionAudit(newID, c)})
	})
	if err != nil {
		return Patient{}, nil, err
	}
	// The answer is the file as it now stands, read (and logged) as any.
	return s.Patient(ctx, actor, patientID)
}

// lockDecision reads and locks decision id of the file; it must exist on
// that file (else not found) and not be superseded already.
func lockDecision(ctx context.Context, tx pgx.Tx, patientID, id int64) (storedDecision, error) {
	// A NULL date (a refusal's period, no filing) scans as the zero date.
	var d storedDecision
	err := tx.QueryRow(ctx, `
		SELECT d.id, d.decision, coalesce(d.regime, ''), d.effective_from, d.effective_to,
		       coalesce(d.reference, ''), d.filed_on, d.superseded_at IS NOT NULL,
		       NOT EXISTS (SELECT 1 FROM rights_decisions n WHERE n.patient_id = d.patient_id AND n.id > d.id AND n.superseded_at IS NULL
		                   AND n.tenant_id = passd_tenant())
		FROM rights_decisions d WHERE d.id = $1 AND d.patient_id = $2 AND d.tenant_id = passd_tenant()
		FOR UPDATE`, id, patientID).Scan(&d.id, &d.Decision, &d.Regime, &d.EffectiveFrom, &d.EffectiveTo, &d.Reference, &d.filedOn,
		&d.superseded, &d.latest)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fault.New(fault.NotFound, "file %d has no rights decision %d", patientID, id)
	}
	if err != nil {
		return d, fmt.Errorf("claims: rights decision %d: %w", id, err)
	}
	if d.superseded {
		return d, fault.New(fault.Conflict, "rights decision %d was corrected already: correct the decision that replaced it", id).
			WithKind(fault.KindAlreadySuperseded)
	}
	return d, nil
}

// decisionAudit is decision id as the audit log keeps it: its period when
// opened.
func decisionAudit(id int64, d RightsDecision) map[string]any {
	out := map[string]any{"rights_decision_id": ident.FormatID(id), "decision": d.Decision}
	if d.Decision == rights.Opened {
		out["regime"], out["effective_from"], out["reference"] = d.Regime, d.EffectiveFrom.String(), d.Reference
		if !d.EffectiveTo.IsZero() {
			out["effective_to"] = d.EffectiveTo.String()
		}
	}
	return out
}

func correctionAudit(newID int64, c Correction) map[string]any {
	out := decisionAudit(newID, c.RightsDecision)
	out["correction_reason"] = c.CorrectionReason
	if c.Decision != rights.Opened {
		out["reason"] = c.Reason
	}
	return out
}

// supersede marks decision old superseded by decision newID: the one
// change the trigger rights_decisions_immutable allows, once.
func supersede(ctx context.Context, tx pgx.Tx, actor audit.Actor, old, newID int64, at time.Time, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE rights_decisions SET superseded_at = $2, superseded_by = nullif($3, 0), correction_reason = $4
		WHERE id = $1 AND tenant_id = passd_tenant()`, old, at, actor.UserID, reason); err != nil {
		return fmt.Errorf("claims: supersede decision %d by %d: %w", old, newID, err)
	}
	return nil
}
