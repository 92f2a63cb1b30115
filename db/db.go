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
	if cfg.AfterRelease == nil {
		// A connection whose server stopped taking writes (demoted to a
		// standby, or made read-only for a switchover) would fail every
		// write it is lent for: it leaves the pool instead, and the next
		// connection goes to whichever server target_session_attrs finds.
		cfg.AfterRelease = func(conn *pgx.Conn) bool { return !ServerReadOnly(conn.PgConn()) }
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
// business errors. On a pool it is also retried, on another connection,
// when its connection failed or its server turned read-only (a failover)
// before the commit was sent: nothing of it was committed. fn must
// therefore have no side effects outside the transaction.
func InTx(ctx context.Context, b TxBeginner, fn func(tx pgx.Tx) error) error {
	return inTx(ctx, b, pgx.TxOptions{}, fn)
}

// InTxOptions is InTx with explicit options (isolation level, read-only).
func InTxOptions(ctx context.Context, b TxBeginner, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	return inTx(ctx, b, opts, fn)
}

func inTx(ctx context.Context, b TxBeginner, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	_, pooled := b.(*pgxpool.Pool)
	if _, ok := b.(*Pool); ok {
		pooled = true
	}
	var err error
	for attempt := 1; ; attempt++ {
		var committing bool
		committing, err = beginFunc(ctx, b, pooled, opts, fn)
		if err == nil || attempt == maxAttempts || !retryTx(ctx, err, pooled, committing, opts) {
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

// retryTx reports whether a transaction that failed with err may run
// again: a lost race always; on a pool, a connection that failed or was
// refused (not one that timed out) or a server that turned read-only, unless the commit may have reached the server
// (then it may have committed: the caller gets a 503 and decides) or the
// caller asked for a read-only transaction (a write in it is a bug). A
// caller out of time is not kept waiting.
func retryTx(ctx context.Context, err error, pooled, committing bool, opts pgx.TxOptions) bool {
	if Retryable(err) {
		return true
	}
	if !pooled || ctx.Err() != nil || (committing && !pgconn.SafeToRetry(err)) {
		return false
	}
	if IsReadOnlyServer(err) {
		return opts.AccessMode != pgx.ReadOnly
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || pgconn.Timeout(err) {
		// Slow, not gone: another try would be as slow.
		return false
	}
	return Unavailable(err)
}

// beginFunc runs fn in one transaction. committing reports that the
// failure, if any, came from the commit.
func beginFunc(ctx context.Context, b TxBeginner, pooled bool, opts pgx.TxOptions, fn func(tx pgx.Tx) error) (committing bool, err error) {
	var tx pgx.Tx
	if p, ok := b.(interface {
		BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
	}); ok {
		tx, err = p.BeginTx(ctx, opts)
	} else {
		tx, err = b.Begin(ctx)
	}
	if err != nil {
		return false, Translate(fmt.Errorf("db: begin: %w", err))
	}
	defer func() {
		// The pool destroys a closed connection instead of keeping it:
		// one on a server that refuses writes must not serve the retry.
		if pooled && IsReadOnlyServer(err) && opts.AccessMode != pgx.ReadOnly {
			_ = tx.Conn().Close(context.WithoutCancel(ctx))
		}
		_ = tx.Rollback(context.WithoutCancel(ctx))
	}()
	if err := fn(tx); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return true, Translate(fmt.Errorf("db: commit: %w", err))
	}
	return false, nil
}

// SQLSTATEs the stores care about.
const (
	UniqueViolation      = "23505"
	ForeignKeyViolation  = "23503"
	CheckViolation       = "23514"
	SerializationFailure = "40001"
	DeadlockDetected     = "40P01"
	// ReadOnlySQLTransaction is a write refused by a server that takes
	// none: a standby, or a primary demoted or made read-only.
	ReadOnlySQLTransaction = "25006"
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

// IsReadOnlyServer reports whether err is a write refused because the
// transaction is read-only (25006). passd connects with
// target_session_attrs=read-write and writes only in read-write
// transactions, so this is its server having stopped taking writes.
func IsReadOnlyServer(err error) bool {
	pgErr, ok := PgError(err)
	return ok && pgErr.Code == ReadOnlySQLTransaction
}

// ServerReadOnly reports whether the server of conn said, the last time it
// reported its settings, that it takes no writes: a hot standby, or
// default_transaction_read_only on (PostgreSQL 14 and later report both
// whenever they change).
func ServerReadOnly(conn *pgconn.PgConn) bool {
	return conn.ParameterStatus("in_hot_standby") == "on" || conn.ParameterStatus("default_transaction_read_only") == "on"
}

// IsUndefinedTable reports whether err is PostgreSQL's "relation does not
// exist" (42P01).
func IsUndefinedTable(err error) bool {
	pgErr, ok := PgError(err)
	return ok && pgErr.Code == "42P01"
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
// reached, went away, is shutting down or starting up, no longer takes
// writes (failed over: 25006, see IsReadOnlyServer), or that the caller
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
// down, in recovery), too_many_connections (53300) and
// read_only_sql_transaction (25006: no longer the primary).
func unavailableCode(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300", ReadOnlySQLTransaction:
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
