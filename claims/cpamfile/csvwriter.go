package cpamfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"

	"passd/money"
	"passd/spreadsheet"
)

// CSVWriter returns the writer of the CSV claim batch: after a header row,
// one row per claim line (the claim's fields repeated on each of its
// lines), then one row per cancellation. The first column is
// format_version so that a reader can tell versions apart row by row, the
// second, record, says whether the row is a claim's line or a
// cancellation; a column that does not apply to the record is empty.
// Separator ';', decimal point, UTF-8 without BOM, CRLF line ends and RFC
// 4180 quoting. This file is for machines: to show claims to people in a
// spreadsheet, use package spreadsheet. People still open it in one, so
// its free text (references, names) is written as the finance CSVs write
// it: a cell that would start a formula gets a leading apostrophe
// (spreadsheet.Text).
func CSVWriter() Writer { return csvWriter{} }

type csvWriter struct{}

func (csvWriter) Format() string      { return "csv" }
func (csvWriter) ContentType() string { return "text/csv; charset=utf-8" }

// csvColumns is the header row of format version 3. New columns go at the
// end (an additive change); reordering or renaming bumps FormatVersion.
var csvColumns = []string{
	"format_version", "record", "batch_id", "batch_created_at",
	"claim_id", "claim_kind", "sent_batch_id", "invoice_id", "external_ref",
	"provider_kind", "provider_name", "provider_rpps", "provider_finess",
	"patient_file_number", "patient_last_name", "patient_first_name", "patient_birth_date", "patient_nir",
	"regime", "decision_reference", "care_date", "claim_amount", "cancelled_on",
	"line_number", "line_code", "line_quantity", "line_unit_price", "line_cpam_share",
}

// The values of the record column.
const (
	recordClaim        = "claim"
	recordCancellation = "cancellation"
)

// Write streams the batch, row by row, and checks that the claims and the
// cancellations match the header (the CSV does not repeat the header's
// counts and total: a reader recomputes them).
func (csvWriter) Write(w io.Writer, h Header, claims iter.Seq2[Claim, error], cancellations iter.Seq2[Cancellation, error]) error {
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
				version, recordClaim, h.BatchID, created,
				c.ID, c.Kind, "", c.InvoiceID, spreadsheet.Text(c.ExternalRef),
				c.Provider.Kind, spreadsheet.Text(c.Provider.Name), c.Provider.RPPS, c.Provider.FINESS,
				c.Patient.FileNumber, spreadsheet.Text(c.Patient.LastName), spreadsheet.Text(c.Patient.FirstName), c.Patient.BirthDate.String(), c.Patient.NIR,
				c.Regime, spreadsheet.Text(c.DecisionReference), c.CareDate.String(), amount, "",
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
	err = eachCancellation(h, cancellations, func(_ int, c Cancellation) error {
		err := cw.Write([]string{
			version, recordCancellation, h.BatchID, created,
			c.ClaimID, c.Kind, c.SentBatchID, c.InvoiceID, "",
			"", "", "", "",
			c.Patient.FileNumber, spreadsheet.Text(c.Patient.LastName), spreadsheet.Text(c.Patient.FirstName), c.Patient.BirthDate.String(), c.Patient.NIR,
			c.Regime, spreadsheet.Text(c.DecisionReference), "", money.Format(c.Amount), c.CancelledOn.String(),
			"", "", "", "", "",
		})
		if err != nil {
			return fmt.Errorf("cpamfile: writing the batch: %w", err)
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
