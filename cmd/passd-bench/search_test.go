package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"passd/calendar"
	"passd/claims"
	"passd/ident"
)

func TestSearchWorldIsTheSameEachTimeAndNumberedAsPassdDoes(t *testing.T) {
	t.Parallel()
	today := calendar.NewDate(2026, time.December, 6)
	w, err := newSearchWorld(today, 20_000)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := newSearchWorld(today, 20_000)
	if !reflect.DeepEqual(w, again) {
		t.Fatal("two worlds of the same size and day differ")
	}
	if w.files[0].Opened != calendar.NewDate(2024, time.January, 1) || w.files[len(w.files)-1].Opened != today.AddDays(-1) {
		t.Errorf("files opened from %s to %s", w.files[0].Opened, w.files[len(w.files)-1].Opened)
	}
	numbers, nirs := map[string]bool{}, map[string]bool{}
	surnames, accented, withoutNIR := map[string]int{}, 0, 0
	for q, f := range w.files {
		numbers[f.FileNumber] = true
		surnames[f.LastName]++
		if strings.ContainsFunc(f.LastName, func(r rune) bool { return r > unicode.MaxASCII }) {
			accented++
		}
		if f.BirthDate.Before(birthFirst) || f.BirthDate.After(birthLast) {
			t.Errorf("file %d born on %s", q, f.BirthDate)
		}
		if f.NIR == "" {
			withoutNIR++
			continue
		}
		nirs[f.NIR] = true
		if got, err := ident.ParseNIR(f.NIR); err != nil || got != f.NIR {
			t.Errorf("file %d's NIR %s: %q, %v", q, f.NIR, got, err)
		}
	}
	// Numbered per year from 1, as passd numbers them.
	if w.files[0].FileNumber != claims.FileNumber(2024, 1) || !numbers[claims.FileNumber(2026, 1)] || len(numbers) != len(w.files) {
		t.Errorf("file numbers: first %s, %d distinct of %d", w.files[0].FileNumber, len(numbers), len(w.files))
	}
	if len(nirs) != len(w.files)-withoutNIR || withoutNIR != len(w.files)/4 {
		t.Errorf("%d distinct NIRs, %d files without one, of %d", len(nirs), withoutNIR, len(w.files))
	}
	// Most of the surnames, the common ones (listed first) more often, some
	// accented.
	common, rare := 0, 0
	for i := range 10 {
		common, rare = common+surnames[searchSurnames[i]], rare+surnames[searchSurnames[len(searchSurnames)-1-i]]
	}
	if len(surnames) < len(searchSurnames)*9/10 || common < 5*rare || accented < len(w.files)/10 {
		t.Errorf("%d surnames, the first ten %d times, the last ten %d, %d accented", len(surnames), common, rare, accented)
	}
	for _, n := range []int{0, 1_000_000} {
		if _, err := newSearchWorld(today, n); err == nil {
			t.Errorf("a world of %d files", n)
		}
	}
}

// Each case's queries read, as passd parses them, as what the case
// says, and each could find the file it was drawn from.
func TestSearchQueriesAreWhatTheirCaseSays(t *testing.T) {
	t.Parallel()
	w, err := newSearchWorld(calendar.NewDate(2026, time.December, 6), 5_000)
	if err != nil {
		t.Fatal(err)
	}
	byNumber := map[string]searchFile{}
	for _, f := range w.files {
		byNumber[f.FileNumber] = f
	}
	for ci, name := range allSearchCases {
		qs, err := w.queries(ci, 200)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := w.queries(ci, 200)
		distinct := map[string]bool{}
		for i, q := range qs {
			distinct[q.Text] = true
			if q != again[i] {
				t.Fatalf("%s: query %d is %v, then %v", name, i, q, again[i])
			}
			s, err := claims.ParseSearch(q.Text)
			if err != nil {
				t.Fatalf("%s %q: %v", name, q.Text, err)
			}
			if why := queryMisses(name, q.Text, s, byNumber[q.Want]); why != "" {
				t.Errorf("%s %q for %s: %s", name, q.Text, q.Want, why)
			}
		}
		if len(distinct) < 50 {
			t.Errorf("%s: %d distinct queries of 200", name, len(distinct))
		}
	}
}

