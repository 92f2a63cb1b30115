package calendar

import (
	"errors"
	"testing"
	"time"
)

func mustParse(t testing.TB, s string) Date {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return d
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in string
		y  int
		m  time.Month
		d  int
	}{
		{"2026-11-22", 2026, time.November, 22},
		{"2026-02-28", 2026, time.February, 28},
		{"2024-02-29", 2024, time.February, 29},
		{"2000-02-29", 2000, time.February, 29},
		{"1900-01-01", 1900, time.January, 1},
		{"2200-12-31", 2200, time.December, 31},
		{"2026-04-30", 2026, time.April, 30},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != NewDate(tc.y, tc.m, tc.d) || got.Year() != tc.y || got.Month() != tc.m || got.Day() != tc.d {
			t.Errorf("Parse(%q) = %v", tc.in, got)
		}
		if got.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want error
	}{
		{"", errFormat},
		{"2026-2-3", errFormat},
		{"2026-02-3", errFormat},
		{"26-02-03", errFormat},
		{"2026/02/03", errFormat},
		{"20260203", errFormat},
		{"2026-02-03 ", errFormat},
		{" 2026-02-03", errFormat},
		{"2026-02-03T00:00:00Z", errFormat},
		{"2026-02-0x", errFormat},
		{"+026-02-03", errFormat},
		{"2026-+2-03", errFormat},
		{"2026--2-03", errFormat},
		{"２０２６-02-03", errFormat},
		{"03/02/2026", errFormat},
		{"1899-12-31", errYear},
		{"2201-01-01", errYear},
		{"0000-01-01", errYear},
		{"2026-02-30", errDay},
		{"2026-02-29", errDay},
		{"1900-02-29", errDay},
		{"2100-02-29", errDay},
		{"2026-04-31", errDay},
		{"2026-00-10", errDay},
		{"2026-13-01", errDay},
		{"2026-01-00", errDay},
		{"2026-01-32", errDay},
	}
	for _, tc := range cases {
		d, err := Parse(tc.in)
		if !errors.Is(err, tc.want) || !d.IsZero() {
			t.Errorf("Parse(%q) = %v, %v; want error %v", tc.in, d, err, tc.want)
		}
	}
}

func TestZeroDate(t *testing.T) {
	t.Parallel()
	var z Date
	if !z.IsZero() || z.String() != "" || !z.Time().IsZero() {
		t.Fatalf("zero Date: IsZero %v, String %q, Time %v", z.IsZero(), z.String(), z.Time())
	}
	if !z.AddDays(3).IsZero() || !z.AddYears(1).IsZero() || !z.QuarterAfterStart().IsZero() {
		t.Fatal("arithmetic on the zero Date must stay zero")
	}
	if !FromTime(time.Time{}).IsZero() {
		t.Fatal("FromTime(zero time) must be the zero Date")
	}
	if NewDate(0, 0, 0).IsZero() {
		t.Fatal("NewDate must never produce the zero Date")
	}
	d := NewDate(1900, 1, 1)
	if !z.Before(d) || !d.After(z) || z.Compare(d) != -1 || d.Compare(z) != 1 || z.Compare(z) != 0 {
		t.Fatal("the zero Date must sort before every date")
	}
}

