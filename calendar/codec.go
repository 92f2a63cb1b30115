package calendar

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5/pgtype"
)

var (
	errJSON     = errors.New("calendar: date must be a JSON string \"YYYY-MM-DD\" or null")
	errInfinite = errors.New("calendar: infinite date is not supported")
)

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date so that an
// unset optional date is not mistaken for a real day.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts only a JSON string holding YYYY-MM-DD, or null.
// Numbers, objects and timestamps are errors: a client sending 1767225600 or
// "2026-11-22T00:00:00Z" has a bug that silently guessing would hide.
// Following encoding/json's convention, null leaves d unchanged (a fresh
// Date stays zero).
func (d *Date) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) < 2 || data[0] != '"' {
		return errJSON
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errJSON
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ScanDate implements pgtype.DateScanner so that a Date can be a pgx scan
// target for a date column. NULL gives the zero Date; ±infinity is an error
// because no passd date means "forever" — open-ended periods are NULL.
func (d *Date) ScanDate(v pgtype.Date) error {
	if !v.Valid {
		*d = Date{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return errInfinite
	}
	// Not FromTime: 0001-01-01 is a real (if odd) date, not "no date".
	*d = fromYMD(v.Time.Date())
	return nil
}

// DateValue implements pgtype.DateValuer so that a Date can be passed
// directly as a pgx query argument. The zero Date is written as NULL.
func (d Date) DateValue() (pgtype.Date, error) {
	if d.IsZero() {
		return pgtype.Date{}, nil
	}
	return pgtype.Date{Time: d.Time(), InfinityModifier: pgtype.Finite, Valid: true}, nil
}

// Compile-time checks that pgx will find the interfaces.
var (
	_ pgtype.DateScanner = (*Date)(nil)
	_ pgtype.DateValuer  = Date{}
	_ json.Marshaler     = Date{}
	_ json.Unmarshaler   = (*Date)(nil)
)
