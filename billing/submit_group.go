package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"passd/calendar"
	"passd/db"
)

// Submissions that arrive together are committed together (group commit).
// A burst of pharmacy invoices is many small transactions, and on a small
// machine each commit's round trip, wake-ups and WAL flush cost more than
// the rows it writes. So the invoice statements of the submissions waiting
// while a commit is in flight go to PostgreSQL as one pipeline with a
// single Sync: one implicit transaction, one commit, one flush. Each
// submission is still its own statement (its invoice, lines, audit row and
// rights change, as storeInvoice writes them) and is answered only once
// that transaction is committed, so an answer means the same as before.
//
// A submission that finds no group in flight is written at once, on its
// own: a lone client waits for no one. If a group fails as a whole (a
// statement error, which rolls every member back, a deadlock between two
// groups, a server turned read-only), each member is written again on its
// own, so that one bad submission never refuses the others. A failure
// that may have come after the commit was sent is told to every member,
// as a lone submission's would be: a retry could store a second invoice.
const (
	// maxGroup bounds the statements of one transaction.
	maxGroup = 64
	// groupsInFlight is how many groups of one convention may be committing
	// at once: two let one group's rows be written while the other's flush
	// is on disk.
	groupsInFlight = 2
	// groupTimeout bounds one group's transaction, whichever request's
	// context started it: a group outlives the request that leads it.
	groupTimeout = 30 * time.Second
)

// queuedInsert is one submission's statement and where its answer goes.
type queuedInsert struct {
	args []any // storeInvoice's arguments; args[1] is the patient
	done chan insertAnswer
}

// insertAnswer is what the statement of one submission gave: the row it
// stored (stored false: none, the statement's conditions refused it), or
// err, or alone: its group failed as a whole before committing, and the
// statement is to be run on its own.
type insertAnswer struct {
	row    storedInvoice
	stored bool
	alone  bool
	err    error
}

// storedInvoice is what the invoice statement returns.
type storedInvoice struct {
	ID        int64
	Deadline  calendar.Date
	CreatedAt time.Time
}

// insert runs the invoice statement with args: in the caller's
// transaction, or, on the pool, committed with the submissions that come
// beside it (s.submissions, which runs commitGroup), and on its own again
// if their group failed whole.
func (s *Store) insert(ctx context.Context, q db.DBTX, args []any) insertAnswer {
	tenant, ok := s.pool.TenantFor(ctx)
	if pool, onPool := q.(*db.Pool); onPool && pool == s.pool && ok {
		queued := &queuedInsert{args: args, done: make(chan insertAnswer, 1)}
		s.submissions.Add(ctx, tenant, queued)
		if a := <-queued.done; !a.alone {
			return a
		}
	}
	return insertOne(ctx, q, args)
}

// commitGroup runs group's statements in one transaction and answers each.
func (s *Store) commitGroup(ctx context.Context, group []*queuedInsert) {
	ctx, cancel := context.WithTimeout(ctx, groupTimeout)
	defer cancel()
	if len(group) == 1 {
		group[0].done <- insertOne(ctx, s.pool, group[0].args)
		return
	}
	// The same order in every group: two groups that change the same
	// patients' rights_changes rows lock them in the same order, so they
	// queue rather than deadlock.
	slices.SortStableFunc(group, func(a, b *queuedInsert) int {
		return cmp.Compare(a.args[1].(int64), b.args[1].(int64))
	})
	answers, err := insertGroup(ctx, s.pool, group)
	for i, q := range group {
		switch {
		case err == nil:
			q.done <- answers[i]
		case wholeGroupUndone(err):
			q.done <- insertAnswer{alone: true}
		default:
			q.done <- insertAnswer{err: err}
		}
	}
}

// insertOne runs the invoice statement alone: in q's transaction, or on
// the pool in a transaction of its own.
func insertOne(ctx context.Context, q db.DBTX, args []any) insertAnswer {
	var a insertAnswer
	err := q.QueryRow(ctx, insertInvoiceSQL, args...).Scan(&a.row.ID, &a.row.Deadline, &a.row.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		a.err = fmt.Errorf("billing: insert invoice: %w", err)
	default:
		a.stored = true
	}
	return a
}

// insertGroup sends the group's statements as one batch: pgx sends a batch
// with one Sync, so PostgreSQL runs it as one implicit transaction that
// commits when the last statement has run, or rolls back whole. The
// answers count only if the batch closes without an error: that is the
// commit's.
func insertGroup(ctx context.Context, pool *db.Pool, group []*queuedInsert) ([]insertAnswer, error) {
	b := &pgx.Batch{}
	for _, q := range group {
		b.Queue(insertInvoiceSQL, q.args...)
	}
	br := pool.SendBatch(ctx, b)
	answers := make([]insertAnswer, len(group))
	var err error
	for i := range group {
		a := &answers[i]
		serr := br.QueryRow().Scan(&a.row.ID, &a.row.Deadline, &a.row.CreatedAt)
		a.stored = serr == nil
		if serr != nil && !errors.Is(serr, pgx.ErrNoRows) && err == nil {
			err = serr
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("billing: insert a group of %d invoices: %w", len(group), err)
	}
	return answers, nil
}

// wholeGroupUndone reports whether a group's failure left nothing of it
// committed: PostgreSQL refused a statement or the commit with an ERROR
// (the implicit transaction rolled back), or nothing reached the server.
// A FATAL is not enough: a server shutting down may end the connection
// after the commit, while waiting for the standby.
func wholeGroupUndone(err error) bool {
	if pgErr, ok := db.PgError(err); ok && pgErr.Severity == "ERROR" {
		return true
	}
	return pgconn.SafeToRetry(err)
}
