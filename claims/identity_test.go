package claims

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/db/dbtest"
	"passd/fault"
	"passd/ident"
	"passd/keyring"
	"passd/keyring/keyringtest"
	"passd/migrations"
)

var identityNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// coordinator inserts a coordinator user and returns it as an actor.
func coordinator(t *testing.T, pool db.DBTX) audit.Actor {
	t.Helper()
	a := audit.Actor{Name: "coordinator"}
	if err := pool.QueryRow(context.Background(), `INSERT INTO users (name, role) VALUES ($1, 'coordinator') RETURNING id`, a.Name).
		Scan(&a.UserID); err != nil {
		t.Fatal(err)
	}
	return a
}

// rawText is every row of table as PostgreSQL prints it.
func rawText(t *testing.T, pool db.DBTX, table string) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// assertNoPlaintext fails if any of the values appears in any table.
func assertNoPlaintext(t *testing.T, pool db.DBTX, values ...string) {
	t.Helper()
	for _, table := range []string{"patients", "patients_unsealed", "audit_log", "rights_events", "patient_access_log"} {
		text := strings.ToLower(rawText(t, pool, table))
		for _, v := range values {
			if strings.Contains(text, strings.ToLower(v)) {
				t.Errorf("table %s holds %q in plaintext", table, v)
			}
		}
	}
}

func ringText(t *testing.T) string { return keyringtest.Text(t) }

