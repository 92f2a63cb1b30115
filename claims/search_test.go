package claims

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/db/dbtest"
	"passd/fault"
	"passd/keyring"
	"passd/migrations"
	"passd/rights"
)

func TestFoldWordsDropsAccentsCaseAndPunctuation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{"Éloïse", []string{"eloise"}},
		{"HÉLOÏSE", []string{"heloise"}},
		{"N'Diaye", []string{"n", "diaye"}},
		{"Jean-Pierre  de la Fontaine", []string{"jean", "pierre", "de", "la", "fontaine"}},
		{"Cœur Æsa Straße Øst", []string{"coeur", "aesa", "strasse", "ost"}},
		{"E\u0301lodie", []string{"elodie"}}, // é typed as e and its accent
		{"12 rue", []string{"rue"}},
		{"", nil},
	}
	for _, tc := range cases {
		if got := foldWords(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("foldWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := foldName("Jean-Pierre"); got != "jeanpierre" {
		t.Errorf("foldName(Jean-Pierre) = %q", got)
	}
	if got := trigrams("eloise"); !slices.Equal(got, []string{"elo", "loi", "ois", "ise"}) {
		t.Errorf("trigrams(eloise) = %q", got)
	}
}

func TestParseSearchTellsWhatWasTyped(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Search
		err  error
	}{
		{"éloïse", Search{Name: []string{"eloise"}}, nil},
		{"  Du Pont ", Search{Name: []string{"du", "pont"}}, nil},
		{"17/05/1990", Search{BirthDate: calendar.NewDate(1990, 5, 17)}, nil},
		{"7/5/1990", Search{BirthDate: calendar.NewDate(1990, 5, 7)}, nil},
		{"1990-05-17", Search{BirthDate: calendar.NewDate(1990, 5, 17)}, nil},
		{"2 90 04 99 350 123 09", Search{NIR: "290049935012309"}, nil},
		{"pass-2026-0000", Search{FileNumber: "PASS-2026-0000"}, nil},
		{"042", Search{FileNumber: "042"}, nil},
		{"31/02/1990", Search{FileNumber: "31/02/1990"}, nil}, // no such day: a file number part, which finds nothing
		{"", Search{}, ErrSearchEmpty},
		{"   ", Search{}, ErrSearchEmpty},
		{"lo", Search{WholeName: "lo"}, nil},
		{"Dô An", Search{WholeName: "doan"}, nil},
		{"é", Search{}, ErrSearchTooShort},
		{"<é> ;", Search{}, ErrSearchTooShort},
		{"42", Search{}, ErrSearchTooShort},
	}
	for _, tc := range cases {
		got, err := ParseSearch(tc.in)
		if tc.err != nil {
			if !fault.Is(err, fault.Invalid) || !errors.Is(err, tc.err) {
				t.Errorf("ParseSearch(%q): %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got.Name, tc.want.Name) || got.BirthDate != tc.want.BirthDate ||
			got.FileNumber != tc.want.FileNumber || got.NIR != tc.want.NIR || got.WholeName != tc.want.WholeName {
			t.Errorf("ParseSearch(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// searchFixture is a store with files whose names share trigrams.
type searchFixture struct {
	pool  *db.Pool
	store *Store
	coord audit.Actor
	ids   map[string]int64 // by last name
}

func newSearchFixture(t *testing.T, pool *db.Pool, ring *keyring.Ring) searchFixture {
	t.Helper()
	f := searchFixture{pool: pool, store: NewStore(pool, ring, func() time.Time { return identityNow }), ids: map[string]int64{}}
	f.coord = coordinator(t, pool)
	for _, np := range []NewPatient{
		{LastName: "Eloise", FirstName: "Marie", BirthDate: calendar.NewDate(1990, 5, 17), NIR: "290049935012309"},
		{LastName: "Martin", FirstName: "Héloïse", BirthDate: calendar.NewDate(1985, 3, 1)},
		{LastName: "De La Fontaine", FirstName: "Jean-Pierre", BirthDate: calendar.NewDate(1990, 5, 17)},
		{LastName: "Louis", FirstName: "Ana", BirthDate: calendar.NewDate(2001, 1, 2)},
		{LastName: "Lê", FirstName: "Văn", BirthDate: calendar.NewDate(1970, 7, 7)},
	} {
		p, err := f.store.CreatePatient(context.Background(), f.coord, np)
		if err != nil {
			t.Fatal(err)
		}
		f.ids[np.LastName] = p.ID
	}
	return f
}

// found runs the search typed as q and returns the last names found.
func (f searchFixture) found(t *testing.T, q string) []string {
	t.Helper()
	s, err := ParseSearch(q)
	if err != nil {
		t.Fatalf("ParseSearch(%q): %v", q, err)
	}
	res, _, err := f.store.SearchPatients(context.Background(), f.coord, s, 20)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.LastName)
	}
	slices.Sort(names)
	return names
}

func (f searchFixture) wantFound(t *testing.T, q string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := f.found(t, q); !slices.Equal(got, want) {
		t.Errorf("search %q found %q, want %q", q, got, want)
	}
}

func TestSearchFindsFilesByPartOfANameBirthDateFileNumberOrNIR(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	f := newSearchFixture(t, pool, mustParse(t, ringText(t)))
	f.wantFound(t, "éloïse", "Eloise", "Martin") // Eloise, and Héloïse who holds it
	f.wantFound(t, "LOÏ", "Eloise", "Martin")    // not Louis: lou, not loi
	f.wantFound(t, "heloise", "Martin")
	f.wantFound(t, "marie eloise", "Eloise") // a first and a last name
	f.wantFound(t, "la fontaine", "De La Fontaine")
	f.wantFound(t, "jean pierre", "De La Fontaine")
	f.wantFound(t, "lafontaine", "De La Fontaine")
	f.wantFound(t, "fontaines")
	f.wantFound(t, "LE", "Lê") // a short name, typed whole, found whole only
	f.wantFound(t, "van", "Lê")
	f.wantFound(t, "lo")
	f.wantFound(t, "an") // not Ana: a short name is found whole
	f.wantFound(t, "17/05/1990", "Eloise", "De La Fontaine")
	f.wantFound(t, "1985-03-01", "Martin")
	f.wantFound(t, "02/01/1999")
	f.wantFound(t, "290049935012309", "Eloise")
	f.wantFound(t, "PASS-2026", "Eloise", "Martin", "De La Fontaine", "Louis", "Lê")
	f.wantFound(t, "000004", "Louis")
	f.wantFound(t, "6-000004", "Louis")
	f.wantFound(t, "6-00000_") // _ is a character typed, not LIKE's wildcard

	// The terms hold nothing readable, and the results' reads are logged.
	for _, name := range []string{"eloise", "martin", "fontaine"} {
		assertNoPlaintext(t, pool, name)
	}
	var logged int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM patient_access_log WHERE purpose = $1 AND patient_id = $2`,
		AccessList, f.ids["Louis"]).Scan(&logged); err != nil || logged != 3 {
		t.Errorf("%d reads of Louis logged (%v), want 3: one per search that returned the file", logged, err)
	}

	// Read a candidate at a time, the walk finds the same files.
	f.store.searchBatch = 1
	f.wantFound(t, "éloïse", "Eloise", "Martin")
	f.wantFound(t, "heloise", "Martin")
	f.wantFound(t, "17/05/1990", "Eloise", "De La Fontaine")
	f.wantFound(t, "le", "Lê")
	res, more, err := f.store.SearchPatients(context.Background(), f.coord, Search{Name: []string{"loi"}}, 1)
	if err != nil || len(res) != 1 || !more || res[0].ID != f.ids["Martin"] {
		t.Errorf("a name search past its limit: %+v, more %v, %v; want Martin and more", res, more, err)
	}
	f.store.searchBatch = searchBatch

	// Past the limit, more says so.
	res, more, err = f.store.SearchPatients(context.Background(), f.coord, Search{FileNumber: "PASS"}, 3)
	if err != nil || len(res) != 3 || !more || res[0].ID != f.ids["Lê"] {
		t.Errorf("a search past its limit: %d files, more %v, %v; want 3 newest first and more", len(res), more, err)
	}
}

// The terms are written wherever identity is sealed: when files opened
// before encryption are sealed, for files sealed before the index existed
// (search_pending), and anew by rotation, with the lookup key.
func TestSearchTermsFollowSealingAndRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := db.Open(ctx, dbtest.NewEmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := migrations.UpTo(ctx, pool, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO patients (file_number, last_name, first_name, birth_date)
		VALUES ('PASS-2025-000001', 'Lefèvre', 'Zoé', '1990-04-12')`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	oldText := ringText(t)
	app := db.NewPool(pool).Bind(dbtest.Convention)
	sealer := NewStore(app, mustParse(t, oldText), func() time.Time { return identityNow })
	if _, err := sealer.SealPending(ctx, audit.Actor{Name: "passd migrate"}); err != nil {
		t.Fatal(err)
	}
	f := newSearchFixture(t, app, mustParse(t, oldText))
	f.store.identityBatch = 2
	f.wantFound(t, "lefevre", "Lefèvre")
	f.wantFound(t, "12/04/1990", "Lefèvre")

	// Files sealed before migration 00018: as it leaves them.
	if _, err := pool.Exec(ctx, `DELETE FROM patient_search_terms; UPDATE patients SET search_pending = true`); err != nil {
		t.Fatal(err)
	}
	f.wantFound(t, "martin")
	if _, err := f.store.SealPending(ctx, audit.Actor{Name: "passd serve"}); err != nil {
		t.Fatal(err)
	}
	f.wantFound(t, "martin", "Martin")
	f.wantFound(t, "zoe", "Lefèvre")
	var pending int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM patients WHERE search_pending`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d files still wait for their terms (%v)", pending, err)
	}

	// Rotation writes each file's terms again: a file whose terms were
	// lost is found after it.
	before := termsText(t, pool)
	if _, err := pool.Exec(ctx, `DELETE FROM patient_search_terms WHERE patient_id = $1`, f.ids["Louis"]); err != nil {
		t.Fatal(err)
	}
	_, entry, err := keyring.NewDataKey(identityNow)
	if err != nil {
		t.Fatal(err)
	}
	ring := mustParse(t, oldText+entry+"\n")
	rotated := NewStore(app, ring, func() time.Time { return identityNow })
	rotated.identityBatch = 2
	if r, err := rotated.RotateKeys(ctx, audit.Actor{Name: "passd rotate-key"}, nil); err != nil || r.Resealed != 6 {
		t.Fatalf("rotation: %+v, %v", r, err)
	}
	if after := termsText(t, pool); after != before {
		t.Errorf("terms after rotation differ from those before: the lookup key is not rotated")
	}
	f.store = rotated
	f.wantFound(t, "louis", "Louis")
	f.wantFound(t, "hélo", "Martin")
}

// termsText is the search index, in order.
func termsText(t *testing.T, pool db.DBTX) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(patient_id || ':' || term, ',' ORDER BY patient_id, term), '') FROM patient_search_terms`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFilesListsNewestFirstByRightsWithoutIdentity(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	f := newSearchFixture(t, pool, mustParse(t, ringText(t)))
	ctx := context.Background()
	if _, err := f.store.RequestRights(ctx, f.coord, f.ids["Martin"], RightsRequest{Regime: "puma", FiledOn: calendar.NewDate(2026, 5, 1)}); err != nil {
		t.Fatal(err)
	}
	var reads int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM patient_access_log`).Scan(&reads); err != nil {
		t.Fatal(err)
	}
	list, total, err := f.store.Files(ctx, "", db.PageRequest{Limit: 3})
	if err != nil || total != 5 || len(list) != 4 || list[0].ID != f.ids["Lê"] || list[2].ID != f.ids["De La Fontaine"] {
		t.Fatalf("first page: %+v, %d, %v", list, total, err)
	}
	list, total, err = f.store.Files(ctx, "", db.PageRequest{Limit: 3, Before: list[2].ID})
	if err != nil || total != 5 || len(list) != 2 || list[0].ID != f.ids["Martin"] || list[1].ID != f.ids["Eloise"] {
		t.Fatalf("second page: %+v, %d, %v", list, total, err)
	}
	if !list[1].LastInvoice.IsZero() || list[0].RightsStatus != rights.Requested {
		t.Errorf("rows %+v", list)
	}
	list, total, err = f.store.Files(ctx, rights.Requested, db.PageRequest{Limit: 10})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != f.ids["Martin"] {
		t.Fatalf("requested: %+v, %d, %v", list, total, err)
	}
	// Oldest first, the second page starting after the first's last row.
	list, _, err = f.store.Files(ctx, "", db.PageRequest{Limit: 2, OldestFirst: true})
	if err != nil || len(list) != 3 || list[0].ID != f.ids["Eloise"] || list[1].ID != f.ids["Martin"] {
		t.Fatalf("oldest first: %+v, %v", list, err)
	}
	list, _, err = f.store.Files(ctx, "", db.PageRequest{Limit: 2, OldestFirst: true, After: list[1].ID})
	if err != nil || len(list) != 3 || list[0].ID <= f.ids["Martin"] || list[0].ID > list[1].ID || list[1].ID > list[2].ID {
		t.Fatalf("oldest first, second page: %+v, %v", list, err)
	}
	var every []int64
	err = f.store.EachFile(ctx, "", true, func(r FileRow) error { every = append(every, r.ID); return nil })
	if err != nil || len(every) != 5 || every[0] != f.ids["Eloise"] || every[4] != f.ids["Lê"] {
		t.Fatalf("every file, oldest first: %v, %v", every, err)
	}
	every = nil
	err = f.store.EachFile(ctx, rights.Requested, false, func(r FileRow) error { every = append(every, r.ID); return nil })
	if err != nil || len(every) != 1 || every[0] != f.ids["Martin"] {
		t.Fatalf("every requested file: %v, %v", every, err)
	}
	var after int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM patient_access_log`).Scan(&after); err != nil || after != reads {
		t.Errorf("the list logged %d reads of identity (%v), want none: it shows none", after-reads, err)
	}
}

// FuzzParseSearch: whatever is typed, ParseSearch names one kind of search
// or refuses with the field, and what it keeps is what the index holds.
func FuzzParseSearch(f *testing.F) {
	for _, seed := range []string{"éloïse", "LOÏ", "17/05/1990", "1990-05-17", "290049935012309", "PASS-2026-0000", "42", "<é> et",
		"E\u0301lodie", "Œdipe", "\u202eevil", "%_\\", strings.Repeat("a", 80)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		q, err := ParseSearch(typed)
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Field != "q" {
				t.Fatalf("ParseSearch(%q): %v, want an error naming q", typed, err)
			}
			return
		}
		kinds := 0
		for _, set := range []bool{q.Name != nil, q.WholeName != "", !q.BirthDate.IsZero(), q.FileNumber != "", q.NIR != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("ParseSearch(%q) = %+v: %d kinds of search, want 1", typed, q, kinds)
		}
		long := false
		for _, w := range q.Name {
			long = long || utf8.RuneCountInString(w) >= MinSearchLength
			for _, r := range w {
				if !unicode.IsLetter(r) || unicode.ToLower(r) != r {
					t.Fatalf("ParseSearch(%q): word %q holds %q", typed, w, r)
				}
			}
		}
		if q.Name != nil && !long {
			t.Fatalf("ParseSearch(%q) = %q: no word of %d letters", typed, q.Name, MinSearchLength)
		}
		if q.FileNumber != "" && (len(q.FileNumber) < MinSearchLength || strings.ToUpper(q.FileNumber) != q.FileNumber) {
			t.Fatalf("ParseSearch(%q): file number part %q", typed, q.FileNumber)
		}
	})
}
