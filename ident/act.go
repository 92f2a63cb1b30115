package ident

import "errors"

// ActKind names the nomenclature an act code belongs to; it decides which
// tariff table prices the act.
type ActKind string

const (
	ActCCAM  ActKind = "ccam"  // medical acts: 4 letters + 3 digits, e.g. ZBQK002
	ActNGAP  ActKind = "ngap"  // a key: NGAP letters (G, AMI, IFD) or a pharmacy fee (HD)
	ActCIP13 ActKind = "cip13" // drugs: 34009 + 7 digits + EAN-13 check digit
	ActNABM  ActKind = "nabm"  // laboratory acts: 4 digits
	ActLPP   ActKind = "lpp"   // medical devices: 7 digits
)

var (
	errActUnknown = errors.New("ident: act code is not a known ccam, ngap, cip13, nabm or lpp code")
	errCIPPrefix  = errors.New("ident: cip13 must start with 34009")
	errCIPCheck   = errors.New("ident: cip13 check digit does not match")
)

// MaxKey is the length of the longest key: NGAP keys (G, AMI, IFD…) and
// the pharmacy's fee codes (HD) are one to six letters.
const MaxKey = 6

// ParseActCode recognises an act code by its shape and returns its kind and
// canonical (trimmed, upper-case) form. Shapes do not overlap: 7 letters and
// digits is CCAM, 7 digits LPP, 13 digits CIP13, 4 digits NABM, and one to
// MaxKey letters a key (ActNGAP: NGAP keys and pharmacy fee codes). Whether
// a key exists is the acts catalogue's to say (billing.Tariff), not its
// shape's. Anything else is an error rather than a guess.
func ParseActCode(s string) (ActKind, string, error) {
	s = normalize(s)
	switch {
	case len(s) == 7 && allUpper(s[:4]) && allDigits(s[4:]):
		return ActCCAM, s, nil
	case len(s) == 7 && allDigits(s):
		return ActLPP, s, nil
	case len(s) == 4 && allDigits(s):
		return ActNABM, s, nil
	case len(s) == 13 && allDigits(s):
		if s[:5] != "34009" {
			return "", "", errCIPPrefix
		}
		if int(s[12]-'0') != ean13Check(s[:12]) {
			return "", "", errCIPCheck
		}
		return ActCIP13, s, nil
	case len(s) >= 1 && len(s) <= MaxKey && allUpper(s):
		return ActNGAP, s, nil
	}
	return "", "", errActUnknown
}

// ean13Check returns the EAN-13 check digit of 12 ASCII digits: weights 1
// and 3 alternate from the left.
func ean13Check(d string) int {
	sum := 0
	for i := 0; i < 12; i++ {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += int(d[i]-'0') * w
	}
	return (10 - sum%10) % 10
}
