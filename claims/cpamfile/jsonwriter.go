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
//	{"format":"passd-claims","format_version":3,
//	 "batch":{"id":…,"created_at":…,"claim_count":…,"cancellation_count":…,"total":…},
//	 "claims":[{…},…],
//	 "cancellations":[{…},…]}
//
// Both arrays are streamed, one element per line; docs/claims-export.md
// describes every field.
func JSONWriter() Writer { return jsonWriter{} }

type jsonWriter struct{}

func (jsonWriter) Format() string      { return "json" }
func (jsonWriter) ContentType() string { return "application/json" }

type jsonBatch struct {
	ID                string `json:"id"`
	CreatedAt         string `json:"created_at"`
	ClaimCount        int    `json:"claim_count"`
	CancellationCount int    `json:"cancellation_count"`
	Total             string `json:"total"`
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
	Kind              string        `json:"kind"`
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

type jsonCancellation struct {
	ClaimID           string        `json:"claim_id"`
	Kind              string        `json:"kind"`
	SentBatchID       string        `json:"sent_batch_id"`
	InvoiceID         string        `json:"invoice_id"`
	Patient           jsonPatient   `json:"patient"`
	Regime            string        `json:"regime"`
	DecisionReference string        `json:"decision_reference"`
	Amount            string        `json:"amount"`
	CancelledOn       calendar.Date `json:"cancelled_on"`
}

// Write streams the batch: the header first, then each claim and each
// cancellation as it comes, each array followed by the check that it
// matches the header.
func (jsonWriter) Write(w io.Writer, h Header, claims iter.Seq2[Claim, error], cancellations iter.Seq2[Cancellation, error]) error {
	if err := checkHeader(h); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	batch, err := json.Marshal(jsonBatch{ID: h.BatchID, CreatedAt: timestamp(h.CreatedAt), ClaimCount: h.ClaimCount,
		CancellationCount: h.CancellationCount, Total: money.Format(h.Total)})
	if err != nil {
		return fmt.Errorf("cpamfile: encoding the batch header: %w", err)
	}
	fmt.Fprintf(bw, `{"format":%q,"format_version":%d,"batch":`, FormatName, FormatVersion)
	bw.Write(batch)
	bw.WriteString(`,"claims":[`)

	err = eachClaim(h, claims, func(i int, c Claim) error {
		return writeElement(bw, i, toJSONClaim(c), "claim "+c.ID)
	})
	if err != nil {
		return err
	}
	// eachClaim checked that the header's count is the claims'.
	if h.ClaimCount > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString(`],"cancellations":[`)
	err = eachCancellation(h, cancellations, func(i int, c Cancellation) error {
		return writeElement(bw, i, toJSONCancellation(c), "the cancellation of claim "+c.ClaimID)
	})
	if err != nil {
		return err
	}
	if h.CancellationCount > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cpamfile: writing the batch: %w", err)
	}
	return nil
}

// writeElement writes the i-th element of an array on a line of its own.
func writeElement(bw *bufio.Writer, i int, v any, what string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cpamfile: encoding %s: %w", what, err)
	}
	if i > 0 {
		bw.WriteByte(',')
	}
	bw.WriteByte('\n')
	if _, err := bw.Write(b); err != nil { // bufio keeps the first error; stop early on it
		return fmt.Errorf("cpamfile: writing the batch: %w", err)
	}
	return nil
}

func toJSONPatient(p Patient) jsonPatient {
	return jsonPatient{FileNumber: p.FileNumber, LastName: p.LastName, FirstName: p.FirstName, BirthDate: p.BirthDate, NIR: nullable(p.NIR)}
}

func toJSONCancellation(c Cancellation) jsonCancellation {
	return jsonCancellation{ClaimID: c.ClaimID, Kind: c.Kind, SentBatchID: c.SentBatchID, InvoiceID: c.InvoiceID,
		Patient: toJSONPatient(c.Patient), Regime: c.Regime, DecisionReference: c.DecisionReference,
		Amount: money.Format(c.Amount), CancelledOn: c.CancelledOn}
}

func toJSONClaim(c Claim) jsonClaim {
	lines := make([]jsonLine, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = jsonLine{Code: l.Code, Quantity: l.Quantity,
			UnitPrice: money.Format(l.UnitPrice), CPAMShare: money.Format(l.CPAMShare)}
	}
	return jsonClaim{
		ID: c.ID, Kind: c.Kind, InvoiceID: c.InvoiceID, ExternalRef: c.ExternalRef,
		Provider: jsonProvider{Kind: c.Provider.Kind, Name: c.Provider.Name,
			RPPS: nullable(c.Provider.RPPS), FINESS: nullable(c.Provider.FINESS)},
		Patient: toJSONPatient(c.Patient),
		Regime:  c.Regime, DecisionReference: c.DecisionReference, CareDate: c.CareDate,
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
