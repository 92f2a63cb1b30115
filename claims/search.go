package claims

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/rights"
)

// The coordinator's search. Names and birth dates are sealed, so the
// database finds them through a blind index (patient_search_terms, see
// migration 00018): the keyed hash of each trigram of a file's folded
// names, of each name whole, and of its birth date, cut to 32 bits. A
// search asks for the files holding every term of what was typed, then
// opens those candidates and keeps the ones that really match (the cut
// hash may let a stranger through). Without the key, the index tells which
// files share a trigram, a name or a birth date, never what it is, though
// someone holding a copy of the database could guess common trigrams from
// how often they occur: the price of searching sealed names, which the
// access control of the database, and the access log, still bound. The
// terms are written wherever identity is sealed (sealIdentity's callers),
// with the lookup key, which rotation does not change.

// The domains of the search terms' keyed hashes, apart from the NIR's.
const (
	nameGramDomain  = "name-gram"
	nameWholeDomain = "name-whole"
	birthDateDomain = "birth-date"
)

// MinSearchLength is the shortest part of a name or of a file number a
// search takes: a trigram, the unit both indexes hold. A shorter name
// (Ly, Do, Ng) is found when typed whole.
const MinSearchLength = 3

// minWholeName is the shortest name a search takes typed whole.
const minWholeName = 2

// MaxSearchInput bounds what the search box takes, in characters.
const MaxSearchInput = 64

// Why a search was refused, as causes of ParseSearch's errors, so that a
// page can say it in its own words.
var (
	ErrSearchEmpty    = errors.New("claims: nothing to search for")
	ErrSearchTooShort = errors.New("claims: a name or a file number is searched by 3 letters or more, or a 2-letter name whole")
)

// Search is what a coordinator looks files up by: one of its fields.
type Search struct {
	Name       []string      // folded words (foldWords), one of MinSearchLength letters at least
	WholeName  string        // a folded last or first name typed whole, when shorter words are all there is
	BirthDate  calendar.Date // a whole birth date
	FileNumber string        // part of a file number, upper case
	NIR        string        // a whole NIR, canonical
}

