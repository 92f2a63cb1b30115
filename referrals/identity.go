package referrals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
	"passd/keyring"
)

// The person's identity and the note are sealed as one JSON value whose
// associated data names the table and the row, as patient files' identity
// is: a value copied to another case does not open.

func identityAAD(caseID int64) []byte {
	return []byte("passd.referral_cases.identity." + strconv.FormatInt(caseID, 10))
}

// seal encrypts a case's identity under the ring's current key.
func (s *Store) seal(caseID int64, person Identity) (sealed, key string, err error) {
	plain, err := json.Marshal(person)
	if err != nil {
		return "", "", fmt.Errorf("referrals: seal case %d: %w", caseID, err)
	}
	sealer := s.keys.Sealer()
	sealed, err = sealer.Seal(plain, identityAAD(caseID))
	if err != nil {
		return "", "", fmt.Errorf("referrals: seal case %d: %w", caseID, err)
	}
	return sealed, sealer.Key(), nil
}

// open decrypts a case's identity.
func (s *Store) open(caseID int64, sealed string) (*Identity, error) {
	plain, err := s.keys.Open(sealed, identityAAD(caseID))
	if errors.Is(err, keyring.ErrUnknownKey) {
		fe := fault.New(fault.Unavailable, "this case is encrypted under a key this server does not hold").WithKind(fault.KindIdentityKeyMissing)
		fe.Err = err
		return nil, fe
	}
	if err != nil {
		return nil, fmt.Errorf("referrals: open case %d: %w", caseID, err)
	}
	var p Identity
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("referrals: open case %d: %w", caseID, err)
	}
	return &p, nil
}

// Purposes of a read of a case's identity, as the access log records them.
const (
	AccessCreate = "case.create" // the answer to the POST that opened it
	AccessRead   = "case.read"   // a case read, or the answer to a step
	AccessList   = "case.list"   // a list, each case listed
)

// logAccess records that actor read the identity of caseIDs, in the
// statement or transaction that reads it: when it cannot be written, the
// identity is not returned.
func logAccess(ctx context.Context, q db.DBTX, at time.Time, v Viewer, purpose string, caseIDs ...int64) error {
	if len(caseIDs) == 0 {
		return nil
	}
	var userID *int64
	if v.Actor.UserID != 0 {
		id := v.Actor.UserID
		userID = &id
	}
	name := v.Actor.Name
	if name == "" {
		name = "system"
	}
	_, err := q.Exec(ctx, `
		INSERT INTO referral_access_log (at, user_id, user_name, case_id, purpose)
		SELECT $1, $2, $3, id, $4 FROM unnest($5::bigint[]) AS id`, at, userID, name, purpose, caseIDs)
	if err != nil {
		return fmt.Errorf("referrals: access log: %w", err)
	}
	return nil
}

// Access is one read of a case's identity.
type Access struct {
	UserName string
	Purpose  string
}

// AccessLog lists who read a case's identity, oldest first: for the tests
// and an inquiry (no route shows it yet).
func (s *Store) AccessLog(ctx context.Context, caseID int64) ([]Access, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_name, purpose FROM referral_access_log WHERE case_id = $1 AND tenant_id = passd_tenant() ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("referrals: access log: %w", err)
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		if err := rows.Scan(&a.UserName, &a.Purpose); err != nil {
			return nil, fmt.Errorf("referrals: access log: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// rotateBatch bounds the cases one transaction re-seals.
const rotateBatch = 500

// RotateKeys re-seals, under the ring's current key, every case identity
// sealed under another key (passd rotate-key, after the patient files), in
// batches, each in its own transaction with its audit rows; cases another
// transaction holds are left for the next run. It returns how many it
// re-sealed and how many remain under another key.
func (s *Store) RotateKeys(ctx context.Context, actor audit.Actor) (resealed int, remaining int64, err error) {
	sealer := s.keys.Sealer()
	for {
		var ids []int64
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			ids = ids[:0]
			rows, err := tx.Query(ctx, `SELECT id, identity_enc FROM referral_cases
				WHERE identity_enc IS NOT NULL AND identity_key <> $1 AND tenant_id = passd_tenant() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, sealer.Key(), rotateBatch)
			if err != nil {
				return fmt.Errorf("referrals: rotation: %w", err)
			}
			type sealedCase struct {
				id     int64
				sealed string
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealedCase, error) {
				var c sealedCase
				err := r.Scan(&c.id, &c.sealed)
				return c, err
			})
			if err != nil {
				return fmt.Errorf("referrals: rotation: %w", err)
			}
			for _, c := range list {
				person, err := s.open(c.id, c.sealed)
				if err != nil {
					return err
				}
				sealed, key, err := s.seal(c.id, *person)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE referral_cases SET identity_enc = $2, identity_key = $3 WHERE id = $1 AND tenant_id = passd_tenant()`, c.id, sealed, key); err != nil {
					return fmt.Errorf("referrals: rotation: %w", err)
				}
				ids = append(ids, c.id)
			}
			return audit.AppendSame(ctx, tx, actor, "case.reseal", "referral_case", ids, nil, map[string]any{"identity_key": sealer.Key()})
		})
		resealed += len(ids)
		if err != nil {
			return resealed, 0, err
		}
		if len(ids) < rotateBatch {
			break
		}
	}
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM referral_cases WHERE identity_enc IS NOT NULL AND identity_key <> $1 AND tenant_id = passd_tenant()`, sealer.Key()).Scan(&remaining)
	if err != nil {
		return resealed, 0, fmt.Errorf("referrals: rotation: %w", err)
	}
	return resealed, remaining, nil
}
