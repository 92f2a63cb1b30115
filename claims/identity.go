package claims

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/keyring"
)

// Identity is sealed column by column (package keyring). Each value's
// associated data names its column and row, so a value copied to another
// column or file does not open. The NIR is also kept as its keyed hash,
// which is what lookups and the uniqueness of a NIR use.

// The identity columns, as named in the associated data.
const (
	colLastName  = "last_name"
	colFirstName = "first_name"
	colBirthDate = "birth_date"
	colNIR       = "nir"
)

// nirHashDomain keeps NIR hashes apart from any other keyed hash.
const nirHashDomain = "nir"

func identityAAD(column string, patientID int64) []byte {
	return []byte("passd.patients." + column + "." + strconv.FormatInt(patientID, 10))
}

// normalizeNIR is the form a NIR is hashed in: no spaces, upper case (as
// ident.ParseNIR writes it), so that a NIR typed differently still matches.
func normalizeNIR(nir string) string {
	return strings.ToUpper(strings.Join(strings.Fields(nir), ""))
}

// nirHash is the lookup hash of a NIR.
func (s *Store) nirHash(nir string) []byte { return s.keys.Hash(nirHashDomain, normalizeNIR(nir)) }

// sealedIdentity is a file's identity as stored.
type sealedIdentity struct {
	pending                                bool // opened before identity was encrypted, not sealed yet
	lastName, firstName, birthDate, nirEnc string
	nirHash                                []byte
	terms                                  []int32 // the search terms (identityTerms), by the lookup key
}

// sealIdentity encrypts a file's identity with sealer, every value under
// its one key.
func (s *Store) sealIdentity(sealer keyring.Sealer, patientID int64, lastName, firstName string, birthDate calendar.Date, nir string) (
	out sealedIdentity, err error) {
	seal := func(column, value string) string {
		if err != nil {
			return ""
		}
		var sealed string
		sealed, err = sealer.Seal([]byte(value), identityAAD(column, patientID))
		return sealed
	}
	out.lastName = seal(colLastName, lastName)
	out.firstName = seal(colFirstName, firstName)
	out.birthDate = seal(colBirthDate, birthDate.String())
	if nir != "" {
		out.nirEnc = seal(colNIR, normalizeNIR(nir))
		out.nirHash = s.nirHash(nir)
	}
	out.terms = s.identityTerms(lastName, firstName, birthDate)
	if err != nil {
		return sealedIdentity{}, fmt.Errorf("claims: seal identity of patient %d: %w", patientID, err)
	}
	return out, nil
}

// BirthDates opens the birth dates of patients, for billing's age rule
// (AME leaves an adult's 15 % drugs to the city). A file whose identity is
// not sealed yet, or sealed under a key this server does not hold, is left
// out: billing then counts its patient as an adult, whose line the CPAM
// cannot reject. Any other failure to open one is an error.
func (s *Store) BirthDates(ctx context.Context, tx pgx.Tx, patientIDs []int64) (map[int64]calendar.Date, error) {
	rows, err := tx.Query(ctx, `SELECT id, coalesce(birth_date_enc, '') FROM patients WHERE id = ANY($1) AND NOT identity_pending AND tenant_id = passd_tenant()`, patientIDs)
	if err != nil {
		return nil, fmt.Errorf("claims: birth dates: %w", err)
	}
	out := make(map[int64]calendar.Date, len(patientIDs))
	var id int64
	var sealed string
	_, err = pgx.ForEachRow(rows, []any{&id, &sealed}, func() error {
		if sealed == "" {
			return nil
		}
		plain, err := s.keys.Open(sealed, identityAAD(colBirthDate, id))
		if errors.Is(err, keyring.ErrUnknownKey) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("patient %d: %w", id, err)
		}
		d, err := calendar.Parse(string(plain))
		if err != nil {
			return fmt.Errorf("patient %d: %w", id, err)
		}
		out[id] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claims: birth dates: %w", err)
	}
	return out, nil
}

