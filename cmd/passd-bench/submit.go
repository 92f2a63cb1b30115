package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"io"
	"log/slog"
	"net/http"
	passddb "passd/db"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/billing"
)

// submitFixture is what both sides of the submit benchmark need from the
// seeded database: one provider with its kind, user and token, patients
// whose file numbers run from FilePrefix000001 to len(FileNumbers), each
// with its birth date (BirthDates[i] is FileNumbers[i]'s), and
// the version of the tariff (tariff_state), which passd names in the
// statement that stores an invoice and bench/submit.sql does too.
type submitFixture struct {
	ProviderID     int64
	ProviderKind   string
	ProviderUserID int64
	ProviderUser   string
	ProviderToken  string
	FileNumbers    []string
	BirthDates     []string // YYYY-MM-DD, which an invoice names beside the file number
	FilePrefix     string
	TariffVersion  int64
}

// benchProviderKind is the kind of the submit benchmark's provider: a
// pharmacy, whose bursts of invoices are the hot path, and the kind that
// may bill submitLines.
const benchProviderKind = billing.KindPharmacy

// Names of the users the bench creates.
const (
	benchAdmin       = "bench-admin"
	benchCoordinator = "bench-coordinator"
	benchProvider    = "bench-provider"
	benchFinance     = "bench-finance"
)

// seedSubmit gives the database behind p a pharmacy, its user and token,
// and patients files, through passd's own CLI and API, and reads the
// tariff's version they leave.
func seedSubmit(ctx context.Context, e *env, p *passdProc, dbURL string, patients int) (submitFixture, error) {
	var fx submitFixture
	adminToken, err := e.token(ctx, dbURL, "admin", benchAdmin, 0)
	if err != nil {
		return fx, err
	}
	coordToken, err := e.token(ctx, dbURL, "coordinator", benchCoordinator, 0)
	if err != nil {
		return fx, err
	}
	client := &http.Client{Transport: newTransport(8), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	var provider struct {
		ID string `json:"id"`
	}
	err = call(ctx, client, http.MethodPost, p.Base+"/api/v1/providers", adminToken, map[string]any{
		"kind": benchProviderKind, "name": "Pharmacie du banc d'essai", "finess": "930012345",
		"iban": "FR5320041010050500012345623", "bic": "PSSTFRPPPAR",
	}, http.StatusCreated, &provider)
	if err != nil {
		return fx, fmt.Errorf("create the provider: %w", err)
	}
	if fx.ProviderID, err = strconv.ParseInt(provider.ID, 10, 64); err != nil {
		return fx, fmt.Errorf("provider id %q: %w", provider.ID, err)
	}
	fx.ProviderKind = benchProviderKind
	fx.ProviderUser = benchProvider
	if fx.ProviderToken, err = e.token(ctx, dbURL, "provider", benchProvider, fx.ProviderID); err != nil {
		return fx, err
	}

	fx.FileNumbers, fx.BirthDates = make([]string, patients), make([]string, patients)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < patients && errs[w] == nil; i += len(errs) {
				var pt struct {
					FileNumber string `json:"file_number"`
				}
				birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%20000).Format(time.DateOnly)
				errs[w] = call(ctx, client, http.MethodPost, p.Base+"/api/v1/patients", coordToken, map[string]any{
					"last_name": "Essai", "first_name": "Patient " + strconv.Itoa(i+1), "birth_date": birth,
				}, http.StatusCreated, &pt)
				fx.FileNumbers[i], fx.BirthDates[i] = pt.FileNumber, birth
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fx, fmt.Errorf("create the patients: %w", err)
	}
	if fx.FilePrefix, err = filePrefix(fx.FileNumbers); err != nil {
		return fx, err
	}

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fx, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, `SELECT id FROM users WHERE name = $1`, benchProvider).Scan(&fx.ProviderUserID); err != nil {
		return fx, fmt.Errorf("the provider user's id: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT version FROM tariff_state`).Scan(&fx.TariffVersion); err != nil {
		return fx, fmt.Errorf("the tariff's version: %w", err)
	}
	return fx, nil
}

var fileNumberRe = regexp.MustCompile(`^(PASS-\d{4}-)(\d{6})$`)

