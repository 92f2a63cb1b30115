package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	target, err := parseTarget(l.BaseURL)
	if err != nil {
		return loadResult{}, err
	}
	workers := make([]*loadWorker, l.Clients)
	for i := range workers {
		workers[i] = newLoadWorker(l, target, i+1)
	}
	defer func() {
		for _, w := range workers {
			w.hangUp()
		}
	}()

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

	res, lat := gather(workers)
	res.ElapsedS = elapsed.Seconds()
	// Before the latencies are sorted, which is no part of the load.
	res.CPU = meter.stop(0, res.Created)
	res.Latency = summarize(lat)
	if elapsed > 0 {
		res.TPS = float64(res.Created) / elapsed.Seconds()
	}
	return res, ctx.Err()
}

// gather adds up what the workers counted, and joins their latencies.
func gather(workers []*loadWorker) (res loadResult, lat []time.Duration) {
	res.Statuses = map[int]int{}
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
	return res, lat
}

// loadTarget is where the invoices go: the address dialled, and the Host
// header and path of the request line.
type loadTarget struct {
	addr, host, path string
}

// parseTarget reads BaseURL. Only plain HTTP: the load writes HTTP/1.1
// on the TCP connection itself.
func parseTarget(baseURL string) (loadTarget, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return loadTarget{}, fmt.Errorf("load: base URL: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return loadTarget{}, fmt.Errorf("load: base URL %q: want http://host:port", baseURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return loadTarget{addr: addr, host: u.Host, path: strings.TrimSuffix(u.EscapedPath(), "/") + "/api/v1/invoices"}, nil
}

// requestTimeout bounds one request, as the http.Client's Timeout did.
const requestTimeout = 60 * time.Second

// loadDialer opens a worker's connection; TCP_NODELAY is Go's default, so
// a request written at once leaves at once.
var loadDialer = net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// loadWorker is one client: its own random patients and references, its
// own record of latencies, so that clients share nothing while they run.
// Like a pgbench client, it owns one keep-alive connection and writes and
// reads on it in its own goroutine: net/http's Transport would add a read
// and a write goroutine per connection, and their hand-offs, per request.
type loadWorker struct {
	l    load
	addr string
	id   int
	rng  *rand.Rand
	seq  int

	// head is the request up to the Content-Length's value, built once;
	// body and req are reused, as nothing holds them after a request.
	head, body, req []byte
	conn            net.Conn
	br              *bufio.Reader
	// unwatch stops the watch that closes conn when ctx is done.
	unwatch func() bool

	requests, created, errors int64
	statuses                  map[int]int
	samples                   []string
	latencies                 []time.Duration
}

func newLoadWorker(l load, t loadTarget, id int) *loadWorker {
	head := "POST " + t.path + " HTTP/1.1\r\n" +
		"Host: " + t.host + "\r\n" +
		"Authorization: Bearer " + l.Token + "\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: "
	return &loadWorker{l: l, addr: t.addr, id: id, head: []byte(head),
		body: make([]byte, 0, 512), req: make([]byte, 0, 1024),
		rng: rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))}
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
// the start of the body of an answer that is not a 201. A failed request
// is not sent again (a POST may have been stored): it is an error, and
// the next request dials anew.
func (w *loadWorker) post(ctx context.Context) (status int, msg string, err error) {
	if w.conn == nil {
		if err := w.dial(ctx); err != nil {
			return 0, "", err
		}
	}
	if err := w.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, "", w.broke(ctx, "set deadline", err)
	}
	if _, err := w.conn.Write(w.nextRequest()); err != nil {
		return 0, "", w.broke(ctx, "write request", err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return 0, "", w.broke(ctx, "read answer", err)
	}
	msg, err = readBody(resp)
	if err != nil {
		return resp.StatusCode, msg, w.broke(ctx, "read answer's body", err)
	}
	if resp.Close {
		w.hangUp() // passd closes it after this answer
	}
	return resp.StatusCode, msg, nil
}

// readBody reads an answer's body to its end, so that the connection is
// ready for the next answer, and returns the start of a non-201's.
func readBody(resp *http.Response) (msg string, err error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		head, err := io.ReadAll(io.LimitReader(resp.Body, 300))
		msg = string(head)
		if err != nil {
			return msg, err
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return msg, err
}

// nextRequest builds the worker's next invoice and the whole request that
// carries it, so that it is written in one Write.
func (w *loadWorker) nextRequest() []byte {
	w.seq++
	patient := w.rng.IntN(len(w.l.FileNumbers))
	b := append(w.body[:0], `{"patient_file_number":"`...)
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
	w.body = append(b, '}')

	r := append(w.req[:0], w.head...)
	r = strconv.AppendInt(r, int64(len(w.body)), 10)
	r = append(r, "\r\n\r\n"...)
	w.req = append(r, w.body...)
	return w.req
}

// dial opens the worker's connection, and has it closed when ctx is done
// so that a read blocked on it returns.
func (w *loadWorker) dial(ctx context.Context) error {
	conn, err := loadDialer.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return fmt.Errorf("client %d: dial %s: %w", w.id, w.addr, err)
	}
	w.conn = conn
	w.unwatch = context.AfterFunc(ctx, func() { conn.Close() })
	if w.br == nil {
		w.br = bufio.NewReader(conn)
	} else {
		w.br.Reset(conn)
	}
	return nil
}

// hangUp closes the worker's connection, if it has one.
func (w *loadWorker) hangUp() {
	if w.conn == nil {
		return
	}
	w.unwatch()
	w.conn.Close()
	w.conn = nil
}

// broke drops a connection that failed during a request, and says why
// the request failed: ctx's end, when that is what closed it.
func (w *loadWorker) broke(ctx context.Context, step string, err error) error {
	w.hangUp()
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	}
	return fmt.Errorf("client %d: %s: %w", w.id, step, err)
}
