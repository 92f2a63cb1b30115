package spreadsheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/money"
)

// bom tells spreadsheets the file is UTF-8; without it Excel reads it in
// the local code page and mangles every accent.
const bom = "\ufeff"

// Writer writes the rows of a spreadsheet CSV. It buffers: call Flush at
// the end and check its error.
type Writer struct {
	csv *csv.Writer
	err error // the first error, kept so that every later call reports it
}

// NewWriter returns a writer to w and writes the UTF-8 BOM first. A failure
// to write it is reported by the first Write or by Flush.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	_, err := io.WriteString(w, bom)
	if err != nil {
		err = fmt.Errorf("spreadsheet: writing the BOM: %w", err)
	}
	return &Writer{csv: cw, err: err}
}

// Write writes one row. Cells are written as given, quoted when they hold
// ';', a quote, a line break or a leading space: build them with Text,
// Amount and Date (see the package comment).
func (w *Writer) Write(cells ...string) error {
	if w.err != nil {
		return w.err
	}
	if err := w.csv.Write(cells); err != nil {
		w.err = fmt.Errorf("spreadsheet: %w", err)
	}
	return w.err
}

// Flush writes any buffered rows and returns the first error met while
// writing, if any.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		w.err = fmt.Errorf("spreadsheet: %w", err)
	}
	return w.err
}

// Text makes free text safe to open in a spreadsheet: a value starting with
// = + - @, a tab or a carriage return would be read as a formula (or as a
// way to smuggle one), so it gets a leading apostrophe and shows as text.
// The apostrophe is visible in the cell; that is the accepted price of never
// running a formula a patient's name or a provider's label carried.
func Text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Amount writes an amount as a French spreadsheet reads a number: two
// decimals after a comma, no thousands separator, a minus sign for
// negatives ("1234,56", "-12,50"). Like money.Format, a value with more than
// two decimals is rounded half away from zero. The result is never a
// formula, so it needs no Text.
func Amount(d decimal.Decimal) string {
	return strings.Replace(money.Format(d), ".", ",", 1)
}

// Date writes a date as DD/MM/YYYY, which a French spreadsheet reads as a
// date, or "" for the zero Date (no date).
func Date(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day(), int(d.Month()), d.Year())
}