// queryMisses says why search s, typed as text, does not ask for f as
// case name should, or "".
func queryMisses(name, text string, s claims.Search, f searchFile) string {
	plain := plainLetters(text)
	switch name {
	case "surname-part", "surname-part-accents":
		if len(s.Name) != 1 || len([]rune(plain)) < 3 || len([]rune(plain)) > 4 || !strings.Contains(plainLetters(f.LastName), plain) {
			return "not 3 or 4 letters of the surname"
		}
		if accents := plain != strings.ToLower(text); accents != (name == "surname-part-accents") {
			return "accents typed, or not, against the case"
		}
	case "full-name":
		if len(s.Name) < 2 || plain != plainLetters(f.LastName+f.FirstName) && plain != plainLetters(f.FirstName+f.LastName) {
			return "not the surname and the first name"
		}
	case "birth-date":
		if s.BirthDate != f.BirthDate {
			return "not the birth date"
		}
	case "file-number-part":
		if len(s.FileNumber) < 4 || !strings.HasSuffix(f.FileNumber, s.FileNumber) {
			return "not the end of the file number"
		}
	case "nir":
		if s.NIR != f.NIR {
			return "not the NIR"
		}
	}
	return ""
}

func TestWindowHoldsTheLetterItMust(t *testing.T) {
	t.Parallel()
	word := []rune("lefèvre")
	for h := range uint64(64) {
		got := window(word, 3+int(h%2), 3, h)
		if !strings.Contains(got, "è") || len([]rune(got)) != 3+int(h%2) || !strings.Contains(string(word), got) {
			t.Errorf("window(h=%d) = %q", h, got)
		}
	}
	if got := window([]rune("ly"), 4, -1, 7); got != "ly" {
		t.Errorf("a short word: %q", got)
	}
	// ı has no mark to set apart; Yılmaz has no accent to type.
	if part, ok := accentedPart("Yılmaz", 1); ok {
		t.Errorf("Yılmaz: %q", part)
	}
	if part, ok := accentedPart("Lê N'Guérin", 0); !ok || !strings.Contains(part, "é") {
		t.Errorf("Lê N'Guérin: %q, %v", part, ok)
	}
}

func TestReadSearchPageCountsTheFilesShown(t *testing.T) {
	t.Parallel()
	body := `<tbody>
  <tr><td><a href="/coordination/dossiers/12">PASS-2026-000012</a></td><td>Lefèvre</td></tr>
  <tr><td><a href="/coordination/dossiers/7">PASS-2026-000007</a></td><td>Lefebvre</td></tr>
  </tbody><p><a href="/coordination/dossiers">Tous les dossiers</a></p>`
	if got := readSearchPage(body); got.results != 2 || got.more {
		t.Errorf("two files: %+v", got)
	}
	if got := readSearchPage(body + `<p role="status">Plus de 20 dossiers correspondent`); !got.more {
		t.Errorf("more: %+v", got)
	}
}

func TestSearchTargetWantsTheFullSizeAndScoresTheP95(t *testing.T) {
	t.Parallel()
	slow := SearchRow{Case: "nir", Patients: 100_000, Latency: Latency{Count: 200, P95: 120}}
	if tg, ok := slow.target(); !ok || !tg.Scored || tg.Met || tg.Value != 120 {
		t.Errorf("a p95 of 120 ms: %+v, %v", tg, ok)
	}
	fast := SearchRow{Case: "nir", Patients: 100_000, Latency: Latency{Count: 200, P95: 12}}
	if tg, ok := fast.target(); !ok || !tg.Met {
		t.Errorf("a p95 of 12 ms: %+v, %v", tg, ok)
	}
	r := &Results{Search: []SearchRow{{Case: "nir", Patients: 5_000, Latency: Latency{Count: 20, P95: 5}}}}
	r.evaluate()
	if slices.ContainsFunc(r.Targets, func(tg Target) bool { return strings.HasPrefix(tg.Name, "search") }) {
		t.Errorf("targets %+v for a small world", r.Targets)
	}
	var b strings.Builder
	r.writeTable(&b)
	if !strings.Contains(b.String(), "POST /coordination/dossiers") || !strings.Contains(b.String(), "nir") {
		t.Errorf("table:\n%s", b.String())
	}
}
