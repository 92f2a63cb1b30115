package claims

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
)

// Reminder is a patient file whose invoices near their deadline while no
// rights application was recorded: the coordinator should file one before
// the city has to pay them.
type Reminder struct {
	PatientID        int64
	FileNumber       string
	LastName         string
	FirstName        string
	PendingInvoices  int
	PendingTotal     decimal.Decimal
	EarliestDeadline calendar.Date
	FirstRemindedOn  calendar.Date // the first day the reminders job listed it; zero if never
}

// ReminderWindow is how many days before a deadline a file is listed.
const ReminderWindow = 14

// Reminders returns the files to chase today: files with no rights
// application whose pending invoices have a deadline from today to today +
// the window, the most urgent first. The list names the patients, so each
// file listed is logged as read by actor in the same statement.
func (s *Store) Reminders(ctx context.Context, actor audit.Actor) ([]Reminder, error) {
	today := calendar.Today(s.now())
	userID, name := accessActor(actor)
	rows, err := s.pool.Query(ctx, `
		WITH listed AS (
			SELECT pt.id, pt.file_number, pt.identity_pending, coalesce(pt.last_name_enc, '') AS last_name_enc,
			       coalesce(pt.first_name_enc, '') AS first_name_enc, count(*) AS invoices, sum(i.total) AS total,
			       min(i.deadline) AS earliest,
			       (SELECT min(r.reminded_on) FROM reminders r WHERE r.patient_id = pt.id AND r.tenant_id = passd_tenant()) AS first_reminded_on
			FROM patients pt JOIN invoices i ON i.patient_id = pt.id AND i.status = 'pending' AND i.tenant_id = passd_tenant()
			WHERE pt.rights_status = 'none' AND i.deadline BETWEEN $1 AND $2 AND pt.tenant_id = passd_tenant()
			GROUP BY pt.id),
		logged AS (
			INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
			SELECT $3, $4, $5, id, '`+AccessReminders+`' FROM listed ORDER BY id)
		SELECT id, file_number, identity_pending, last_name_enc, first_name_enc, invoices, total, earliest, first_reminded_on
		FROM listed ORDER BY earliest, id`, today, today.AddDays(ReminderWindow), s.now(), userID, name)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: reminders: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Reminder, error) {
		var m Reminder
		var si sealedIdentity
		if err := r.Scan(&m.PatientID, &m.FileNumber, &si.pending, &si.lastName, &si.firstName, &m.PendingInvoices, &m.PendingTotal,
			&m.EarliestDeadline, &m.FirstRemindedOn); err != nil {
			return m, err
		}
		// A reminder names the patient, not the birth date or NIR: only
		// those two values are opened.
		p := Patient{ID: m.PatientID}
		if err := s.openIdentity(&p, si); err != nil {
			return m, err
		}
		m.LastName, m.FirstName = p.LastName, p.FirstName
		return m, nil
	})
	return out, db.Translate(err)
}

// RemindersJob is the reminders job: it records today's list (once a day,
// however often it runs) and returns how many files it lists.
func (s *Store) RemindersJob(ctx context.Context) (int64, error) {
	today := calendar.Today(s.now())
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO reminders (patient_id, reminded_on, pending_invoices, earliest_deadline)
		SELECT pt.id, $1, count(*), min(i.deadline)
		FROM patients pt JOIN invoices i ON i.patient_id = pt.id AND i.status = 'pending' AND i.tenant_id = passd_tenant()
		WHERE pt.rights_status = 'none' AND i.deadline BETWEEN $1 AND $2 AND pt.tenant_id = passd_tenant()
		GROUP BY pt.id
		ON CONFLICT (patient_id, reminded_on) DO NOTHING`, today, today.AddDays(ReminderWindow))
	if err != nil {
		return 0, fmt.Errorf("claims: reminders job: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DaysLeft counts whole days from today to the earliest deadline
// (negative once it has passed).
func (m Reminder) DaysLeft(today calendar.Date) int {
	return int(m.EarliestDeadline.Time().Sub(today.Time()).Hours() / 24)
}
