package cpamfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"

	"passd/money"
)

// CSVWriter returns the writer of the CSV claim batch: one row per claim
// line, the claim's fields repeated on each of its lines, after a header
// row. The first column is format_version so that a reader can tell
// versions apart row by row. Separator ';', decimal point, UTF-8 without
// BOM, CRLF line ends and RFC 4180 quoting. This file is for machines: to
// show claims to people in a spreadsheet, use package spreadsheet.
func CSVWriter() Writer { return csvWriter{} }

type csvWriter struct{}

func (csvWriter) Format() string      { return "csv" }
func (csvWriter) ContentType() string { return "text/csv; charset=utf-8" }

// csvColumns is the header row of format version 1. New columns go at the
// end (an additive change); reordering or renaming bumps FormatVersion.
var csvColumns = []string{
	"format_version", "batch_id", "batch_created_at",
	"claim_id", "invoice_id", "external_ref",
	"provider_kind", "provider_name", "provider_rpps", "provider_finess",
	"patient_file_number", "patient_last_name", "patient_first_name", "patient_birth_date", "patient_nir",
	"regime", "decision_reference", "care_date", "claim_amount",
	"line_number", "line_code", "line_quantity", "line_unit_price", "line_cpam_share",
}

// Write streams the batch, row by row, and checks at the end that the
// claims match the header (the CSV does not repeat the header's count and
// total: a reader recomputes them).
func (csvWriter) Write(w io.Writer, h Header, claims iter.Seq2[Claim, error]) error {
	if err := checkHeader(h); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	if err := cw.Write(csvColumns); err != nil {
		return fmt.Errorf("cpamfile: writing the batch: %w", err)
	}
	version, created := strconv.Itoa(FormatVersion), timestamp(h.CreatedAt)
	err := eachClaim(h, claims, func(_ int, c Claim) error {
		amount := money.Format(c.Amount)
		for i, l := range c.Lines {
			err := cw.Write([]string{
				version, h.BatchID, created,
				c.ID, c.InvoiceID, c.ExternalRef,
				c.Provider.Kind, c.Provider.Name, c.Provider.RPPS, c.Provider.FINESS,
				c.Patient.FileNumber, c.Patient.LastName, c.Patient.FirstName, c.Patient.BirthDate.String(), c.Patient.NIR,
				c.Regime, c.DecisionReference, c.CareDate.String(), amount,
				strconv.Itoa(i + 1), l.Code, strconv.Itoa(l.Quantity), money.Format(l.UnitPrice), money.Format(l.CPAMShare),
			})
			if err != nil {
				return fmt.Errorf("cpamfile: writing the batch: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cpamfile: writing the batch: %w", err)
	}
	return nil
}
