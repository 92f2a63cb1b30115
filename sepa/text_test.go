package sepa

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"Pharmacie de l’Église", 70, "Pharmacie de l'Eglise"},
		{"Centre de santé Françoise-Dolto", 70, "Centre de sante Francoise-Dolto"},
		{"Laboratoire d'Analyses Œnone & Fils", 70, "Laboratoire d'Analyses OEnone + Fils"},
		{"Cœur, Æther & straße", 70, "Coeur, AEther + strasse"},
		{"ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ àâäçéèêëîïôöùûüÿ", 70, "AAACEEEEIIOOUUUY aaaceeeeiioouuuy"},
		{"Łódź, Ştefan Țară, Dvořák, Ørsted", 70, "Lodz, Stefan Tara, Dvorak, Orsted"},
		{"e\u0301cole de\u0301compose\u0301e", 70, "ecole decomposee"}, // decomposed accents
		{"‘quoted’ it´s `x`", 70, "'quoted' it's 'x'"},
		{"«\u00a0Bonjour\u00a0»", 70, "Bonjour"},
		{`Centre "Les Lilas", Paris`, 70, "Centre Les Lilas, Paris"},
		{"Centre “Les Lilas” (Nord)", 70, "Centre Les Lilas (Nord)"},
		{`l"abc"d`, 70, "l abc d"},
		{`""""`, 70, ""},
		{"Dr Müller – Zürich — Nord", 70, "Dr Muller - Zurich - Nord"},
		{"Attente…", 70, "Attente..."},
		{"ﬁnances ﬂorales", 70, "finances florales"},
		{"co\u00adopé\u200bration", 70, "cooperation"}, // soft hyphen, zero-width space
		{"  a \t b\n\nc  ", 70, "a b c"},
		{"50% @home #1; x=y! ~_*", 70, "50 home 1 x y"},
		{"100 € TTC", 70, "100 TTC"},
		{"N° 12, Nº 13", 70, "N 12, No 13"},
		{"/-?:().,'+ ok", 70, "/-?:().,'+ ok"},
		{"日本語", 70, ""},
		{"bad \xff utf-8", 70, "bad utf-8"},
		{"", 70, ""},
		{"abcdef", 3, "abc"},
		{"ab cdef", 3, "ab"}, // no trailing space after the cut
		{"œuvre", 2, "oe"},
		{"œuvre", 1, "o"},
		{"é", 0, ""},
		{"é", -1, ""},
	}
	for _, tc := range cases {
		if got := Text(tc.in, tc.max); got != tc.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestRemittanceFits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prefix string
		refs   []string
		want   string
	}{
		{"Factures PASS ", []string{"F-2026-0001", "F-2026-0002"}, "Factures PASS F-2026-0001, F-2026-0002"},
		{"Règlement facture ", []string{"F-2026-0001"}, "Reglement facture F-2026-0001"},
		{"Factures ", nil, "Factures"},
		{"Factures ", []string{"", "F-1", "«»", "日本"}, "Factures F-1"}, // empty once converted: skipped
		{"", nil, ""},
		{"", []string{"F-1", "F-2"}, "F-1, F-2"},
		{strings.Repeat("x", 140), nil, strings.Repeat("x", 140)},
	}
	for _, tc := range cases {
		if got := Remittance(tc.prefix, tc.refs); got != tc.want {
			t.Errorf("Remittance(%q, %q) = %q, want %q", tc.prefix, tc.refs, got, tc.want)
		}
	}
}

func TestRemittanceCut(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 200; n++ {
		refs := make([]string, n)
		for i := range refs {
			// Varying lengths, so that the cut falls at different places.
			refs[i] = fmt.Sprintf("F-2026-%0*d", 4+i%5, i+1)
		}
		prefix := "Factures PASS réglées : "
		got := Remittance(prefix, refs)
		if len(got) > maxUstrd {
			t.Fatalf("n=%d: %d characters: %q", n, len(got), got)
		}
		if Text(got, maxUstrd) != got {
			t.Fatalf("n=%d: not SEPA text: %q", n, got)
		}
		full := convert(prefix + strings.Join(refs, ", "))
		if len(full) <= maxUstrd {
			if got != full {
				t.Fatalf("n=%d: got %q, want the whole list %q", n, got, full)
			}
			continue
		}
		// Cut: the first k refs, then " +N" with k + N = n, and k is the
		// largest that fits.
		head, num, ok := strings.Cut(got, " +")
		if !ok {
			t.Fatalf("n=%d: cut without a \" +N\" suffix: %q", n, got)
		}
		hidden, err := strconv.Atoi(num)
		if err != nil || hidden < 1 {
			t.Fatalf("n=%d: bad suffix in %q", n, got)
		}
		shown := n - hidden
		if want := convert(prefix + strings.Join(refs[:shown], ", ")); head != want {
			t.Fatalf("n=%d: head %q, want the first %d refs %q", n, head, shown, want)
		}
		oneMore := convert(prefix + strings.Join(refs[:shown+1], ", ") + " +" + strconv.Itoa(hidden-1))
		if hidden > 1 && len(oneMore) <= maxUstrd {
			t.Fatalf("n=%d: %q shows %d refs, but %q would fit", n, got, shown, oneMore)
		}
	}
}

func TestRemittanceLongPrefix(t *testing.T) {
	t.Parallel()
	got := Remittance(strings.Repeat("Très long libellé ", 20), []string{"F-1", "F-2"})
	if len(got) > maxUstrd || !strings.HasSuffix(got, " +2") || !strings.HasPrefix(got, "Tres long libelle") {
		t.Errorf("Remittance with a long prefix = %q (%d characters)", got, len(got))
	}
	// A single ref longer than the limit: shown as +1.
	got = Remittance("Facture ", []string{strings.Repeat("R", 200)})
	if got != "Facture +1" {
		t.Errorf("Remittance with an oversize ref = %q, want %q", got, "Facture +1")
	}
}

// TestRemittanceBuilderKeepsOnlyWhatItShows: a transfer paying 100,000
// invoices keeps a few dozen refs, not 100,000, and says how many it left
// out.
func TestRemittanceBuilderKeepsOnlyWhatItShows(t *testing.T) {
	t.Parallel()
	b := NewRemittance("PASS lot 7 factures ")
	const n = 100_000
	for i := range n {
		b.Add(fmt.Sprintf("F-%d", i+1))
	}
	if len(b.shown) > maxUstrd/2 {
		t.Fatalf("the builder holds %d refs; at most %d can be shown", len(b.shown), maxUstrd/2)
	}
	got := b.String()
	head, num, ok := strings.Cut(got, " +")
	if !ok || !strings.HasPrefix(head, "PASS lot 7 factures F-1, F-2, ") || len(got) > maxUstrd {
		t.Fatalf("String() = %q", got)
	}
	hidden, err := strconv.Atoi(num)
	if err != nil || hidden+strings.Count(head, ",")+1 != n {
		t.Fatalf("String() = %q: %s hidden and %d shown do not make %d", got, num, strings.Count(head, ",")+1, n)
	}
}
