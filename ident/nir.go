package ident

import "errors"

var (
	errNIRChars   = errors.New("ident: nir has invalid characters")
	errNIRLength  = errors.New("ident: nir must be 15 characters")
	errNIRSex     = errors.New("ident: nir sex digit is invalid")
	errNIRYear    = errors.New("ident: nir birth year is invalid")
	errNIRMonth   = errors.New("ident: nir month is invalid")
	errNIRDept    = errors.New("ident: nir department is invalid")
	errNIRSerial  = errors.New("ident: nir commune or order number is invalid")
	errNIRKeyForm = errors.New("ident: nir key must be two digits")
	errNIRKey     = errors.New("ident: nir key does not match")
)

// ParseNIR validates a French social security number (NIR, or the
// provisional NIA many PASS patients hold) and returns it as 15 characters
// without spaces: 13 characters then the 2-digit key.
//
// Layout: sex (1, 2; provisional 7, 8), birth year (2 digits), birth month
// (01–12; 20–42 and 50–99 occur on provisional or incomplete records),
// department (01–99, 99 = born abroad, or 2A/2B for Corsica), commune or
// country (3 digits), order number (3 digits), key. The key is
// 97 − (number mod 97), computed after replacing 2A by 19 and 2B by 18.
func ParseNIR(s string) (string, error) {
	s = normalizeSpaced(s)
	if !allAlnum(s) {
		return "", errNIRChars
	}
	if len(s) != 15 {
		return "", errNIRLength
	}
	switch s[0] {
	case '1', '2', '7', '8':
	default:
		return "", errNIRSex
	}
	if !allDigits(s[1:3]) {
		return "", errNIRYear
	}
	if !allDigits(s[3:5]) {
		return "", errNIRMonth
	}
	if m := twoDigits(s[3:5]); !(1 <= m && m <= 12 || 20 <= m && m <= 42 || 50 <= m) {
		return "", errNIRMonth
	}
	dept := s[5:7]
	if dept != "2A" && dept != "2B" && (!allDigits(dept) || dept == "00") {
		return "", errNIRDept
	}
	if !allDigits(s[7:13]) {
		return "", errNIRSerial
	}
	if !allDigits(s[13:15]) {
		return "", errNIRKeyForm
	}
	if twoDigits(s[13:15]) != nirKey(s[:13]) {
		return "", errNIRKey
	}
	return s, nil
}

// nirKey computes the key of a 13-character NIR body already checked to be
// digits except for a possible 2A/2B department. The remainder is taken digit
// by digit so that no integer can overflow.
func nirKey(body string) int {
	switch body[5:7] {
	case "2A":
		body = body[:5] + "19" + body[7:]
	case "2B":
		body = body[:5] + "18" + body[7:]
	}
	return 97 - mod97(body)
}

// mod97 returns the remainder by 97 of a string of ASCII digits of any
// length, one digit at a time.
func mod97(digits string) int {
	r := 0
	for i := 0; i < len(digits); i++ {
		r = (r*10 + int(digits[i]-'0')) % 97
	}
	return r
}
