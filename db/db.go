package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/fault"
)

// DBTX is what a store helper needs: a pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Pool defaults, used unless the URL says otherwise.
const (
	// ConnectTimeout bounds one connection attempt (connect_timeout), so
	// that a server that does not answer costs a request seconds, not the
	// kernel's minutes.
	ConnectTimeout = 2 * time.Second
	// DefaultMaxConns is the pool size (pool_max_conns). pgxpool's own
	// default, four on a small machine, is fewer than the connections the
	// jobs alone hold when they run at once (each holds one for its lock
	// and one to work).
	DefaultMaxConns = 16
)

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse url: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenAs is Open for sessions that act as role: every connection starts
// with the role set (the startup parameter "role", which is SET ROLE before
// the first query, and what RESET ROLE or DISCARD ALL return to). The
// connecting user must be a member of role. An empty role opens the pool
// as the connecting user itself, as Open does.
func OpenAs(ctx context.Context, url, role string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse url: %w", err)
	}
	if role != "" {
		if cfg.ConnConfig.RuntimeParams == nil {
			cfg.ConnConfig.RuntimeParams = map[string]string{}
		}
		cfg.ConnConfig.RuntimeParams["role"] = role
	}
	pool, err := OpenConfig(ctx, cfg)
	if err != nil && role != "" {
		return nil, fmt.Errorf("db: as role %s: %w", role, err)
	}
	return pool, err
}

// OpenConfig is Open with a parsed configuration.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		pgxdecimal.Register(conn.TypeMap())
		return nil
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	if !strings.Contains(cfg.ConnString(), "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "passd"
	// Dates are compared in SQL as civil dates; timestamps are shown in UTC.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	return pool, nil
}

// TxBeginner is a pool, a connection or a transaction (for nesting).
type TxBeginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

const maxAttempts = 8

// InTx runs fn in a transaction and commits it. When PostgreSQL aborts the
// transaction for a serialization failure or a deadlock, the whole
// transaction is retried with jittered backoff: those are races lost, not
// business errors. fn must therefore have no side effects outside the
// transaction.
func InTx(ctx context.Context, b TxBeginner, fn func(tx pgx.Tx) error) error {
	return inTx(ctx, b, pgx.TxOptions{}, fn)
}

// InTxOptions is InTx with explicit options (isolation level, read-only).
func InTxOptions(ctx context.Context, b TxBeginner, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	return inTx(ctx, b, opts, fn)
}

func inTx(ctx context.Context, b TxBeginner, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = beginFunc(ctx, b, opts, fn)
		if err == nil || !Retryable(err) || attempt == maxAttempts {
			return Translate(err)
		}
		backoff := time.Duration(attempt*attempt)*5*time.Millisecond + time.Duration(rand.IntN(10))*time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

func beginFunc(ctx context.Context, b TxBeginner, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	var tx pgx.Tx
	var err error
	if p, ok := b.(interface {
		BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
	}); ok {
		tx, err = p.BeginTx(ctx, opts)
	} else {
		tx, err = b.Begin(ctx)
	}
	if err != nil {
		return Translate(fmt.Errorf("db: begin: %w", err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return Translate(fmt.Errorf("db: commit: %w", err))
	}
	return nil
}

// SQLSTATEs the stores care about.
const (
	UniqueViolation      = "23505"
	ForeignKeyViolation  = "23503"
	CheckViolation       = "23514"
	SerializationFailure = "40001"
	DeadlockDetected     = "40P01"
)

// PgError returns the PostgreSQL error inside err, if any.
func PgError(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr, true
	}
	return nil, false
}

// Retryable reports whether err is a lost race that a retry may win.
func Retryable(err error) bool {
	pgErr, ok := PgError(err)
	return ok && (pgErr.Code == SerializationFailure || pgErr.Code == DeadlockDetected)
}

// IsConstraint reports whether err violates the named constraint.
func IsConstraint(err error, name string) bool {
	pgErr, ok := PgError(err)
	return ok && pgErr.ConstraintName == name
}

// Translate turns the failures that are not bugs into faults: no row is
// not_found, an unreachable server is unavailable (so clients see 503 and
// retry). Anything else is returned as is and becomes a 500.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &fault.Error{Code: fault.NotFound, Message: "not found", Err: err}
	}
	if Unavailable(err) {
		return UnavailableFault(err)
	}
	return err
}

// UnavailableFault is the fault for an error Unavailable accepts.
func UnavailableFault(err error) *fault.Error {
	return &fault.Error{Code: fault.Unavailable, Message: "the database is unavailable or too slow to answer; retry later", Err: err}
}

// Unavailable reports whether err means that the server could not be
// reached, went away, is shutting down or starting up, or that the caller
// ran out of time waiting for it: a failure of connectivity, which a later
// retry may get past. A query that the server refused (a syntax error, a
// constraint, a lost race) is not one, nor is a misuse of a connection:
// those are bugs or rules broken and must not hide behind a 503.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if pgErr, ok := PgError(err); ok {
		return unavailableCode(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr):
		// Dialling or the start-up exchange failed (refused, no socket, timed
		// out, reset). A server that answered with an error was handled above.
		return true
	case errors.Is(err, pgconn.ErrConnClosed):
		// The connection had already been found broken.
		return true
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Out of time, or the client gave up, while waiting for a connection
		// or an answer.
		return true
	}
	return brokenConnection(err)
}

// unavailableCode reports whether a SQLSTATE says the server is not taking
// work: class 08 (connection exception), admin_shutdown (57P01),
// crash_shutdown (57P02), cannot_connect_now (57P03: starting up, shutting
// down, in recovery) and too_many_connections (53300).
func unavailableCode(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}

// brokenConnection reports whether err is a socket that closed or failed
// under the driver: end of file mid-message (pgconn returns it bare when the
// server's process is gone), a reset or a broken pipe.
func brokenConnection(err error) bool {
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// PageRequest is a keyset position in a list read newest first: the rows
// with an id below Before (all when 0), at most Limit of them. A store
// reads Limit+1 rows, so that its caller can tell another page exists.
// With OldestFirst the list reads the other way: the rows with an id above
// After, lowest first.
type PageRequest struct {
	Limit       int
	Before      int64
	After       int64
	OldestFirst bool
}

// IDKeyset is the page's condition on the id column col, its argument
// written $n, and the ORDER BY that walks col's index in the page's
// direction: a store appends p.IDKeysetArg() as its nth argument.
func (p PageRequest) IDKeyset(col string, n int) (cond, order string) {
	if p.OldestFirst {
		return fmt.Sprintf("($%d::bigint = 0 OR %s > $%d)", n, col, n), col + " ASC"
	}
	return fmt.Sprintf("($%d::bigint = 0 OR %s < $%d)", n, col, n), col + " DESC"
}

// IDKeysetArg is the argument IDKeyset's condition reads.
func (p PageRequest) IDKeysetArg() int64 {
	if p.OldestFirst {
		return p.After
	}
	return p.Before
}

// MaxLimit caps a page.
const MaxLimit = 500

// One runs a query that must return exactly one row and scans it into a T
// by column name (the struct's db tags), as pgx.RowToStructByName does:
// pgx.ErrNoRows when there is none, which Translate makes a 404.
func One[T any](ctx context.Context, q DBTX, sql string, args ...any) (T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
}
