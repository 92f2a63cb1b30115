// Package text checks the free text and the closed lists of words passd
// takes from outside, whatever carried them (a JSON body, a web form): the
// rule and its wording are stated once, here, and the error names the
// field. It knows no limit of its own: each caller passes its domain's.
package text

import (
	"strings"
	"unicode/utf8"

	"passd/fault"
)

// Clean returns s trimmed of surrounding spaces once it holds at most max
// characters and no control character; "" is accepted.
func Clean(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", fault.Field(field, "%s is longer than %d characters", field, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fault.Field(field, "%s contains control characters", field)
		}
	}
	return s, nil
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
