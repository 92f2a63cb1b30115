package main

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// queries are n queries of case ci (an index in allSearchCases), each
// drawn from a file picked at random (the next one that can be looked up
// that way), the same ones for the same world.
func (w searchWorld) queries(ci, n int) ([]searchQuery, error) {
	out := make([]searchQuery, 0, n)
	for i := range n {
		h := mix(uint64(ci)<<32 | uint64(i))
		for k := range uint64(len(w.files)) {
			q := int((h + k) % uint64(len(w.files)))
			if text, ok := queryText(allSearchCases[ci], w.files[q], i, mix(h+k)); ok {
				out = append(out, searchQuery{Text: text, Want: w.files[q].FileNumber})
				break
			}
		}
		if len(out) == i {
			return nil, fmt.Errorf("bench: search: no file of %d can be looked up by %s", len(w.files), allSearchCases[ci])
		}
	}
	return out, nil
}

// queryText is what a coordinator looking for f types in case name, the
// i-th query of it; h picks among the ways to type it. ok is false when
// f cannot be looked up that way (no NIR, no accent in its surname).
func queryText(name string, f searchFile, i int, h uint64) (string, bool) {
	switch name {
	case "surname-part":
		letters := []rune(plainLetters(f.LastName))
		if len(letters) < 3 {
			return "", false
		}
		part := window(letters, 3+int(h%2), -1, h>>8)
		// A capital first, every third time, unless it would not come
		// back as the letter it was (ı).
		if r := []rune(part); i%3 == 0 && unicode.ToLower(unicode.ToUpper(r[0])) == r[0] {
			r[0] = unicode.ToUpper(r[0])
			part = string(r)
		}
		return part, true
	case "surname-part-accents":
		part, ok := accentedPart(f.LastName, h)
		if ok && i%2 == 0 {
			part = strings.ToUpper(part)
		}
		return part, ok
	case "full-name":
		switch i % 3 {
		case 0:
			return f.LastName + " " + f.FirstName, true
		case 1:
			return f.FirstName + " " + f.LastName, true
		}
		return strings.ToLower(stripMarks(f.LastName + " " + f.FirstName)), true
	case "birth-date":
		return fmt.Sprintf("%02d/%02d/%04d", f.BirthDate.Day(), int(f.BirthDate.Month()), f.BirthDate.Year()), true
	case "file-number-part":
		counter := f.FileNumber[strings.LastIndexByte(f.FileNumber, '-')+1:]
		return counter[[]int{0, 2, 1}[i%3]:], true // six, four or five digits
	case "nir":
		n := f.NIR
		if n == "" {
			return "", false
		}
		if i%2 == 0 { // as printed on the card
			n = strings.Join([]string{n[:1], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:]}, " ")
		}
		return n, true
	}
	panic("passd-bench: unknown search case " + name)
}

// window is size runes of s (all of it when shorter) that hold rune must
// (-1: any), starting at the beginning half the time, as names are mostly
// typed from their start.
func window(s []rune, size, must int, h uint64) string {
	size = min(size, len(s))
	lo, hi := 0, len(s)-size // where the window may start
	if must >= 0 {
		lo, hi = max(0, must-size+1), min(must, hi)
	}
	start := lo
	if h%2 == 1 {
		start += int((h >> 1) % uint64(hi-lo+1))
	}
	return string(s[start : start+size])
}

// accentedPart is 3 or 4 letters of a word of surname, with an accented
// letter among them, when one of its words of 3 letters or more has one.
// An accent is a mark NFD sets apart: ı or ø, which have none, would not
// come back from capitals as they were.
func accentedPart(surname string, h uint64) (string, bool) {
	for _, word := range strings.FieldsFunc(surname, func(r rune) bool { return !unicode.IsLetter(r) }) {
		r := []rune(word)
		if len(r) < 3 {
			continue
		}
		for at, c := range r {
			if len([]rune(norm.NFD.String(string(c)))) > 1 {
				return window(r, 3+int(h%2), at, h>>8), true
			}
		}
	}
	return "", false
}

// stripMarks is s without its accents, as typed on a keyboard that has
// none (the letters NFD leaves whole stay).
func stripMarks(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainLetters is the letters of s without their accents, in lower case.
func plainLetters(s string) string {
	var b strings.Builder
	for _, r := range stripMarks(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
