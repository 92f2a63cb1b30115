package cpamfile

import (
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
)

// FormatVersion is the version of the claim-batch format written by the
// JSON and CSV writers. Additive changes (a new field or a new trailing
// column) keep it; anything a reader of the previous version could
// misunderstand bumps it. Version 2 dropped the lines' labels: the
// provider's own words about the care are more than a claim needs, and the
// CPAM's referent sees identity and rights, not the care itself. Version 3
// adds cancellations (a rights correction can withdraw a claim already
// sent) and the claims' kind: a version 2 reader would take a cancellation
// row of the CSV for a claim, so the version moves.
const FormatVersion = 3

// FormatName identifies a passd claim batch in the JSON "format" member.
const FormatName = "passd-claims"

// Header describes a claim batch. ClaimCount, CancellationCount and Total
// are stated up front and checked against the claims and cancellations
// actually written, so a batch built from database queries cannot silently
// drop or duplicate one. Total is the claims' sum: a cancellation asks for
// nothing.
type Header struct {
	BatchID           string
	CreatedAt         time.Time
	ClaimCount        int
	CancellationCount int
	Total             decimal.Decimal
}

// Provider is the provider who gave the care. A practitioner has an RPPS, a
// facility a FINESS; the one it lacks is "".
type Provider struct {
	Kind   string // health_centre, general_practitioner, nurse, pharmacy, radiology or laboratory
	Name   string
	RPPS   string
	FINESS string
}

// Patient identifies the patient to the CPAM. NIR is "" when unknown: many
// PASS patients have none yet.
type Patient struct {
	FileNumber string
	LastName   string
	FirstName  string
	BirthDate  calendar.Date
	NIR        string
}

// Line is one act of the invoice and the CPAM's share of it: the act's
// code, not the provider's label of it.
type Line struct {
	Code      string
	Quantity  int
	UnitPrice decimal.Decimal
	CPAMShare decimal.Decimal
}

// Claim kinds, as files write them: an ordinary claim is the CPAM's share
// of a released invoice; a recovery asks for the CPAM's share of care the
// city had already paid or owed, once rights were recorded late.
const (
	KindClaim    = "claim"
	KindRecovery = "recovery"
)

// Claim is what the CPAM is asked to pay for one released invoice.
type Claim struct {
	ID          string
	Kind        string // KindClaim or KindRecovery
	InvoiceID   string
	ExternalRef string // the provider's own reference of the invoice
	Provider    Provider
	Patient     Patient
	// Regime is puma, puma_css or ame; DecisionReference is the CPAM's
	// reference of the rights decision that covers the care.
	Regime            string
	DecisionReference string
	CareDate          calendar.Date
	Lines             []Line
	Amount            decimal.Decimal // the sum of the lines' CPAM shares
}

// Cancellation withdraws a claim sent in an earlier batch, which a rights
// correction made no longer owed. It names the claim as that batch sent it:
// its id, kind, amount, regime and decision reference are the claim's own,
// never the patient's current rights.
type Cancellation struct {
	ClaimID           string
	Kind              string // the claim's: KindClaim or KindRecovery
	SentBatchID       string // the batch that carried the claim
	InvoiceID         string
	Patient           Patient
	Regime            string
	DecisionReference string
	Amount            decimal.Decimal // the claim's amount, which the CPAM is no longer asked for
	CancelledOn       calendar.Date   // the day passd cancelled the claim, in Paris
}

// Writer writes one claim batch. Claims and cancellations arrive from
// iterators because they are streamed from the database: a writer must not
// need them all in memory, and pulls the cancellations only once every
// claim is written. A B2 writer would be a third implementation.
type Writer interface {
	// Format names the format: "json", "csv" (a future "b2").
	Format() string
	// ContentType is the media type to serve the file with.
	ContentType() string
	// Write writes the batch to w: its claims, then its cancellations (a
	// nil iterator is none). It returns an iterator's first error, a write
	// error, or an error when a claim, a cancellation or the header breaks
	// an invariant; the output is then incomplete and must be discarded.
	Write(w io.Writer, h Header, claims iter.Seq2[Claim, error], cancellations iter.Seq2[Cancellation, error]) error
}

// WriterFor returns the writer of a format, "json" or "csv".
func WriterFor(format string) (Writer, bool) {
	switch format {
	case "json":
		return JSONWriter(), true
	case "csv":
		return CSVWriter(), true
	}
	return nil, false
}

