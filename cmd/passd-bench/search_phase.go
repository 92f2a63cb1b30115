package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/keyring"
)

// SearchRow is one case of the coordinator's search (issue 20): queries
// of one kind typed in the search form of /coordination/dossiers, posted
// one after the other to passd, each timed until its page is read.
type SearchRow struct {
	Case     string  `json:"case"`
	Example  string  `json:"example"` // the first query typed
	Patients int     `json:"patients"`
	SeedS    float64 `json:"seed_s"`
	Queries  int     `json:"queries"`
	Latency  Latency `json:"latency"`
	// Results is the mean count of files a page showed (at most 20);
	// More how many pages said that more files match.
	Results float64 `json:"mean_results"`
	More    int     `json:"more"`
}

// allSearchCases are what a coordinator types: part of a surname without
// its accents (or with none), part of one with its accents (in capitals
// every other time), a surname and a first name, a birth date, part of a
// file number, a NIR.
var allSearchCases = []string{"surname-part", "surname-part-accents", "full-name", "birth-date", "file-number-part", "nir"}

// searchQuery is a query typed and the file it was drawn from, which the
// answer shows unless it says that more files match than it shows.
type searchQuery struct{ Text, Want string }

// searchWarmUp is how many queries of each case go first, untimed, so that
// the first timed ones do not pay for cold connections and caches.
const searchWarmUp = 5

// searchPhase seeds patients files on a fresh database, starts passd on
// it, signs in as a coordinator and times queries searches of each case.
func searchPhase(ctx context.Context, e *env, patients, queries int) ([]SearchRow, error) {
	w, err := newSearchWorld(calendar.Today(time.Now()), patients)
	if err != nil {
		return nil, err
	}
	name, err := e.freshDB(ctx, "search")
	if err != nil {
		return nil, err
	}
	defer e.dropDB(ctx, name)
	dbURL := e.dbURL(name)
	keys, err := keyring.Parse(e.DataKey)
	if err != nil {
		return nil, fmt.Errorf("search: passd's keyring: %w", err)
	}
	e.Progress("search: seeding %d files, sealed and indexed by passd's claims.Store.SealPending", patients)
	start := time.Now()
	if err := seedSearch(ctx, dbURL, w, keys); err != nil {
		return nil, fmt.Errorf("search: seed: %w", err)
	}
	seedS := time.Since(start).Seconds()
	token, err := e.token(ctx, dbURL, "coordinator", "bench-coordinator", 0)
	if err != nil {
		return nil, err
	}
	p, locks, err := e.startQuietPassd(ctx, "search", dbURL)
	if err != nil {
		return nil, err
	}
	defer locks.Close(context.WithoutCancel(ctx))
	defer p.kill()
	e.Progress("search: seeded in %s; %d searches of each of %d cases through POST /coordination/dossiers",
		time.Since(start).Round(time.Second), queries, len(allSearchCases))
	rows, err := timeSearches(ctx, p.Base, token, w, queries)
	if err != nil {
		return rows, err
	}
	for i := range rows {
		rows[i].Patients, rows[i].SeedS = patients, seedS
	}
	if err := explainSearches(ctx, dbURL, keys, w, filepath.Join(e.WorkDir, "search-explain.txt")); err != nil {
		return rows, err
	}
	return rows, p.stop()
}

// timeSearches signs in and runs each case's queries, after a few untimed.
func timeSearches(ctx context.Context, base, token string, w searchWorld, queries int) ([]SearchRow, error) {
	c, err := signInPages(ctx, base, token)
	if err != nil {
		return nil, err
	}
	var rows []SearchRow
	for ci, name := range allSearchCases {
		qs, err := w.queries(ci, searchWarmUp+queries)
		if err != nil {
			return rows, err
		}
		for _, q := range qs[:searchWarmUp] {
			if _, _, err := c.search(ctx, name, q); err != nil {
				return rows, err
			}
		}
		row := SearchRow{Case: name, Example: qs[searchWarmUp].Text, Queries: queries}
		lat := make([]time.Duration, 0, queries)
		shown := 0
		for _, q := range qs[searchWarmUp:] {
			d, page, err := c.search(ctx, name, q)
			if err != nil {
				return rows, err
			}
			lat = append(lat, d)
			shown += page.results
			if page.more {
				row.More++
			}
		}
		row.Latency, row.Results = summarize(lat), float64(shown)/float64(queries)
		rows = append(rows, row)
	}
	return rows, nil
}

