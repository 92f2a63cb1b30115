package ident

import "errors"

var (
	errBICLength = errors.New("ident: bic must be 8 or 11 characters")
	errBICForm   = errors.New("ident: bic must be 6 letters (bank, country) then letters or digits")
)

// ParseBIC validates a BIC (ISO 9362) and returns it upper-cased. An 8- and
// an 11-character form are kept as given: both are valid in SEPA files, and
// appending "XXX" would only make stored values differ from what the
// provider gave us.
func ParseBIC(s string) (string, error) {
	s = normalize(s)
	if len(s) != 8 && len(s) != 11 {
		return "", errBICLength
	}
	if !allUpper(s[:6]) || !allAlnum(s[6:]) {
		return "", errBICForm
	}
	return s, nil
}
