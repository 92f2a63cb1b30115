package web

import (
	"slices"
	"testing"
)

func termIDs(terms []glossaryTerm) []string {
	ids := make([]string, 0, len(terms))
	for _, t := range terms {
		ids = append(ids, t.ID)
	}
	return ids
}

func TestTermsInFindsTheTradesWordsInTheTextOnly(t *testing.T) {
	cases := []struct {
		name, content string
		want          []string
	}{
		{"none", `<h1>Mes factures</h1><p>Les factures envoyées à la CPAM.</p>`, []string{}},
		{"regimes in a table", `<td>AME</td><td>PUMa</td><td>CSS</td>`, []string{"puma", "css", "ame"}},
		{"a file number is not the word PASS", `<a href="/d/1">PASS-2026-000001</a>`, []string{}},
		{"PASS as a word", `<p>Le dispositif PASS ambulatoire</p>`, []string{"pass"}},
		{"PASS ending a sentence", `<p>Soins du PASS</p>`, []string{"pass"}},
		{"the régie capitalised, an escaped ticket modérateur", `<dt>Régie</dt><dd>le ticket mod&eacute;rateur</dd>`, []string{"ticket-moderateur", "regie"}},
		{"in an attribute only", `<input name="regie_iban" aria-label="x" value="AME">`, []string{}},
		{"titres de recettes, NIR, SEPA, CCAS", `<p>titres de recettes</p><p>NIR</p><p>fichier SEPA</p><p>le CCAS</p>`,
			[]string{"nir", "sepa", "titre-de-recettes", "ccas"}},
		{"part of a word", `<p>AMELI, CSSF, régies</p>`, []string{}},
	}
	for _, tc := range cases {
		if got := termIDs(termsIn([]byte(tc.content))); !slices.Equal(got, tc.want) {
			t.Errorf("%s: termsIn(%q) = %v, want %v", tc.name, tc.content, got, tc.want)
		}
	}
}