// filePrefix checks that the file numbers are one prefix followed by 1 to
// len(numbers), whatever their order, and returns the prefix: pgbench,
// which cannot build a string variable, then picks a patient as
// prefix || lpad(random(1, n)::text, 6, '0').
func filePrefix(numbers []string) (string, error) {
	seen := make([]bool, len(numbers)+1)
	prefix := ""
	for _, fn := range numbers {
		m := fileNumberRe.FindStringSubmatch(fn)
		if m == nil {
			return "", fmt.Errorf("file number %q is not PASS-YYYY-NNNNNN", fn)
		}
		if prefix == "" {
			prefix = m[1]
		}
		n, _ := strconv.Atoi(m[2])
		if m[1] != prefix || n < 1 || n > len(numbers) || seen[n] {
			return "", fmt.Errorf("file numbers are not %s000001 to %s%06d (found %q); seed on a fresh database, not across new year", prefix, prefix, len(numbers), fn)
		}
		seen[n] = true
	}
	if prefix == "" {
		return "", errors.New("no patient file")
	}
	return prefix, nil
}

// call sends body as JSON with a bearer token and decodes the answer into
// out; an answer other than want is an error carrying the body.
func call(ctx context.Context, client *http.Client, method, url, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, tail(string(b), 5))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}

// submitVars are bench/submit.sql's variables (pgbench -D) for fx.
func submitVars(fx submitFixture, careDate string) map[string]string {
	return map[string]string{
		"patients":       strconv.Itoa(len(fx.FileNumbers)),
		"file_prefix":    fx.FilePrefix,
		"provider_id":    strconv.FormatInt(fx.ProviderID, 10),
		"user_id":        strconv.FormatInt(fx.ProviderUserID, 10),
		"actor":          fx.ProviderUser,
		"care_date":      careDate,
		"default_days":   strconv.Itoa(passdDeadlineDays),
		"tariff_version": strconv.FormatInt(fx.TariffVersion, 10),
		"provider_kind":  fx.ProviderKind,
	}
}

// passdDeadlineDays is passd's default PASSD_DEADLINE_DAYS, which the
// bench does not set.
const passdDeadlineDays = 90

// careDate is the care date of every benchmark invoice: ten days ago in
// Paris, well inside what passd accepts.
func careDate(now time.Time) string {
	return parisToday(now).AddDate(0, 0, -10).Format(time.DateOnly)
}

// SubmitRow is one concurrency level of the submit benchmark: with
// --repeat, the pair of runs whose ratio is the median, and every pair.
type SubmitRow struct {
	Clients int            `json:"clients"`
	Pgbench *pgbenchResult `json:"pgbench,omitempty"`
	Passd   *loadResult    `json:"passd,omitempty"`
	// Ratio is passd's TPS over pgbench's for the same SQL.
	Ratio    float64 `json:"ratio"`
	RatioMin float64 `json:"ratio_min"`
	RatioMax float64 `json:"ratio_max"`
	// Lean is the lean yardstick's run (bench/submit_lean.sql on
	// bench/lean_schema.sql) of the repetition whose SchemaRatio is the
	// median: the same SQL's TPS over the lean script's, what passd's
	// schema and its statement's checks cost. Absent when not measured.
	Lean           *pgbenchResult `json:"lean,omitempty"`
	SchemaRatio    float64        `json:"schema_ratio,omitempty"`
	SchemaRatioMin float64        `json:"schema_ratio_min,omitempty"`
	SchemaRatioMax float64        `json:"schema_ratio_max,omitempty"`
	Repeats        []SubmitPair   `json:"repeats,omitempty"`
}

// SubmitPair is pgbench, the lean yardstick then passd, one after the
// other, at one concurrency.
type SubmitPair struct {
	Pgbench pgbenchResult  `json:"pgbench"`
	Lean    *pgbenchResult `json:"lean,omitempty"`
	Passd   loadResult     `json:"passd"`
	Ratio   float64        `json:"ratio"`
	// SchemaRatio is Pgbench's TPS over Lean's.
	SchemaRatio float64 `json:"schema_ratio,omitempty"`
}

