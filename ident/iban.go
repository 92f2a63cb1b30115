package ident

import (
	"errors"
	"strings"
)

var (
	errIBANChars   = errors.New("ident: iban has invalid characters")
	errIBANCountry = errors.New("ident: iban must start with a 2-letter country code")
	errIBANCheck   = errors.New("ident: iban check digits are invalid")
	errIBANLength  = errors.New("ident: iban length is wrong for its country")
	errIBANSum     = errors.New("ident: iban checksum does not match")
)

// ibanLengths holds the total IBAN length of the countries whose payees we
// are likeliest to meet. Other countries get the generic 15–34 bound; the
// checksum still catches typing errors there.
var ibanLengths = map[string]int{
	"AT": 20, "BE": 16, "CH": 21, "DE": 22, "ES": 24, "FR": 27, "GB": 22,
	"IE": 22, "IT": 27, "LU": 20, "MC": 27, "NL": 18, "PT": 25,
}

const ibanMinLen, ibanMaxLen = 15, 34

// ParseIBAN validates an IBAN (ISO 13616) and returns it without spaces, in
// upper case: country (2 letters), check digits (2 digits), then the BBAN
// (letters and digits), with the length the country requires and the
// mod-97 checksum equal to 1.
//
// Check digits 00, 01 and 99 are rejected even though 00 and 01 can satisfy
// the checksum (they alias 97 and 98): ISO 13616 never issues them.
func ParseIBAN(s string) (string, error) {
	s = normalizeSpaced(s)
	if !allAlnum(s) {
		return "", errIBANChars
	}
	if len(s) < 4 || !allUpper(s[:2]) {
		return "", errIBANCountry
	}
	if !allDigits(s[2:4]) {
		return "", errIBANCheck
	}
	if cd := twoDigits(s[2:4]); cd < 2 || cd > 98 {
		return "", errIBANCheck
	}
	if want, ok := ibanLengths[s[:2]]; ok {
		if len(s) != want {
			return "", errIBANLength
		}
	} else if len(s) < ibanMinLen || len(s) > ibanMaxLen {
		return "", errIBANLength
	}
	if ibanMod97(s) != 1 {
		return "", errIBANSum
	}
	return s, nil
}

// ibanMod97 moves the first four characters to the end, reads letters as
// 10–35, and returns the remainder by 97, digit by digit (no big integers).
func ibanMod97(s string) int {
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

// FormatIBAN returns s without spaces, upper-cased and grouped by four for
// display ("FR76 3000 6000 …"). It does not validate: pass it an IBAN that
// ParseIBAN accepted.
func FormatIBAN(s string) string {
	s = normalizeSpaced(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	n := 0
	for _, r := range s { // by rune, so junk input never splits a character
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