func mustParse(t *testing.T, text string) *keyring.Ring {
	t.Helper()
	r, err := keyring.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIdentityIsSealedInItsColumnAndRow(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	text := ringText(t)
	s := NewStore(pool, mustParse(t, text), func() time.Time { return identityNow })
	coord := coordinator(t, pool)
	a, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "Zyxwabcd", FirstName: "Qwertyuio", BirthDate: calendar.NewDate(1977, 7, 7),
		NIR: "290049935012309"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "Mnbvcxzl", FirstName: "Poiuytre", BirthDate: calendar.NewDate(1980, 1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequestRights(ctx, coord, a.ID, RightsRequest{Regime: "ame", FiledOn: calendar.NewDate(2026, 5, 1)}); err != nil {
		t.Fatal(err)
	}
	assertNoPlaintext(t, pool, "Zyxwabcd", "Qwertyuio", "1977-07-07", "290049935012309", "Mnbvcxzl", "Poiuytre", "1980-01-02")

	got, _, err := s.Patient(ctx, coord, a.ID)
	if err != nil || got.LastName != "Zyxwabcd" || got.FirstName != "Qwertyuio" || got.BirthDate != calendar.NewDate(1977, 7, 7) ||
		got.NIR != "290049935012309" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if got, _, err := s.Patient(ctx, coord, b.ID); err != nil || got.NIR != "" || got.LastName != "Mnbvcxzl" {
		t.Fatalf("round trip without NIR: %+v, %v", got, err)
	}

	// Whoever can write the table cannot move a value unnoticed: each
	// change below makes the file unreadable, and is then undone.
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	var saved [2]string
	if err := pool.QueryRow(ctx, `SELECT last_name_enc, first_name_enc FROM patients WHERE id = $1`, a.ID).Scan(&saved[0], &saved[1]); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		exec(`UPDATE patients SET last_name_enc = $2, first_name_enc = $3 WHERE id = $1`, a.ID, saved[0], saved[1])
	}
	tamper := map[string]func(){
		"columns swapped": func() {
			exec(`UPDATE patients SET last_name_enc = first_name_enc, first_name_enc = last_name_enc WHERE id = $1`, a.ID)
		},
		"another file's value": func() {
			exec(`UPDATE patients SET last_name_enc = (SELECT last_name_enc FROM patients WHERE id = $2) WHERE id = $1`, a.ID, b.ID)
		},
		"a byte changed": func() {
			exec(`UPDATE patients SET last_name_enc = left(last_name_enc, -2) || translate(right(last_name_enc, 2), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
				'BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_A') WHERE id = $1`, a.ID)
		},
	}
	for name, change := range tamper {
		change()
		p, _, err := s.Patient(ctx, coord, a.ID)
		if err == nil || p.LastName != "" {
			t.Errorf("%s: the file still reads as %+v", name, p)
		}
		restore()
	}
	if _, _, err := s.Patient(ctx, coord, a.ID); err != nil {
		t.Fatalf("after restoring: %v", err)
	}

	// A server with another ring cannot read the files, and says why.
	stranger := NewStore(pool, keyringtest.New(t), func() time.Time { return identityNow })
	_, _, err = stranger.Patient(ctx, coord, a.ID)
	var fe *fault.Error
	if !fault.Is(err, fault.Unavailable) || !errors.As(err, &fe) || fe.Kind != "identity_key_missing" {
		t.Fatalf("read with another ring: %v, want unavailable/identity_key_missing", err)
	}
}

func TestNIRIsFoundAndKeptUniqueByItsKeyedHash(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := NewStore(pool, keyringtest.New(t), func() time.Time { return identityNow })
	coord := coordinator(t, pool)
	first, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "A", FirstName: "B", BirthDate: calendar.NewDate(1990, 4, 12), NIR: "290049935012309"})
	if err != nil {
		t.Fatal(err)
	}
	// The same NIR, spaced and in another case (2A/2B NIRs have letters).
	_, err = s.CreatePatient(ctx, coord, NewPatient{LastName: "C", FirstName: "D", BirthDate: calendar.NewDate(1991, 1, 1), NIR: "2 90 04 99 350 123 09"})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != "duplicate_nir" || fe.Details["existing_id"] != ident.FormatID(first.ID) {
		t.Fatalf("a second file for the NIR: %v, want duplicate_nir naming %d", err, first.ID)
	}
	var hash []byte
	if err := pool.QueryRow(ctx, `SELECT nir_hash FROM patients WHERE id = $1`, first.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, s.keys.Hash("nir", "290049935012309")) {
		t.Fatalf("nir_hash %x is not the HMAC of the NIR under the lookup key", hash)
	}

	// PostgreSQL keeps the NIR unique even for a writer that skips the check.
	_, err = pool.Exec(ctx, `INSERT INTO patients (file_number, identity_key, last_name_enc, first_name_enc, birth_date_enc, nir_enc, nir_hash)
		SELECT 'PASS-X', identity_key, last_name_enc, first_name_enc, birth_date_enc, nir_enc, nir_hash FROM patients WHERE id = $1`, first.ID)
	if !db.IsConstraint(err, "patients_nir_hash_key") {
		t.Fatalf("a duplicate nir_hash: %v, want patients_nir_hash_key", err)
	}
	// Nor does it take a file whose identity is not sealed.
	_, err = pool.Exec(ctx, `INSERT INTO patients (file_number) VALUES ('PASS-Y')`)
	if !db.IsConstraint(err, "patients_identity_sealed") {
		t.Fatalf("a file without sealed identity: %v, want patients_identity_sealed", err)
	}

	// Two coordinators opening a file for one NIR at the same instant: one
	// file, one conflict.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.CreatePatient(ctx, coord, NewPatient{LastName: "E", FirstName: "F", BirthDate: calendar.NewDate(1985, 3, 13),
				NIR: "185031305501228"})
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !fault.Is(err, fault.Conflict):
			t.Errorf("concurrent creation: %v", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d files created for one NIR, want 1", created)
	}
}

