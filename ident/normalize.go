package ident

import (
	"strings"
	"unicode"
)

// normalize trims surrounding white space and upper-cases ASCII letters.
// Non-ASCII bytes are kept as they are so that the character checks reject
// them; strings.ToUpper would turn, say, "ſ" into "S" and accept junk.
func normalize(s string) string {
	return asciiUpper(strings.TrimSpace(s))
}

// normalizeSpaced is normalize plus removal of inner white space, for
// identifiers that people write in groups ("FR76 3000 …", "1 85 05 …").
func normalizeSpaced(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return asciiUpper(s)
}

func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) }
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func allAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) {
			return false
		}
	}
	return true
}

// twoDigits returns the value of two ASCII digits; callers check them first.
func twoDigits(s string) int {
	return int(s[0]-'0')*10 + int(s[1]-'0')
}
