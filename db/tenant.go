package db

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A tenant is a convention (a city or a CCAS) on a deployment that hosts
// several (issue 18). Every tenant table is under PostgreSQL row-level
// security keyed on the setting passd.tenant (migration 00021): a
// transaction sees and writes the rows of the tenant it set, and with none
// set it sees nothing and can write nothing.
//
// The stores name the tenant as well, in every statement on a tenant
// table (tenant_id = passd_tenant(), beside each table): a second line that
// holds where row-level security would not, a role that bypasses it or a
// policy gone (migrations/scoping_test.go checks the code for it).
//
// The setting is made inside each transaction, with set_config(…, true),
// never for a session: a pooled connection carries no convention from one
// use to the next. Pool does it for every statement and transaction it
// runs, from the tenant the context names (WithTenant), the credential the
// context names (ThroughDoor), or the tenant the pool is bound to (Bind).

type scopeKey struct{}

// scope is how a statement learns its tenant: an id, or a door function
// that finds it from a credential's hash.
type scope struct {
	tenant  int64
	door    string
	doorArg []byte
}

// WithTenant returns ctx naming the tenant every statement run with it acts
// in.
func WithTenant(ctx context.Context, tenant int64) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope{tenant: tenant})
}

// TenantOf returns the tenant ctx names, if any.
func TenantOf(ctx context.Context) (int64, bool) {
	s, ok := ctx.Value(scopeKey{}).(scope)
	return s.tenant, ok && s.tenant != 0
}

// Doors are the SECURITY DEFINER functions that return the tenant of a
// credential (migration 00021): the only reads across conventions.
const (
	TokenDoor   = "passd_tenant_of_token"
	SessionDoor = "passd_tenant_of_session"
)

// ThroughDoor returns ctx whose statements act in the tenant of the
// credential whose hash is given, as door finds it: the one query of a
// request made before its user, and so its convention, is known. An unknown
// hash sets no tenant, and the statement sees nothing.
func ThroughDoor(ctx context.Context, door string, hash []byte) context.Context {
	if door != TokenDoor && door != SessionDoor {
		panic("db: unknown door " + door)
	}
	return context.WithValue(ctx, scopeKey{}, scope{door: door, doorArg: hash})
}

// Pool is a pgx pool whose statements and transactions act in a tenant.
// Its methods shadow pgxpool's; Acquire (the embedded pool's) hands out a
// raw connection that acts in none.
type Pool struct {
	*pgxpool.Pool
	bound int64
}

// NewPool wraps a pool; its statements act in the tenant their context
// names, and with none in no tenant at all.
func NewPool(p *pgxpool.Pool) *Pool { return &Pool{Pool: p} }

// Bind returns the pool acting in tenant whenever a context names none:
// for the commands an operator runs on one convention, and for tests. The
// server's pool is never bound: a request acts in its user's convention.
func (p *Pool) Bind(tenant int64) *Pool { return &Pool{Pool: p.Pool, bound: tenant} }

// Bound returns the tenant the pool is bound to, 0 for none.
func (p *Pool) Bound() int64 { return p.bound }

// TenantFor returns the tenant the statements run with ctx act in, as a
// convention's id: false when they act in none, or in whichever a
// credential names (ThroughDoor).
func (p *Pool) TenantFor(ctx context.Context) (int64, bool) {
	s, _ := ctx.Value(scopeKey{}).(scope)
	switch {
	case s.door != "":
		return 0, false
	case s.tenant != 0:
		return s.tenant, true
	case p.bound != 0:
		return p.bound, true
	}
	return 0, false
}

// setTenant is the statement that sets a transaction's tenant; with a door,
// its argument is the credential's hash.
func (p *Pool) setTenant(ctx context.Context) (string, []any, bool) {
	if s, _ := ctx.Value(scopeKey{}).(scope); s.door != "" {
		return "SELECT set_config('passd.tenant', coalesce(" + s.door + "($1)::text, ''), true)", []any{s.doorArg}, true
	}
	if tenant, ok := p.TenantFor(ctx); ok {
		return "SELECT set_config('passd.tenant', $1, true)", []any{strconv.FormatInt(tenant, 10)}, true
	}
	return "", nil, false
}

