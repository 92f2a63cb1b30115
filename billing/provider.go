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
	var err error
	if p.Kind, err = text.OneOf("kind", p.Kind, ProviderKinds...); err != nil {
		return err
	}
	if p.Name, err = text.Required("name", p.Name, MaxProviderName); err != nil {
		return err
	}
	// The name is the creditor of the city's SEPA transfers.
	if sepa.Text(p.Name, 70) == "" {
		return fault.Field("name", "name must contain Latin letters or digits: it is written in SEPA transfers")
	}
	if err := p.validateIDs(); err != nil {
		return err
	}
	if p.IBAN, err = identifier("iban", "IBAN", p.IBAN, maxIBANInput, ident.ParseIBAN); err != nil {
		return err
	}
	p.BIC, err = identifier("bic", "BIC", p.BIC, maxIDInput, ident.ParseBIC)
	return err
}

// validateIDs checks the RPPS and the FINESS, one at least.
func (p *Provider) validateIDs() error {
	rpps, err := text.Clean("rpps", p.RPPS, maxIDInput)
	if err != nil {
		return err
	}
	finess, err := text.Clean("finess", p.FINESS, maxIDInput)
	if err != nil {
		return err
	}
	if rpps == "" && finess == "" {
		return fault.Field("rpps", "at least one of rpps (11 digits) or finess (9 characters) is required")
	}
	p.RPPS, p.FINESS = "", ""
	if rpps != "" {
		if p.RPPS, err = ident.ParseRPPS(rpps); err != nil {
			return fault.Field("rpps", "rpps must be 11 digits")
		}
	}
	if finess != "" {
		if p.FINESS, err = ident.ParseFINESS(finess); err != nil {
			return fault.Field("finess", "finess must be 9 characters")
		}
	}
	return nil
}