// submitRow sums pairs up: the pair of median ratio (the lower of the two
// middle ones) stands for them all, with the range of the ratios beside;
// the lean yardstick's run is that of the median schema ratio, which may
// be another repetition's.
func submitRow(clients int, pairs []SubmitPair) SubmitRow {
	row := SubmitRow{Clients: clients}
	if len(pairs) == 0 {
		return row
	}
	mid, lo, hi := medianOf(pairs, func(p SubmitPair) float64 { return p.Ratio })
	row.Pgbench, row.Passd, row.Ratio = &pairs[mid].Pgbench, &pairs[mid].Passd, pairs[mid].Ratio
	row.RatioMin, row.RatioMax = pairs[lo].Ratio, pairs[hi].Ratio
	var leaned []SubmitPair
	for _, p := range pairs {
		if p.Lean != nil {
			leaned = append(leaned, p)
		}
	}
	if len(leaned) > 0 {
		mid, lo, hi := medianOf(leaned, func(p SubmitPair) float64 { return p.SchemaRatio })
		row.Lean, row.SchemaRatio = leaned[mid].Lean, leaned[mid].SchemaRatio
		row.SchemaRatioMin, row.SchemaRatioMax = leaned[lo].SchemaRatio, leaned[hi].SchemaRatio
	}
	if len(pairs) > 1 {
		row.Repeats = pairs
	}
	return row
}

// medianOf gives the indexes of the median (the lower of the two middle
// ones), the lowest and the highest of xs by key; xs is not empty.
func medianOf[T any](xs []T, key func(T) float64) (mid, lo, hi int) {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(key(xs[a]), key(xs[b])) })
	return order[(len(order)-1)/2], order[0], order[len(order)-1]
}

// submitSettings are the submit phase's knobs.
type submitSettings struct {
	Clients  []int
	Duration time.Duration
	Patients int
	Script   string // bench/submit.sql
	// LeanScript and LeanSchema are the lean yardstick's script and schema
	// (bench/submit_lean.sql, bench/lean_schema.sql); "" skips it.
	LeanScript, LeanSchema string
	// Repeat runs each pair that many times, alternating the two sides,
	// so that a noisy neighbour hits both.
	Repeat int
}

// submitPhase seeds a template once, then for each concurrency runs
// pgbench on one fresh copy and passd on another, each after a
// checkpoint, so that neither pays for the other's dirty pages.
func submitPhase(ctx context.Context, e *env, s submitSettings, record func(SubmitRow)) error {
	e.Progress("submit: seeding a provider and %d patients", s.Patients)
	tmpl, err := e.freshDB(ctx, "submit_seed")
	if err != nil {
		return err
	}
	defer e.dropDB(ctx, tmpl)
	p, err := e.startPassd(ctx, "submit-seed", e.dbURL(tmpl))
	if err != nil {
		return err
	}
	fx, err := seedSubmit(ctx, e, p, e.dbURL(tmpl), s.Patients)
	if stopErr := p.stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return fmt.Errorf("submit: seed: %w", err)
	}
	care := careDate(time.Now())

	for _, clients := range s.Clients {
		var pairs []SubmitPair
		for rep := 1; rep <= max(1, s.Repeat); rep++ {
			e.Progress("submit: pgbench, %d client(s), %s (%d/%d)", clients, s.Duration, rep, max(1, s.Repeat))
			pg, err := submitPgbench(ctx, e, tmpl, fx, care, s, clients)
			if err != nil {
				record(submitRow(clients, pairs))
				return err
			}
			pair := SubmitPair{Pgbench: pg}
			if s.LeanScript != "" {
				e.Progress("submit: pgbench on the lean schema, %d client(s), %s (%d/%d)", clients, s.Duration, rep, max(1, s.Repeat))
				lean, err := submitLean(ctx, e, fx, care, s, clients)
				if err != nil {
					record(submitRow(clients, pairs))
					return err
				}
				pair.Lean = &lean
				if lean.TPS > 0 {
					pair.SchemaRatio = pg.TPS / lean.TPS
				}
			}
			e.Progress("submit: passd, %d client(s), %s (%d/%d)", clients, s.Duration, rep, max(1, s.Repeat))
			lr, err := submitPassd(ctx, e, tmpl, fx, care, s, clients)
			pair.Passd = lr
			if pg.TPS > 0 {
				pair.Ratio = lr.TPS / pg.TPS
			}
			pairs = append(pairs, pair)
			if err != nil {
				record(submitRow(clients, pairs))
				return err
			}
		}
		record(submitRow(clients, pairs))
	}
	return nil
}

