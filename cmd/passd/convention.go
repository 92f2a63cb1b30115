package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"passd/db"
	"passd/platform"
)

// A deployment hosts one convention (a city or a CCAS) or several (issue
// 18). The commands that act on data act on one convention, named by
// --convention (its number or its name); with none named they act on the
// only one there is, and the commands that check or maintain the whole
// database (check, audit verify, rotate-key, run-job, migrate's sealing)
// go through every one.

const conventionUsage = `usage:
  passd convention create --name NAME [--database-url URL]
  passd convention list [--database-url URL]`

// conventionFlag adds --convention to a command's flags.
func conventionFlag(fs *flag.FlagSet) *string {
	return fs.String("convention", "", "the convention (its number or name) to act on; default: the only one, or every one for a command over the whole database")
}

// conventionPools returns pool bound to the convention named, or to every
// convention when named is "".
func conventionPools(ctx context.Context, pool *db.Pool, named string) ([]*db.Pool, error) {
	if named != "" {
		p, err := conventionPool(ctx, pool, named) // which refuses a bypassing role itself
		if err != nil {
			return nil, err
		}
		return []*db.Pool{p}, nil
	}
	if _, err := refuseRowSecurityBypass(ctx, pool); err != nil {
		return nil, err
	}
	ids, err := db.Tenants(ctx, pool)
	if err != nil {
		return nil, err
	}
	pools := make([]*db.Pool, len(ids))
	for i, id := range ids {
		pools[i] = pool.Bind(id)
	}
	return pools, nil
}

// conventionPool returns pool bound to the convention named, or to the only
// one when named is "" (several: the operator must name one).
func conventionPool(ctx context.Context, pool *db.Pool, named string) (*db.Pool, error) {
	if _, err := refuseRowSecurityBypass(ctx, pool); err != nil {
		return nil, err
	}
	if named == "" {
		ids, err := db.Tenants(ctx, pool)
		if err != nil {
			return nil, err
		}
		if len(ids) != 1 {
			return nil, fmt.Errorf("this deployment holds %d conventions: name one with --convention (passd convention list)", len(ids))
		}
		return pool.Bind(ids[0]), nil
	}
	// A number names a convention by its number only, never one that would
	// be named with digits.
	named = strings.TrimSpace(named)
	query := `SELECT id FROM tenants WHERE name = $1`
	if _, err := strconv.ParseInt(named, 10, 64); err == nil {
		query = `SELECT id FROM tenants WHERE id::text = $1`
	}
	var id int64
	err := pool.Pool.QueryRow(ctx, query, named).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("no convention %q (passd convention list)", named)
	}
	if err != nil {
		return nil, fmt.Errorf("find convention %q: %w", named, err)
	}
	return pool.Bind(id), nil
}

// conventionCommand creates and lists conventions. It runs as the login
// user, the schema's owner: the application's role may not add one.
func conventionCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return errors.New(conventionUsage)
	}
	fs := flag.NewFlagSet("convention "+args[0], flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	var name string
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "the convention's name: the city or CCAS, as its pages and reports show it")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New(conventionUsage)
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	raw, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer raw.Close()
	if args[0] == "list" {
		list, err := platform.NewStore(db.NewPool(raw)).Conventions(ctx)
		if err != nil {
			return fmt.Errorf("convention list: %w", err)
		}
		for _, c := range list {
			fmt.Fprintf(out, "%d\t%s\n", c.ID, c.Name)
		}
		return nil
	}
	id, err := createConvention(ctx, db.NewPool(raw), name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "convention %d created: %s\n", id, strings.TrimSpace(name))
	return nil
}

// createConvention adds a convention with its settings, an empty audit
// chain and a copy of the oldest convention's tariff (passd_tenant_create,
// migration 00021).
func createConvention(ctx context.Context, owner *db.Pool, name string) (int64, error) {
	name, err := platform.CheckName(name)
	if err != nil {
		return 0, fmt.Errorf("convention create: --name is required (1 to %d characters)", platform.MaxName)
	}
	var id int64
	err = db.InTx(ctx, owner, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT passd_tenant_create($1)`, name).Scan(&id)
	})
	if db.IsConstraint(err, "tenants_name_key") {
		return 0, fmt.Errorf("convention create: a convention is already named %q", name)
	}
	if err != nil {
		return 0, fmt.Errorf("convention create: %w", err)
	}
	return id, nil
}
