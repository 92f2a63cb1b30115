package claims

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/rights"
)

// benchFiles is how many files the search benchmark searches: the issue's
// target is an answer under 100 ms over 100 000 files (make bench's
// gobench phase runs it; it measures, it asserts nothing about time).
const benchFiles = 100_000

// Syllables and first names the benchmark's names are made of: about
// 60 000 last names, so that a part of one names a handful of files and a
// trigram thousands, as in a city's files.
var (
	benchSyllables = strings.Fields("ber nard mar tin du rand le roux fon taine gar nier che va lier mo reau lau rent gi rard bon net " +
		"fa bre mer cier blan chard co lin ma thieu hu bert di al lo ndi aye ben ali ka ma ra sy sow traore kon ate gui lla ume")
	benchFirstNames = strings.Fields("Héloïse Zoé Chloé Inès Maël Noé Léa Amélie Éloïse Mathéo Aminata Fatoumata Ibrahima Moussa " +
		"Jean-Pierre Marie Anaïs Océane Gaëlle Loïc Jérôme Hélène Thi Van Mohamed Youssef Aïcha Kenza Lucas Hugo")
)

// benchIdentity is file i's identity, the same on every run.
func benchIdentity(i int) (last, first string, birth calendar.Date) {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	var b strings.Builder
	for range 2 + r.IntN(2) {
		b.WriteString(benchSyllables[r.IntN(len(benchSyllables))])
	}
	last = strings.ToUpper(b.String()[:1]) + b.String()[1:]
	first = benchFirstNames[r.IntN(len(benchFirstNames))]
	birth = calendar.NewDate(1940, 1, 1).AddDays(r.IntN(80 * 365))
	return last, first, birth
}

// seedBenchFiles writes n sealed files with their search terms, set-based
// (unnest) in chunks: what CreatePatient would have written, faster.
func seedBenchFiles(b *testing.B, s *Store, owner *pgxpool.Pool, n int) {
	b.Helper()
	ctx := context.Background()
	sealer := s.keys.Sealer()
	const chunk = 10_000
	for start := 1; start <= n; start += chunk {
		var ids, termIDs []int64
		var numbers, lasts, firsts, births []string
		var terms []int32
		for id := start; id < start+chunk && id <= n; id++ {
			last, first, birth := benchIdentity(id)
			si, err := s.sealIdentity(sealer, int64(id), last, first, birth, "")
			if err != nil {
				b.Fatal(err)
			}
			ids, numbers = append(ids, int64(id)), append(numbers, FileNumber(2026, id))
			lasts, firsts, births = append(lasts, si.lastName), append(firsts, si.firstName), append(births, si.birthDate)
			for _, t := range si.terms {
				termIDs, terms = append(termIDs, int64(id)), append(terms, t)
			}
		}
		if _, err := s.pool.Exec(ctx, `
			INSERT INTO patients (id, file_number, identity_key, last_name_enc, first_name_enc, birth_date_enc, created_at)
			OVERRIDING SYSTEM VALUE
			SELECT id, num, $1, l, f, bd, now() FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u (id, num, l, f, bd)`,
			sealer.Key(), ids, numbers, lasts, firsts, births); err != nil {
			b.Fatal(err)
		}
		if _, err := s.pool.Exec(ctx, `INSERT INTO patient_search_terms (patient_id, term) SELECT * FROM unnest($1::bigint[], $2::integer[])`,
			termIDs, terms); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := owner.Exec(ctx, `SELECT setval(pg_get_serial_sequence('patients', 'id'), $1)`, n); err != nil {
		b.Fatal(err)
	}
	// As autovacuum would have done: statistics, and the visibility map
	// that lets the index's counts read the index only.
	for _, table := range []string{"patients", "patient_search_terms"} {
		if _, err := owner.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchPatients is one search of the coordinator's box over
// 100 000 files, as typed, from ParseSearch to the results read and their
// reads logged: part of a name, a trigram shared by thousands, a first
// name typed without its accents, a birth date, part of a file number.
func BenchmarkSearchPatients(b *testing.B) {
	pool, owner := dbtest.NewOwner(b)
	s := NewStore(pool, keyringtest.New(b), time.Now)
	seedBenchFiles(b, s, owner, benchFiles)
	ctx := context.Background()
	actor := audit.Actor{Name: "coordinator"}
	if err := pool.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ($1, 'coordinator') RETURNING id`, actor.Name).Scan(&actor.UserID); err != nil {
		b.Fatal(err)
	}
	target := benchFiles / 2
	last, _, birth := benchIdentity(target)
	for len(last) < 7 { // a part of five letters, inside the name
		target++
		last, _, birth = benchIdentity(target)
	}
	typed := []struct{ name, q string }{
		{"name_part", strings.ToLower(last[1:6])},
		{"trigram", "ber"},
		{"first_name_unaccented", "heloise"},
		{"birth_date", fmt.Sprintf("%02d/%02d/%d", birth.Day(), birth.Month(), birth.Year())},
		{"file_number_part", "05000"},
	}
	for _, tc := range typed {
		q, err := ParseSearch(tc.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			found := 0
			for b.Loop() {
				res, _, err := s.SearchPatients(ctx, actor, q, 20)
				if err != nil {
					b.Fatal(err)
				}
				found = len(res)
			}
			if found == 0 {
				b.Fatalf("%q found nothing", tc.q)
			}
			b.ReportMetric(float64(found), "files/op")
		})
	}
	benchFileList(b, s, owner)
}

// benchFileList is the work list's first page over the same files, with
// its count, unfiltered and filtered by rights.
func benchFileList(b *testing.B, s *Store, owner *pgxpool.Pool) {
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `UPDATE patients SET rights_status = 'requested', rights_regime = 'ame', rights_filed_on = '2026-01-02'
		WHERE id % 10 = 0`); err != nil {
		b.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `VACUUM ANALYZE patients`); err != nil { // as autovacuum would
		b.Fatal(err)
	}
	for _, status := range []rights.Status{"", rights.Requested} {
		b.Run("list_"+string(cmp.Or(status, "all")), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if list, total, err := s.Files(ctx, status, db.PageRequest{Limit: 50}); err != nil || len(list) != 51 || total == 0 {
					b.Fatalf("%d files of %d: %v", len(list), total, err)
				}
			}
		})
	}
}
