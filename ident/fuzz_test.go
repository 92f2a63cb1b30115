package ident

import (
	"strings"
	"testing"
)

// checkCanonical asserts the properties every parser shares: an accepted
// value is its own canonical form, re-parses to itself, and carries neither
// white space nor lower case.
func checkCanonical(t *testing.T, name, in, got string, err error, parse func(string) (string, error)) {
	t.Helper()
	if err != nil {
		if got != "" {
			t.Fatalf("%s(%q) returned %q with error %v", name, in, got, err)
		}
		if !strings.HasPrefix(err.Error(), "ident: ") {
			t.Fatalf("%s(%q): error %q lacks the ident: prefix", name, in, err)
		}
		return
	}
	if strings.ContainsFunc(got, func(r rune) bool { return !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z') }) {
		t.Fatalf("%s(%q) = %q: canonical form has characters outside 0-9A-Z", name, in, got)
	}
	again, err := parse(got)
	if err != nil || again != got {
		t.Fatalf("%s(%q) = %q, but re-parsing gives %q, %v", name, in, got, again, err)
	}
	again, err = parse(" " + strings.ToLower(got) + "\n")
	if err != nil || again != got {
		t.Fatalf("%s: lower-cased %q gives %q, %v", name, got, again, err)
	}
}

// hostileIdentifiers seed every identifier fuzzer with what the hostile
// HTTP suite sends: injections, other scripts' digits, control characters.
var hostileIdentifiers = []string{
	"1' OR '1'='1", "1; DROP TABLE invoices; --", "<script>alert(1)</script>", "../../etc/passwd", "%s%s%n%x",
	"١٢٣٤٥٦٧٨٩٠١", "１２３４５６７８９０１", "10003456789\x00", "\x00", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "1e2", "-1", "\u00a010003456789",
}

func FuzzParseNIR(f *testing.F) {
	for _, s := range []string{
		"185057800608491", "1 85 05 78 006 084 91", "290032A00401234", "172112b03300564",
		"780309935200148", "880309921604557", "185057800608436", "", "2A", "ſ85057800608491",
		"1850578006084", "185052C00608491",
	} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNIR(s)
		checkCanonical(t, "ParseNIR", s, got, err, ParseNIR)
		if err != nil {
			return
		}
		if len(got) != 15 {
			t.Fatalf("ParseNIR(%q) = %q: not 15 characters", s, got)
		}
		// The grouped form people write must give the same canonical value.
		spaced := got[:1] + " " + got[1:3] + " " + got[3:5] + " " + got[5:7] + " " + got[7:10] + " " + got[10:13] + " " + got[13:]
		if again, err := ParseNIR(spaced); err != nil || again != got {
			t.Fatalf("spaced %q gives %q, %v; want %q", spaced, again, err, got)
		}
		// Any change to the last key digit must be caught.
		k := got[14]
		bad := got[:14] + string('0'+(k-'0'+1)%10)
		if _, err := ParseNIR(bad); err == nil {
			t.Fatalf("ParseNIR accepted both %q and %q", got, bad)
		}
	})
}

func FuzzParseRPPS(f *testing.F) {
	for _, s := range []string{"10003456789", " 10003456789 ", "1000345678", "1000345678A", ""} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRPPS(s)
		checkCanonical(t, "ParseRPPS", s, got, err, ParseRPPS)
		if err == nil && len(got) != 11 {
			t.Fatalf("ParseRPPS(%q) = %q", s, got)
		}
	})
}

func FuzzParseFINESS(f *testing.F) {
	for _, s := range []string{"930000153", "2A0000011", "2b0000029", "2C0000011", "93000015", ""} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFINESS(s)
		checkCanonical(t, "ParseFINESS", s, got, err, ParseFINESS)
		if err == nil && len(got) != 9 {
			t.Fatalf("ParseFINESS(%q) = %q", s, got)
		}
	})
}

func FuzzParseIBAN(f *testing.F) {
	for _, s := range validIBANs {
		f.Add(s)
		f.Add(FormatIBAN(s))
	}
	for _, s := range []string{"", "FR", "FR00", "FR0130006000011234567890189", "XX12", "fr76 3000 6000 0112 3456 7890 189", "FR76300060000112345678901ſ9"} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIBAN(s)
		checkCanonical(t, "ParseIBAN", s, got, err, ParseIBAN)
		_ = FormatIBAN(s) // must never panic, whatever it is given
		if err != nil {
			return
		}
		if !refIBANValid(got) {
			t.Fatalf("ParseIBAN(%q) = %q fails the reference checksum", s, got)
		}
		display := FormatIBAN(got)
		if strings.ReplaceAll(display, " ", "") != got {
			t.Fatalf("FormatIBAN(%q) = %q loses characters", got, display)
		}
		if again, err := ParseIBAN(display); err != nil || again != got {
			t.Fatalf("display form %q gives %q, %v; want %q", display, again, err, got)
		}
	})
}

func FuzzParseBIC(f *testing.F) {
	for _, s := range []string{"BNPAFRPP", "bnpafrppxxx", "CEPAFRPP751", "BNP1FRPP", "BNPAFRPPX", ""} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBIC(s)
		checkCanonical(t, "ParseBIC", s, got, err, ParseBIC)
		if err == nil && len(got) != 8 && len(got) != 11 {
			t.Fatalf("ParseBIC(%q) = %q", s, got)
		}
	})
}

func FuzzParseActCode(f *testing.F) {
	for _, s := range []string{"ZBQK002", "g", "AMI", "3400935955838", "3400935955837", "0552", "1100012", "", "AMI 1.5", "ſ"} {
		f.Add(s)
	}
	for _, s := range hostileIdentifiers {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, got, err := ParseActCode(s)
		if err != nil {
			if kind != "" || got != "" {
				t.Fatalf("ParseActCode(%q) = %q, %q with error %v", s, kind, got, err)
			}
			return
		}
		switch kind {
		case ActCCAM, ActNGAP, ActCIP13, ActNABM, ActLPP:
		default:
			t.Fatalf("ParseActCode(%q): unknown kind %q", s, kind)
		}
		parse := func(s string) (string, error) {
			k, c, err := ParseActCode(s)
			if err == nil && k != kind {
				t.Fatalf("kind changed from %q to %q on re-parse of %q", kind, k, s)
			}
			return c, err
		}
		checkCanonical(t, "ParseActCode", s, got, err, parse)
	})
}
