package ident

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

// refNIRKey is an independent big-integer implementation of the key, used to
// check both the samples below and the digit-by-digit code.
func refNIRKey(t *testing.T, body string) string {
	t.Helper()
	body = strings.Replace(strings.Replace(body, "2A", "19", 1), "2B", "18", 1)
	n, ok := new(big.Int).SetString(body, 10)
	if !ok {
		t.Fatalf("bad body %q", body)
	}
	k := 97 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return string([]byte{byte('0' + k/10), byte('0' + k%10)})
}

func TestNIRSamplesHaveReferenceKeys(t *testing.T) {
	t.Parallel()
	for _, s := range validNIRs {
		c := strings.ReplaceAll(s.want, " ", "")
		if got := refNIRKey(t, c[:13]); got != c[13:] {
			t.Errorf("%s: sample key %s, reference key %s", s.name, c[13:], got)
		}
	}
}

var validNIRs = []struct{ name, in, want string }{
	{"ordinary", "1 85 05 78 006 084 91", "185057800608491"},
	{"ordinary compact", "185057800608491", "185057800608491"},
	{"woman overseas 97", "2 81 07 97 105 123 45", "281079710512345"},
	{"corsica 2A", "2 90 03 2A 004 012 34", "290032A00401234"},
	{"corsica 2b lower case", " 1 72 11 2b 033 005 64 ", "172112B03300564"},
	{"provisional sex 7 month 30 abroad", "7 80 30 99 352 001 48", "780309935200148"},
	{"provisional sex 8 month 30 abroad", "8 80 30 99 216 045 57", "880309921604557"},
	{"month 62", "1 62 62 99 100 123 62", "162629910012362"},
	{"month 42 and key 01", "2 99 42 99 001 001 01", "299429900100101"},
	{"month 20", "1 99 20 99 001 001 87", "199209900100187"},
	{"key 97", "1 85 05 78 006 078 97", "185057800607897"},
	{"tabs and nbsp", "1\t85 05\u00a078 006 084 91", "185057800608491"},
}

func TestParseNIRValid(t *testing.T) {
	t.Parallel()
	for _, tc := range validNIRs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseNIR(tc.in)
			if err != nil {
				t.Fatalf("ParseNIR(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseNIR(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseNIRInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty", "", errNIRLength},
		{"blank", "   ", errNIRLength},
		{"too short", "18505780060849", errNIRLength},
		{"too long", "1850578006084910", errNIRLength},
		{"13 without key", "1850578006084", errNIRLength},
		{"dash", "1-85-05-78-006-084-91", errNIRChars},
		{"dot", "1.85.05.78.006.084.91", errNIRChars},
		{"non-ascii digit", "１85057800608491", errNIRChars},
		{"long s folds to S", "ſ85057800608491", errNIRChars},
		{"sex 3", "385057800608491", errNIRSex},
		{"sex 0", "085057800608491", errNIRSex},
		{"sex letter", "A85057800608491", errNIRSex},
		{"year letter", "1A5057800608491", errNIRYear},
		{"month 00", "185007800608491", errNIRMonth},
		{"month 13", "185137800608491", errNIRMonth},
		{"month 19", "185197800608491", errNIRMonth},
		{"month 43", "185437800608491", errNIRMonth},
		{"month 49", "185497800608491", errNIRMonth},
		{"month letter", "1850A7800608491", errNIRMonth},
		{"department 00", "185050000608491", errNIRDept},
		{"department 2C", "185052C00608491", errNIRDept},
		{"department A2", "18505A200608491", errNIRDept},
		{"2A outside department", "185057800602A91", errNIRSerial},
		{"commune letter", "18505780A608491", errNIRSerial},
		{"key letters", "1850578006084AB", errNIRKeyForm},
		{"key 36 from the brief", "1 85 05 78 006 084 36", errNIRKey},
		{"key off by one", "185057800608490", errNIRKey},
		{"key 00", "185057800608400", errNIRKey},
		{"key 98", "185057800608498", errNIRKey},
		{"2A key computed as 2B", "2 90 03 2B 004 012 34", errNIRKey},
		{"2A with the 20 key", "290032A00401235", errNIRKey},
		{"transposed digits", "158057800608491", errNIRKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseNIR(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseNIR(%q) = %q, %v; want error %v", tc.in, got, err, tc.want)
			}
			if got != "" {
				t.Fatalf("ParseNIR(%q) returned %q with an error", tc.in, got)
			}
		})
	}
}

