package calendar

import (
	"errors"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Paris must load on hosts without a zoneinfo database
)

// Date is a day on the civil calendar. The zero value is "no date": it is
// what optional dates hold when unset, and it is never produced by NewDate,
// Parse or arithmetic on a non-zero Date.
type Date struct {
	year  int
	month time.Month
	day   int
}

// Years Parse accepts: wide enough for birth dates and programme deadlines,
// narrow enough to catch a mistyped century.
const (
	minYear = 1900
	maxYear = 2200
)

// ErrFuture is the cause behind a refused date that is after today, so
// that callers can tell it from a malformed one without reading messages.
var ErrFuture = errors.New("calendar: date after today")

var (
	errFormat = errors.New("calendar: date must be YYYY-MM-DD")
	errYear   = errors.New("calendar: year must be between 1900 and 2200")
	errDay    = errors.New("calendar: no such day in the calendar")
)

// NewDate returns the date y-m-d. Out-of-range months and days are
// normalised as time.Date does (January 32 is February 1), which is what
// date arithmetic wants; input from outside goes through Parse instead.
func NewDate(y int, m time.Month, d int) Date {
	return fromYMD(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date())
}

func fromYMD(y int, m time.Month, d int) Date { return Date{year: y, month: m, day: d} }

// Parse reads a date written exactly as YYYY-MM-DD and rejects anything
// else — other separators, missing zeros, surrounding text, days that do not
// exist (2026-02-30) and years outside 1900–2200 — rather than
// guess what was meant.
func Parse(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, errFormat
	}
	y, ok1 := atoi(s[0:4])
	m, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, errFormat
	}
	if y < minYear || y > maxYear {
		return Date{}, errYear
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, errDay
	}
	return Date{year: y, month: time.Month(m), day: d}, nil
}

// atoi reads ASCII digits only; strconv.Atoi would accept a sign.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String returns YYYY-MM-DD, the form Parse reads, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// IsZero reports whether d is the zero Date, "no date".
func (d Date) IsZero() bool { return d == Date{} }

// Year returns the year of d, or 0 for the zero Date.
func (d Date) Year() int { return d.year }

// Month returns the month of d, or 0 for the zero Date.
func (d Date) Month() time.Month { return d.month }

// Day returns the day of the month of d, or 0 for the zero Date.
func (d Date) Day() int { return d.day }

// AddDays returns d moved by n days (n may be negative). The zero Date stays
// zero: "no date" plus a delay is still no date.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return d
	}
	return NewDate(d.year, d.month, d.day+n)
}

// AddYears returns the same day n years later (or earlier). February 29
// becomes February 28 in a non-leap year, so that "one year from" never
// spills into March. The zero Date stays zero.
func (d Date) AddYears(n int) Date {
	if d.IsZero() {
		return d
	}
	y := d.year + n
	day := min(d.day, daysIn(y, d.month))
	return Date{year: y, month: d.month, day: day}
}

// QuarterAfterStart returns the first day of the calendar quarter after the
// one containing d (2026-02-10 → 2026-04-01, 2026-11-05 → 2027-01-01): the
// CPAM billing deadline counts two years from that day. The zero Date stays
// zero.
func (d Date) QuarterAfterStart() Date {
	if d.IsZero() {
		return d
	}
	firstOfQuarter := (d.month-1)/3*3 + 1
	return NewDate(d.year, firstOfQuarter+3, 1)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e. The zero
// Date sorts before every real date.
func (d Date) Compare(e Date) int {
	switch {
	case d == e:
		return 0
	case d.IsZero():
		return -1
	case e.IsZero():
		return 1
	}
	if c := cmpInt(d.year, e.year); c != 0 {
		return c
	}
	if c := cmpInt(int(d.month), int(e.month)); c != 0 {
		return c
	}
	return cmpInt(d.day, e.day)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Equal reports whether d and e are the same day (d == e works too).
func (d Date) Equal(e Date) bool { return d == e }

// Time returns midnight UTC on d, a stable instant for storage and
// arithmetic; it is not midnight in Paris. The zero Date gives the zero
// time.Time.
func (d Date) Time() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

// FromTime returns the date of t in t's own location; convert t first (or
// use Today) for the Paris date of an instant. The zero time.Time gives the
// zero Date, mirroring Time.
func FromTime(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	return fromYMD(t.Date())
}

// Paris returns the Europe/Paris location, loaded once. The time zone
// database is embedded (time/tzdata), so loading cannot fail on a correct
// build; if it ever does, the process stops rather than computing dates in
// the wrong zone.
func Paris() *time.Location { return paris() }

var paris = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic("calendar: cannot load Europe/Paris: " + err.Error())
	}
	return loc
})

// Today returns the Paris date at instant now. now is a parameter, not
// time.Now, so that callers and tests control the clock.
func Today(now time.Time) Date {
	return FromTime(now.In(Paris()))
}