func submitPgbench(ctx context.Context, e *env, tmpl string, fx submitFixture, care string, s submitSettings, clients int) (pgbenchResult, error) {
	db, err := e.cloneDB(ctx, "submit_pgbench", tmpl, "")
	if err != nil {
		return pgbenchResult{}, err
	}
	defer e.dropDB(ctx, db)
	if err := e.exec(ctx, "CHECKPOINT"); err != nil {
		return pgbenchResult{}, err
	}
	// passd serve chains each audit row after its commit (audit.RunSealer);
	// the same sealer runs beside pgbench, so that both sides leave the
	// same work done: rows stored and sealed.
	sealerPool, err := pgxpool.New(ctx, withRole(e.dbURL(db), "passd_app")+"&pool_max_conns=1")
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("submit: the sealer's connection: %w", err)
	}
	defer sealerPool.Close()
	sealCtx, stopSealer := context.WithCancel(ctx)
	var sealing sync.WaitGroup
	sealing.Go(func() {
		audit.RunSealer(sealCtx, passddb.NewPool(sealerPool).Bind(benchConvention), audit.SealInterval, slog.New(slog.DiscardHandler))
	})
	res, err := pgbenchRun{Bin: e.Pgbench, Script: s.Script, ConnURL: withRole(e.dbURL(db), "passd_app"), Clients: clients,
		Duration: s.Duration, Vars: submitVars(fx, care),
		LogPrefix: filepath.Join(e.WorkDir, fmt.Sprintf("pgbench-c%d", clients)), Postmaster: e.Postmaster}.run(ctx)
	stopSealer()
	sealing.Wait()
	if err != nil {
		return res, err
	}
	if err := checkInvoices(ctx, e.dbURL(db), res.Transactions); err != nil {
		return res, fmt.Errorf("submit: pgbench -c %d: %w", clients, err)
	}
	return res, nil
}

func submitPassd(ctx context.Context, e *env, tmpl string, fx submitFixture, care string, s submitSettings, clients int) (loadResult, error) {
	db, err := e.cloneDB(ctx, "submit_passd", tmpl, "")
	if err != nil {
		return loadResult{}, err
	}
	defer e.dropDB(ctx, db)
	p, err := e.startPassd(ctx, fmt.Sprintf("submit-c%d", clients), e.dbURL(db))
	if err != nil {
		return loadResult{}, err
	}
	defer p.kill()
	if err := waitStartupRuns(ctx, e.dbURL(db), jobNames, time.Minute); err != nil {
		return loadResult{}, err
	}
	if err := e.exec(ctx, "CHECKPOINT"); err != nil {
		return loadResult{}, err
	}
	profiled := make(chan error, 1)
	if p.Pprof != "" {
		// The profile covers the load's run, its first second left out.
		path := filepath.Join(e.WorkDir, fmt.Sprintf("passd-submit-c%d.pprof", clients))
		go func() { profiled <- fetchProfile(ctx, p.Pprof, path, s.Duration-time.Second) }()
	} else {
		profiled <- nil
	}
	lr, err := load{BaseURL: p.Base, Token: fx.ProviderToken, Clients: clients, Duration: s.Duration,
		FileNumbers: fx.FileNumbers, BirthDates: fx.BirthDates, CareDate: care, RefPrefix: "LG" + strconv.Itoa(clients),
		Postmaster: e.Postmaster, PassdPID: p.Pid()}.run(ctx)
	if profErr := <-profiled; err == nil {
		err = profErr
	}
	if stopErr := p.stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return lr, fmt.Errorf("submit: passd with %d client(s): %w", clients, err)
	}
	if lr.Errors > 0 {
		return lr, fmt.Errorf("submit: passd with %d client(s): %d of %d requests not answered 201, e.g. %q",
			clients, lr.Errors, lr.Requests, lr.ErrorSamples)
	}
	// The warm-up's invoices are in the database too, one per client.
	if err := checkInvoices(ctx, e.dbURL(db), lr.Created+int64(clients)); err != nil {
		return lr, fmt.Errorf("submit: passd with %d client(s): %w", clients, err)
	}
	return lr, nil
}

// checkInvoices checks that the database holds want invoices, each with
// its three lines and its one invoice.create audit row: what was counted
// as done was done, and nothing more.
func checkInvoices(ctx context.Context, dbURL string, want int64) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var invoices, lines, audits int64
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM invoices), (SELECT count(*) FROM invoice_lines),
		(SELECT count(*) FROM audit_log WHERE action = 'invoice.create')`).Scan(&invoices, &lines, &audits)
	if err != nil {
		return fmt.Errorf("count invoices: %w", err)
	}
	if invoices != want || lines != 3*want || audits != want {
		return fmt.Errorf("the database holds %d invoices, %d lines, %d invoice.create audit rows; want %d, %d, %d",
			invoices, lines, audits, want, 3*want, want)
	}
	return nil
}