func TestRotationReencryptsEveryFileOnceAndResumes(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	oldText := ringText(t)
	old := NewStore(pool, mustParse(t, oldText), func() time.Time { return identityNow })
	coord := coordinator(t, pool)
	nirs := []string{"290049935012309", "", "187059935045683", "292079912378989", "", "185031305501228", ""}
	want := map[int64]Patient{}
	for i, nir := range nirs {
		p, err := old.CreatePatient(ctx, coord, NewPatient{LastName: "Nom" + strings.Repeat("x", i), FirstName: "Prénom",
			BirthDate: calendar.NewDate(1980+i, 1, 1), NIR: nir})
		if err != nil {
			t.Fatal(err)
		}
		want[p.ID] = p
	}
	var hashesBefore string
	if err := pool.QueryRow(ctx, `SELECT string_agg(encode(nir_hash, 'hex'), ',' ORDER BY id) FROM patients`).Scan(&hashesBefore); err != nil {
		t.Fatal(err)
	}

	_, entry, err := keyring.NewDataKey(identityNow)
	if err != nil {
		t.Fatal(err)
	}
	ring := mustParse(t, oldText+entry+"\n")
	newStore := func() *Store {
		s := NewStore(pool, ring, func() time.Time { return identityNow })
		s.identityBatch = 2
		return s
	}
	rotator := audit.Actor{Name: "passd rotate-key"}

	// A run cut short after its first batch...
	first := newStore()
	if n, _, _, err := first.rotateBatch(ctx, rotator, ring.Sealer(), 0, false); err != nil || n != 2 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	// ...is resumed by two runs at once, which share the rest.
	var wg sync.WaitGroup
	rotations := make([]Rotation, 2)
	for i := range rotations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if rotations[i], err = newStore().RotateKeys(ctx, rotator, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := rotations[0].Resealed + rotations[1].Resealed; got != len(nirs)-2 {
		t.Fatalf("the two runs re-encrypted %d files, want %d", got, len(nirs)-2)
	}
	for _, r := range rotations {
		if r.Remaining != 0 || r.Key != ring.Current() {
			t.Errorf("rotation %+v, want nothing remaining under %s", r, ring.Current())
		}
	}
	var underOld, rekeyed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM patients WHERE identity_key <> $1`, ring.Current()).Scan(&underOld); err != nil || underOld != 0 {
		t.Fatalf("%d files under an old key (%v)", underOld, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT entity_id) FILTER (WHERE true), count(*) FROM audit_log WHERE action = 'patient.rekey'`).
		Scan(&rekeyed, &underOld); err != nil || rekeyed != len(nirs) || underOld != len(nirs) {
		t.Fatalf("%d rekey audit rows for %d files, want one per file (%v)", underOld, rekeyed, err)
	}
	var hashesAfter string
	if err := pool.QueryRow(ctx, `SELECT string_agg(encode(nir_hash, 'hex'), ',' ORDER BY id) FROM patients`).Scan(&hashesAfter); err != nil {
		t.Fatal(err)
	}
	if hashesAfter != hashesBefore {
		t.Fatal("rotation changed the NIR lookup hashes; the lookup key is not rotated")
	}

	s := newStore()
	for id, w := range want {
		got, _, err := s.Patient(ctx, coord, id)
		if err != nil || got.LastName != w.LastName || got.BirthDate != w.BirthDate || got.NIR != w.NIR {
			t.Errorf("file %d after rotation: %+v, %v; want %+v", id, got, err, w)
		}
	}
	if _, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "Z", FirstName: "Z", BirthDate: calendar.NewDate(1990, 1, 1),
		NIR: "187059935045683"}); !fault.Is(err, fault.Conflict) {
		t.Fatalf("a known NIR after rotation: %v, want conflict", err)
	}
	// Run again: nothing left to do.
	if r, err := s.RotateKeys(ctx, rotator, nil); err != nil || r.Resealed != 0 || r.Remaining != 0 {
		t.Fatalf("second run: %+v, %v", r, err)
	}
	// The old ring alone no longer reads the files.
	for id := range want {
		if _, _, err := old.Patient(ctx, coord, id); !fault.Is(err, fault.Unavailable) {
			t.Fatalf("read with the retired ring: %v, want unavailable", err)
		}
	}
}

