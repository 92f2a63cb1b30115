package referrals

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPersonFields: whatever a form or a body sends as a person, the
// checks never panic, and what they accept is within its limits, in
// valid UTF-8 without control characters, with a birth and a phone of
// their shapes.
func FuzzPersonFields(f *testing.F) {
	for _, s := range [][4]string{{"Le Goff", "1948", "06 12 34 56 78", "3 allée des Tilleuls"}, {"", "1948-03-02", "+33612", ""},
		{"\u202eX", "١٩٤٨", "06\x00", strings.Repeat("a", 400)}, {"Ødegård", "2026-02-30", "--", "\ufeff"}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, name, birth, phone, address string) {
		p, err := cleanIdentity(Identity{LastName: name, Birth: birth, Phone: phone, Address: address}, today, "optional")
		if err != nil {
			return
		}
		for _, v := range []string{p.LastName, p.Birth, p.Phone, p.Address} {
			if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }) {
				t.Fatalf("accepted %q", v)
			}
		}
		if utf8.RuneCountInString(p.LastName) > MaxName || utf8.RuneCountInString(p.Address) > MaxAddress || p.LastName == "" {
			t.Fatalf("accepted a name %q or an address %q out of bounds", p.LastName, p.Address)
		}
		if p.Birth != "" && len(p.Birth) != 4 && len(p.Birth) != 10 {
			t.Fatalf("accepted a birth %q", p.Birth)
		}
		if strings.Trim(p.Phone, "0123456789 .-+") != "" {
			t.Fatalf("accepted a phone %q", p.Phone)
		}
	})
}
