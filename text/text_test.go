package text

import (
	"strings"
	"testing"

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