// Attested returns the id of the file numbered fileNumber when birth is
// its patient's birth date: a provider's invoice names both, as the
// patient's PASS attestation shows them, so that a provider bills only
// the patients it sees. ok is false, and nothing tells which, when no file
// has this number or its birth date is another. A file opened before
// identity was encrypted is checked against patients_unsealed; one sealed
// under a key this server does not hold cannot be checked (unavailable).
func (s *Store) Attested(ctx context.Context, q db.DBTX, fileNumber string, birth calendar.Date) (patientID int64, ok bool, err error) {
	var sealed string
	err = q.QueryRow(ctx, `SELECT id, coalesce(birth_date_enc, '') FROM patients WHERE file_number = $1 AND tenant_id = passd_tenant()`, fileNumber).Scan(&patientID, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("claims: attestation: %w", err)
	}
	var born calendar.Date
	if sealed == "" {
		err = q.QueryRow(ctx, `SELECT birth_date FROM patients_unsealed WHERE id = $1 AND tenant_id = passd_tenant()`, patientID).Scan(&born)
		if err != nil {
			return 0, false, fmt.Errorf("claims: attestation of an unsealed file: %w", err)
		}
	} else {
		plain, err := s.keys.Open(sealed, identityAAD(colBirthDate, patientID))
		if errors.Is(err, keyring.ErrUnknownKey) {
			fe := fault.New(fault.Unavailable, "this file is encrypted under a key this server does not hold").WithKind(fault.KindIdentityKeyMissing)
			fe.Err = err
			return 0, false, fe
		}
		if err != nil {
			return 0, false, fmt.Errorf("claims: attestation of patient %d: %w", patientID, err)
		}
		if born, err = calendar.Parse(string(plain)); err != nil {
			return 0, false, fmt.Errorf("claims: attestation of patient %d: %w", patientID, err)
		}
	}
	if born != birth {
		return 0, false, nil
	}
	return patientID, true, nil
}

// errUnsealed answers while files opened before identity was encrypted wait
// for passd migrate or serve (which hold the key) to seal them.
func errUnsealed() error {
	return fault.New(fault.Unavailable, "patient files opened before identity was encrypted are not encrypted yet; "+
		"passd migrate (or a restart of passd serve) with the data key encrypts them").WithKind(fault.KindIdentityUnsealed)
}

// openIdentity decrypts the identity of p in place. Only the values si
// holds are opened (a list that shows names reads only the names).
func (s *Store) openIdentity(p *Patient, si sealedIdentity) error {
	if si.pending {
		return errUnsealed()
	}
	var err error
	open := func(column, sealed string) string {
		if err != nil || sealed == "" {
			return ""
		}
		var plain []byte
		plain, err = s.keys.Open(sealed, identityAAD(column, p.ID))
		return string(plain)
	}
	p.LastName = open(colLastName, si.lastName)
	p.FirstName = open(colFirstName, si.firstName)
	birth := open(colBirthDate, si.birthDate)
	p.NIR = open(colNIR, si.nirEnc)
	if err == nil && birth != "" {
		p.BirthDate, err = calendar.Parse(birth)
	}
	if errors.Is(err, keyring.ErrUnknownKey) {
		fe := fault.New(fault.Unavailable, "this file is encrypted under a key this server does not hold").WithKind(fault.KindIdentityKeyMissing)
		fe.Err = err
		return fe
	}
	if err != nil {
		return fmt.Errorf("claims: open identity of patient %d: %w", p.ID, err)
	}
	return nil
}

// identityUpdate gathers files sealed anew, to write them in one statement.
type identityUpdate struct {
	ids                                 []int64
	oldKeys                             []string // the key each file was under; "" for a file not sealed yet
	lastNames, firstNames, births, nirs []string
	hashes                              [][]byte
	terms                               [][]int32
}

func (u *identityUpdate) add(id int64, oldKey string, si sealedIdentity) {
	u.ids, u.oldKeys = append(u.ids, id), append(u.oldKeys, oldKey)
	u.lastNames, u.firstNames, u.births = append(u.lastNames, si.lastName), append(u.firstNames, si.firstName), append(u.births, si.birthDate)
	u.nirs, u.hashes = append(u.nirs, si.nirEnc), append(u.hashes, si.nirHash)
	u.terms = append(u.terms, si.terms)
}

