package calendar

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

type record struct {
	Care   Date  `json:"care"`
	Until  Date  `json:"until"`
	Filing *Date `json:"filing"`
}

func TestMarshalJSON(t *testing.T) {
	t.Parallel()
	d := mustParse(t, "2026-11-22")
	got, err := json.Marshal(record{Care: d, Filing: &d})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"care":"2026-11-22","until":null,"filing":"2026-11-22"}`; string(got) != want {
		t.Fatalf("json.Marshal = %s, want %s", got, want)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var r record
	if err := json.Unmarshal([]byte(`{"care":"2026-11-22","until":null,"filing":null}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Care.String() != "2026-11-22" || !r.Until.IsZero() || r.Filing != nil {
		t.Fatalf("got %+v", r)
	}
	// An escaped but valid JSON string is the same date.
	var d Date
	if err := json.Unmarshal([]byte(`"\u0032026-11-22"`), &d); err != nil || d.String() != "2026-11-22" {
		t.Fatalf("escaped string: %v, %v", d, err)
	}
	// null leaves the value as it was, like encoding/json does for plain values.
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d.String() != "2026-11-22" {
		t.Fatalf("null: %v, %v", d, err)
	}
}

func TestUnmarshalJSONInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want error
	}{
		{`20261122`, errJSON},
		{`1767225600`, errJSON},
		{`{"date":"2026-11-22"}`, errJSON},
		{`["2026-11-22"]`, errJSON},
		{`true`, errJSON},
		{`"2026-11-22`, errJSON},
		{`"2026-11-22"x`, errJSON},
		{`'2026-11-22'`, errJSON},
		{``, errJSON},
		{`""`, errFormat},
		{`"2026-11-22T00:00:00Z"`, errFormat},
		{`"22/11/2026"`, errFormat},
		{`" 2026-11-22"`, errFormat},
		{`"2026-02-30"`, errDay},
		{`"1850-01-01"`, errYear},
	}
	for _, tc := range cases {
		d := mustParse(t, "2000-01-01")
		err := d.UnmarshalJSON([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("UnmarshalJSON(%s) = %v, want %v", tc.in, err, tc.want)
		}
		if d.String() != "2000-01-01" {
			t.Errorf("UnmarshalJSON(%s) changed the date to %v on error", tc.in, d)
		}
	}
	// Through encoding/json too: wrong JSON types are errors, not zero dates.
	for _, in := range []string{`{"care":20261122}`, `{"care":{}}`, `{"care":"2026-2-3"}`} {
		var r record
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("json.Unmarshal(%s) accepted: %+v", in, r)
		}
	}
}

func TestScanDate(t *testing.T) {
	t.Parallel()
	paris := Paris()
	cases := []struct {
		name string
		in   pgtype.Date
		want string
		err  error
	}{
		{"null", pgtype.Date{}, "", nil},
		{"null with a time", pgtype.Date{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, "", nil},
		{"utc midnight", pgtype.Date{Time: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Valid: true}, "2026-11-22", nil},
		{"other location keeps its day", pgtype.Date{Time: time.Date(2026, 3, 29, 0, 0, 0, 0, paris), Valid: true}, "2026-03-29", nil},
		{"year one is a date", pgtype.Date{Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Valid: true}, "0001-01-01", nil},
		{"infinity", pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}, "2000-01-01", errInfinite},
		{"-infinity", pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, "2000-01-01", errInfinite},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := mustParse(t, "2000-01-01")
			err := d.ScanDate(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ScanDate: %v, want %v", err, tc.err)
			}
			if d.String() != tc.want {
				t.Fatalf("ScanDate = %q, want %q", d.String(), tc.want)
			}
		})
	}
}