// pageClient is a browser of passd's pages: its cookies (the session, the
// CSRF token's) and the CSRF token its forms carry.
type pageClient struct {
	client *http.Client
	base   string
	csrf   string
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// signInPages signs in with token through /connexion, as a person does,
// and reads the search form's CSRF token.
func signInPages(ctx context.Context, base, token string) (*pageClient, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &pageClient{client: &http.Client{Jar: jar, Transport: newTransport(1), Timeout: time.Minute}, base: base}
	if c.csrf, err = c.formToken(ctx, "/connexion"); err != nil {
		return nil, err
	}
	resp, body, err := c.post(ctx, "/connexion", url.Values{"token": {token}})
	if err != nil {
		return nil, fmt.Errorf("search: sign in: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/coordination/dossiers" {
		return nil, fmt.Errorf("search: sign in: %d at %s, not the coordinator's files: %s", resp.StatusCode, resp.Request.URL.Path, tail(body, 5))
	}
	if c.csrf, err = c.formToken(ctx, "/coordination/dossiers"); err != nil {
		return nil, err
	}
	return c, nil
}

// formToken reads the CSRF token of the form on page path.
func (c *pageClient) formToken(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("search: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("search: GET %s: %w", path, err)
	}
	m := csrfInput.FindSubmatch(b)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("search: GET %s: %d, no CSRF token: %s", path, resp.StatusCode, tail(string(b), 5))
	}
	return string(m[1]), nil
}

// post sends form, with the CSRF token, to path and reads the answer,
// following a redirection as a browser does.
func (c *pageClient) post(ctx context.Context, path string, form url.Values) (*http.Response, string, error) {
	form.Set("_csrf", c.csrf)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// searchPage is what an answer to the search form showed.
type searchPage struct {
	results int
	more    bool
}

// search posts q to the search form and times it until its page is read.
// An answer other than 200, or one that neither shows the file q was drawn
// from nor says that more files match, is an error.
func (c *pageClient) search(ctx context.Context, name string, q searchQuery) (time.Duration, searchPage, error) {
	start := time.Now()
	resp, body, err := c.post(ctx, "/coordination/dossiers", url.Values{"q": {q.Text}})
	d := time.Since(start)
	if err != nil {
		return d, searchPage{}, fmt.Errorf("search %s %q: %w", name, q.Text, err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, searchPage{}, fmt.Errorf("search %s %q: %d: %s", name, q.Text, resp.StatusCode, tail(body, 5))
	}
	page := readSearchPage(body)
	if !page.more && !strings.Contains(body, ">"+q.Want+"</a>") {
		return d, page, fmt.Errorf("search %s %q: %d files shown, not %s, which it was drawn from", name, q.Text, page.results, q.Want)
	}
	return d, page, nil
}

// resultLink is a found file's link in the results' table.
var resultLink = regexp.MustCompile(`<tr><td><a href="/coordination/dossiers/\d+">`)

// readSearchPage counts the files an answer shows and reads whether it
// says that more match (coordinator-files.html).
func readSearchPage(body string) searchPage {
	return searchPage{results: len(resultLink.FindAllStringIndex(body, -1)), more: strings.Contains(body, "Plus de ")}
}

// explainSearches runs one query of each case through passd's own
// claims.Store.SearchPatients, in process, on connections where
// auto_explain sends the plan of every statement, as run (EXPLAIN
// ANALYZE, with buffers), back as a notice; the plans go to path, to show
// which indexes the search uses.
func explainSearches(ctx context.Context, dbURL string, keys *keyring.Ring, w searchWorld, path string) error {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("search: explain: %w", err)
	}
	var plans strings.Builder
	cfg.ConnConfig.RuntimeParams = map[string]string{"session_preload_libraries": "auto_explain",
		"auto_explain.log_min_duration": "0", "auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on",
		"auto_explain.log_timing": "on", "auto_explain.log_level": "notice"}
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { plans.WriteString(n.Message + "\n\n") }
	cfg.MaxConns = 1 // one connection: the notices arrive in order
	pool, err := db.OpenConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("search: explain: %w", err)
	}
	defer pool.Close()
	store := claims.NewStore(db.NewPool(pool).Bind(benchConvention), keys, time.Now)
	for ci, name := range allSearchCases {
		qs, err := w.queries(ci, 1)
		if err != nil {
			return err
		}
		q := qs[0]
		parsed, err := claims.ParseSearch(q.Text)
		if err != nil {
			return fmt.Errorf("search: explain %s %q: %w", name, q.Text, err)
		}
		fmt.Fprintf(&plans, "==== %s: %q, %+v\n\n", name, q.Text, parsed)
		if _, _, err := store.SearchPatients(ctx, audit.Actor{Name: "passd-bench explain"}, parsed, 20); err != nil {
			return fmt.Errorf("search: explain %s %q: %w", name, q.Text, err)
		}
	}
	if err := os.WriteFile(path, []byte(plans.String()), 0o644); err != nil {
		return fmt.Errorf("search: explain: %w", err)
	}
	return nil
}