// dateTyped is a date as French people type it: 17/05/1990, 17-05-1990,
// 17.05.1990, the day and month on one or two digits.
var dateTyped = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$`)

// ParseSearch reads what was typed in the search box: a date (17/05/1990
// or 1990-05-17) is a birth date, a valid NIR a NIR, anything holding a
// digit part of a file number, anything else a name or part of one (or,
// when none of its words has three letters, a short name typed whole).
func ParseSearch(q string) (Search, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return Search{}, fault.Field("q", "q is empty").WithCause(ErrSearchEmpty)
	}
	if len([]rune(q)) > MaxSearchInput {
		return Search{}, fault.Field("q", "q is longer than %d characters", MaxSearchInput)
	}
	iso := q
	if m := dateTyped.FindStringSubmatch(q); m != nil {
		day, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(m[2])
		iso = fmt.Sprintf("%s-%02d-%02d", m[3], month, day)
	}
	if d, err := calendar.Parse(iso); err == nil {
		return Search{BirthDate: d}, nil
	}
	if nir, err := ident.ParseNIR(q); err == nil {
		return Search{NIR: nir}, nil
	}
	if strings.ContainsFunc(q, unicode.IsDigit) {
		if len(q) < MinSearchLength {
			return Search{}, fault.Field("q", "q is shorter than %d characters", MinSearchLength).WithCause(ErrSearchTooShort)
		}
		return Search{FileNumber: strings.ToUpper(q)}, nil
	}
	words := foldWords(q)
	if slices.ContainsFunc(words, func(w string) bool { return len([]rune(w)) >= MinSearchLength }) {
		return Search{Name: words}, nil
	}
	if whole := strings.Join(words, ""); len([]rune(whole)) >= minWholeName {
		return Search{WholeName: whole}, nil
	}
	return Search{}, fault.Field("q", "q holds no word of %d letters", MinSearchLength).WithCause(ErrSearchTooShort)
}

// letterFold turns the letters NFD leaves whole into what a French
// keyboard types for them.
var letterFold = strings.NewReplacer("œ", "oe", "Œ", "oe", "æ", "ae", "Æ", "ae", "ß", "ss", "ø", "o", "Ø", "o",
	"ł", "l", "Ł", "l", "đ", "d", "Đ", "d")

// foldWords is the runs of letters of s, decomposed (NFD), without their
// marks and in lower case: "Éloïse N'Diaye" is eloise, n, diaye. So an
// accent or a capital typed, or not, makes no difference.
func foldWords(s string) []string {
	s = letterFold.Replace(norm.NFD.String(s))
	var words []string
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r): // an accent, now apart from its letter
		case unicode.IsLetter(r):
			b.WriteRune(unicode.ToLower(r))
		case b.Len() > 0:
			words = append(words, b.String())
			b.Reset()
		}
	}
	if b.Len() > 0 {
		words = append(words, b.String())
	}
	return words
}

// foldName is a name as the index holds it: its folded words run
// together, so that "Jean-Pierre" is found by "jean pierre" and
// "De La Fontaine" by "lafontaine".
func foldName(s string) string { return strings.Join(foldWords(s), "") }

// trigrams are the runs of three letters of a folded word.
func trigrams(word string) []string {
	r := []rune(word)
	out := make([]string, 0, max(len(r)-2, 0))
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// term is the keyed hash of value, cut to 32 bits: enough to find a few
// candidates among a million, and a small index.
func (s *Store) term(domain, value string) int32 {
	return int32(binary.BigEndian.Uint32(s.keys.Hash(domain, value)))
}

// identityTerms are the search terms of an identity: the trigrams of its
// folded last and first names, each of them whole, and its birth date,
// each once.
func (s *Store) identityTerms(lastName, firstName string, birth calendar.Date) []int32 {
	out := []int32{s.term(birthDateDomain, birth.String())}
	for _, name := range []string{lastName, firstName} {
		folded := foldName(name)
		out = append(out, s.term(nameWholeDomain, folded))
		for _, g := range trigrams(folded) {
			out = append(out, s.term(nameGramDomain, g))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// queryTerms are the terms every file a search finds holds: the trigrams
// of its words (those shorter than a trigram are only checked once the
// candidates are opened), the whole name's, or the birth date's.
func (s *Store) queryTerms(q Search) []int32 {
	if !q.BirthDate.IsZero() {
		return []int32{s.term(birthDateDomain, q.BirthDate.String())}
	}
	if q.WholeName != "" {
		return []int32{s.term(nameWholeDomain, q.WholeName)}
	}
	var out []int32
	for _, w := range q.Name {
		for _, g := range trigrams(w) {
			out = append(out, s.term(nameGramDomain, g))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// matches tells whether an opened identity is what q asks for: each word
// in the folded last or first name, the whole name one of them, or the
// birth date itself.
func (q Search) matches(p Patient) bool {
	if !q.BirthDate.IsZero() {
		return p.BirthDate == q.BirthDate
	}
	last, first := foldName(p.LastName), foldName(p.FirstName)
	if q.WholeName != "" {
		return last == q.WholeName || first == q.WholeName
	}
	for _, w := range q.Name {
		if !strings.Contains(last, w) && !strings.Contains(first, w) {
			return false
		}
	}
	return true
}

// writeTerms replaces the search terms of files: ids[i] holds terms[i].
func writeTerms(ctx context.Context, q db.DBTX, ids []int64, terms [][]int32) error {
	var fileIDs []int64
	var flat []int32
	for i, id := range ids {
		for _, t := range terms[i] {
			fileIDs, flat = append(fileIDs, id), append(flat, t)
		}
	}
	if _, err := q.Exec(ctx, `DELETE FROM patient_search_terms WHERE patient_id = ANY($1) AND tenant_id = passd_tenant()`, ids); err != nil {
		return fmt.Errorf("claims: search terms: %w", err)
	}
	_, err := q.Exec(ctx, `INSERT INTO patient_search_terms (patient_id, term) SELECT * FROM unnest($1::bigint[], $2::integer[])`,
		fileIDs, flat)
	if err != nil {
		return fmt.Errorf("claims: search terms: %w", err)
	}
	return nil
}

// SearchResult is a file a search found, with the care date of its last
// invoice (not counting cancelled ones; zero when it has none).
type SearchResult struct {
	Patient
	LastInvoice calendar.Date
}

// SearchPatients finds the files q names, newest first: at most limit of
// them, more telling that others match too. Each file returned is logged
// as read by actor (AccessList: a list of files), in the statement that
// reads it; the candidates the index gave and the search turned down are
// opened inside passd only, and neither returned nor logged.
func (s *Store) SearchPatients(ctx context.Context, actor audit.Actor, q Search, limit int) (found []SearchResult, more bool, err error) {
	var ids []int64
	switch {
	case q.NIR != "":
		ids, more, err = s.searchIDs(ctx, limit, `SELECT id FROM patients WHERE nir_hash = $1 AND tenant_id = passd_tenant()`, s.nirHash(q.NIR))
	case q.FileNumber != "":
		ids, more, err = s.searchIDs(ctx, limit, `SELECT id FROM patients WHERE file_number LIKE $1 AND tenant_id = passd_tenant() ORDER BY id DESC LIMIT $2`,
			"%"+likeEscaper.Replace(q.FileNumber)+"%", limit+1)
	case q.Name != nil || q.WholeName != "" || !q.BirthDate.IsZero():
		ids, more, err = s.searchIdentity(ctx, q, limit)
	default:
		return nil, false, fault.Field("q", "q is empty").WithCause(ErrSearchEmpty)
	}
	if err != nil || len(ids) == 0 {
		return nil, false, db.Translate(err)
	}
	found, err = s.searchResults(ctx, actor, ids)
	return found, more, err
}

// likeEscaper keeps LIKE's wildcards typed in a search literal.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchIDs runs a query of file ids, newest first, and keeps limit.
func (s *Store) searchIDs(ctx context.Context, limit int, sql string, args ...any) ([]int64, bool, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, fmt.Errorf("claims: search: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, false, fmt.Errorf("claims: search: %w", err)
	}
	if len(ids) > limit {
		return ids[:limit], true, nil
	}
	return ids, false, nil
}

// searchBatch is how many files holding its rarest term searchIdentity
// reads at a time (Store.searchBatch, which tests make smaller, defaults
// to it).
const searchBatch = 200

// searchIdentity finds the files holding every term of q, newest first, a
// batch at a time, opens each candidate's names or birth date and keeps
// those that match, until it has one more than limit. The index is walked
// from its rarest term (an index-only scan, in id order, that stops with
// the batch), and the batch is narrowed to the files holding the other
// terms too: a search reads about as many rows as it shows, rather than
// every file that shares a trigram with it.
func (s *Store) searchIdentity(ctx context.Context, q Search, limit int) ([]int64, bool, error) {
	terms, err := s.rarestFirst(ctx, s.queryTerms(q))
	if err != nil || len(terms) == 0 {
		return nil, false, err
	}
	var ids []int64
	before := int64(math.MaxInt64)
	for {
		rows, err := s.pool.Query(ctx, `
			SELECT patient_id FROM patient_search_terms WHERE term = $1 AND patient_id < $2 AND tenant_id = passd_tenant()
			ORDER BY patient_id DESC LIMIT $3`, terms[0], before, s.searchBatch)
		if err != nil {
			return nil, false, fmt.Errorf("claims: search: %w", err)
		}
		batch, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, false, fmt.Errorf("claims: search: %w", err)
		}
		matched, err := s.confirm(ctx, q, batch, terms[1:])
		if err != nil {
			return nil, false, err
		}
		if ids = append(ids, matched...); len(ids) > limit {
			return ids[:limit], true, nil
		}
		if len(batch) < s.searchBatch {
			return ids, false, nil
		}
		before = batch[len(batch)-1]
	}
}

// rarityBatches is how many batches' worth of files rarestFirst counts
// each term up to. A term held by more than a batch fills the walk's first
// batch, but when few files hold every term the walk reads the whole of
// its first term's files: among common terms the rarest (a first name's
// trigram rather than a common surname's) still makes the shorter walk.
// The cap keeps counting a very common trigram cheap (an index-only scan).
const rarityBatches = 10

// rarestFirst orders terms by how many files hold each, counted up to
// rarityBatches batches.
func (s *Store) rarestFirst(ctx context.Context, terms []int32) ([]int32, error) {
	if len(terms) < 2 {
		return terms, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT r.term FROM unnest($1::integer[]) AS r (term)
		ORDER BY (SELECT count(*) FROM (SELECT FROM patient_search_terms u WHERE u.term = r.term AND u.tenant_id = passd_tenant() LIMIT $2) c), r.term`, terms,
		s.searchBatch*rarityBatches)
	if err != nil {
		return nil, fmt.Errorf("claims: search: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("claims: search: %w", err)
	}
	return out, nil
}

