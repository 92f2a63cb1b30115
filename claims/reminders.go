package claims

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/calendar"
	"passd/db"
	"passd/money"
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

// remindersQuery lists files with no rights application whose pending
// invoices have a deadline from today ($1) to today + the window ($2),
// the most urgent first.
const remindersQuery = `
	SELECT pt.id, pt.file_number, pt.last_name, pt.first_name, count(*), sum(i.total), min(i.deadline),
	       (SELECT min(r.reminded_on) FROM reminders r WHERE r.patient_id = pt.id)
	FROM patients pt JOIN invoices i ON i.patient_id = pt.id AND i.status = 'pending'
	WHERE pt.rights_status = 'none' AND i.deadline BETWEEN $1 AND $2
	GROUP BY pt.id
	ORDER BY min(i.deadline), pt.id`

// Reminders returns the files to chase today.
func (s *Store) Reminders(ctx context.Context) ([]Reminder, error) {
	today := calendar.Today(s.now())
	rows, err := s.pool.Query(ctx, remindersQuery, today, today.AddDays(ReminderWindow))
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: reminders: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Reminder, error) {
		var m Reminder
		err := r.Scan(&m.PatientID, &m.FileNumber, &m.LastName, &m.FirstName, &m.PendingInvoices, &m.PendingTotal, &m.EarliestDeadline, &m.FirstRemindedOn)
		return m, err
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
		FROM patients pt JOIN invoices i ON i.patient_id = pt.id AND i.status = 'pending'
		WHERE pt.rights_status = 'none' AND i.deadline BETWEEN $1 AND $2
		GROUP BY pt.id
		ON CONFLICT (patient_id, reminded_on) DO NOTHING`, today, today.AddDays(ReminderWindow))
	if err != nil {
		return 0, fmt.Errorf("claims: reminders job: %w", err)
	}
	return tag.RowsAffected(), nil
}

type reminderJSON struct {
	PatientID        string         `json:"patient_id"`
	FileNumber       string         `json:"file_number"`
	LastName         string         `json:"last_name"`
	FirstName        string         `json:"first_name"`
	PendingInvoices  int            `json:"pending_invoices"`
	PendingTotal     string         `json:"pending_total"`
	EarliestDeadline calendar.Date  `json:"earliest_deadline"`
	DaysLeft         int            `json:"days_left"`
	FirstRemindedOn  *calendar.Date `json:"first_reminded_on"`
}

func (s *Store) listReminders(c echo.Context) error {
	list, err := s.Reminders(c.Request().Context())
	if err != nil {
		return err
	}
	today := calendar.Today(s.now())
	items := make([]reminderJSON, len(list))
	for i, m := range list {
		items[i] = reminderJSON{PatientID: api.FormatID(m.PatientID), FileNumber: m.FileNumber, LastName: m.LastName, FirstName: m.FirstName,
			PendingInvoices: m.PendingInvoices, PendingTotal: money.Format(m.PendingTotal), EarliestDeadline: m.EarliestDeadline,
			DaysLeft: daysBetween(today, m.EarliestDeadline)}
		if !m.FirstRemindedOn.IsZero() {
			d := m.FirstRemindedOn
			items[i].FirstRemindedOn = &d
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"window_days": ReminderWindow, "items": items})
}

func daysBetween(a, b calendar.Date) int {
	return int(b.Time().Sub(a.Time()).Hours() / 24)
}