// A database that an older passd filled has its files in plaintext:
// migration 00003 moves them aside and passd seals them at start.
func TestFilesOpenedBeforeEncryptionAreSealedAtStart(t *testing.T) {
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
	coord := coordinator(t, pool)
	var a, b int64
	if err := pool.QueryRow(ctx, `INSERT INTO patients (file_number, last_name, first_name, birth_date, nir)
		VALUES ('PASS-2025-000001', 'Diallo', 'Aminata', '1990-04-12', '290049935012309') RETURNING id`).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO patients (file_number, last_name, first_name, birth_date)
		VALUES ('PASS-2025-000002', 'Nguyen', 'Van', '1987-05-03') RETURNING id`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db.NewPool(pool).Bind(dbtest.Convention), keyringtest.New(t), func() time.Time { return identityNow })
	if _, _, err := s.Patient(ctx, coord, a); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("a file not sealed yet: %v, want unavailable", err)
	}
	if n, err := PendingCount(ctx, db.NewPool(pool).Bind(dbtest.Convention)); err != nil || n != 2 {
		t.Fatalf("%d files waiting, want 2 (%v)", n, err)
	}
	// Until they are sealed, their NIRs have no hash: no file is opened,
	// which could duplicate one of them.
	_, err = s.CreatePatient(ctx, coord, NewPatient{LastName: "X", FirstName: "Y", BirthDate: calendar.NewDate(1990, 1, 1), NIR: "290049935012309"})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != "identity_unsealed" {
		t.Fatalf("a new file while others wait to be sealed: %v, want identity_unsealed", err)
	}
	s.identityBatch = 1
	if n, err := s.SealPending(ctx, audit.Actor{Name: "passd migrate"}); err != nil || n != 2 {
		t.Fatalf("sealed %d files, want 2 (%v)", n, err)
	}
	if n, err := s.SealPending(ctx, audit.Actor{Name: "passd migrate"}); err != nil || n != 0 {
		t.Fatalf("sealing again sealed %d files (%v)", n, err)
	}
	assertNoPlaintext(t, pool, "Diallo", "Aminata", "1990-04-12", "290049935012309", "Nguyen", "1987-05-03")
	if got, _, err := s.Patient(ctx, coord, a); err != nil || got.LastName != "Diallo" || got.NIR != "290049935012309" ||
		got.BirthDate != calendar.NewDate(1990, 4, 12) || got.FileNumber != "PASS-2025-000001" {
		t.Fatalf("sealed file: %+v, %v", got, err)
	}
	if got, _, err := s.Patient(ctx, coord, b); err != nil || got.FirstName != "Van" || got.NIR != "" {
		t.Fatalf("sealed file without NIR: %+v, %v", got, err)
	}
	if _, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "X", FirstName: "Y", BirthDate: calendar.NewDate(1990, 1, 1),
		NIR: "290049935012309"}); !fault.Is(err, fault.Conflict) {
		t.Fatalf("the NIR of a sealed file: %v, want conflict", err)
	}
}

func TestTheAccessLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := NewStore(pool, keyringtest.New(t), func() time.Time { return identityNow })
	coord := coordinator(t, pool)
	p, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "A", FirstName: "B", BirthDate: calendar.NewDate(1990, 1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Patient(ctx, coord, p.ID); err != nil {
		t.Fatal(err)
	}
	log, err := s.AccessLog(ctx, p.ID, db.PageRequest{Limit: 10})
	if err != nil || len(log) != 2 || log[0].Purpose != AccessRead || log[1].Purpose != AccessCreate ||
		log[0].UserID != coord.UserID || log[0].UserName != "coordinator" || !log[0].At.Equal(identityNow) {
		t.Fatalf("access log %+v, %v", log, err)
	}
	for _, sql := range []string{`UPDATE patient_access_log SET user_name = 'x'`, `DELETE FROM patient_access_log`, `TRUNCATE patient_access_log`} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", sql)
		}
	}
	if _, err := s.AccessLog(ctx, p.ID+1000, db.PageRequest{Limit: 10}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("access log of an unknown file: %v, want not found", err)
	}
}
