package platform

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/db"
	"passd/fault"
)

// MaxName bounds a convention's name, in characters (tenants' check).
const MaxName = 200

// Convention is one convention of the deployment.
type Convention struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// Store reads and creates conventions.
type Store struct {
	pool *db.Pool
}

// NewStore returns a store on pool.
func NewStore(pool *db.Pool) *Store { return &Store{pool: pool} }

// Conventions lists every convention, oldest first. The statement names no
// convention: the list is the deployment's, not one convention's.
func (s *Store) Conventions(ctx context.Context) ([]Convention, error) {
	rows, err := s.pool.Pool.Query(ctx, `SELECT id, name, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("platform: list the conventions: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Convention])
	if err != nil {
		return nil, fmt.Errorf("platform: list the conventions: %w", err)
	}
	return list, nil
}

// CheckName trims a convention's name and checks its length.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxName {
		return "", fault.Field("name", "name is required (at most %d characters)", MaxName)
	}
	return name, nil
}

// CreateConvention creates a convention named name, in a transaction of the
// convention ctx acts in (the administrator's own), which records the
// creation in its audit log. A name already taken is a conflict on the
// field name.
func (s *Store) CreateConvention(ctx context.Context, actor audit.Actor, name string) (Convention, error) {
	name, err := CheckName(name)
	if err != nil {
		return Convention{}, err
	}
	var out Convention
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT passd_tenant_create($1)`, name).Scan(&out.ID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT name, created_at FROM tenants WHERE id = $1`, out.ID).Scan(&out.Name, &out.CreatedAt); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "tenant.create", Entity: "tenant",
			EntityID: strconv.FormatInt(out.ID, 10), After: map[string]any{"name": out.Name}})
	})
	if db.IsConstraint(err, "tenants_name_key") {
		return Convention{}, fault.New(fault.Conflict, "a convention is already named %q", name).WithField("name").WithCause(err)
	}
	if err != nil {
		return Convention{}, db.Translate(fmt.Errorf("platform: create convention: %w", err))
	}
	return out, nil
}
