package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"passd/db/dbtest"
	"passd/keyring/keyringtest"
)

// TestProfilesAreNeverOnTheMainRouter: by default, and whatever the
// settings, /debug/pprof/ on the API's address is a path like any unknown
// one.
func TestProfilesAreNeverOnTheMainRouter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1"} {
		status, body := h.do(t, "GET", path, h.admin, "")
		wantError(t, "GET "+path, status, body, http.StatusNotFound, "not_found", "")
	}
}

// get answers the status and body of a GET, or fails.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// TestProfilesAreServedOnTheirOwnAddressWhenAsked: with PprofAddr, a
// second listener serves the profiles (not the command line), the main
// one still does not, and both close when passd stops.
func TestProfilesAreServedOnTheirOwnAddressWhenAsked(t *testing.T) {
	t.Parallel()
	cfg := Config{DatabaseURL: dbtest.NewURL(t), Addr: freeAddr(t), PprofAddr: freeAddr(t), DeadlineDays: 90,
		ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
		PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", ShutdownTimeout: 10 * time.Second,
		DataKey: keyringtest.Text(t)}
	a, err := newApp(context.Background(), cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	defer stop()

	main, profiles := "http://"+cfg.Addr, "http://"+cfg.PprofAddr
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(main + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("passd never served: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body := get(t, profiles+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ on the pprof address: %d\n%.300s", status, body)
	}
	if status, body := get(t, profiles+"/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("the goroutine profile: %d\n%.300s", status, body)
	}
	if status, _ := get(t, profiles+"/debug/pprof/cmdline"); status != http.StatusNotFound {
		t.Errorf("/debug/pprof/cmdline: %d, want 404 (it would show the flags)", status)
	}
	if status, _ := get(t, profiles+"/api/v1/invoices"); status != http.StatusNotFound {
		t.Errorf("the API on the pprof address: %d, want 404", status)
	}
	if status, _ := get(t, main+"/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("/debug/pprof/ on the main address: %d, want 404", status)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	if conn, err := net.Dial("tcp", cfg.PprofAddr); err == nil {
		conn.Close()
		t.Error("the pprof address still accepts connections after passd stopped")
	}
}
