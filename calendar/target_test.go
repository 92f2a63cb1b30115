package calendar

import (
	"testing"
	"time"
)

func TestEasterSunday(t *testing.T) {
	t.Parallel()
	// Published dates of Western Easter, including the extremes of the
	// range (22 March 1818 and 2285, 25 April 1943 and 2038).
	cases := map[int]string{
		1818: "1818-03-22",
		1943: "1943-04-25",
		2000: "2000-04-23",
		2008: "2008-03-23",
		2011: "2011-04-24",
		2019: "2019-04-21",
		2024: "2024-03-31",
		2025: "2025-04-20",
		2026: "2026-04-05",
		2027: "2027-03-28",
		2038: "2038-04-25",
		2285: "2285-03-22",
	}
	for y, want := range cases {
		if got := easterSunday(y).String(); got != want {
			t.Errorf("easterSunday(%d) = %s, want %s", y, got, want)
		}
	}
}

func TestNextTargetDay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		why      string
	}{
		{"2026-11-23", "2026-11-24", "Monday → Tuesday"},
		{"2026-11-27", "2026-11-30", "Friday → Monday"},
		{"2026-11-28", "2026-11-30", "Saturday → Monday"},
		{"2026-11-29", "2026-11-30", "Sunday → Monday"},
		{"2026-04-02", "2026-04-07", "Maundy Thursday → past Good Friday 3 Apr, the weekend and Easter Monday 6 Apr"},
		{"2026-04-03", "2026-04-07", "Good Friday → Tuesday after Easter Monday"},
		{"2026-04-05", "2026-04-07", "Easter Sunday → past Easter Monday"},
		{"2026-04-06", "2026-04-07", "Easter Monday → Tuesday"},
		{"2026-04-30", "2026-05-04", "30 April (Thursday) → past 1 May (Friday) and the weekend"},
		{"2026-07-13", "2026-07-14", "14 July is a French holiday but a TARGET2 day"},
		{"2026-12-24", "2026-12-28", "24 Dec (Thursday) → past 25, 26 Dec and the weekend"},
		{"2026-12-31", "2027-01-04", "31 Dec 2026 → past 1 Jan 2027 (Friday) and the weekend"},
		{"2025-12-24", "2025-12-29", "24 Dec 2025 (Wednesday) → past Thursday 25, Friday 26 and the weekend"},
		{"2027-03-25", "2027-03-30", "Easter 2027 is 28 March: Good Friday 26, Easter Monday 29"},
		{"2024-02-28", "2024-02-29", "leap day is an ordinary Thursday"},
	}
	for _, tc := range cases {
		in, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := NextTargetDay(in).String(); got != tc.want {
			t.Errorf("NextTargetDay(%s) = %s, want %s (%s)", tc.in, got, tc.want, tc.why)
		}
	}
}

func TestNextTargetDayZero(t *testing.T) {
	t.Parallel()
	if got := NextTargetDay(Date{}); !got.IsZero() {
		t.Errorf("NextTargetDay(zero) = %v, want the zero Date", got)
	}
}

// TestNextTargetDayProperties walks ten years day by day: the result is
// always later, never a weekend or a closing day, and no TARGET2 day is
// skipped in between.
func TestNextTargetDayProperties(t *testing.T) {
	t.Parallel()
	for d := NewDate(2020, time.January, 1); d.Year() < 2030; d = d.AddDays(1) {
		next := NextTargetDay(d)
		if !next.After(d) {
			t.Fatalf("NextTargetDay(%s) = %s, not after", d, next)
		}
		if !isTargetDay(next) {
			t.Fatalf("NextTargetDay(%s) = %s, a closing day", d, next)
		}
		if wd := next.Time().Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Fatalf("NextTargetDay(%s) = %s, a %s", d, next, wd)
		}
		for between := d.AddDays(1); between.Before(next); between = between.AddDays(1) {
			if isTargetDay(between) {
				t.Fatalf("NextTargetDay(%s) = %s skips the TARGET2 day %s", d, next, between)
			}
		}
		if gap := next.Time().Sub(d.Time()); gap > 5*24*time.Hour {
			t.Fatalf("NextTargetDay(%s) = %s, %v later", d, next, gap)
		}
	}
}
