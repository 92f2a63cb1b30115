package calendar

import "time"

// NextTargetDay returns the first TARGET2 business day strictly after d.
// SEPA credit transfers settle on the TARGET2 calendar, so a requested
// execution date must be one of these days: every Monday to Friday except
// 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December. French
// public holidays (14 July, Ascension…) are TARGET2 business days and are not
// skipped. The zero Date stays zero.
func NextTargetDay(d Date) Date {
	if d.IsZero() {
		return d
	}
	for {
		d = d.AddDays(1)
		if isTargetDay(d) {
			return d
		}
	}
}

// isTargetDay reports whether TARGET2 is open on d.
func isTargetDay(d Date) bool {
	switch d.Time().Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	switch {
	case d.Month() == time.January && d.Day() == 1,
		d.Month() == time.May && d.Day() == 1,
		d.Month() == time.December && (d.Day() == 25 || d.Day() == 26):
		return false
	}
	easter := easterSunday(d.Year())
	return d != easter.AddDays(-2) && d != easter.AddDays(1)
}

// easterSunday returns the date of Western (Gregorian) Easter in year y,
// computed with the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easterSunday(y int) Date {
	a := y % 19
	b := y / 100
	c := y % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return NewDate(y, time.Month(month), day)
}
