package sepa

import (
	"strconv"
	"strings"
)

// Text converts s to the SEPA (EPC) Latin character set: a–z A–Z 0–9
// / - ? : ( ) . , ' + and space, the only characters every bank in the
// scheme must carry. Names and remittance text come from providers and
// invoices in any UTF-8, and a bank may reject a whole file for one "é".
//
// Accented Latin letters lose their accent (é→e, Ç→C, ș→s) and ligatures are
// spelled out (œ→oe, Œ→OE, æ→ae, ß→ss); typographic apostrophes (’ ‘ ´ `)
// become '; dashes (– —) become -; "&" becomes "+"; double quotes (" « » “ ”)
// vanish, or become a space when they stand between two letters or digits;
// combining accents and invisible characters (soft hyphen, zero-width
// spaces) vanish; every other character becomes a space. Runs of spaces
// collapse to one, the result is trimmed and then cut to at most max
// characters (runes and bytes alike, as the result is ASCII) without a
// trailing space. max ≤ 0 gives "".
func Text(s string, max int) string {
	if max <= 0 {
		return ""
	}
	out := convert(s)
	if len(out) > max {
		out = strings.TrimRight(out[:max], " ")
	}
	return out
}

// quoteMark stands for a double quote between the two passes of convert: it
// is never a SEPA character, so it cannot be confused with converted text.
const quoteMark = 0

// convert is Text without the length limit.
func convert(s string) string {
	if clean(s) {
		return s
	}
	// Pass 1: map every rune to SEPA characters, quoteMark or nothing.
	mapped := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80 && isSEPAByte(byte(r)):
			mapped = append(mapped, byte(r))
		case r == '&':
			mapped = append(mapped, '+')
		case strings.ContainsRune(apostrophes, r):
			mapped = append(mapped, '\'')
		case strings.ContainsRune(doubleQuotes, r):
			mapped = append(mapped, quoteMark)
		case strings.ContainsRune(dashes, r):
			mapped = append(mapped, '-')
		case r == '…':
			mapped = append(mapped, "..."...)
		case 0x300 <= r && r <= 0x36F, strings.ContainsRune(invisible, r):
			// Combining accents (decomposed "e" + U+0301) and invisible
			// characters: the letter they belong to is already written.
		default:
			if rep, ok := latinFold[r]; ok {
				mapped = append(mapped, rep...)
			} else {
				mapped = append(mapped, ' ')
			}
		}
	}

	// Pass 2: resolve quotes, collapse spaces, trim. It writes over mapped
	// as it reads it: a run of quotes gives at most one space, so the
	// write position never passes the read position.
	out := mapped[:0]
	for i := 0; i < len(mapped); i++ {
		c := mapped[i]
		if c == quoteMark {
			// A space only between two letters or digits (l"abc"d), else
			// nothing: «Centre "Les Lilas", Paris» keeps its comma tight.
			j := i + 1
			for j < len(mapped) && mapped[j] == quoteMark {
				j++
			}
			if len(out) > 0 && isAlnum(out[len(out)-1]) && j < len(mapped) && isAlnum(mapped[j]) {
				out = append(out, ' ')
			}
			i = j - 1
			continue
		}
		if c == ' ' && (len(out) == 0 || out[len(out)-1] == ' ') {
			continue
		}
		out = append(out, c)
	}
	for len(out) > 0 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	return string(out)
}

// clean reports whether convert would give s back unchanged: SEPA
// characters only, no space at either end nor two in a row. Most names
// and references are, and then cost no allocation.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isSEPAByte(c) || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// Characters with a SEPA equivalent other than a space.
const (
	apostrophes  = "’‘´`ʼ′‛"
	doubleQuotes = "\"«»“”„‟‹›″"
	dashes       = "‐‑‒–—―−"
	invisible    = "\u00AD\u200B\u200C\u200D\u2060\uFEFF"
)