func TestNewDateNormalises(t *testing.T) {
	t.Parallel()
	cases := []struct {
		got  Date
		want string
	}{
		{NewDate(2026, time.January, 32), "2026-02-01"},
		{NewDate(2026, time.February, 29), "2026-03-01"},
		{NewDate(2026, 13, 1), "2027-01-01"},
		{NewDate(2026, time.March, 0), "2026-02-28"},
		{NewDate(2024, time.March, 0), "2024-02-29"},
	}
	for _, tc := range cases {
		if tc.got.String() != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestAddDays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-22", 0, "2026-11-22"},
		{"2026-11-22", 90, "2027-02-20"},
		{"2026-03-28", 1, "2026-03-29"}, // DST change in Paris: still one day
		{"2026-03-29", 1, "2026-03-30"},
		{"2026-10-25", 1, "2026-10-26"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2026-02-28", 1, "2026-03-01"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-01-01", -1, "2025-12-31"},
		{"2026-05-15", -90, "2026-02-14"}, // AME: care up to 90 days before filing
		{"2026-01-01", 365, "2027-01-01"},
		{"2024-01-01", 366, "2025-01-01"},
	}
	for _, tc := range cases {
		if got := mustParse(t, tc.from).AddDays(tc.n); got.String() != tc.want {
			t.Errorf("%s + %d days = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestAddYears(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-22", 1, "2027-11-22"},
		{"2026-11-22", 2, "2028-11-22"},
		{"2024-02-29", 1, "2025-02-28"},
		{"2024-02-29", 4, "2028-02-29"},
		{"2024-02-29", -1, "2023-02-28"},
		{"2096-02-29", 4, "2100-02-28"},
		{"2026-02-28", 2, "2028-02-28"},
		{"2026-12-31", 1, "2027-12-31"},
		{"2026-01-01", 0, "2026-01-01"},
	}
	for _, tc := range cases {
		if got := mustParse(t, tc.from).AddYears(tc.n); got.String() != tc.want {
			t.Errorf("%s + %d years = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestQuarterAfterStart(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"2026-02-10", "2026-04-01"},
		{"2026-11-05", "2027-01-01"},
		{"2026-01-01", "2026-04-01"},
		{"2026-03-31", "2026-04-01"},
		{"2026-04-01", "2026-07-01"},
		{"2026-06-30", "2026-07-01"},
		{"2026-07-01", "2026-10-01"},
		{"2026-09-30", "2026-10-01"},
		{"2026-10-01", "2027-01-01"},
		{"2026-12-31", "2027-01-01"},
		{"2024-02-29", "2024-04-01"},
	}
	for _, tc := range cases {
		if got := mustParse(t, tc.in).QuarterAfterStart(); got.String() != tc.want {
			t.Errorf("QuarterAfterStart(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// The CPAM deadline: two years from the start of the next quarter.
	if got := mustParse(t, "2026-02-10").QuarterAfterStart().AddYears(2); got.String() != "2028-04-01" {
		t.Errorf("CPAM deadline = %s", got)
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	dates := []string{"1900-01-01", "2025-12-31", "2026-01-01", "2026-01-02", "2026-02-01", "2027-01-01"}
	for i, a := range dates {
		for j, b := range dates {
			da, db := mustParse(t, a), mustParse(t, b)
			want := cmpInt(i, j)
			if got := da.Compare(db); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
			if da.Before(db) != (want < 0) || da.After(db) != (want > 0) || da.Equal(db) != (want == 0) {
				t.Errorf("Before/After/Equal disagree with Compare for %s, %s", a, b)
			}
			if got := da.Time().Compare(db.Time()); got != want {
				t.Errorf("Time().Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestTimeAndFromTime(t *testing.T) {
	t.Parallel()
	d := mustParse(t, "2026-11-22")
	if got, want := d.Time(), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Time() = %v, want %v", got, want)
	}
	if FromTime(d.Time()) != d {
		t.Fatal("FromTime(Time()) must round-trip")
	}
	// FromTime keeps t's own location: 23:30 in New York is the next day in UTC.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	late := time.Date(2026, 11, 22, 23, 30, 0, 0, ny)
	if got := FromTime(late); got.String() != "2026-11-22" {
		t.Errorf("FromTime(%v) = %s", late, got)
	}
	if got := FromTime(late.UTC()); got.String() != "2026-11-23" {
		t.Errorf("FromTime(%v) = %s", late.UTC(), got)
	}
}

func TestParis(t *testing.T) {
	t.Parallel()
	if Paris() == nil || Paris().String() != "Europe/Paris" {
		t.Fatalf("Paris() = %v", Paris())
	}
	if first, second := Paris(), Paris(); first != second {
		t.Fatal("Paris() must load the location once")
	}
}

func TestToday(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		now  string // RFC 3339
		want string
	}{
		{"2026-03-28T23:30:00Z", "2026-03-29"}, // CET (UTC+1), the night DST starts
		{"2026-03-28T22:59:59Z", "2026-03-28"},
		{"2026-03-28T23:00:00Z", "2026-03-29"},
		{"2026-03-29T00:59:59Z", "2026-03-29"}, // 01:59:59 CET, just before the jump
		{"2026-03-29T01:00:00Z", "2026-03-29"}, // 03:00 CEST
		{"2026-03-29T21:59:59Z", "2026-03-29"}, // 23:59:59 CEST
		{"2026-03-29T22:00:00Z", "2026-03-30"}, // midnight CEST (UTC+2)
		{"2026-10-24T21:59:59Z", "2026-10-24"}, // CEST, the night DST ends
		{"2026-10-24T22:00:00Z", "2026-10-25"},
		{"2026-10-25T00:59:59Z", "2026-10-25"}, // 02:59:59 CEST
		{"2026-10-25T01:00:00Z", "2026-10-25"}, // 02:00 CET, the repeated hour
		{"2026-10-25T22:59:59Z", "2026-10-25"}, // 23:59:59 CET
		{"2026-10-25T23:00:00Z", "2026-10-26"},
		{"2026-12-31T22:59:59Z", "2026-12-31"},
		{"2026-12-31T23:00:00Z", "2027-01-01"},
		{"2026-07-14T12:00:00+02:00", "2026-07-14"},
		{"2026-07-14T23:30:00-04:00", "2026-07-15"}, // an offset other than Paris's
	}
	for _, tc := range cases {
		now, err := time.Parse(time.RFC3339, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		if got := Today(now); got.String() != tc.want {
			t.Errorf("Today(%s) = %s, want %s", tc.now, got, tc.want)
		}
		if got := Today(now.In(ny)); got.String() != tc.want {
			t.Errorf("Today(%s in New York) = %s, want %s", tc.now, got, tc.want)
		}
	}
}