// eachClaim checks each claim as it comes and hands it to write with its
// 0-based index; at the end it checks the claims against the header. Both
// writers go through it so that both refuse the same batches, and stop
// pulling claims at the first error.
func eachClaim(h Header, claims iter.Seq2[Claim, error], write func(i int, c Claim) error) error {
	count, total := 0, decimal.Zero
	for c, err := range claims {
		if err != nil {
			return fmt.Errorf("cpamfile: reading claims: %w", err)
		}
		if err := checkClaim(c); err != nil {
			return err
		}
		if err := write(count, c); err != nil {
			return err
		}
		count++
		total = total.Add(c.Amount)
	}
	if count != h.ClaimCount {
		return fmt.Errorf("cpamfile: batch %s announces %d claims but %d were written", h.BatchID, h.ClaimCount, count)
	}
	if !total.Equal(h.Total) {
		return fmt.Errorf("cpamfile: batch %s announces a total of %s but its claims sum to %s", h.BatchID, h.Total, total)
	}
	return nil
}

// eachCancellation is eachClaim for the cancellations, which the header
// counts too.
func eachCancellation(h Header, cancellations iter.Seq2[Cancellation, error], write func(i int, c Cancellation) error) error {
	count := 0
	if cancellations != nil {
		for c, err := range cancellations {
			if err != nil {
				return fmt.Errorf("cpamfile: reading cancellations: %w", err)
			}
			if err := checkCancellation(h, c); err != nil {
				return err
			}
			if err := write(count, c); err != nil {
				return err
			}
			count++
		}
	}
	if count != h.CancellationCount {
		return fmt.Errorf("cpamfile: batch %s announces %d cancellations but %d were written", h.BatchID, h.CancellationCount, count)
	}
	return nil
}

// checkCancellation refuses a cancellation that could not name a claim the
// CPAM received: without its id or the batch that sent it (an earlier one),
// of an unknown kind, without a date, or with an amount no claim has.
func checkCancellation(h Header, c Cancellation) error {
	switch {
	case c.ClaimID == "":
		return fmt.Errorf("cpamfile: a cancellation names no claim")
	case c.SentBatchID == "" || c.SentBatchID == h.BatchID:
		return fmt.Errorf("cpamfile: cancellation of claim %s: it must name the earlier batch that sent the claim", c.ClaimID)
	case !knownKind(c.Kind):
		return fmt.Errorf("cpamfile: cancellation of claim %s: unknown kind %q", c.ClaimID, c.Kind)
	case c.CancelledOn.IsZero():
		return fmt.Errorf("cpamfile: cancellation of claim %s has no date", c.ClaimID)
	case !cents(c.Amount):
		return fmt.Errorf("cpamfile: cancellation of claim %s: the amount must be non-negative with at most two decimals", c.ClaimID)
	}
	return nil
}

func knownKind(kind string) bool { return kind == KindClaim || kind == KindRecovery }

// checkClaim refuses a claim of an unknown kind, without lines, with a line
// a CPAM file cannot carry, or whose amount is not the sum of its lines'
// CPAM shares.
func checkClaim(c Claim) error {
	if !knownKind(c.Kind) {
		return fmt.Errorf("cpamfile: claim %s: unknown kind %q", c.ID, c.Kind)
	}
	if len(c.Lines) == 0 {
		return fmt.Errorf("cpamfile: claim %s has no lines", c.ID)
	}
	sum := decimal.Zero
	for i, l := range c.Lines {
		if l.Quantity < 1 {
			return fmt.Errorf("cpamfile: claim %s line %d: quantity %d is not positive", c.ID, i+1, l.Quantity)
		}
		if !cents(l.UnitPrice) || !cents(l.CPAMShare) {
			return fmt.Errorf("cpamfile: claim %s line %d: amounts must be non-negative with at most two decimals", c.ID, i+1)
		}
		sum = sum.Add(l.CPAMShare)
	}
	if !sum.Equal(c.Amount) {
		return fmt.Errorf("cpamfile: claim %s: amount %s is not the sum of its lines' CPAM shares (%s)", c.ID, c.Amount, sum)
	}
	return nil
}

// checkHeader refuses a header that could not describe any valid batch,
// before anything is written.
func checkHeader(h Header) error {
	if h.BatchID == "" {
		return fmt.Errorf("cpamfile: the batch has no id")
	}
	if h.ClaimCount < 0 || h.CancellationCount < 0 || !cents(h.Total) {
		return fmt.Errorf("cpamfile: batch %s: counts and total must be non-negative, the total with at most two decimals", h.BatchID)
	}
	return nil
}

// cents reports whether d is a non-negative amount with at most two
// decimals, the only amounts a batch carries.
func cents(d decimal.Decimal) bool {
	return d.Sign() >= 0 && d.Equal(d.Truncate(2))
}

// timestamp renders the batch creation time in UTC, RFC 3339, to the second.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
