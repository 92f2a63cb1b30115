package billing

import (
	"fmt"

	"passd/calendar"
	"passd/fault"
)

// StatementPeriod reads a statement's period from its raw from and to
// (YYYY-MM-DD, each optional): by default from the first of January to
// today, never backwards nor longer than 366 days. The errors name the
// field from or to. The web pages read their period with it too.
func StatementPeriod(today calendar.Date, rawFrom, rawTo string) (from, to calendar.Date, err error) {
	from, to = calendar.NewDate(today.Year(), 1, 1), today
	if rawFrom != "" {
		if from, err = calendar.Parse(rawFrom); err != nil {
			return from, to, fault.Field("from", "from must be a date YYYY-MM-DD")
		}
	}
	if rawTo != "" {
		if to, err = calendar.Parse(rawTo); err != nil {
			return from, to, fault.Field("to", "to must be a date YYYY-MM-DD")
		}
	}
	if to.Before(from) {
		return from, to, fault.Field("to", "to must not be before from").WithCause(ErrPeriodReversed)
	}
	if from.AddDays(maxStatementDays).Before(to) {
		return from, to, fault.Field("to", "a statement covers at most %d days", maxStatementDays).WithCause(ErrPeriodTooLong)
	}
	return from, to, nil
}

// StatementFileName is the name a statement's CSV download is saved as.
func StatementFileName(from, to calendar.Date) string {
	return fmt.Sprintf("releve-pass-%s-%s.csv", from, to)
}
