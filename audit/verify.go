package audit

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/db"
)

// The audit log is a hash chain (migrations 00004 and 00007): each sealed
// row carries chain_seq (1, 2, 3, … without gaps, in the order rows were
// sealed), prev_hash (the hash of the row before; 32 zero bytes for the
// first) and hash, SHA-256 over a canonical text of the row and prev_hash,
// computed by the SQL function audit_log_hash. A one-row head records the
// last link. Rows are appended unsealed (all three NULL) and chained
// shortly after by audit_seal (see Seal); until then they are outside the
// chain, and Verify counts them apart.

// ProblemKind names how the chain is broken.
type ProblemKind string

const (
	// Altered: the row's content no longer gives its hash.
	Altered ProblemKind = "altered"
	// Rehashed: the row's hash was recomputed after its content changed;
	// the next row still links to the original hash.
	Rehashed ProblemKind = "rehashed"
	// Unlinked: the row's prev_hash is not the hash of the row before,
	// though both rows hash correctly (rows reordered or forged).
	Unlinked ProblemKind = "unlinked"
	// Deleted: rows between two chain numbers are missing.
	Deleted ProblemKind = "deleted"
	// TailDeleted: the last rows are missing; the head is further on.
	TailDeleted ProblemKind = "tail_deleted"
	// BeyondHead: rows come after the head, chained without audit_seal.
	BeyondHead ProblemKind = "beyond_head"
	// HeadMismatch: the head is at the last row's number but not its hash.
	HeadMismatch ProblemKind = "head_mismatch"
)

// Problem is one break in the chain: a row (ID, Seq) or a range of chain
// numbers (FromSeq to ToSeq) that went missing.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	ID      int64       `json:"id,omitempty"`
	Seq     int64       `json:"seq,omitempty"`
	FromSeq int64       `json:"from_seq,omitempty"`
	ToSeq   int64       `json:"to_seq,omitempty"`
}

func (p Problem) String() string {
	switch p.Kind {
	case Altered:
		return fmt.Sprintf("audit row id=%d seq=%d: altered (its content does not give its hash)", p.ID, p.Seq)
	case Rehashed:
		return fmt.Sprintf("audit row id=%d seq=%d: altered and rehashed (seq %d still links to its original hash)", p.ID, p.Seq, p.Seq+1)
	case Unlinked:
		return fmt.Sprintf("audit row id=%d seq=%d: does not link to seq %d (its prev_hash is not that row's hash)", p.ID, p.Seq, p.Seq-1)
	case Deleted:
		if p.FromSeq == p.ToSeq {
			return fmt.Sprintf("audit row seq=%d deleted", p.FromSeq)
		}
		return fmt.Sprintf("rows between seq %d and %d deleted", p.FromSeq, p.ToSeq)
	case TailDeleted:
		if p.FromSeq == p.ToSeq {
			return fmt.Sprintf("audit row seq=%d deleted (the last row; the chain head is at seq %d)", p.FromSeq, p.ToSeq)
		}
		return fmt.Sprintf("rows between seq %d and %d deleted (the last rows; the chain head is at seq %d)", p.FromSeq, p.ToSeq, p.ToSeq)
	case BeyondHead:
		return fmt.Sprintf("audit row id=%d seq=%d: after the chain head (seq %d): chained around the sealer", p.ID, p.Seq, p.FromSeq)
	case HeadMismatch:
		return fmt.Sprintf("chain head at seq %d does not hold the hash of audit row id=%d seq=%d", p.Seq, p.ID, p.Seq)
	}
	return fmt.Sprintf("%s id=%d seq=%d", p.Kind, p.ID, p.Seq)
}

// MaxProblems bounds the problems a Report lists, so that verifying a log
// whose every row was rewritten still runs in flat memory. Broken counts
// them all.
const MaxProblems = 1000

