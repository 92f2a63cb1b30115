package sepa

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/ident"
)

// Debtor is the city's régie account, from which every transfer of a file
// is paid.
type Debtor struct{ Name, IBAN, BIC string }

// Transfer is one payment to a provider (one CdtTrfTxInf).
type Transfer struct {
	EndToEndID   string          // unique within the file, ≤ 35 chars, SEPA charset
	CreditorName string          // any UTF-8; converted with Text(…, 70)
	IBAN, BIC    string          // already validated/normalised by the caller (no spaces, upper case)
	Amount       decimal.Decimal // > 0, 2 decimals max
	Remittance   string          // Ustrd, converted with Text(…, 140)
}

// Message is everything in a file except its transfers. NbOfTxs and CtrlSum
// are written in the header, before the transfers, so the caller computes
// them beforehand (with SQL); Write checks them against the transfers it
// actually writes.
type Message struct {
	MsgID         string        // ≤ 35 chars
	PaymentInfoID string        // ≤ 35 chars
	CreatedAt     time.Time     // CreDtTm, written as local Paris time without offset like 2026-11-23T09:00:00 (ISODateTime)
	ExecutionDate calendar.Date // ReqdExctnDt (passd/calendar.Date; see calendar/date.go, String() gives YYYY-MM-DD)
	Debtor        Debtor
	NbOfTxs       int             // known beforehand (the caller counts with SQL)
	CtrlSum       decimal.Decimal // known beforehand
}

// Lengths from the schema (Max35Text, Max70Text) and the EPC rulebook.
const (
	maxID   = 35
	maxName = 70
)

// maxAmount is the largest amount of one SEPA credit transfer in the EPC
// rulebook (AT-04): 999,999,999.99 €.
var maxAmount = decimal.New(99999999999, -2)

// creDtTmLayout writes an ISODateTime as local time without an offset, the
// form banks expect in CreDtTm.
const creDtTmLayout = "2006-01-02T15:04:05"

// header is a Message checked and converted, ready to write.
type header struct {
	msgID, pmtInfID  string
	createdAt        string
	executionDate    string
	name, iban, bic  string
	nbOfTxs, ctrlSum string
	wantN            int
	wantSum          decimal.Decimal
}

func (m Message) check() (header, error) {
	h := header{wantN: m.NbOfTxs, wantSum: m.CtrlSum}
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	add("MsgID", checkID(m.MsgID))
	add("PaymentInfoID", checkID(m.PaymentInfoID))
	h.msgID, h.pmtInfID = m.MsgID, m.PaymentInfoID
	if m.CreatedAt.IsZero() {
		add("CreatedAt", errors.New("is not set"))
	}
	h.createdAt = m.CreatedAt.In(calendar.Paris()).Format(creDtTmLayout)
	if m.ExecutionDate.IsZero() {
		add("ExecutionDate", errors.New("is not set"))
	}
	h.executionDate = m.ExecutionDate.String()
	if h.name = Text(m.Debtor.Name, maxName); h.name == "" {
		add("Debtor.Name", errors.New("is empty in the SEPA character set"))
	}
	h.iban = m.Debtor.IBAN
	add("Debtor.IBAN", checkIBAN(m.Debtor.IBAN))
	h.bic = m.Debtor.BIC
	if m.Debtor.BIC == "" {
		add("Debtor.BIC", errors.New("is not set"))
	} else {
		add("Debtor.BIC", checkBIC(m.Debtor.BIC))
	}
	if m.NbOfTxs < 1 {
		add("NbOfTxs", fmt.Errorf("must be at least 1, got %d", m.NbOfTxs))
	}
	h.nbOfTxs = fmt.Sprint(m.NbOfTxs)
	if !m.CtrlSum.IsPositive() {
		add("CtrlSum", fmt.Errorf("must be positive, got %s", m.CtrlSum))
	} else if !hasCents(m.CtrlSum) {
		add("CtrlSum", fmt.Errorf("has more than two decimals: %s", m.CtrlSum))
	}
	h.ctrlSum = m.CtrlSum.StringFixed(2)
	if err := errors.Join(errs...); err != nil {
		return header{}, fmt.Errorf("sepa: message %q: %w", m.MsgID, err)
	}
	return h, nil
}

