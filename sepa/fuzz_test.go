package sepa

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkSEPAText fails t unless s is well-formed Text output: SEPA characters
// only, at most max of them, trimmed, no double spaces.
func checkSEPAText(t *testing.T, s string, max int) {
	t.Helper()
	if utf8.RuneCountInString(s) > max {
		t.Fatalf("%q has %d runes, more than %d", s, utf8.RuneCountInString(s), max)
	}
	for i := 0; i < len(s); i++ {
		if !isSEPAByte(s[i]) {
			t.Fatalf("%q has %q at %d, outside the SEPA set", s, s[i], i)
		}
	}
	if strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
		t.Fatalf("%q is not trimmed and collapsed", s)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"Pharmacie de l’Église", "Laboratoire d'Analyses Œnone & Fils", "«\u00a0x\u00a0»",
		`a"b"c`, "e\u0301", "日本語", "\xff\xfe", "  ", "ß", "…", "-–—",
	} {
		f.Add(s, 70)
	}
	f.Add("abc def", 4)
	f.Add("œ", 1)
	f.Add("x", -5)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 300 // keep the interesting range; negative stays negative
		got := Text(s, max)
		if max <= 0 {
			if got != "" {
				t.Fatalf("Text(%q, %d) = %q, want \"\"", s, max, got)
			}
			return
		}
		checkSEPAText(t, got, max)
		if again := Text(got, max); again != got {
			t.Fatalf("Text is not idempotent: %q → %q → %q", s, got, again)
		}
	})
}

func FuzzRemittance(f *testing.F) {
	f.Add("Factures ", "F-1", "F-2", 30)
	f.Add("Règlement ", "«x»", "", 200)
	f.Add("Lot ", "x«", "»y", 60)
	f.Fuzz(func(t *testing.T, prefix, a, b string, n int) {
		n = max(n, 0) % 500
		refs := make([]string, n)
		for i := range refs {
			if i%2 == 0 {
				refs[i] = a
			} else {
				refs[i] = b
			}
		}
		got := Remittance(prefix, refs)
		checkSEPAText(t, got, maxUstrd)
		if want := remittanceWhole(prefix, refs); got != want {
			t.Fatalf("Remittance(%q, %d refs %q/%q) = %q, but from the whole list %q", prefix, n, a, b, got, want)
		}
	})
}

// remittanceWhole is Remittance as it was written before RemittanceBuilder,
// from the whole list of refs at once: the builder, which keeps only the
// refs it can show, must give the same text.
func remittanceWhole(prefix string, refs []string) string {
	var kept []string
	for _, r := range refs {
		if convert(r) != "" {
			kept = append(kept, r)
		}
	}
	if s := convert(prefix + strings.Join(kept, ", ")); len(s) <= maxUstrd {
		return s
	}
	best := ""
	for n := 0; n < len(kept); n++ {
		s := convert(prefix + strings.Join(kept[:n], ", ") + " +" + strconv.Itoa(len(kept)-n))
		if len(s) > maxUstrd {
			break
		}
		best = s
	}
	if best == "" {
		suffix := " +" + strconv.Itoa(len(kept))
		best = strings.TrimLeft(Text(prefix, maxUstrd-len(suffix))+suffix, " ")
	}
	return best
}