// confirm keeps, of the files of batch, those holding every term of
// rest, then opens their names or birth date (only what q needs) and
// returns those that match q, newest first.
func (s *Store) confirm(ctx context.Context, q Search, batch []int64, rest []int32) ([]int64, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, identity_pending, coalesce(last_name_enc, ''), coalesce(first_name_enc, ''), coalesce(birth_date_enc, '')
		FROM patients p WHERE id = ANY($1) AND p.tenant_id = passd_tenant()
		  AND (SELECT count(*) FROM patient_search_terms u WHERE u.patient_id = p.id AND u.term = ANY($2)
		                                                      AND u.tenant_id = passd_tenant()) = cardinality($2::integer[])
		ORDER BY id DESC`, batch, rest)
	if err != nil {
		return nil, fmt.Errorf("claims: search: %w", err)
	}
	var ids []int64
	var p Patient
	var si sealedIdentity
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &si.pending, &si.lastName, &si.firstName, &si.birthDate}, func() error {
		if q.BirthDate.IsZero() {
			si.birthDate = "" // only what the match needs is opened
		} else {
			si.lastName, si.firstName = "", ""
		}
		if err := s.openIdentity(&p, si); err != nil {
			return err
		}
		if q.matches(p) {
			ids = append(ids, p.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claims: search: %w", err)
	}
	return ids, nil
}

// lastInvoiceColumn is the care date of a file's last invoice that was not
// cancelled, NULL when none; it reads from a relation with the file's id.
const lastInvoiceColumn = `(SELECT max(i.care_date) FROM invoices i WHERE i.patient_id = page.id AND i.status <> 'cancelled' AND i.tenant_id = passd_tenant())`

// searchResults reads the files ids names, newest first, with their last
// invoice, and logs actor's read of each in the same statement.
func (s *Store) searchResults(ctx context.Context, actor audit.Actor, ids []int64) ([]SearchResult, error) {
	userID, name := accessActor(actor)
	rows, err := s.pool.Query(ctx, `
		WITH page AS (SELECT * FROM patients WHERE id = ANY($1) AND tenant_id = passd_tenant()),
		logged AS (
			INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
			SELECT $2, $3, $4, id, '`+AccessList+`' FROM page)
		SELECT `+patientColumns+`, `+lastInvoiceColumn+` FROM page ORDER BY id DESC`, ids, s.now(), userID, name)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: search: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SearchResult, error) {
		var res SearchResult
		p, si, err := scanPatient(withExtra{r, []any{&res.LastInvoice}})
		if err != nil {
			return res, err
		}
		res.Patient = p
		return res, s.openIdentity(&res.Patient, si)
	})
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: search: %w", err))
	}
	return out, nil
}

// withExtra scans a row of patientColumns followed by more columns.
type withExtra struct {
	row   pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// FileRow is a file as the work list shows it: its number, where its
// rights stand and its last invoice, no identity, so that the list is
// read without reading anyone's identity.
type FileRow struct {
	ID           int64
	FileNumber   string
	RightsStatus rights.Status
	CreatedAt    time.Time
	LastInvoice  calendar.Date // the care date of its last invoice not cancelled; zero: none
}

// EachFile calls fn on every file whose rights are status ("" all), newest
// first or oldest first, from one query: a download of the list as
// filtered. It reads no identity, as the list shows none.
func (s *Store) EachFile(ctx context.Context, status rights.Status, oldestFirst bool, fn func(FileRow) error) error {
	order := "id DESC"
	if oldestFirst {
		order = "id ASC"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, file_number, rights_status, created_at, `+lastInvoiceColumn+`
		FROM patients page WHERE ($1 = '' OR rights_status = $1) AND page.tenant_id = passd_tenant() ORDER BY `+order, status)
	if err != nil {
		return db.Translate(fmt.Errorf("claims: every file: %w", err))
	}
	var f FileRow
	_, err = pgx.ForEachRow(rows, []any{&f.ID, &f.FileNumber, &f.RightsStatus, &f.CreatedAt, &f.LastInvoice}, func() error { return fn(f) })
	if err != nil {
		return db.Translate(fmt.Errorf("claims: every file: %w", err))
	}
	return nil
}

