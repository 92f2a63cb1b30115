package ident

import "errors"

var (
	errBICLength   = errors.New("ident: bic must be 8 or 11 characters")
	errBICForm     = errors.New("ident: bic must be 6 letters (bank, country) then letters or digits")
	errBICLocation = errors.New("ident: bic location code cannot start with 0 or 1 nor end with O")
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
	// The location code's first character is never 0 or 1 and its second
	// never O (the pain.001 schema's pattern): a BIC stored here must fit in
	// every SEPA file the city sends.
	if loc := s[6:8]; loc[0] == '0' || loc[0] == '1' || loc[1] == 'O' {
		return "", errBICLocation
	}
	return s, nil
}
