package cpamfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"passd/calendar"
	"passd/money"
)

// JSONWriter returns the writer of the JSON claim batch:
//
//	{"format":"passd-claims","format_version":1,
//	 "batch":{"id":…,"created_at":…,"claim_count":…,"total":…},
//	 "claims":[{…},…]}
//
// The claims array is streamed, one claim per line; docs/claims-export.md
// describes every field.
func JSONWriter() Writer { return jsonWriter{} }

type jsonWriter struct{}

func (jsonWriter) Format() string      { return "json" }
func (jsonWriter) ContentType() string { return "application/json" }

type jsonBatch struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	ClaimCount int    `json:"claim_count"`
	Total      string `json:"total"`
}

type jsonProvider struct {
	Kind   string  `json:"kind"`
	Name   string  `json:"name"`
	RPPS   *string `json:"rpps"`
	FINESS *string `json:"finess"`
}

type jsonPatient struct {
	FileNumber string        `json:"file_number"`
	LastName   string        `json:"last_name"`
	FirstName  string        `json:"first_name"`
	BirthDate  calendar.Date `json:"birth_date"`
	NIR        *string       `json:"nir"`
}

type jsonLine struct {
	Code      string `json:"code"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
	CPAMShare string `json:"cpam_share"`
}

type jsonClaim struct {
	ID                string        `json:"id"`
	InvoiceID         string        `json:"invoice_id"`
	ExternalRef       string        `json:"external_ref"`
	Provider          jsonProvider  `json:"provider"`
	Patient           jsonPatient   `json:"patient"`
	Regime            string        `json:"regime"`
	DecisionReference string        `json:"decision_reference"`
	CareDate          calendar.Date `json:"care_date"`
	Lines             []jsonLine    `json:"lines"`
	Amount            string        `json:"amount"`
}

// Write streams the batch: the header first, then each claim as it comes,
// then the check that the claims match the header.
func (jsonWriter) Write(w io.Writer, h Header, claims iter.Seq2[Claim, error]) error {
	if err := checkHeader(h); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	batch, err := json.Marshal(jsonBatch{ID: h.BatchID, CreatedAt: timestamp(h.CreatedAt), ClaimCount: h.ClaimCount, Total: money.Format(h.Total)})
	if err != nil {
		return fmt.Errorf("cpamfile: encoding the batch header: %w", err)
	}
	fmt.Fprintf(bw, `{"format":%q,"format_version":%d,"batch":`, FormatName, FormatVersion)
	bw.Write(batch)
	bw.WriteString(`,"claims":[`)

	err = eachClaim(h, claims, func(i int, c Claim) error {
		b, err := json.Marshal(toJSONClaim(c))
		if err != nil {
			return fmt.Errorf("cpamfile: encoding claim %s: %w", c.ID, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		if _, err := bw.Write(b); err != nil { // bufio keeps the first error; stop early on it
			return fmt.Errorf("cpamfile: writing the batch: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// eachClaim checked that the header's count is the claims'.
	if h.ClaimCount > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cpamfile: writing the batch: %w", err)
	}
	return nil
}

func toJSONClaim(c Claim) jsonClaim {
	lines := make([]jsonLine, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = jsonLine{Code: l.Code, Quantity: l.Quantity,
			UnitPrice: money.Format(l.UnitPrice), CPAMShare: money.Format(l.CPAMShare)}
	}
	return jsonClaim{
		ID: c.ID, InvoiceID: c.InvoiceID, ExternalRef: c.ExternalRef,
		Provider: jsonProvider{Kind: c.Provider.Kind, Name: c.Provider.Name,
			RPPS: nullable(c.Provider.RPPS), FINESS: nullable(c.Provider.FINESS)},
		Patient: jsonPatient{FileNumber: c.Patient.FileNumber, LastName: c.Patient.LastName,
			FirstName: c.Patient.FirstName, BirthDate: c.Patient.BirthDate, NIR: nullable(c.Patient.NIR)},
		Regime: c.Regime, DecisionReference: c.DecisionReference, CareDate: c.CareDate,
		Lines: lines, Amount: money.Format(c.Amount),
	}
}

// nullable turns "" (unknown) into JSON null, so that a reader never takes
// an empty string for an identifier.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