// Files lists files newest first (or oldest first, as page says), those whose rights are status when it
// is not empty: up to page.Limit+1 rows, the extra one only telling that
// another page exists; total is how many files the filter matches. The
// conditions are written only when set, so that each query is a walk of an
// index (the primary key, or rights_status's) rather than a scan.
func (s *Store) Files(ctx context.Context, status rights.Status, page db.PageRequest) (list []FileRow, total int64, err error) {
	where, args := "true", []any{}
	if status != "" {
		args = append(args, status)
		where = "rights_status = $1"
	}
	if err = s.pool.QueryRow(ctx, `SELECT count(*) FROM patients WHERE tenant_id = passd_tenant() AND `+where, args...).Scan(&total); err != nil {
		return nil, 0, db.Translate(fmt.Errorf("claims: files: %w", err))
	}
	args = append(args, page.IDKeysetArg())
	keyset, order := page.IDKeyset("id", len(args))
	args = append(args, page.Limit+1)
	rows, err := s.pool.Query(ctx, `
		SELECT id, file_number, rights_status, created_at, `+lastInvoiceColumn+`
		FROM (SELECT id, file_number, rights_status, created_at FROM patients WHERE tenant_id = passd_tenant() AND `+where+` AND `+keyset+`
		      ORDER BY `+order+` LIMIT $`+fmt.Sprint(len(args))+`) page
		ORDER BY `+order, args...)
	if err != nil {
		return nil, 0, db.Translate(fmt.Errorf("claims: files: %w", err))
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FileRow, error) {
		var f FileRow
		err := r.Scan(&f.ID, &f.FileNumber, &f.RightsStatus, &f.CreatedAt, &f.LastInvoice)
		return f, err
	})
	if err != nil {
		return nil, 0, db.Translate(fmt.Errorf("claims: files: %w", err))
	}
	return list, total, nil
}