// txn is a Transfer checked and converted, ready to write.
type txn struct {
	endToEndID string
	name       string
	iban, bic  string // bic may be empty: SEPA transfers may name the IBAN only
	amount     string
	ustrd      string // may be empty: RmtInf is then left out
}

func (t Transfer) check() (txn, error) {
	x := txn{endToEndID: t.EndToEndID, iban: t.IBAN, bic: t.BIC, ustrd: Text(t.Remittance, maxUstrd)}
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	add("EndToEndID", checkID(t.EndToEndID))
	if x.name = Text(t.CreditorName, maxName); x.name == "" {
		add("CreditorName", fmt.Errorf("%q is empty in the SEPA character set", t.CreditorName))
	}
	add("IBAN", checkIBAN(t.IBAN))
	if t.BIC != "" {
		add("BIC", checkBIC(t.BIC))
	}
	switch {
	case !t.Amount.IsPositive():
		add("Amount", fmt.Errorf("must be positive, got %s", t.Amount))
	case !hasCents(t.Amount):
		add("Amount", fmt.Errorf("has more than two decimals: %s", t.Amount))
	case t.Amount.GreaterThan(maxAmount):
		add("Amount", fmt.Errorf("%s is above the SEPA maximum of %s", t.Amount, maxAmount.StringFixed(2)))
	}
	x.amount = t.Amount.StringFixed(2)
	return x, errors.Join(errs...)
}

// hasCents reports whether d has at most two decimals.
func hasCents(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

// checkID checks a message, batch or end-to-end identifier: 1 to 35
// characters of the SEPA set, and, as the EPC requires of references, no
// "/" at either end, no "//", and no space at either end (XML readers may
// trim it).
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("is empty")
	case len(id) > maxID:
		return fmt.Errorf("%q is longer than %d characters", id, maxID)
	}
	for i := 0; i < len(id); i++ {
		if !isSEPAByte(id[i]) {
			return fmt.Errorf("%q has a character outside the SEPA set", id)
		}
	}
	switch {
	case id[0] == '/' || id[len(id)-1] == '/' || strings.Contains(id, "//"):
		return fmt.Errorf("%q must not start or end with / nor contain //", id)
	case id[0] == ' ' || id[len(id)-1] == ' ':
		return fmt.Errorf("%q must not start or end with a space", id)
	}
	return nil
}

// checkIBAN checks that iban is valid (country, length, checksum) and
// already in the canonical form ident.ParseIBAN returns, which also matches
// the schema's IBAN2007Identifier pattern.
func checkIBAN(iban string) error {
	canon, err := ident.ParseIBAN(iban)
	if err != nil {
		return fmt.Errorf("%q: %w", iban, err)
	}
	if canon != iban {
		return fmt.Errorf("%q is not normalised (want %q)", iban, canon)
	}
	return nil
}

// checkBIC checks bic against the schema's BICIdentifier pattern,
// [A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}, which is stricter than
// ident.ParseBIC (the location code cannot start with 0 or 1, nor end in O).
func checkBIC(bic string) error {
	ok := len(bic) == 8 || len(bic) == 11
	for i := 0; ok && i < len(bic); i++ {
		c := bic[i]
		upper, digit := 'A' <= c && c <= 'Z', '0' <= c && c <= '9'
		switch {
		case i < 6:
			ok = upper
		case i == 6:
			ok = upper || '2' <= c && c <= '9'
		case i == 7:
			ok = upper && c != 'O' || digit
		default:
			ok = upper || digit
		}
	}
	if !ok {
		return fmt.Errorf("%q is not a BIC (8 or 11 upper-case letters and digits)", bic)
	}
	return nil
}
