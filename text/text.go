// Package text checks the free text and the closed lists of words passd
// takes from outside, whatever carried them (a JSON body, a web form): the
// rule and its wording are stated once, here, and the error names the
// field. It knows no limit of its own: each caller passes its domain's.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"passd/fault"
)

// Clean returns s trimmed of surrounding spaces and in Unicode's composed
// form (NFC) once it holds at most max characters, no control character
// (C0, DEL or C1) and no format character (category Cf: bidi overrides
// and isolates, zero-width spaces and joiners, marks, byte order marks);
// "" is accepted. Those characters are refused rather than removed: they
// do not show, so a name or a reference holding one could pass for
// another, or be shown reordered ("U+202E"). The composed form is what
// duplicates are looked up by, so that an "é" typed as one character or
// as "e" and its accent is one value.
func Clean(field, s string, max int) (string, error) {
	// A JSON body is valid UTF-8 (package api checks it); a form's value
	// may not be, and PostgreSQL would refuse it with a 500.
	if !utf8.ValidString(s) {
		return "", fault.Field(field, "%s is not valid UTF-8", field)
	}
	s = strings.TrimSpace(s)
	for _, r := range s {
		if isControl(r) {
			return "", fault.Field(field, "%s contains control characters", field)
		}
		if unicode.Is(unicode.Cf, r) {
			return "", fault.Field(field, "%s contains invisible formatting characters", field)
		}
	}
	s = norm.NFC.String(s)
	if utf8.RuneCountInString(s) > max {
		return "", fault.Field(field, "%s is longer than %d characters", field, max)
	}
	return s, nil
}

// isControl reports whether r is a control character: C0, DEL or C1
// (U+0080 to U+009F, which a text decoded as Latin-1 by mistake carries).
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// Required is Clean for a value that must not be blank.
func Required(field, s string, max int) (string, error) {
	s, err := Clean(field, s, max)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fault.Field(field, "%s is required", field)
	}
	return s, nil
}

// MaxWord is the longest word of a closed list (a status, a regime) read.
const MaxWord = 64

// OneOf returns s, trimmed, as one of allowed, a typed list (statuses,
// kinds, regimes): the error lists the very values the caller accepts.
func OneOf[T ~string](field, s string, allowed ...T) (T, error) {
	s, err := Required(field, s, MaxWord)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if s == string(a) {
			return a, nil
		}
	}
	return "", fault.Field(field, "%s must be one of %s", field, JoinValues(allowed))
}

// JoinValues writes a list of allowed values for an error message: "a, b, c".
func JoinValues[T ~string](values []T) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
