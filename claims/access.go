package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
)

// Every answer that carries a file's identity (names, birth date, NIR) is
// first recorded in patient_access_log: who, when, which file, for what.
// The record is written by the statement or transaction that reads the
// identity, so when it cannot be written the identity is not returned.

// Purposes of a read of identity, as the access log records them.
const (
	AccessCreate         = "patient.create"          // the answer to POST /patients
	AccessRead           = "patient.read"            // GET /patients/{id}
	AccessList           = "patient.list"            // GET /patients, each file listed
	AccessRightsRequest  = "patient.rights_request"  // the answer to POST /patients/{id}/rights-request
	AccessRightsDecision = "patient.rights_decision" // the answer to POST /patients/{id}/rights-decision
	AccessClaimExport    = "claim_batch.export"      // GET /claim-batches/{id}/export, each file in the batch
	AccessReminders      = "reminders.list"          // GET /reminders, each file listed
)

// PatientAccess is one read of a file's identity.
type PatientAccess struct {
	ID       int64
	At       time.Time
	UserID   int64 // 0 when no user (a command acting for the system)
	UserName string
	Purpose  string
}

// accessActor returns the user id (NULL for the system) and the name the
// log records for actor.
func accessActor(actor audit.Actor) (*int64, string) {
	name := actor.Name
	if name == "" {
		name = "system"
	}
	if actor.UserID == 0 {
		return nil, name
	}
	id := actor.UserID
	return &id, name
}

// logAccess records that actor read the identity of patientIDs.
func logAccess(ctx context.Context, q db.DBTX, at time.Time, actor audit.Actor, purpose string, patientIDs ...int64) error {
	userID, name := accessActor(actor)
	_, err := q.Exec(ctx, `
		INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
		SELECT $1, $2, $3, id, $4 FROM unnest($5::bigint[]) AS id`, at, userID, name, purpose, patientIDs)
	if err != nil {
		return fmt.Errorf("claims: access log: %w", err)
	}
	return nil
}

// AccessLog lists the reads of one file's identity, newest first. An
// unknown file is not found.
func (s *Store) AccessLog(ctx context.Context, patientID int64, page db.PageRequest) ([]PatientAccess, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE id = $1 AND tenant_id = passd_tenant())`, patientID).Scan(&exists); err != nil {
		return nil, db.Translate(fmt.Errorf("claims: patient %d: %w", patientID, err))
	}
	if !exists {
		return nil, db.Translate(fmt.Errorf("claims: patient %d: %w", patientID, pgx.ErrNoRows))
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, at, coalesce(user_id, 0), user_name, purpose FROM patient_access_log
		WHERE patient_id = $1 AND ($2::bigint = 0 OR id < $2) AND tenant_id = passd_tenant()
		ORDER BY id DESC LIMIT $3`, patientID, page.Before, page.Limit+1)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: access log: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PatientAccess, error) {
		var a PatientAccess
		err := r.Scan(&a.ID, &a.At, &a.UserID, &a.UserName, &a.Purpose)
		return a, err
	})
	return out, db.Translate(err)
}