func TestNIRKeyMatchesReference(t *testing.T) {
	t.Parallel()
	bodies := []string{"1850578006084", "290032A004012", "172112B033005", "0000000000000", "9999999999999", "2994299001001", "1850578006078"}
	for _, b := range bodies {
		k := nirKey(b)
		if got, want := string([]byte{byte('0' + k/10), byte('0' + k%10)}), refNIRKey(t, b); got != want {
			t.Errorf("nirKey(%s) = %s, want %s", b, got, want)
		}
	}
}

func TestParseRPPS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"10003456789", "10003456789", true},
		{" 10003456789\n", "10003456789", true},
		{"10003456780", "10003456780", true}, // the Luhn key is not enforced on purpose
		{"", "", false},
		{"1000345678", "", false},
		{"100034567890", "", false},
		{"1000345678A", "", false},
		{"1000 3456789", "", false},
		{"810003456789", "", false}, // the national id (8 + RPPS) is not an RPPS
		{"-1000345678", "", false},
	}
	for _, tc := range cases {
		got, err := ParseRPPS(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseRPPS(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, errRPPS) {
			t.Errorf("ParseRPPS(%q): unexpected error %v", tc.in, err)
		}
	}
}

func TestParseFINESS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"930000153", "930000153", true},
		{"750712184", "750712184", true},
		{"2A0000011", "2A0000011", true},
		{"2b0000029", "2B0000029", true},
		{"  130781230 ", "130781230", true},
		{"", "", false},
		{"93000015", "", false},
		{"9300001534", "", false},
		{"2C0000011", "", false},
		{"A20000011", "", false},
		{"93000015A", "", false},
		{"9300 0015", "", false},
		{"2A000001B", "", false},
		{"02A000001", "", false},
	}
	for _, tc := range cases {
		got, err := ParseFINESS(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseFINESS(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// refIBANValid is an independent big-integer check of ISO 13616 mod 97.
func refIBANValid(s string) bool {
	r := s[4:] + s[:4]
	var b strings.Builder
	for _, c := range r {
		if c >= 'A' && c <= 'Z' {
			b.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		} else {
			b.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	return new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

var validIBANs = []string{
	"FR7630006000011234567890189",
	"MC5811222000010123456789030",
	"DE89370400440532013000",
	"BE68539007547034",
	"ES9121000418450200051332",
	"IT60X0542811101000000123456",
	"LU280019400644750000",
	"NL91ABNA0417164300",
	"PT50000201231234567890154",
	"CH9300762011623852957",
	"GB29NWBK60161331926819",
	"AT611904300234573201",
	"IE29AIBK93115212345678",
	"NO9386011117947",                 // generic length, the shortest
	"MT84MALT011000012345MTLCAST001S", // generic length, letters in the BBAN
}

func TestParseIBANValid(t *testing.T) {
	t.Parallel()
	for _, want := range validIBANs {
		if !refIBANValid(want) {
			t.Fatalf("sample %s fails the reference checksum", want)
		}
		for _, in := range []string{want, FormatIBAN(want), strings.ToLower(FormatIBAN(want)), "  " + want + "\t"} {
			got, err := ParseIBAN(in)
			if err != nil || got != want {
				t.Errorf("ParseIBAN(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
	}
}

func TestParseIBANInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty", "", errIBANCountry},
		{"three chars", "FR7", errIBANCountry},
		{"digit country", "1R7630006000011234567890189", errIBANCountry},
		{"letter check digits", "FRA630006000011234567890189", errIBANCheck},
		{"check digits 00", "FR0030006000011234567890189", errIBANCheck},
		{"check digits 01", "FR0130006000011234567890189", errIBANCheck},
		{"check digits 99", "FR9930006000011234567890189", errIBANCheck},
		{"dash", "FR76-3000-6000-0112-3456-7890-189", errIBANChars},
		{"punctuation in bban", "FR763000600001123456789018.", errIBANChars},
		{"non-ascii", "FR763000600001123456789018９", errIBANChars},
		{"FR too short", "FR763000600001123456789018", errIBANLength},
		{"FR too long", "FR76300060000112345678901890", errIBANLength},
		{"DE at FR length", "DE8937040044053201300000000", errIBANLength},
		{"generic too short", "NO938601111794", errIBANLength},
		{"generic check digits 00", "XX00" + strings.Repeat("1", 31), errIBANCheck},
		{"generic 35", "XX12" + strings.Repeat("1", 31), errIBANLength},
		{"wrong checksum", "FR7630006000011234567890188", errIBANSum},
		{"swapped digits", "FR7630006000011234567890198", errIBANSum},
		{"letter changed", "GB29NWBK60161331926818", errIBANSum},
		{"wrong country same length", "MC7630006000011234567890189", errIBANSum},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseIBAN(tc.in)
			if !errors.Is(err, tc.want) || got != "" {
				t.Fatalf("ParseIBAN(%q) = %q, %v; want error %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseIBANAliasCheckDigits(t *testing.T) {
	t.Parallel()
	// Check digits 97/00 and 98/01 give the same remainder; only the issued
	// form may pass. Find valid IBANs with check digits 97 and 98 and flip them.
	for _, bban := range []string{"30006000011234567890189", "30006000011234567890100", "12345678901234567890123"} {
		for cd := 2; cd <= 98; cd++ {
			s := "FR" + string([]byte{byte('0' + cd/10), byte('0' + cd%10)}) + bban
			if !refIBANValid(s) {
				continue
			}
			if _, err := ParseIBAN(s); err != nil {
				t.Errorf("ParseIBAN(%q): %v", s, err)
			}
			alias := map[int]string{97: "00", 98: "01"}[cd]
			if alias != "" {
				if _, err := ParseIBAN("FR" + alias + bban); err == nil {
					t.Errorf("alias check digits %s accepted for %s", alias, s)
				}
			}
		}
	}
}

func TestFormatIBAN(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189"},
		{"fr76 3000 6000 0112 3456 7890 189", "FR76 3000 6000 0112 3456 7890 189"},
		{"BE68539007547034", "BE68 5390 0754 7034"},
		{"", ""},
		{"ab", "AB"},
		{"éééééé", "éééé éé"},
	}
	for _, tc := range cases {
		if got := FormatIBAN(tc.in); got != tc.want {
			t.Errorf("FormatIBAN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseBIC(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"BNPAFRPP", "BNPAFRPP", true},
		{"bnpafrppxxx", "BNPAFRPPXXX", true},
		{"CEPAFRPP751", "CEPAFRPP751", true},
		{" PSSTFRPPMON ", "PSSTFRPPMON", true},
		{"DEUTDEFF500", "DEUTDEFF500", true},
		{"AGRIMCM1", "AGRIMCM1", true},
		{"", "", false},
		{"BNPAFRP", "", false},
		{"BNPAFRPPX", "", false},
		{"BNPAFRPPXX", "", false},
		{"BNPAFRPPXXXX", "", false},
		{"BNP1FRPP", "", false},
		{"BNPAF1PP", "", false},
		{"BNPAFRP-", "", false},
		{"BNPA FRPP", "", false},
		{"BNPAFRPPXX_", "", false},
		{"BNPAFRPṔ", "", false},
		// The location code: 0 and 1 cannot start it, O cannot end it.
		{"AGRIFR1P", "", false},
		{"AGRIFR0P", "", false},
		{"AGRIFRPO", "", false},
		{"AGRIFR2P", "AGRIFR2P", true},
		{"AGRIFRP0", "AGRIFRP0", true},
	}
	for _, tc := range cases {
		got, err := ParseBIC(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseBIC(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseActCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		kind    ActKind
		want    string
		wantErr error
	}{
		{"ZBQK002", ActCCAM, "ZBQK002", nil},
		{" zbqk002 ", ActCCAM, "ZBQK002", nil},
		{"YYYY010", ActCCAM, "YYYY010", nil},
		{"G", ActNGAP, "G", nil},
		{"ami", ActNGAP, "AMI", nil},
		{"IFD", ActNGAP, "IFD", nil},
		{"B", ActNGAP, "B", nil},
		{"VG", ActNGAP, "VG", nil},
		{"MCI", ActNGAP, "MCI", nil},
		{"3400935955838", ActCIP13, "3400935955838", nil},
		{"3400930000007", ActCIP13, "3400930000007", nil},
		{"3400955012344", ActCIP13, "3400955012344", nil},
		{"0552", ActNABM, "0552", nil},
		{"1104", ActNABM, "1104", nil},
		{"1100012", ActLPP, "1100012", nil},
		{"3400935955837", "", "", errCIPCheck},
		{"3400935955839", "", "", errCIPCheck},
		{"3401935955838", "", "", errCIPPrefix},
		{"5901234123457", "", "", errCIPPrefix}, // a valid EAN-13 that is not a French drug
		{"", "", "", errActUnknown},
		{"Z", ActNGAP, "Z", nil}, // a key shape: the catalogue refuses it
		{"ZBQK02", "", "", errActUnknown},
		{"ZBQK0022", "", "", errActUnknown},
		{"ZBQ1002", "", "", errActUnknown},
		{"ZBQKA02", "", "", errActUnknown},
		{"ZBQK 002", "", "", errActUnknown},
		{"AMI 1.5", "", "", errActUnknown},
		{"055", "", "", errActUnknown},
		{"05521", "", "", errActUnknown},
		{"110001", "", "", errActUnknown},
		{"340093595583", "", "", errActUnknown},
		{"34009359558380", "", "", errActUnknown},
		{"XYZ", ActNGAP, "XYZ", nil}, // shaped as a key: the catalogue says whether it exists
		{"HD", ActNGAP, "HD", nil},
		{"ABCDEFG", "", "", errActUnknown}, // longer than any key
		{"AB1", "", "", errActUnknown},
		{"ſ", "", "", errActUnknown},
	}
	for _, tc := range cases {
		kind, got, err := ParseActCode(tc.in)
		if kind != tc.kind || got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("ParseActCode(%q) = %q, %q, %v; want %q, %q, %v", tc.in, kind, got, err, tc.kind, tc.want, tc.wantErr)
		}
	}
}

func TestErrorMessagesArePrefixed(t *testing.T) {
	t.Parallel()
	errs := []error{
		errNIRChars, errNIRLength, errNIRSex, errNIRYear, errNIRMonth, errNIRDept, errNIRSerial,
		errNIRKeyForm, errNIRKey, errRPPS, errFINESSLength, errFINESSChars, errIBANChars, errIBANCountry, errIBANCheck,
		errIBANLength, errIBANSum, errBICLength, errBICForm, errBICLocation, errActUnknown, errCIPPrefix, errCIPCheck,
	}
	for _, e := range errs {
		m := e.Error()
		if rest, ok := strings.CutPrefix(m, "ident: "); !ok || rest == "" || rest[:1] != strings.ToLower(rest[:1]) {
			t.Errorf("error %q is not lower-case with the ident: prefix", m)
		}
	}
	if errNIRKey.Error() != "ident: nir key does not match" {
		t.Errorf("errNIRKey = %q", errNIRKey)
	}
}

func TestParseCommune(t *testing.T) {
	for in, want := range map[string]string{
		"56121": "56121", " 75056 ": "75056", "2a004": "2A004", "2B033": "2B033",
		"97411": "97411", "97502": "97502", "98818": "98818", "01001": "01001",
	} {
		if got, err := ParseCommune(in); err != nil || got != want {
			t.Errorf("ParseCommune(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5612", "561210", "00123", "20004", "96001", "97911", "98101",
		"2C004", "56000", "97400", "5612A", "2A00B", "56 12"} {
		if got, err := ParseCommune(in); err == nil {
			t.Errorf("ParseCommune(%q) = %q, want an error", in, got)
		}
	}
}
