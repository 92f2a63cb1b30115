package ident

import "testing"

// FuzzParseID checks that an accepted id is the canonical form of a
// positive integer.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "42", "0", "-1", "+1", "01", "1e3", "1.5", " 1", "1 ", "9223372036854775807", "9223372036854775808",
		"9999999999999999999999", "١", "１", "1\x00", "0x1", "1' OR '1'='1", "..%2f..%2fetc%2fpasswd", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if id != 0 {
				t.Fatalf("ParseID(%q) = %d with error %v", s, id, err)
			}
			return
		}
		if id <= 0 || FormatID(id) != s {
			t.Fatalf("ParseID(%q) = %d", s, id)
		}
	})
}