// apply writes the files, each only if it is still under the key it was
// read under, with their search terms anew, and fails unless every one was
// written.
func (u *identityUpdate) apply(ctx context.Context, tx pgx.Tx, key string) error {
	if len(u.ids) == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `
		UPDATE patients p SET identity_pending = false, identity_key = $1, last_name_enc = u.l, first_name_enc = u.f,
		       birth_date_enc = u.b, nir_enc = nullif(u.n, ''), nir_hash = u.h, search_pending = false
		FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[]) AS u (id, old, l, f, b, n, h)
		WHERE p.id = u.id AND coalesce(p.identity_key, '') = u.old AND p.tenant_id = passd_tenant()`,
		key, u.ids, u.oldKeys, u.lastNames, u.firstNames, u.births, u.nirs, u.hashes)
	if err != nil {
		return fmt.Errorf("claims: seal identity: %w", err)
	}
	if tag.RowsAffected() != int64(len(u.ids)) {
		return fmt.Errorf("claims: seal identity: %d of %d files changed", tag.RowsAffected(), len(u.ids))
	}
	return writeTerms(ctx, tx, u.ids, u.terms)
}

// identityBatch is how many files one transaction seals or re-encrypts
// (Store.identityBatch, which tests make smaller, defaults to it).
const identityBatch = 500

// SealPending encrypts the identity of files opened before identity was
// encrypted (migration 00003 moved it to patients_unsealed), in batches,
// each in its own transaction with its audit rows, and empties
// patients_unsealed. Several processes may run it at once: each batch
// takes rows the others do not hold. It returns how many files it sealed.
// It then writes the search terms of the files sealed before there were
// any (indexPending), as both need the keys and run where they are.
func (s *Store) SealPending(ctx context.Context, actor audit.Actor) (int, error) {
	total := 0
	for {
		n, err := s.sealPendingBatch(ctx, actor)
		total += n
		if err != nil {
			return total, err
		}
		if n < s.identityBatch {
			break
		}
	}
	return total, s.indexPending(ctx)
}

// indexPending writes the search terms of the files migration 00018 found
// sealed (search_pending), in batches, walking them by id. A file sealed
// under a key the ring does not hold is passed over and stays pending,
// for the next start: it cannot be searched by name meanwhile, but it
// does not keep the server from starting.
func (s *Store) indexPending(ctx context.Context) error {
	var after int64
	for {
		n, last, err := s.indexPendingBatch(ctx, after)
		if err != nil || n < s.identityBatch {
			return err
		}
		after = last
	}
}

// indexPendingBatch indexes up to s.identityBatch pending files after id
// after; n is how many it read, last the last one's id.
func (s *Store) indexPendingBatch(ctx context.Context, after int64) (n int, last int64, err error) {
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, last = 0, after
		rows, err := tx.Query(ctx, `
			SELECT id, last_name_enc, first_name_enc, birth_date_enc FROM patients
			WHERE search_pending AND id > $1 AND tenant_id = passd_tenant() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, after, s.identityBatch)
		if err != nil {
			return fmt.Errorf("claims: search index: %w", err)
		}
		var ids []int64
		var terms [][]int32
		var p Patient
		var si sealedIdentity
		_, err = pgx.ForEachRow(rows, []any{&p.ID, &si.lastName, &si.firstName, &si.birthDate}, func() error {
			n, last = n+1, p.ID
			if err := s.openIdentity(&p, si); fault.Is(err, fault.Unavailable) {
				return nil
			} else if err != nil {
				return err
			}
			ids, terms = append(ids, p.ID), append(terms, s.identityTerms(p.LastName, p.FirstName, p.BirthDate))
			return nil
		})
		if err != nil {
			return fmt.Errorf("claims: search index: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE patients SET search_pending = false WHERE id = ANY($1) AND tenant_id = passd_tenant()`, ids); err != nil {
			return fmt.Errorf("claims: search index: %w", err)
		}
		return writeTerms(ctx, tx, ids, terms)
	})
	return n, last, err
}

