package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"passd/db/dbtest"
)

// walk follows next_cursor from the first page of path and returns every
// page's ids.
func (h *harness) walk(t *testing.T, path, token string, limit int) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for range 100 {
		url := fmt.Sprintf("%s?limit=%d", path, limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		page := h.mustDo(t, http.StatusOK, "GET", url, token, "")
		pages = append(pages, ids(t, page))
		next, has := page["next_cursor"]
		if !has || next == "" {
			return pages
		}
		cursor = next.(string)
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil
}

func TestInvoicePagesWalkEveryInvoiceOnceNewestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	var created []string
	for i := range 7 {
		created = append(created, str(t, h.submit(t, pr, p, fmt.Sprintf("P-%d", i), "2026-06-01"), "id"))
	}
	newestFirst := slices.Clone(created)
	slices.SortFunc(newestFirst, func(a, b string) int { return mustAtoi(t, b) - mustAtoi(t, a) })
	if !slices.Equal(newestFirst, reversed(created)) {
		t.Fatalf("ids %v are not increasing in creation order", created)
	}

	for _, c := range []struct {
		limit int
		sizes []int
	}{{3, []int{3, 3, 1}}, {1, []int{1, 1, 1, 1, 1, 1, 1}}, {6, []int{6, 1}}, {7, []int{7}}, {500, []int{7}}} {
		for _, who := range []struct{ name, token string }{{"provider", pr.token}, {"coordinator", h.coordinator}} {
			pages := h.walk(t, "/api/v1/invoices", who.token, c.limit)
			var sizes []int
			var all []string
			for _, pg := range pages {
				sizes = append(sizes, len(pg))
				all = append(all, pg...)
			}
			if !slices.Equal(sizes, c.sizes) || !slices.Equal(all, newestFirst) {
				t.Errorf("%s, limit=%d: pages %v, want sizes %v covering %v newest first", who.name, c.limit, pages, c.sizes, newestFirst)
			}
		}
	}
	// The default page holds all seven and says there is nothing more.
	page := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", h.coordinator, "")
	if _, has := page["next_cursor"]; has || len(items(t, page)) != 7 {
		t.Errorf("default page: %d items, next_cursor %v; want 7 and no cursor", len(items(t, page)), page["next_cursor"])
	}
	// A cursor keeps its place when newer invoices arrive.
	first := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices?limit=3", h.coordinator, "")
	h.submit(t, pr, p, "P-new", "2026-06-01")
	second := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices?limit=3&cursor="+first["next_cursor"].(string), h.coordinator, "")
	if got := ids(t, second); !slices.Equal(got, newestFirst[3:6]) {
		t.Errorf("second page after an insert = %v, want %v", got, newestFirst[3:6])
	}
}

func TestJobRunPagesWalkEveryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for range 4 {
		h.runJob(t, "release")
		h.runJob(t, "deadline")
	}
	var names []string
	for _, size := range []int{3, 500} {
		total := 0
		for _, pg := range h.walkJobs(t, size) {
			total += pg
		}
		if total != 8 {
			t.Errorf("limit=%d: walked %d runs, want 8", size, total)
		}
	}
	for _, it := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs?name=deadline", h.admin, "")) {
		names = append(names, str(t, it, "name"))
	}
	if len(names) != 4 || slices.ContainsFunc(names, func(n string) bool { return n != "deadline" }) {
		t.Errorf("?name=deadline lists %v, want 4 deadline runs", names)
	}
}

// walkJobs walks GET /jobs and returns the size of each page (runs have
// no id in their JSON).
func (h *harness) walkJobs(t *testing.T, limit int) []int {
	t.Helper()
	var sizes []int
	cursor := ""
	for range 100 {
		url := fmt.Sprintf("/api/v1/jobs?limit=%d", limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		status, page := h.do(t, "GET", url, h.admin, "")
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %v", url, status, page)
			return sizes
		}
		sizes = append(sizes, len(items(t, page)))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return sizes
		}
		cursor = next
	}
	t.Fatal("more than 100 pages")
	return nil
}

