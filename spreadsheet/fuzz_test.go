package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
)

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula.
const formulaStarts = "=+-@\t\r"

// FuzzText checks that Text neutralises every formula and changes nothing
// else.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "Zoé", "=1+1", "+33 1 23", "-12", "@SUM(A1)", "\t=1", "\r=1", " =1", "'=1", "=HYPERLINK(\"http://x\")",
		"\x00", "\xff", "１", "=cmd|' /C calc'!A0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if out != s && out != "'"+s {
			t.Fatalf("Text(%q) = %q: more than a leading apostrophe", s, out)
		}
		if out != "" && strings.IndexByte(formulaStarts, out[0]) >= 0 {
			t.Fatalf("Text(%q) = %q starts a formula", s, out)
		}
		if (out != s) != (s != "" && strings.IndexByte(formulaStarts, s[0]) >= 0) {
			t.Fatalf("Text(%q) = %q: apostrophe where no formula starts, or none where one does", s, out)
		}
	})
}

// FuzzWriter writes a row of three free-text cells and reads the file back
// as a spreadsheet would: the BOM first, then the same three cells (line
// breaks come back as "\n"; a carriage return alone is dropped by
// encoding/csv's CRLF mode), none of them a formula.
func FuzzWriter(f *testing.F) {
	for _, c := range [][3]string{{"a", "b", "c"}, {"", "", ""}, {"a;b", `dit "Jo"`, "ligne 1\nligne 2"}, {" espace", "=1+1", "\r\n"},
		{"\ufeff", "\\.", "\"\""}, {"a\rb", "\x00", "\xff\xfe"}, {"-12,50", "@x", "\t"}} {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		cells := []string{Text(a), Text(b), Text(c)}
		if err := w.Write(cells...); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out, ok := bytes.CutPrefix(buf.Bytes(), []byte(bom))
		if !ok {
			t.Fatalf("no BOM: %q", buf.Bytes())
		}
		r := csv.NewReader(bytes.NewReader(out))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%q does not read back: %v", out, err)
		}
		if len(rows) != 1 || len(rows[0]) != 3 {
			t.Fatalf("%q reads back as %q", out, rows)
		}
		for i, cell := range rows[0] {
			if want := strings.ReplaceAll(cells[i], "\r", ""); cell != want {
				t.Fatalf("cell %d: wrote %q, read %q", i, cells[i], cell)
			}
			if cell != "" && strings.IndexByte(formulaStarts, cell[0]) >= 0 {
				t.Fatalf("cell %d reads back as a formula: %q", i, cell)
			}
		}
	})
}

// FuzzAmount checks that an amount is written as a French spreadsheet
// number: digits, a comma, two decimals, the value rounded to the cent.
func FuzzAmount(f *testing.F) {
	for _, a := range []struct {
		v   int64
		exp int8
	}{{3000, -2}, {-1250, -2}, {5, -3}, {-5, -3}, {1, 10}, {123456789, -9}, {0, 0}, {-1, 0}} {
		f.Add(a.v, a.exp)
	}
	f.Fuzz(func(t *testing.T, v int64, exp int8) {
		d := decimal.New(v, int32(exp%12))
		out := Amount(d)
		intPart, frac, ok := strings.Cut(out, ",")
		if !ok || len(frac) != 2 || strings.ContainsAny(out, ".@=+ ") || strings.TrimLeft(strings.TrimPrefix(intPart, "-"), "0123456789") != "" {
			t.Fatalf("Amount(%s) = %q", d, out)
		}
		back, err := decimal.NewFromString(strings.Replace(out, ",", ".", 1))
		if err != nil || !back.Equal(d.Round(2)) {
			t.Fatalf("Amount(%s) = %q reads back as %s, want %s", d, out, back, d.Round(2))
		}
	})
}

// FuzzDate checks that a date is written DD/MM/YYYY and reads back as
// itself.
func FuzzDate(f *testing.F) {
	f.Add(uint16(2026), uint8(11), uint8(22))
	f.Add(uint16(1), uint8(1), uint8(1))
	f.Add(uint16(9999), uint8(12), uint8(31))
	f.Add(uint16(2024), uint8(2), uint8(30))
	f.Fuzz(func(t *testing.T, y uint16, m, d uint8) {
		date := calendar.NewDate(1+int(y)%9999, time.Month(1+m%12), 1+int(d)%31)
		out := Date(date)
		back, err := time.Parse("02/01/2006", out)
		if err != nil || calendar.NewDate(back.Date()) != date {
			t.Fatalf("Date(%v) = %q reads back as %v, %v", date, out, back, err)
		}
		if Date(calendar.Date{}) != "" {
			t.Fatal("the zero Date is not written empty")
		}
	})
}
