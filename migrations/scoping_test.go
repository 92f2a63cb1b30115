package migrations_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"passd/db/dbtest"
)

// Issue 18 asks for conventions to be kept apart twice: by row-level
// security (tenants_test.go) and by the stores' own queries. This test
// holds the second line: every statement in passd's code that reads,
// updates or deletes a convention's table says, in the same string, which
// convention's rows it means (tenant_id = passd_tenant(), the convention
// its transaction set). An insert takes the convention from the column's
// default, which is the same setting.
//
// The test reads the SQL written in Go string literals, as the code writes
// it: keywords in capitals, tables in lower case, so that "FROM invoices"
// is SQL, even in a fragment joined to another, and "from invoices" is not. A table named in one
// literal must be scoped in that literal, not in a fragment joined to it
// later, so that a reader sees the scope beside the table.

// scopeExempt are the trees whose SQL is not passd's stores: tests, the
// bench (which seeds as the owner), the browser tests, the migrations' SQL
// files and the test harness.
var scopeExempt = []string{".git", "node_modules", "e2e", "bench", "cmd/passd-bench", "migrations", "db/dbtest", "docs", "packaging", "scripts"}

var (
	// tableRef finds a table read, updated or deleted, and its alias.
	tableRef = regexp.MustCompile(`\b(?:FROM|JOIN|UPDATE|USING)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)(?:\s+(?:AS\s+)?([a-z_][a-z0-9_]*))?`)
)

type unscoped struct {
	pos   string
	table string
	name  string
}

func TestEveryStatementNamesItsConvention(t *testing.T) {
	_, owner := dbtest.NewOwner(t)
	tables := tenantTables(t, owner)
	offences, statements := unscopedStatements(t, "..", tables)
	if statements < 100 {
		t.Fatalf("found %d statements on conventions' tables: the scan reads nothing", statements)
	}
	for _, o := range offences {
		t.Errorf("%s: %s (as %s) is read or written without tenant_id = passd_tenant()", o.pos, o.table, o.name)
	}
	if len(offences) > 0 {
		t.Logf("%d references to conventions' tables, in %d statements, name no convention", len(offences), statements)
	}
}

// TestTheScopeCheckFindsWhatItShould holds the reading of one literal to
// cases it must and must not accept.
func TestTheScopeCheckFindsWhatItShould(t *testing.T) {
	tables := []string{"invoices", "providers"}
	cases := []struct {
		sql  string
		want []string // the names left unscoped
	}{
		{`SELECT id FROM invoices WHERE id = $1`, []string{"invoices"}},
		{`SELECT id FROM invoices WHERE id = $1 AND tenant_id = passd_tenant()`, nil},
		{`SELECT i.id FROM invoices i JOIN providers p ON p.id = i.provider_id WHERE i.tenant_id = passd_tenant()`, []string{"p"}},
		{`SELECT i.id FROM invoices i JOIN providers p ON p.id = i.provider_id AND p.tenant_id = passd_tenant() WHERE i.tenant_id = passd_tenant()`, nil},
		{`SELECT i.id FROM invoices AS i WHERE tenant_id = passd_tenant()`, []string{"i"}},
		{`UPDATE invoices SET status = 'x' WHERE id = $1`, []string{"invoices"}},
		{`UPDATE invoices SET status = 'x' WHERE id = $1 AND invoices.tenant_id = passd_tenant()`, nil},
		{`DELETE FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`, nil},
		{`INSERT INTO invoices (id) VALUES ($1)`, nil},
		{`INSERT INTO invoices (id) SELECT id FROM providers`, []string{"providers"}},
		{`INSERT INTO invoices (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET status = 'x'`, nil},
		{`SELECT extract(year FROM decided_at) FROM unnest($1::bigint[])`, nil},
		{`read from invoices failed`, nil},
		{`SELECT chain_seq FROM invoices()`, nil},
		{` FROM invoices i JOIN providers p ON p.id = i.provider_id AND p.tenant_id = passd_tenant() WHERE `, []string{"i"}},
		{`SELECT 1 FROM invoices i WHERE i.tenant_id = passd_tenant() FOR UPDATE OF i`, nil},
	}
	for _, c := range cases {
		var got []string
		for _, o := range unscopedIn(c.sql, tables) {
			got = append(got, o.name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s\n  unscoped %v, want %v", c.sql, got, c.want)
		}
	}
}

// unscopedStatements reads every Go file under root that is not a test nor
// exempt, and returns the tables its literals use without their convention,
// and how many literals name a convention's table at all.
func unscopedStatements(t *testing.T, root string, tables []string) ([]unscoped, int) {
	t.Helper()
	var offences []unscoped
	statements := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if slices.Contains(scopeExempt, filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			found := unscopedIn(s, tables)
			if namesTable(s, tables) {
				statements++
			}
			for _, o := range found {
				line := fset.Position(lit.Pos()).Line + strings.Count(s[:strings.Index(s, o.pos)], "\n")
				o.pos = fmt.Sprintf("%s:%d", filepath.ToSlash(rel), line)
				offences = append(offences, o)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return offences, statements
}

func namesTable(s string, tables []string) bool { return len(tenantRefs(s, tables)) > 0 }

// tenantRefs returns each reference of s to one of tables: the match, the
// table, its alias or "".
func tenantRefs(s string, tables []string) [][]string {
	var refs [][]string
	for _, ix := range tableRef.FindAllStringSubmatchIndex(s, -1) {
		m := []string{s[ix[0]:ix[1]], s[ix[2]:ix[3]], ""}
		if ix[4] >= 0 {
			m[2] = s[ix[4]:ix[5]]
		}
		// A set-returning function of the same name (audit_chain_head())
		// is the owner's, and scopes itself.
		if slices.Contains(tables, m[1]) && !strings.HasPrefix(s[ix[3]:], "(") {
			refs = append(refs, m)
		}
	}
	return refs
}

// unscopedIn returns the references of s to tables whose convention s does
// not name; pos holds the reference's text, for its line.
func unscopedIn(s string, tables []string) []unscoped {
	refs := tenantRefs(s, tables)
	bare := regexp.MustCompile(`(^|[^.\w])tenant_id\s*=\s*passd_tenant\(\)`)
	var out []unscoped
	for _, m := range refs {
		name := m[1]
		if m[2] != "" {
			name = m[2]
		}
		qualified := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\.tenant_id\s*=\s*passd_tenant\(\)`)
		if qualified.MatchString(s) || (len(refs) == 1 && m[2] == "" && bare.MatchString(s)) {
			continue
		}
		out = append(out, unscoped{pos: m[0], table: m[1], name: name})
	}
	return out
}