// Report is what Verify found. Rows and the problems are of the sealed
// chain; Pending rows, not sealed yet, are outside it.
type Report struct {
	Rows     int64     `json:"rows"`
	HeadSeq  int64     `json:"head_seq"`
	Broken   int64     `json:"broken"`
	Problems []Problem `json:"problems"`
	// Pending counts the rows awaiting their seal, the oldest appended at
	// OldestPending (nil when none).
	Pending       int64      `json:"pending"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
}

// OK reports whether the chain is intact.
func (r Report) OK() bool { return r.Broken == 0 }

func (r *Report) add(p Problem) {
	r.Broken++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// genesis is the prev_hash of the first row.
var genesis = make([]byte, 32)

// Verify reads the whole sealed chain in chain_seq order (the order of
// sealing, which is not always id order), in one read-only snapshot, and
// checks that every row hashes to its hash (recomputed by the database's
// audit_log_hash, the function audit_seal used), links to the row before,
// follows it without a gap, and that the last row is the chain head. Rows
// are streamed: memory does not grow with the log. Rows not sealed yet are
// counted in Pending, not checked: seal them first (SealPending) to cover
// them.
func Verify(ctx context.Context, b db.TxBeginner) (Report, error) {
	var report Report
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := db.InTxOptions(ctx, b, opts, func(tx pgx.Tx) error {
		report = Report{}
		var headHash []byte
		if err := tx.QueryRow(ctx, `SELECT chain_seq, hash FROM audit_chain_head()`).Scan(&report.HeadSeq, &headHash); err != nil {
			return fmt.Errorf("audit: verify: chain head: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT chain_seq, id, prev_hash, hash,
			       hash = audit_log_hash(chain_seq, id, at, actor_id, actor, action, entity, entity_id, before, after, prev_hash)
			FROM audit_log WHERE chain_seq IS NOT NULL AND tenant_id = passd_tenant() ORDER BY chain_seq`)
		if err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		defer rows.Close()
		// The row before the current one. Its hash is kept in a buffer of
		// its own: pgx reuses the row's memory on Next.
		var prevSeq, prevID int64
		prevHash := bytes.Clone(genesis)
		prevIntact := true
		var seq, id int64
		var linkHash, hash []byte
		var intact bool
		for rows.Next() {
			if err := rows.Scan(&seq, &id, &linkHash, &hash, &intact); err != nil {
				return fmt.Errorf("audit: verify: scan: %w", err)
			}
			report.Rows++
			switch {
			case seq > report.HeadSeq:
				report.add(Problem{Kind: BeyondHead, ID: id, Seq: seq, FromSeq: report.HeadSeq})
			case seq > prevSeq+1:
				// The rows in between are gone; this row's link cannot be
				// checked against them.
				report.add(Problem{Kind: Deleted, FromSeq: prevSeq + 1, ToSeq: seq - 1})
			case !bytes.Equal(linkHash, prevHash):
				// Both rows cannot be right. When this one hashes as it
				// should, its prev_hash is the original hash of the row
				// before: that row changed and was given a new hash.
				if intact && prevIntact {
					if prevSeq == 0 {
						report.add(Problem{Kind: Unlinked, ID: id, Seq: seq})
					} else {
						report.add(Problem{Kind: Rehashed, ID: prevID, Seq: prevSeq})
					}
				}
			}
			if !intact {
				report.add(Problem{Kind: Altered, ID: id, Seq: seq})
			}
			prevSeq, prevID, prevIntact = seq, id, intact
			prevHash = append(prevHash[:0], hash...)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		rows.Close()
		if err := tx.QueryRow(ctx, `SELECT count(*), min(at) FROM audit_log WHERE chain_seq IS NULL AND tenant_id = passd_tenant()`).
			Scan(&report.Pending, &report.OldestPending); err != nil {
			return fmt.Errorf("audit: verify: unsealed rows: %w", err)
		}
		switch {
		case report.HeadSeq > prevSeq:
			report.add(Problem{Kind: TailDeleted, FromSeq: prevSeq + 1, ToSeq: report.HeadSeq})
		case report.HeadSeq == prevSeq && !bytes.Equal(headHash, prevHash):
			report.add(Problem{Kind: HeadMismatch, ID: prevID, Seq: prevSeq})
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	return report, nil
}
