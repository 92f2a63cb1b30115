package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// invoiceServer is a stand-in for passd's POST /api/v1/invoices: it
// checks what the load sends and answers with answer.
type invoiceServer struct {
	t      *testing.T
	token  string
	answer func(w http.ResponseWriter, n int) // n counts from 1

	mu    sync.Mutex
	n     int
	refs  map[string]bool
	conns map[string]bool // the clients' addresses: one per connection
}

func newInvoiceServer(t *testing.T, answer func(w http.ResponseWriter, n int)) (*invoiceServer, *httptest.Server) {
	s := &invoiceServer{t: t, token: "tok-123", answer: answer, refs: map[string]bool{}, conns: map[string]bool{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *invoiceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PatientFileNumber string            `json:"patient_file_number"`
		BirthDate         string            `json:"birth_date"`
		ExternalRef       string            `json:"external_ref"`
		CareDate          string            `json:"care_date"`
		Lines             []json.RawMessage `json:"lines"`
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/api/v1/invoices":
		s.t.Errorf("request %s %s, want POST /api/v1/invoices", r.Method, r.URL.Path)
	case r.Header.Get("Authorization") != "Bearer "+s.token:
		s.t.Errorf("Authorization %q", r.Header.Get("Authorization"))
	case r.Header.Get("Content-Type") != "application/json":
		s.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.t.Errorf("body: %v", err)
	}
	if body.PatientFileNumber == "" || body.BirthDate == "" || body.CareDate != "2025-03-04" || len(body.Lines) != 3 {
		s.t.Errorf("body %+v", body)
	}
	s.mu.Lock()
	s.n++
	n := s.n
	if s.refs[body.ExternalRef] {
		s.t.Errorf("external_ref %q sent twice", body.ExternalRef)
	}
	s.refs[body.ExternalRef] = true
	s.conns[r.RemoteAddr] = true
	s.mu.Unlock()
	s.answer(w, n)
}

func (s *invoiceServer) counts() (requests, refs, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, len(s.refs), len(s.conns)
}

func testLoad(base, token string, clients, count int) load {
	return load{BaseURL: base, Token: token, Clients: clients, Count: count,
		FileNumbers: []string{"F1", "F2", "F3"}, BirthDates: []string{"1950-01-02", "1960-03-04", "1970-05-06"},
		CareDate: "2025-03-04", RefPrefix: "T"}
}

func created(w http.ResponseWriter, _ int) {
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(`{"id":1}`))
}

func TestLoadKeepsOneConnectionPerClient(t *testing.T) {
	s, srv := newInvoiceServer(t, created)
	const clients, count = 3, 7
	res, err := testLoad(srv.URL, s.token, clients, count).run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != clients*count || res.Created != clients*count || res.Errors != 0 ||
		res.Statuses[201] != clients*count || res.Latency.Count != clients*count || res.TPS <= 0 {
		t.Fatalf("result %+v", res)
	}
	// Each client's warm-up invoice too, each with its own reference, all
	// on the connection its client opened first.
	requests, refs, conns := s.counts()
	if want := clients * (count + 1); requests != want || refs != want {
		t.Errorf("server saw %d requests, %d distinct external_ref; want %d", requests, refs, want)
	}
	if conns != clients {
		t.Errorf("server saw %d connections, want %d (one per client, kept alive)", conns, clients)
	}
}

func TestLoadCountsRefusalsWithTheirBody(t *testing.T) {
	const clients, count = 2, 4
	refusal := `{"error":"duplicate external_ref"}` + strings.Repeat("x", 400)
	s, srv := newInvoiceServer(t, func(w http.ResponseWriter, n int) {
		if n <= clients { // the warm-up must succeed, or nothing is measured
			created(w, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(refusal))
	})
	res, err := testLoad(srv.URL, s.token, clients, count).run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != clients*count || res.Created != 0 || res.Errors != clients*count ||
		res.Statuses[409] != clients*count || res.TPS != 0 {
		t.Fatalf("result %+v", res)
	}
	if len(res.ErrorSamples) != 5 {
		t.Fatalf("%d error samples, want 5: %q", len(res.ErrorSamples), res.ErrorSamples)
	}
	if want := "409 " + refusal[:300]; res.ErrorSamples[0] != want {
		t.Errorf("sample %q, want %q", res.ErrorSamples[0], want)
	}
}

func TestLoadDialsAgainAfterConnectionClose(t *testing.T) {
	s, srv := newInvoiceServer(t, func(w http.ResponseWriter, n int) {
		w.Header().Set("Connection", "close")
		created(w, n)
	})
	const clients, count = 2, 5
	res, err := testLoad(srv.URL, s.token, clients, count).run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != clients*count || res.Created != clients*count || res.Errors != 0 {
		t.Fatalf("result %+v", res)
	}
	// A client's port may in principle come back, so not exactly one
	// connection per request; but more than one per client.
	requests, _, conns := s.counts()
	if requests != clients*(count+1) || conns <= clients {
		t.Errorf("server saw %d requests on %d connections", requests, conns)
	}
}

func TestLoadStopsWhenContextEnds(t *testing.T) {
	release := make(chan struct{})
	s, srv := newInvoiceServer(t, func(w http.ResponseWriter, n int) {
		if n == 1 {
			created(w, n)
			return
		}
		// Answer nothing: only the client's closing its connection can
		// free it from the wait for an answer.
		<-release
	})
	// Before the server's Close, which waits for the handler.
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := testLoad(srv.URL, s.token, 1, 10).run(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %v after its context ended", took)
	}
	if res.Requests != 1 || res.Errors != 1 || len(res.ErrorSamples) != 1 ||
		!strings.Contains(res.ErrorSamples[0], context.DeadlineExceeded.Error()) {
		t.Errorf("result %+v", res)
	}
}
