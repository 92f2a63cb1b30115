package httpapi

import (
	"passd/api"
	"passd/calendar"
)

// valueReader takes a body's Values as the domain's plain strings and
// dates, checking only their JSON type; it keeps the first error, so that a
// value built field by field blames the first field at fault. Whatever else
// the values must be is the domain's Validate to say.
type valueReader struct{ err error }

func (r *valueReader) text(v api.Value, field string) string {
	if r.err != nil {
		return ""
	}
	s, err := v.Text(field)
	r.err = err
	return s
}

func (r *valueReader) date(v api.Value, field string) calendar.Date {
	if r.err != nil {
		return calendar.Date{}
	}
	d, err := v.OptDate(field)
	r.err = err
	return d
}

func (r *valueReader) flag(v api.Value, field string) bool {
	if r.err != nil {
		return false
	}
	b, err := v.Bool(field)
	r.err = err
	return b
}
