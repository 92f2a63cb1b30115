package httpapi

import (
	"time"

	"github.com/shopspring/decimal"

	"passd/api"
	"passd/calendar"
	"passd/ident"
	"passd/money"
)

// valueReader takes a body's Values as the domain's plain strings,
// numbers, amounts and dates, checking only their JSON type; it keeps the first error, so that a
// value built field by field blames the first field at fault. Whatever else
// the values must be is the domain's Validate to say.
type valueReader struct{ err error }

// read is v as get reads it, or the zero value once a field is at fault.
func read[T any](r *valueReader, v api.Value, field string, get func(api.Value, string) (T, error)) T {
	var x T
	if r.err == nil {
		x, r.err = get(v, field)
	}
	return x
}

func (r *valueReader) text(v api.Value, field string) string {
	return read(r, v, field, api.Value.Text)
}

func (r *valueReader) integer(v api.Value, field string) int {
	return read(r, v, field, api.Value.Integer)
}

func (r *valueReader) amount(v api.Value, field string) decimal.Decimal {
	return read(r, v, field, api.Value.Amount)
}

// date reads a date the body must give; dateOrZero one it may leave out.
func (r *valueReader) date(v api.Value, field string) calendar.Date {
	return read(r, v, field, api.Value.Date)
}

func (r *valueReader) dateOrZero(v api.Value, field string) calendar.Date {
	return read(r, v, field, api.Value.OptDate)
}

// The answers' values that may be absent are null when they are: a reader
// never has to tell an empty string, a zero id or a zero date from a value.

// nullable is s, or null when empty.
func nullable[T ~string](s T) *T {
	if s == "" {
		return nil
	}
	return &s
}

// optID is id in its text form, or null when 0.
func optID(id int64) *string {
	if id == 0 {
		return nil
	}
	s := ident.FormatID(id)
	return &s
}

// optDate is d, or null when zero.
func optDate(d calendar.Date) *calendar.Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

// optAmount formats an amount that may be absent.
func optAmount(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := money.Format(*d)
	return &s
}

// utc is t in UTC, or null when absent.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r *valueReader) flag(v api.Value, field string) bool {
	return read(r, v, field, api.Value.Bool)
}
