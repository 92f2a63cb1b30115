package ident

import "errors"

var (
	errRPPS         = errors.New("ident: rpps must be 11 digits")
	errFINESSLength = errors.New("ident: finess must be 9 characters")
	errFINESSChars  = errors.New("ident: finess must be digits, except a leading 2A or 2B")
)

// ParseRPPS validates a practitioner's RPPS number: exactly 11 digits.
//
// Real RPPS numbers end with a Luhn check digit, but whether every number in
// our data satisfies it is uncertain,
// so the key is deliberately not enforced: rejecting a real practitioner
// would block their invoices.
func ParseRPPS(s string) (string, error) {
	s = normalize(s)
	if len(s) != 11 || !allDigits(s) {
		return "", errRPPS
	}
	return s, nil
}

// ParseFINESS validates a facility's FINESS number: exactly 9 characters,
// all digits except that the first two may be 2A or 2B (Corsica).
//
// The last character is a check digit on real numbers; like the RPPS key it
// is not enforced because its rule for all our sources is uncertain.
func ParseFINESS(s string) (string, error) {
	s = normalize(s)
	if len(s) != 9 {
		return "", errFINESSLength
	}
	head := s[:2]
	if head != "2A" && head != "2B" && !allDigits(head) {
		return "", errFINESSChars
	}
	if !allDigits(s[2:]) {
		return "", errFINESSChars
	}
	return s, nil
}

var errCaisse = errors.New("ident: a caisse code must be 3 digits")

// CaisseLength is the digits of a CPAM's (caisse primaire) code, e.g. 931.
const CaisseLength = 3

// ParseCaisse validates a CPAM's code: exactly 3 digits.
func ParseCaisse(s string) (string, error) {
	s = normalize(s)
	if len(s) != CaisseLength || !allDigits(s) {
		return "", errCaisse
	}
	return s, nil
}
