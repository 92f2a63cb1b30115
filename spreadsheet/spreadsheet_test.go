package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
)

func TestWriterOutput(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	rows := [][]string{
		{"Patient", "Montant", "Date"},
		{Text("Zoé Nguyễn"), Amount(decimal.RequireFromString("1234.56")), Date(calendar.NewDate(2026, time.November, 22))},
		{Text("a;b"), Text(`dit "Jo"`), Text("ligne 1\nligne 2")},
		{Text(" espace"), "", Amount(decimal.RequireFromString("-12.5"))},
	}
	for _, r := range rows {
		if err := w.Write(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\ufeff" +
		"Patient;Montant;Date\r\n" +
		"Zoé Nguyễn;1234,56;22/11/2026\r\n" +
		"\"a;b\";\"dit \"\"Jo\"\"\";\"ligne 1\r\nligne 2\"\r\n" +
		"\" espace\";;-12,50\r\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	// A CSV reader configured like a French spreadsheet reads the cells back.
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
	r.Comma = ';'
	back, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if back[2][0] != "a;b" || back[2][1] != `dit "Jo"` || back[2][2] != "ligne 1\nligne 2" || back[1][1] != "1234,56" {
		t.Errorf("read back %q", back)
	}
}

func TestBOMWrittenEvenForAnEmptyFile(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := NewWriter(&buf).Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "\ufeff" {
		t.Errorf("got %q, want only the BOM", buf.String())
	}
}

func TestAmount(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"0", "0,00"},
		{"30", "30,00"},
		{"3.15", "3,15"},
		{"1234.56", "1234,56"},
		{"1234567.8", "1234567,80"},
		{"-12.5", "-12,50"},
		{"0.125", "0,13"},
		{"-0.125", "-0,13"},
	} {
		if got := Amount(decimal.RequireFromString(tt.in)); got != tt.want {
			t.Errorf("Amount(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	if got := Date(calendar.NewDate(2026, time.November, 22)); got != "22/11/2026" {
		t.Errorf("got %q", got)
	}
	if got := Date(calendar.NewDate(2027, time.January, 5)); got != "05/01/2027" {
		t.Errorf("got %q", got)
	}
	if got := Date(calendar.Date{}); got != "" {
		t.Errorf("zero date = %q", got)
	}
}

func TestTextNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://evil","x")`, `'=HYPERLINK("http://evil","x")`},
		{"+33 1 23", "'+33 1 23"},
		{"-12,50", "'-12,50"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"", ""},
		{"Dupont", "Dupont"},
		{"Jean-Marie", "Jean-Marie"},
		{"a=b", "a=b"},
		{"'déjà", "'déjà"},
		{"Éloïse", "Éloïse"},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Amounts are not text: a negative amount stays a number.
	if got := Amount(decimal.RequireFromString("-12.50")); strings.HasPrefix(got, "'") {
		t.Errorf("Amount was neutralised: %q", got)
	}
}

type brokenWriter struct{}

var errDisk = errors.New("disk full")

func (brokenWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestErrorsAreReported(t *testing.T) {
	t.Parallel()
	w := NewWriter(brokenWriter{})
	if err := w.Write("a"); !errors.Is(err, errDisk) {
		t.Errorf("Write after a failed BOM: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush: %v", err)
	}

	// A failure met only when the buffer is flushed is reported by Flush.
	fw := &failAfter{n: 3}
	w = NewWriter(fw)
	if err := w.Write("cell"); err != nil {
		t.Fatalf("Write is buffered: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush: %v", err)
	}
}

// failAfter accepts n bytes (the BOM) and then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDisk
	}
	f.n -= len(p)
	return len(p), nil
}