// isSEPAByte reports whether c is in the EPC character set.
func isSEPAByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("/-?:().,'+ ", c) >= 0
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// latinFold spells Latin letters with diacritics (Latin-1 Supplement, Latin
// Extended-A, the Romanian comma letters) and typographic ligatures (ﬁ, ﬂ…)
// in plain ASCII letters. The standard library has no Unicode decomposition,
// and this small table covers the names of the providers we pay.
var latinFold = func() map[rune]string {
	groups := []struct{ to, from string }{
		{"A", "ÀÁÂÃÄÅĀĂĄ"}, {"a", "àáâãäåāăąª"},
		{"AE", "Æ"}, {"ae", "æ"},
		{"C", "ÇĆĈĊČ"}, {"c", "çćĉċč"},
		{"D", "ÐĎĐ"}, {"d", "ðďđ"},
		{"E", "ÈÉÊËĒĔĖĘĚ"}, {"e", "èéêëēĕėęě"},
		{"G", "ĜĞĠĢ"}, {"g", "ĝğġģ"},
		{"H", "ĤĦ"}, {"h", "ĥħ"},
		{"I", "ÌÍÎÏĨĪĬĮİ"}, {"i", "ìíîïĩīĭįı"},
		{"IJ", "Ĳ"}, {"ij", "ĳ"},
		{"J", "Ĵ"}, {"j", "ĵ"},
		{"K", "Ķ"}, {"k", "ķĸ"},
		{"L", "ĹĻĽĿŁ"}, {"l", "ĺļľŀł"},
		{"N", "ÑŃŅŇŊ"}, {"n", "ñńņňŉŋ"},
		{"O", "ÒÓÔÕÖØŌŎŐ"}, {"o", "òóôõöøōŏőº"},
		{"OE", "Œ"}, {"oe", "œ"},
		{"R", "ŔŖŘ"}, {"r", "ŕŗř"},
		{"S", "ŚŜŞŠȘ"}, {"s", "śŝşšșſ"},
		{"SS", "ẞ"}, {"ss", "ß"},
		{"T", "ŢŤŦȚ"}, {"t", "ţťŧț"},
		{"TH", "Þ"}, {"th", "þ"},
		{"U", "ÙÚÛÜŨŪŬŮŰŲ"}, {"u", "ùúûüũūŭůűų"},
		{"W", "Ŵ"}, {"w", "ŵ"},
		{"Y", "ÝŶŸ"}, {"y", "ýÿŷ"},
		{"Z", "ŹŻŽ"}, {"z", "źżž"},
		{"ff", "ﬀ"}, {"fi", "ﬁ"}, {"fl", "ﬂ"}, {"ffi", "ﬃ"}, {"ffl", "ﬄ"}, {"st", "ﬅﬆ"},
	}
	m := make(map[rune]string, 256)
	for _, g := range groups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()

// maxUstrd is the length of the unstructured remittance information
// (Max140Text), which the EPC rulebook also caps at 140.
const maxUstrd = 140

// Remittance builds the unstructured remittance text (Ustrd) that names the
// invoices a transfer pays: prefix followed by refs joined by ", ", in the
// SEPA character set. When that is longer than 140 characters, as many refs
// as fit are kept, in order, and " +N" says how many were left out, so that
// the provider still sees that the list goes on ("Factures PASS F-1, F-2 +3").
// refs that are empty once converted are ignored. If not even the prefix
// fits beside " +N", the prefix is cut.
func Remittance(prefix string, refs []string) string {
	b := NewRemittance(prefix)
	for _, r := range refs {
		b.Add(r)
	}
	return b.String()
}

// RemittanceBuilder builds the same text as Remittance from refs given one
// at a time, keeping only the refs that can still be shown (about 140
// characters of them) and counting the others, so that a transfer paying
// any number of invoices is built in constant memory. Its zero value is not
// usable: call NewRemittance.
type RemittanceBuilder struct {
	prefix string
	shown  []string // the first refs kept, until they alone pass the limit
	n      int      // every ref kept, shown or only counted
	full   bool     // prefix and shown already pass maxUstrd
}

// NewRemittance starts the remittance text of a transfer.
func NewRemittance(prefix string) *RemittanceBuilder {
	return &RemittanceBuilder{prefix: prefix}
}

// Add names one more invoice; a ref that is empty once converted is
// ignored, as Remittance ignores it.
func (b *RemittanceBuilder) Add(ref string) {
	if convert(ref) == "" {
		return
	}
	b.n++
	if b.full {
		return
	}
	b.shown = append(b.shown, ref)
	// Converting a longer text never gives a shorter one, so once the
	// shown refs alone pass the limit, no later ref can be shown: String
	// needs only how many there are.
	b.full = len(convert(b.prefix+strings.Join(b.shown, ", "))) > maxUstrd
}

// String returns the remittance text.
func (b *RemittanceBuilder) String() string {
	if !b.full {
		return convert(b.prefix + strings.Join(b.shown, ", "))
	}
	// Grow the shown list one ref at a time while the whole still fits; the
	// result is at most 140 characters, so this loop is short.
	best := ""
	for n := 0; n < len(b.shown) && n < b.n; n++ {
		s := convert(b.prefix + strings.Join(b.shown[:n], ", ") + " +" + strconv.Itoa(b.n-n))
		if len(s) > maxUstrd {
			break
		}
		best = s
	}
	if best == "" {
		suffix := " +" + strconv.Itoa(b.n)
		best = Text(b.prefix, maxUstrd-len(suffix)) + suffix
		best = strings.TrimLeft(best, " ")
	}
	return best
}
