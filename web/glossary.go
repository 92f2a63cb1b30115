package web

import (
	"html"
	"regexp"
)

// glossaryTerm is a word of the trade that the glossary page explains
// under the anchor ID.
type glossaryTerm struct {
	ID, Word string
	match    *regexp.Regexp
}

// glossaryTerms are the words a newcomer to the PASS or to a régie does
// not know, in the glossary's order. Everyday words the glossary also
// holds (CPAM, effecteur, lot) are left out: every page has them.
var glossaryTerms = []glossaryTerm{
	// PASS as a word, not the head of a file number (PASS-2026-000001).
	{ID: "pass", Word: "PASS", match: regexp.MustCompile(`\bPASS(?:[^-\pL\pN]|$)`)},
	{ID: "puma", Word: "PUMa", match: regexp.MustCompile(`\bPUMa\b`)},
	{ID: "css", Word: "CSS", match: regexp.MustCompile(`\bCSS\b`)},
	{ID: "ame", Word: "AME", match: regexp.MustCompile(`\bAME\b`)},
	{ID: "ticket-moderateur", Word: "ticket modérateur", match: regexp.MustCompile(`(?i)\bticket modérateur`)},
	{ID: "nir", Word: "NIR", match: regexp.MustCompile(`\bNIR\b`)},
	{ID: "regie", Word: "régie", match: regexp.MustCompile(`(?i)\brégie\b`)},
	{ID: "sepa", Word: "SEPA", match: regexp.MustCompile(`\bSEPA\b`)},
	{ID: "titre-de-recettes", Word: "titre de recettes", match: regexp.MustCompile(`(?i)\btitres? de recettes\b`)},
	{ID: "ccas", Word: "CCAS", match: regexp.MustCompile(`\bCCAS\b`)},
}

var markup = regexp.MustCompile(`<[^>]*>`)

// termsIn lists the glossary's words that the rendered content uses, so
// that the page's foot links each to its explanation: the glossary is
// linked wherever one of its words appears, without each template having
// to remember it.
func termsIn(content []byte) []glossaryTerm {
	text := html.UnescapeString(markup.ReplaceAllString(string(content), " "))
	var found []glossaryTerm
	for _, t := range glossaryTerms {
		if t.match.MatchString(text) {
			found = append(found, t)
		}
	}
	return found
}