// scoped sends the tenant's setting and then sql as one pipeline with a
// single Sync: PostgreSQL runs them in one implicit transaction, so the
// setting holds for sql and ends with it, in one round trip.
func (p *Pool) scoped(ctx context.Context, sql string, args []any) (pgx.BatchResults, bool, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return p.sendScoped(ctx, b.QueuedQueries)
}

// sendScoped sends the tenant's setting, then queued, in one batch, and
// reads the setting's result: what is left to read is queued's.
func (p *Pool) sendScoped(ctx context.Context, queued []*pgx.QueuedQuery) (pgx.BatchResults, bool, error) {
	set, setArgs, ok := p.setTenant(ctx)
	if !ok {
		return nil, false, nil
	}
	b := &pgx.Batch{}
	b.Queue(set, setArgs...)
	b.QueuedQueries = append(b.QueuedQueries, queued...)
	br := p.Pool.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, true, fmt.Errorf("db: set the convention: %w", err)
	}
	return br, true, nil
}

// Exec runs sql in the context's tenant.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br, ok, err := p.scoped(ctx, sql, args)
	if !ok {
		return p.Pool.Exec(ctx, sql, args...)
	}
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs sql in the context's tenant. The connection goes back to the
// pool when the rows are closed or read to their end.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	br, ok, err := p.scoped(ctx, sql, args)
	if !ok {
		return p.Pool.Query(ctx, sql, args...)
	}
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs sql in the context's tenant; see pgx.Conn.QueryRow.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}

// SendBatch runs b in the context's tenant, in one implicit transaction as
// pgx sends a batch.
func (p *Pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, ok, err := p.sendScoped(ctx, b.QueuedQueries)
	switch {
	case !ok:
		return p.Pool.SendBatch(ctx, b)
	case err != nil:
		return failedBatch{err: err}
	}
	return br
}

// CopyFrom copies in a transaction of the context's tenant. It is not
// retried: src may be read once only.
func (p *Pool) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if _, _, ok := p.setTenant(ctx); !ok {
		return p.Pool.CopyFrom(ctx, table, columns, src)
	}
	tx, err := p.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	n, err := tx.CopyFrom(ctx, table, columns, src)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("db: commit the copy: %w", err)
	}
	return n, nil
}

// Begin starts a transaction acting in the context's tenant.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx starts a transaction with opts, acting in the context's tenant.
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := p.Pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := p.SetConvention(ctx, tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return tx, nil
}

// SetConvention sets, in tx, the tenant the context names (or the pool is
// bound to): for a transaction begun on the raw pool because its first
// statement must be another (SET TRANSACTION SNAPSHOT).
func (p *Pool) SetConvention(ctx context.Context, tx pgx.Tx) error {
	set, setArgs, ok := p.setTenant(ctx)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, set, setArgs...); err != nil {
		return fmt.Errorf("db: set the convention: %w", err)
	}
	return nil
}

// batchRows are the rows of a scoped query: closing them also ends the
// batch, which gives the connection back.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	if err := r.br.Close(); err != nil && r.Rows.Err() == nil {
		r.err = err
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow is QueryRow's answer, as pgx's: the first row, or
// pgx.ErrNoRows.
type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// failedBatch answers every result of a batch whose tenant could not be set.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return batchRow{err: f.err} }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }

// Tenants returns the conventions work over the whole database goes
// through: the one the pool is bound to, or every one.
func (p *Pool) Tenants(ctx context.Context) ([]int64, error) {
	if p.bound != 0 {
		return []int64{p.bound}, nil
	}
	return Tenants(ctx, p)
}

// Tenants lists every convention on the deployment, oldest first (the
// tenants table is not under row-level security: it names them only).
func Tenants(ctx context.Context, p *Pool) ([]int64, error) {
	rows, err := p.Pool.Query(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("db: list the conventions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("db: list the conventions: %w", err)
	}
	return ids, nil
}
