package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"passd/calendar"
	"passd/keyring"
)

// ReportRow is the programme report benchmark (issue 16 §3): the year's
// report through GET /api/v1/reports/programme?year=Y on two years of a
// programme.
type ReportRow struct {
	Year     int `json:"year"`
	Patients int `json:"patients"`
	Invoices int `json:"invoices"`
	// YearInvoices is what the report counts in the year (care dates in
	// it), as it answered.
	YearInvoices int64   `json:"year_invoices"`
	SeedS        float64 `json:"seed_s"`
	// FirstS is the first answer, after passd started; MedianS and MaxS
	// those of the Runs answers after it.
	FirstS  float64 `json:"first_s"`
	Runs    int     `json:"runs"`
	MedianS float64 `json:"median_s"`
	MaxS    float64 `json:"max_s"`
	Bytes   int64   `json:"bytes"`
}

// reportPhase seeds a programme of patient files and invoices on a fresh
// database, starts passd on it and times runs+1 answers of the report of
// reportYear, the first apart.
func reportPhase(ctx context.Context, e *env, patients, invoices, runs int) (ReportRow, error) {
	w, err := newProgrammeWorld(calendar.Today(time.Now()), patients, invoices)
	row := ReportRow{Year: w.year, Patients: patients, Invoices: invoices, Runs: runs}
	if err != nil {
		return row, err
	}
	name, err := e.freshDB(ctx, "report")
	if err != nil {
		return row, err
	}
	defer e.dropDB(ctx, name)
	dbURL := e.dbURL(name)
	keys, err := keyring.Parse(e.DataKey)
	if err != nil {
		return row, fmt.Errorf("report: passd's keyring: %w", err)
	}
	e.Progress("report: seeding %d files and %d invoices over %s to %s", patients, invoices, w.first, w.last)
	start := time.Now()
	if err := seedProgramme(ctx, dbURL, w, keys); err != nil {
		return row, fmt.Errorf("report: seed: %w", err)
	}
	row.SeedS = time.Since(start).Seconds()
	token, err := e.token(ctx, dbURL, "observer", "bench-observer", 0)
	if err != nil {
		return row, err
	}
	e.Progress("report: seeded in %s; GET /api/v1/reports/programme?year=%d, %d times", time.Since(start).Round(time.Second), w.year, runs+1)
	p, locks, err := e.startQuietPassd(ctx, "report", dbURL)
	if err != nil {
		return row, err
	}
	defer locks.Close(context.WithoutCancel(ctx))
	defer p.kill()
	times, err := timeReport(ctx, p.Base, token, w.year, runs+1, &row)
	if err != nil {
		return row, err
	}
	row.FirstS = times[0].Seconds()
	row.MedianS, row.MaxS = medianMax(times[1:])
	return row, p.stop()
}

// timeReport asks for the year's report n times, one after the other, and
// returns how long each answer took, read to its end; row gets the size
// of the answer and the invoices it counts.
func timeReport(ctx context.Context, base, token string, year, n int, row *ReportRow) ([]time.Duration, error) {
	client := &http.Client{Transport: newTransport(1), Timeout: 5 * time.Minute}
	url := fmt.Sprintf("%s/api/v1/reports/programme?year=%d", base, year)
	times := make([]time.Duration, 0, n)
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		times = append(times, time.Since(start))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("report: read the answer: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("report: GET %s: %d: %s", url, resp.StatusCode, tail(string(body), 5))
		}
		row.Bytes = int64(len(body))
		if row.YearInvoices, err = reportInvoices(body); err != nil {
			return nil, err
		}
	}
	return times, nil
}

// reportInvoices reads the count of the year's invoices from a report's
// JSON; a report without any is an error, since the seed put half a
// million there.
func reportInvoices(body []byte) (int64, error) {
	var r struct {
		Current struct {
			Care struct {
				Invoices struct {
					Count int64 `json:"count"`
				} `json:"invoices"`
			} `json:"care"`
		} `json:"current"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("report: the answer: %w", err)
	}
	if r.Current.Care.Invoices.Count <= 0 {
		return 0, fmt.Errorf("report: the answer counts no invoice in the year: %s", tail(string(body), 3))
	}
	return r.Current.Care.Invoices.Count, nil
}

// medianMax is the median (the lower middle one of an even count) and
// the largest of d, in seconds; zeros when d is empty.
func medianMax(d []time.Duration) (median, maximum float64) {
	if len(d) == 0 {
		return 0, 0
	}
	sorted := append([]time.Duration(nil), d...)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)/2].Seconds(), sorted[len(sorted)-1].Seconds()
}
