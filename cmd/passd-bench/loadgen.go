package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// load is a closed-loop load on POST /api/v1/invoices: Clients goroutines,
// each sending its next invoice as soon as the previous answer is read,
// over keep-alive connections, for Duration (or Count invoices each).
type load struct {
	BaseURL string // http://host:port
	Token   string // a provider's bearer token
	Clients int
	// Duration bounds the measured part; with 0, each client sends Count.
	Duration time.Duration
	Count    int
	// FileNumbers are the patients' file numbers, picked at random, and
	// BirthDates their birth dates (YYYY-MM-DD), sent beside them.
	FileNumbers []string
	BirthDates  []string
	CareDate    string // YYYY-MM-DD
	// RefPrefix makes external_ref unique across runs on one database.
	RefPrefix string
	// Postmaster and PassdPID are read for their CPU time (0: not read).
	Postmaster, PassdPID int
}

// loadResult is what a load measured. Every latency is kept.
type loadResult struct {
	TPS      float64     `json:"tps"`
	Requests int64       `json:"requests"`
	Created  int64       `json:"created"`
	Errors   int64       `json:"errors"`
	Statuses map[int]int `json:"statuses,omitempty"`
	// ErrorSamples are the first few errors, to say what went wrong.
	ErrorSamples []string `json:"error_samples,omitempty"`
	ElapsedS     float64  `json:"elapsed_s"`
	Latency      Latency  `json:"latency"`
	CPU          CPU      `json:"cpu"`
}

// submitLines are the three lines of every invoice, the same as
// bench/submit.sql's, and ones the bench's pharmacy may bill (the acts
// catalogue, billing.Tariff.Price): two boxes of a drug the drug table
// does not list (the default class, drug_65), their dispensing fee at its
// ceiling (priced as the drug line it follows), a medical device (LPP,
// outside the catalogue: priced as the pharmacy's acts), so stored with
// the rate classes drug_65, drug_65, pharmacy. Total 52.75.
const submitLines = `[{"code":"3400930000007","label":"Médicament","quantity":2,"unit_price":"18.60"},` +
	`{"code":"HD","label":"Honoraire de dispensation","quantity":2,"unit_price":"1.02"},` +
	`{"code":"1131930","label":"Dispositif médical","quantity":1,"unit_price":"13.51"}]`

// newTransport keeps one idle connection per client, so that the load
// never pays for a TCP handshake once warm, and never uses a proxy.
func newTransport(clients int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// run warms every client up with one invoice (its connection to passd and
// passd's to PostgreSQL are then open, as pgbench's are before it starts
// its clock), then measures. An error is returned only when the load
// could not run; answers other than 201 are counted in Errors.
func (l load) run(ctx context.Context) (loadResult, error) {
	if l.Clients < 1 || len(l.FileNumbers) == 0 || len(l.BirthDates) != len(l.FileNumbers) {
		return loadResult{}, errors.New("load: no clients, no file numbers, or not one birth date per file number")
	}
	transport := newTransport(l.Clients)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	workers := make([]*loadWorker, l.Clients)
	for i := range workers {
		workers[i] = &loadWorker{l: l, client: client, id: i + 1,
			rng: rand.New(rand.NewPCG(uint64(i+1), uint64(time.Now().UnixNano())))}
	}

	var wg sync.WaitGroup
	warm := make([]error, l.Clients)
	for i, w := range workers {
		wg.Go(func() { warm[i] = w.warmUp(ctx) })
	}
	wg.Wait()
	if err := errors.Join(warm...); err != nil {
		return loadResult{}, fmt.Errorf("load: warm-up: %w", err)
	}

	meter := startCPU(l.Postmaster, l.PassdPID)
	start := time.Now()
	deadline := start.Add(l.Duration)
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx, deadline) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := loadResult{Statuses: map[int]int{}, ElapsedS: elapsed.Seconds()}
	var lat []time.Duration
	for _, w := range workers {
		res.Requests += w.requests
		res.Created += w.created
		res.Errors += w.errors
		for s, n := range w.statuses {
			res.Statuses[s] += n
		}
		for _, e := range w.samples {
			if len(res.ErrorSamples) < 5 {
				res.ErrorSamples = append(res.ErrorSamples, e)
			}
		}
		lat = append(lat, w.latencies...)
	}
	res.CPU = meter.stop(0, res.Created)
	res.Latency = summarize(lat)
	if elapsed > 0 {
		res.TPS = float64(res.Created) / elapsed.Seconds()
	}
	return res, ctx.Err()
}

// loadWorker is one client: its own random patients and references, its
// own record of latencies, so that clients share nothing while they run.
type loadWorker struct {
	l      load
	client *http.Client
	id     int
	rng    *rand.Rand
	seq    int

	requests, created, errors int64
	statuses                  map[int]int
	samples                   []string
	latencies                 []time.Duration
}

func (w *loadWorker) warmUp(ctx context.Context) error {
	status, msg, err := w.post(ctx)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("client %d: %d %s", w.id, status, msg)
	}
	return nil
}

func (w *loadWorker) loop(ctx context.Context, deadline time.Time) {
	w.statuses = map[int]int{}
	w.latencies = make([]time.Duration, 0, 4096)
	for n := 0; ctx.Err() == nil; n++ {
		if w.l.Duration > 0 && !time.Now().Before(deadline) || w.l.Duration == 0 && n >= w.l.Count {
			return
		}
		start := time.Now()
		status, msg, err := w.post(ctx)
		w.latencies = append(w.latencies, time.Since(start))
		w.requests++
		w.statuses[status]++
		switch {
		case err != nil:
			w.errors++
			w.sample(err.Error())
		case status != http.StatusCreated:
			w.errors++
			w.sample(strconv.Itoa(status) + " " + msg)
		default:
			w.created++
		}
	}
}

func (w *loadWorker) sample(s string) {
	if len(w.samples) < 5 {
		w.samples = append(w.samples, s)
	}
}

// post sends the worker's next invoice and reads the whole answer; msg is
// the start of the body of an answer that is not a 201.
func (w *loadWorker) post(ctx context.Context) (status int, msg string, err error) {
	w.seq++
	// A fresh buffer each time: the transport may still hold the last
	// request's body when an answer came before the body was read.
	b := make([]byte, 0, 512)
	patient := w.rng.IntN(len(w.l.FileNumbers))
	b = append(b, `{"patient_file_number":"`...)
	b = append(b, w.l.FileNumbers[patient]...)
	b = append(b, `","birth_date":"`...)
	b = append(b, w.l.BirthDates[patient]...)
	b = append(b, `","external_ref":"`...)
	b = append(b, w.l.RefPrefix...)
	b = strconv.AppendInt(append(b, '-'), int64(w.id), 10)
	b = strconv.AppendInt(append(b, '-'), int64(w.seq), 10)
	b = append(b, `","care_date":"`...)
	b = append(b, w.l.CareDate...)
	b = append(b, `","lines":`...)
	b = append(b, submitLines...)
	b = append(b, '}')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.l.BaseURL+"/api/v1/invoices", bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+w.l.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		msg = string(head)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, msg, err
}
