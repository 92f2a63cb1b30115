package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"passd/auth"
	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/openapi"
)

// TestServeEndToEnd runs `passd serve` as main does, on a real listener:
// it answers /readyz, authenticates a request, runs the start-up catch-up
// of every job, and returns cleanly when its context ends (SIGTERM).
// (t.Setenv: not parallel.)
func TestServeEndToEnd(t *testing.T) {
	url := dbtest.NewURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_DATA_KEY", keyringtest.Text(t))
	t.Setenv("PASSD_ADDR", addr)

	ctx := context.Background()
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	token, err := auth.NewStore(db.NewPool(pool).Bind(dbtest.Convention)).CreateUser(ctx, "admin", auth.Admin, 0)
	if err != nil {
		t.Fatal(err)
	}

	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(serveCtx, []string{"serve"}, testLogger(t)) }()
	defer func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not return within 30 s of shutdown")
		}
	}()

	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	contract, err := openapi.Load(roleNames())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/readyz", "/healthz", "/openapi.yaml"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		if checkServed(t, contract, resp, path) != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if checkServed(t, contract, resp, "/api/v1/jobs") != http.StatusOK {
		t.Fatalf("GET /api/v1/jobs = %d", resp.StatusCode)
	}

	// Both jobs ran once at start-up to catch up.
	for _, job := range []string{"release", "deadline"} {
		var n int
		for time.Now().Before(deadline) {
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE name = $1 AND trigger = 'startup' AND finished_at IS NOT NULL`, job).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n != 1 {
			t.Errorf("%s ran %d times at start-up, want 1", job, n)
		}
	}

	resp, err = http.Post(base+"/api/v1/invoices", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if checkServed(t, contract, resp, "/api/v1/invoices") != http.StatusUnauthorized {
		t.Fatalf("unauthenticated POST = %d, want 401", resp.StatusCode)
	}
}

// checkServed reads and closes an answer of the real server, checks it
// against the contract (echoPath is its route, which has no parameters
// here) and returns its status.
func checkServed(t *testing.T, contract *openapi.Spec, resp *http.Response, echoPath string) int {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", resp.Request.Method, echoPath, err)
	}
	if err := contract.CheckResponse(resp.Request, echoPath, nil, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("%s %s: the answer breaks the API contract: %v", resp.Request.Method, echoPath, err)
	}
	return resp.StatusCode
}
