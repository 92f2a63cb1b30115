package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"passd/audit"
	"passd/auth"
	"passd/db"
)

const tokenUsage = `usage:
  passd token create --role ROLE [--provider-id ID | --organisation-id ID] --name NAME [--ttl 90d]
  passd token revoke (--id ID | --token TOKEN | --token - | --user NAME)
  passd token list [--user NAME]`

// tokenCommand runs passd token create, revoke and list. They write to
// stdout, and read a token to revoke from stdin.
func tokenCommand(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", tokenUsage)
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, cfg, args[1:], os.Stdout, os.Stderr)
	case "revoke":
		return tokenRevoke(ctx, cfg, args[1:], os.Stdin, os.Stdout)
	case "list":
		return tokenList(ctx, cfg, args[1:], os.Stdout)
	}
	return fmt.Errorf("unknown token command %q\n%s", args[0], tokenUsage)
}

// tokenStore opens the application's pool for a token command.
func tokenStore(ctx context.Context, cfg Config) (*auth.Store, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, cfg.Validate()
	}
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return nil, nil, err
	}
	// A user, and so a token, belongs to one convention.
	pool, err := conventionPool(ctx, db.NewPool(raw), cfg.Convention)
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return auth.NewStore(pool, auth.WithTokenTTL(cfg.TokenTTL)), raw.Close, nil
}

func tokenFlags(name string, cfg *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("token "+name, flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&cfg.DBRole, "db-role", cfg.DBRole, "role the sessions act as (env PASSD_DB_ROLE)")
	fs.StringVar(&cfg.Convention, "convention", cfg.Convention, "the convention (its number or name) the user belongs to; default: the only one")
	return fs
}

// tokenCreate prints only the token on stdout, so that a script can
// capture it; its id and expiry go to stderr.
func tokenCreate(ctx context.Context, cfg Config, args []string, out, info io.Writer) error {
	fs := tokenFlags("create", &cfg)
	role := fs.String("role", "", "provider, coordinator, cpam_referent, finance, admin, observer, social_worker, doctor or platform_admin")
	providerID := fs.Int64("provider-id", 0, "the provider a provider user acts for")
	organisationID := fs.Int64("organisation-id", 0, "the CCAS or SOS Médecins association a social worker or doctor acts for")
	name := fs.String("name", "", "the user's name")
	ttl := cfg.TokenTTL
	if ttl == 0 {
		ttl = auth.DefaultTokenTTL
	}
	fs.Func("ttl", "how long the token lives: days (90d) or a duration (12h) (env PASSD_TOKEN_TTL, default 90d)", func(s string) error {
		d, err := auth.ParseTTL(s)
		ttl = d
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), tokenUsage)
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role %q: must be one of provider, coordinator, cpam_referent, finance, admin, observer, social_worker, doctor, platform_admin", *role)
	}
	store, closePool, err := tokenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	issued, err := store.Issue(ctx, auth.TokenRequest{Name: *name, Role: r, ProviderID: *providerID, OrganisationID: *organisationID, TTL: ttl})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, issued.Token)
	fmt.Fprintf(info, "token id=%d for %q, expires %s\n", issued.ID, strings.TrimSpace(*name), issued.ExpiresAt.Format(time.RFC3339))
	return nil
}

// tokenRevoke revokes one token by id, one token given itself (on stdin
// with --token -, so that it stays out of the shell's history and the
// process list), or every token of a user.
func tokenRevoke(ctx context.Context, cfg Config, args []string, in io.Reader, out io.Writer) error {
	fs := tokenFlags("revoke", &cfg)
	id := fs.Int64("id", 0, "the token's id (passd token list)")
	token := fs.String("token", "", "the token itself, or - to read it from stdin")
	user := fs.String("user", "", "revoke every token of this user")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), tokenUsage)
	}
	if *id < 0 {
		return fmt.Errorf("--id %d: a token id is positive", *id)
	}
	if *token == "-" {
		line, err := bufio.NewReader(io.LimitReader(in, 1024)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read the token from stdin: %w", err)
		}
		if *token = strings.TrimSpace(line); *token == "" {
			return fmt.Errorf("--token -: no token on stdin")
		}
	}
	store, closePool, err := tokenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	revoked, err := store.Revoke(ctx, audit.Actor{Name: "cli"}, auth.Revocation{ID: *id, Token: *token, User: *user})
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	if len(revoked) == 0 {
		fmt.Fprintln(out, "nothing to revoke: no token that is not revoked already")
		return nil
	}
	ids := make([]string, len(revoked))
	for i, r := range revoked {
		ids[i] = fmt.Sprint(r)
	}
	fmt.Fprintf(out, "revoked %d token(s): id %s\n", len(revoked), strings.Join(ids, ", "))
	return nil
}

// tokenList prints every token's record (never the token), oldest first.
func tokenList(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	fs := tokenFlags("list", &cfg)
	user := fs.String("user", "", "only this user's tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), tokenUsage)
	}
	store, closePool, err := tokenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tUSER\tROLE\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	now := time.Now()
	err = store.Tokens(ctx, *user, func(t auth.TokenInfo) error {
		expires := when(t.ExpiresAt)
		if t.RevokedAt == nil && !t.Active(now) {
			expires += " (expired)"
		}
		_, err := fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, printable(t.User), t.Role,
			t.CreatedAt.UTC().Format(time.RFC3339), expires, when(t.LastUsedAt), when(t.RevokedAt))
		return err
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// printable quotes a name holding a tab, a newline or another control
// character, which would break the table.
func printable(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// when formats an optional instant in UTC, "-" for none.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
