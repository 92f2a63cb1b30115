package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"passd/auth"
	"passd/db/dbtest"
)

// passd rotate-key writes each file's search terms again with its
// identity: a file whose terms were lost is found by name after it, by a
// server that keeps serving through the rotation. (t.Setenv: not
// parallel.)
func TestRotateKeyRewritesTheSearchIndex(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_ADDR", "127.0.0.1:0")
	useKeys(t, "", newKeyFile(t))
	ctx := context.Background()
	logger := testLogger(t)
	if _, err := captureStdout(t, func() error { return run(ctx, []string{"seed-demo"}, logger) }); err != nil {
		t.Fatal(err)
	}
	server, do := serveWith(t)
	token, err := server.users.CreateUser(inConvention(ctx), "coordinator-2", auth.Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	status, list := do("GET", "/api/v1/patients", token)
	if status != http.StatusOK || len(items(t, list)) < 2 {
		t.Fatalf("the demo files: %d %v", status, list)
	}
	lost, kept := items(t, list)[0], items(t, list)[1]
	b := mustSignIn(t, &harness{app: server}, token)
	link := func(file map[string]any) string {
		return `href="/coordination/dossiers/` + str(t, file, "id") + `">` + str(t, file, "file_number") + "</a>"
	}
	search := func(file map[string]any) string {
		return b.search(t, http.StatusOK, strings.ToLower(str(t, file, "last_name")))
	}
	if !strings.Contains(search(lost), link(lost)) || !strings.Contains(search(kept), link(kept)) {
		t.Fatal("the demo files are not found by name before the rotation")
	}

	if _, err := server.pool.Exec(inConvention(ctx), `DELETE FROM patient_search_terms WHERE patient_id = $1::bigint`, str(t, lost, "id")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(search(lost), link(lost)) {
		t.Fatal("a file without search terms is still found by name")
	}
	if out, err := captureStdout(t, func() error { return run(ctx, []string{"rotate-key", "--new-key"}, logger) }); err != nil {
		t.Fatalf("rotate-key --new-key: %v\n%s", err, out)
	}
	if !strings.Contains(search(lost), link(lost)) || !strings.Contains(search(kept), link(kept)) {
		t.Error("after the rotation, the files are not all found by name")
	}
}
