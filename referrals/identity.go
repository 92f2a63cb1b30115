package referrals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	rows, err := s.pool.Query(ctx, `SELECT user_name, purpose FROM referral_access_log WHERE case_id = $1 ORDER BY id`, caseID)
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