func TestListsRejectBadLimitsAndCursors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	lists := []struct{ path, token string }{
		{"/api/v1/providers", h.admin},
		{"/api/v1/patients", h.coordinator},
		{"/api/v1/invoices", h.coordinator},
		{"/api/v1/claims", h.referent},
		{"/api/v1/payouts", h.finance},
		{"/api/v1/jobs", h.admin},
	}
	enc := base64.RawURLEncoding.EncodeToString
	bad := []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"limit=abc", "limit"},
		{"limit=-1", "limit"},
		{"limit=1.5", "limit"},
		{"limit=%203", "limit"},
		{"limit=99999999999999999999", "limit"},
		{"cursor=!!!", "cursor"},
		{"cursor=" + enc([]byte("abc")), "cursor"},
		{"cursor=" + enc([]byte("0")), "cursor"},
		{"cursor=" + enc([]byte("-5")), "cursor"},
		{"cursor=" + enc([]byte("99999999999999999999")), "cursor"},
		{"cursor=MQ==", "cursor"}, // padded standard base64 is not a cursor passd gives
		{"cursor=12", "cursor"},
		{"cursor=" + enc([]byte("+5")), "cursor"},
		{"cursor=" + enc([]byte("05")), "cursor"},
	}
	for _, l := range lists {
		for _, b := range bad {
			status, body := h.do(t, "GET", l.path+"?"+b.query, l.token, "")
			wantError(t, l.path+"?"+b.query, status, body, http.StatusUnprocessableEntity, "invalid", b.field)
		}
		// The limits themselves are valid.
		for _, q := range []string{"limit=1", "limit=500", "cursor=" + enc([]byte("1"))} {
			if status, body := h.do(t, "GET", l.path+"?"+q, l.token, ""); status != http.StatusOK {
				t.Errorf("GET %s?%s: %d %v, want 200", l.path, q, status, body)
			}
		}
	}
	for _, f := range []struct{ path, token, field string }{
		{"/api/v1/invoices?status=paid", h.coordinator, "status"},
		{"/api/v1/payouts?status=pending", h.finance, "status"},
		{"/api/v1/claims?status=due", h.referent, "status"},
		{"/api/v1/patients?rights_status=granted", h.coordinator, "rights_status"},
		{"/api/v1/jobs?name=nope", h.admin, "name"},
	} {
		status, body := h.do(t, "GET", f.path, f.token, "")
		wantError(t, f.path, status, body, http.StatusUnprocessableEntity, "invalid", f.field)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("id %q is not a number: %v", s, err)
	}
	return n
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// Ids are bigint identities. Once they pass 2^31 − 1 (a long-lived city, or
// a sequence restarted after a restore), every list and every provider
// filter must keep working: an id is never squeezed into 32 bits.
func TestIDsBeyond32BitsKeepWorking(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Restarting a sequence is the schema owner's, not the application's.
	owner := dbtest.Owner(t, h.app.cfg.DatabaseURL)
	for _, table := range []string{"providers", "patients", "invoices", "claims", "payouts", "job_runs"} {
		if _, err := owner.Exec(t.Context(), "ALTER TABLE "+table+" ALTER COLUMN id RESTART WITH 3000000000"); err != nil {
			t.Fatal(err)
		}
	}
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	if gp.id != "3000000000" {
		t.Fatalf("provider id %s, want 3000000000", gp.id)
	}
	other := h.newProvider(t, "Dr Autre", "general_practitioner", "10000000002")
	p := h.newPatient(t, "Diallo")
	h.refuseRights(t, p)
	q := h.newPatient(t, "Nguyen")
	h.openRights(t, q, "puma", "2026-01-01")
	var created []string
	for i := range 3 {
		created = append(created, str(t, h.submit(t, gp, p, fmt.Sprintf("B-%d", i), "2026-06-01"), "id"))
	}
	h.submit(t, other, q, "Q-1", "2026-06-01") // two claims, so that the claims list has a second page
	h.submit(t, other, q, "Q-2", "2026-06-01")
	h.runJob(t, "release")
	pending := str(t, h.submit(t, gp, p, "B-pending", "2026-06-01"), "id")
	created = append(created, pending)

	for _, who := range []struct{ name, token string }{{"provider", gp.token}, {"coordinator", h.coordinator}} {
		for _, id := range created {
			if status, body := h.do(t, "GET", "/api/v1/invoices/"+id, who.token, ""); status != http.StatusOK {
				t.Errorf("%s GET invoice %s: %d %v", who.name, id, status, body)
			}
		}
	}
	var all []string
	for _, pg := range h.walkOrFail(t, "/api/v1/invoices", gp.token, 2) {
		all = append(all, pg...)
	}
	if !slices.Equal(all, reversed(created)) {
		t.Errorf("the provider walked its invoices %v, want %v", all, reversed(created))
	}
	all = nil
	for _, pg := range h.walkOrFail(t, "/api/v1/invoices", h.coordinator, 2) {
		all = append(all, pg...)
	}
	if len(all) != 6 {
		t.Errorf("the coordinator walked invoices %v, want all 6", all)
	}
	for _, l := range []struct{ path, token string }{
		{"/api/v1/providers", h.admin}, {"/api/v1/patients", h.coordinator}, {"/api/v1/claims", h.referent},
		{"/api/v1/payouts", h.finance}, {"/api/v1/payouts", gp.token}, {"/api/v1/jobs", h.admin},
	} {
		h.walkOrFail(t, l.path, l.token, 1)
	}
	if status, body := h.do(t, "POST", "/api/v1/invoices/"+pending+"/cancel", gp.token, ""); status != http.StatusOK {
		t.Errorf("provider cancels invoice %s: %d %v", pending, status, body)
	}
}

// walkOrFail is walk that reports a failing page instead of stopping the
// test, so that every list is tried.
func (h *harness) walkOrFail(t *testing.T, path, token string, limit int) [][]string {
	t.Helper()
	var pages [][]string
	url := fmt.Sprintf("%s?limit=%d", path, limit)
	for range 100 {
		status, page := h.do(t, "GET", url, token, "")
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %v", url, status, page)
			return pages
		}
		var pg []string
		for _, it := range items(t, page) {
			id, _ := it["id"].(string)
			pg = append(pg, id)
		}
		pages = append(pages, pg)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return pages
		}
		url = fmt.Sprintf("%s?limit=%d&cursor=%s", path, limit, next)
	}
	t.Errorf("GET %s: more than 100 pages", path)
	return pages
}
