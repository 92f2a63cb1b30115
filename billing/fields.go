package billing

import (
	"strings"

	"passd/fault"
	"passd/text"
)

// identifier is a required identifier (an IBAN, a BIC) that parse reads
// into its canonical form; what names its kind in the error.
func identifier(field, what, s string, max int, parse func(string) (string, error)) (string, error) {
	s, err := text.Required(field, s, max)
	if err != nil {
		return "", err
	}
	out, err := parse(s)
	if err != nil {
		return "", fault.Field(field, "%s is not a valid %s: %s", field, what, strings.TrimPrefix(err.Error(), "ident: "))
	}
	return out, nil
}