func (s *Store) sealPendingBatch(ctx context.Context, actor audit.Actor) (int, error) {
	var n int
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			DELETE FROM patients_unsealed WHERE patients_unsealed.tenant_id = passd_tenant() AND id IN (
				SELECT id FROM patients_unsealed WHERE patients_unsealed.tenant_id = passd_tenant()
				ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING id, last_name, first_name, birth_date, coalesce(nir, '')`, s.identityBatch)
		if err != nil {
			return fmt.Errorf("claims: unsealed files: %w", err)
		}
		sealer := s.keys.Sealer()
		key := sealer.Key()
		var u identityUpdate
		var id int64
		var lastName, firstName, nir string
		var birth calendar.Date
		_, err = pgx.ForEachRow(rows, []any{&id, &lastName, &firstName, &birth, &nir}, func() error {
			si, err := s.sealIdentity(sealer, id, lastName, firstName, birth, nir)
			u.add(id, "", si)
			return err
		})
		if err != nil {
			return fmt.Errorf("claims: unsealed files: %w", err)
		}
		if err := u.apply(ctx, tx, key); err != nil {
			return err
		}
		n = len(u.ids)
		return audit.AppendSame(ctx, tx, actor, "patient.seal", "patient", u.ids, nil, map[string]any{"identity_key": key})
	})
	return n, err
}

// PendingCount is how many files still wait for SealPending.
func PendingCount(ctx context.Context, q db.DBTX) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT count(*) FROM patients_unsealed WHERE tenant_id = passd_tenant()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("claims: unsealed files: %w", err)
	}
	return n, nil
}

// Rotation is what RotateKeys did.
type Rotation struct {
	Key       string // the current key every file should now be under
	Resealed  int    // files re-encrypted by this run
	Remaining int64  // files still under another key: written meanwhile by a server with an older ring
}

// RotateKeys re-encrypts, under the ring's current key, every file sealed
// under another key, walking the files by id in batches, each batch in its
// own transaction with one audit row per file. The first walk skips the
// files another transaction holds; a second walk waits for them, and
// passes over those that transaction re-encrypted. So RotateKeys may run
// while passd serves, twice, or in two processes at once: each file is
// re-encrypted once, and a run cut short is resumed by the next. The lookup
// key is not rotated: NIR hashes stay as they are, and each file's search
// terms are written anew with its identity, by that same key.
func (s *Store) RotateKeys(ctx context.Context, actor audit.Actor, progress func(done int)) (Rotation, error) {
	sealer := s.keys.Sealer()
	r := Rotation{Key: sealer.Key()}
	for _, wait := range []bool{false, true} {
		var after int64
		for {
			n, last, more, err := s.rotateBatch(ctx, actor, sealer, after, wait)
			r.Resealed += n
			if err != nil {
				return r, err
			}
			if progress != nil && n > 0 {
				progress(r.Resealed)
			}
			if !more {
				break
			}
			after = last
		}
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM patients WHERE identity_key <> $1 AND tenant_id = passd_tenant()`, r.Key).Scan(&r.Remaining); err != nil {
		return r, fmt.Errorf("claims: rotation: %w", err)
	}
	return r, nil
}

// rotateBatch re-encrypts with sealer up to s.identityBatch files after id
// after that are not under its key, skipping the files another transaction
// holds unless wait. more tells whether the walk should go on from last.
func (s *Store) rotateBatch(ctx context.Context, actor audit.Actor, sealer keyring.Sealer, after int64, wait bool) (
	n int, last int64, more bool, err error) {
	key := sealer.Key()
	lock := "FOR UPDATE SKIP LOCKED"
	if wait {
		lock = "FOR UPDATE"
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, last, more = 0, after, false
		rows, err := tx.Query(ctx, `
			SELECT id, identity_key, last_name_enc, first_name_enc, birth_date_enc, coalesce(nir_enc, '')
			FROM patients WHERE id > $1 AND identity_key <> $2 AND tenant_id = passd_tenant()
			ORDER BY id LIMIT $3 `+lock, after, key, s.identityBatch)
		if err != nil {
			return fmt.Errorf("claims: rotation: %w", err)
		}
		var u identityUpdate
		byOldKey := map[string][]int64{}
		var p Patient
		var oldKey string
		var si sealedIdentity
		_, err = pgx.ForEachRow(rows, []any{&p.ID, &oldKey, &si.lastName, &si.firstName, &si.birthDate, &si.nirEnc}, func() error {
			if err := s.openIdentity(&p, si); err != nil {
				return err
			}
			sealed, err := s.sealIdentity(sealer, p.ID, p.LastName, p.FirstName, p.BirthDate, p.NIR)
			u.add(p.ID, oldKey, sealed)
			byOldKey[oldKey] = append(byOldKey[oldKey], p.ID)
			last = p.ID
			return err
		})
		if err != nil {
			return fmt.Errorf("claims: rotation: %w", err)
		}
		if err := u.apply(ctx, tx, key); err != nil {
			return err
		}
		for old, ids := range byOldKey {
			if err := audit.AppendSame(ctx, tx, actor, "patient.rekey", "patient", ids,
				map[string]any{"identity_key": old}, map[string]any{"identity_key": key}); err != nil {
				return err
			}
		}
		n, more = len(u.ids), len(u.ids) == s.identityBatch
		return nil
	})
	return n, last, more, err
}