func TestDateValue(t *testing.T) {
	t.Parallel()
	v, err := Date{}.DateValue()
	if err != nil || v.Valid {
		t.Fatalf("zero Date: %+v, %v; want NULL", v, err)
	}
	v, err = mustParse(t, "2026-11-22").DateValue()
	if err != nil {
		t.Fatal(err)
	}
	want := pgtype.Date{Time: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), InfinityModifier: pgtype.Finite, Valid: true}
	if v != want {
		t.Fatalf("DateValue = %+v, want %+v", v, want)
	}
}

// TestPgxTypeMap goes through pgx's own encode and scan plans (no database)
// to show that pgx picks the DateValuer and DateScanner implementations.
func TestPgxTypeMap(t *testing.T) {
	t.Parallel()
	m := pgtype.NewMap()
	d := mustParse(t, "2026-11-22")
	for _, format := range []int16{pgtype.BinaryFormatCode, pgtype.TextFormatCode} {
		buf, err := m.Encode(pgtype.DateOID, format, d, nil)
		if err != nil {
			t.Fatalf("format %d: encode: %v", format, err)
		}
		var back Date
		if err := m.Scan(pgtype.DateOID, format, buf, &back); err != nil || back != d {
			t.Fatalf("format %d: scan = %v, %v; want %v", format, back, err, d)
		}
		buf, err = m.Encode(pgtype.DateOID, format, Date{}, nil)
		if err != nil || buf != nil {
			t.Fatalf("format %d: zero Date encodes as %q, %v; want NULL", format, buf, err)
		}
		back = d
		if err := m.Scan(pgtype.DateOID, format, nil, &back); err != nil || !back.IsZero() {
			t.Fatalf("format %d: NULL scans as %v, %v", format, back, err)
		}
	}
	if err := m.Scan(pgtype.DateOID, pgtype.TextFormatCode, []byte("infinity"), new(Date)); err == nil {
		t.Fatal("infinity scanned without error")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-11-22", "2024-02-29", "2026-02-30", "2026-2-3", "1900-01-01", "2200-12-31",
		"1899-12-31", "2201-01-01", "", "2026-11-22 ", "+026-11-22", "2026-11-22T00:00:00Z", "0000-00-00",
		"٢٠٢٦-١١-٢٢", "２０２６-１１-２２", "2026-11-22\x00", "2026-11-2\xff", "20261122", "22/11/2026", "1e3", "2026-11-22' OR '1'='1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !d.IsZero() {
				t.Fatalf("Parse(%q) = %v with error %v", s, d, err)
			}
			return
		}
		if d.IsZero() {
			t.Fatalf("Parse(%q) accepted but returned the zero Date", s)
		}
		// Strict grammar: the canonical form is the input itself.
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		if again, err := Parse(d.String()); err != nil || again != d {
			t.Fatalf("re-parse of %q: %v, %v", s, again, err)
		}
		if NewDate(d.Year(), d.Month(), d.Day()) != d || FromTime(d.Time()) != d {
			t.Fatalf("%q does not round-trip through NewDate or Time", s)
		}
		js, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Date
		if err := json.Unmarshal(js, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %q: %s -> %v, %v", s, js, back, err)
		}
		v, err := d.DateValue()
		if err != nil {
			t.Fatal(err)
		}
		back = Date{}
		if err := back.ScanDate(v); err != nil || back != d {
			t.Fatalf("pgx round trip of %q: %v, %v", s, back, err)
		}
		if next := d.AddDays(1); !next.After(d) || next.AddDays(-1) != d {
			t.Fatalf("AddDays around %q: %v", s, next)
		}
		q := d.QuarterAfterStart()
		if q.Day() != 1 || (q.Month()-1)%3 != 0 || !q.After(d) || q.AddDays(-92).After(d) {
			t.Fatalf("QuarterAfterStart(%q) = %v", s, q)
		}
		if y := d.AddYears(1); y.Year() != d.Year()+1 || y.Month() != d.Month() || y.Day() > d.Day() {
			t.Fatalf("AddYears(%q, 1) = %v", s, y)
		}
	})
}
