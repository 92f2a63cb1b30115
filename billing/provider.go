package billing

import (
	"time"

	"passd/fault"
	"passd/ident"
	"passd/sepa"
	"passd/text"
)

// Provider kinds.
const (
	KindHealthCentre = "health_centre"
	KindGP           = "general_practitioner"
	KindNurse        = "nurse"
	KindPharmacy     = "pharmacy"
	KindRadiology    = "radiology"
	KindLaboratory   = "laboratory"
)

// ProviderKinds lists every kind of partner provider.
var ProviderKinds = []string{KindHealthCentre, KindGP, KindNurse, KindPharmacy, KindRadiology, KindLaboratory}

// Provider is a partner provider the city may have to pay.
type Provider struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	Name      string    `db:"name"`
	RPPS      string    `db:"rpps"`   // practitioner id, or empty
	FINESS    string    `db:"finess"` // facility id, or empty
	IBAN      string    `db:"iban"`
	BIC       string    `db:"bic"`
	CreatedAt time.Time `db:"created_at"`
	// BankConfirmed: a finance user confirmed its bank details; no payout
	// to it is batched before.
	BankConfirmed bool `db:"bank_confirmed"`
	// DeactivatedAt: the provider left the programme (nil: it works with
	// it). It sends no new invoice; what it is owed is still paid.
	DeactivatedAt *time.Time `db:"deactivated_at"`
}

// The bounds of a provider's fields. The identifiers are bounded as typed,
// before their parsers read them.
const (
	MaxProviderName = 200
	maxIDInput      = 32 // RPPS, FINESS, BIC as typed
	maxIBANInput    = 64 // an IBAN as typed, spaces included
)

// Validate checks a provider as an admin typed it and puts its
// identifiers in their canonical form. Its errors name the field (kind,
// name, rpps, finess, iban, bic).
func (p *Provider) Validate() error {
	return fault.First(p.Problems())
}

// Problems checks every field of a provider, as Validate does, and
// returns each one's error, in Validate's order: a form shows them all at
// once rather than one per attempt. A field has one error at most.
func (p *Provider) Problems() []error {
	var out []error
	keep := fault.Collect(&out)
	var err error
	p.Kind, err = text.OneOf("kind", p.Kind, ProviderKinds...)
	keep(err)
	p.Name, err = text.Required("name", p.Name, MaxProviderName)
	// The name is the creditor of the city's SEPA transfers.
	if err == nil && sepa.Text(p.Name, 70) == "" {
		err = fault.Field("name", "name must contain Latin letters or digits: it is written in SEPA transfers")
	}
	keep(err)
	out = append(out, p.idProblems()...)
	p.IBAN, err = identifier("iban", "IBAN", p.IBAN, maxIBANInput, ident.ParseIBAN)
	keep(err)
	p.BIC, err = identifier("bic", "BIC", p.BIC, maxIDInput, ident.ParseBIC)
	keep(err)
	return out
}

// idProblems checks the RPPS and the FINESS, one at least: text that is no
// identifier first (the RPPS's, then the FINESS's), then a value that does
// not parse, as Validate has always told them.
func (p *Provider) idProblems() []error {
	rpps, rppsErr := text.Clean("rpps", p.RPPS, maxIDInput)
	finess, finessErr := text.Clean("finess", p.FINESS, maxIDInput)
	if rppsErr == nil && finessErr == nil && rpps == "" && finess == "" {
		return []error{fault.Field("rpps", "at least one of rpps (11 digits) or finess (9 characters) is required")}
	}
	var out []error
	for _, err := range []error{rppsErr, finessErr} {
		if err != nil {
			out = append(out, err)
		}
	}
	if rppsErr == nil {
		p.RPPS = ""
		if rpps != "" {
			var err error
			if p.RPPS, err = ident.ParseRPPS(rpps); err != nil {
				out = append(out, fault.Field("rpps", "rpps must be 11 digits"))
			}
		}
	}
	if finessErr == nil {
		p.FINESS = ""
		if finess != "" {
			var err error
			if p.FINESS, err = ident.ParseFINESS(finess); err != nil {
				out = append(out, fault.Field("finess", "finess must be 9 characters"))
			}
		}
	}
	return out
}
