package text

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"passd/fault/faulttest"
)

type colour string

func TestChecks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in, want string
		check          func(string) (string, error)
		wantErr        string // "" when accepted
	}{
		{"trimmed", "  Diallo ", "Diallo", func(s string) (string, error) { return Clean("f", s, 6) }, ""},
		{"blank accepted", "  ", "", func(s string) (string, error) { return Clean("f", s, 6) }, ""},
		{"characters, not bytes", "éééééé", "éééééé", func(s string) (string, error) { return Clean("f", s, 6) }, ""},
		{"too long", "abcdefg", "", func(s string) (string, error) { return Clean("f", s, 6) }, "f is longer than 6 characters"},
		{"control", "a\u0007", "", func(s string) (string, error) { return Clean("f", s, 6) }, "f contains control characters"},
		{"DEL", "a\u007f", "", func(s string) (string, error) { return Clean("f", s, 6) }, "f contains control characters"},
		{"C1 control", "a\u0085b", "", func(s string) (string, error) { return Clean("f", s, 6) }, "f contains control characters"},
		{"C1 last", "a\u009f", "", func(s string) (string, error) { return Clean("f", s, 6) }, "f contains control characters"},
		{"right-to-left override", "abc\u202etxt", "", func(s string) (string, error) { return Clean("f", s, 9) },
			"f contains invisible formatting characters"},
		{"left-to-right embedding", "\u202aab", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"first strong isolate", "a\u2068b", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"pop directional isolate", "a\u2069", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"zero-width space", "a\u200bb", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"left-to-right mark", "a\u200e", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"byte order mark", "\ufeffab", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"soft hyphen", "a\u00adb", "", func(s string) (string, error) { return Clean("f", s, 6) },
			"f contains invisible formatting characters"},
		{"word joiner, in a required value", "a\u2060b", "", func(s string) (string, error) { return Required("f", s, 6) },
			"f contains invisible formatting characters"},
		{"decomposed made composed", "Re\u0301my", "R\u00e9my", func(s string) (string, error) { return Clean("f", s, 6) }, ""},
		{"composed kept", "R\u00e9my", "R\u00e9my", func(s string) (string, error) { return Required("f", s, 6) }, ""},
		{"length counted once composed", "e\u0301e\u0301e\u0301", "\u00e9\u00e9\u00e9", func(s string) (string, error) { return Clean("f", s, 3) }, ""},
		{"accents and other scripts kept", "Łódź 東京", "Łódź 東京", func(s string) (string, error) { return Clean("f", s, 9) }, ""},
		{"blank required", " ", "", func(s string) (string, error) { return Required("f", s, 6) }, "f is required"},
		{"one of", " red ", "red", func(s string) (string, error) { c, err := OneOf("f", s, colour("red"), "blue"); return string(c), err }, ""},
		{"not one of", "RED", "", func(s string) (string, error) { c, err := OneOf("f", s, colour("red"), "blue"); return string(c), err },
			"f must be one of red, blue"},
		{"word too long", strings.Repeat("r", MaxWord+1), "", func(s string) (string, error) { c, err := OneOf("f", s, colour("red")); return string(c), err },
			"f is longer than 64 characters"},
	} {
		got, err := c.check(c.in)
		if c.wantErr == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
			}
			continue
		}
		if fe := faulttest.RequireInvalid(t, err); fe.Field != "f" || fe.Message != c.wantErr {
			t.Errorf("%s: error %q on %q, want %q", c.name, fe.Message, fe.Field, c.wantErr)
		}
	}
}

// FuzzClean holds Clean's promise for any input: what it accepts is
// composed (NFC), free of control and format characters, within max
// characters, and accepted again unchanged.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Diallo", " Re\u0301my ", "a\u202eb", "\u200b", "a\u0085", "ﬁ\u0301", "\ufeff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Clean("f", s, 40)
		if err != nil {
			return
		}
		if !norm.NFC.IsNormalString(out) {
			t.Errorf("Clean(%q) = %q, not NFC", s, out)
		}
		for _, r := range out {
			if isControl(r) || unicode.Is(unicode.Cf, r) {
				t.Errorf("Clean(%q) = %q, holds %U", s, out, r)
			}
		}
		if utf8.RuneCountInString(out) > 40 {
			t.Errorf("Clean(%q) = %q, longer than 40 characters", s, out)
		}
		if again, err := Clean("f", out, 40); err != nil || again != out {
			t.Errorf("Clean(Clean(%q)) = %q, %v; want %q", s, again, err, out)
		}
	})
}

// TestCleanRefusesInvalidUTF8: a form may send bytes that are no text.
func TestCleanRefusesInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\xf6", "Ren\xe9", "a\xc0\xafb"} {
		if _, err := Clean("name", s, 100); err == nil {
			t.Errorf("Clean(%q) accepted it", s)
		}
	}
}
