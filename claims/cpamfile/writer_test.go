package cpamfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) calendar.Date {
	d, err := calendar.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// sampleBatch is two claims: a GP consultation for a patient with accents in
// both names and no NIR yet, and two nurse acts for a patient with a NIR
// and a provider name that needs quoting in CSV.
func sampleBatch() (Header, []Claim) {
	claims := []Claim{
		{
			ID: "41", InvoiceID: "17", ExternalRef: "F-2026-0031",
			Provider: Provider{Kind: "general_practitioner", Name: "Dr Hélène Lefèvre", RPPS: "10003456789"},
			Patient: Patient{FileNumber: "PASS-2026-000042", LastName: "NGUYỄN-GARÇON", FirstName: "Zoé",
				BirthDate: date("1987-03-14")},
			Regime: "ame", DecisionReference: "AME-93-2026-1187", CareDate: date("2026-09-02"),
			Lines:  []Line{{Code: "G", Quantity: 1, UnitPrice: dec("30"), CPAMShare: dec("30")}},
			Amount: dec("30"),
		},
		{
			ID: "42", InvoiceID: "19", ExternalRef: "IDE;19",
			Provider: Provider{Kind: "health_centre", Name: "CMS \"Daniel Renoult\"", FINESS: "930019484"},
			Patient: Patient{FileNumber: "PASS-2026-000043", LastName: "Öztürk", FirstName: "Ayşe",
				BirthDate: date("1990-12-01"), NIR: "290129912345618"},
			Regime: "puma", DecisionReference: "PUMA-2026-55", CareDate: date("2026-09-10"),
			Lines: []Line{
				{Code: "AMI", Quantity: 2, UnitPrice: dec("3.15"), CPAMShare: dec("3.78")},
				{Code: "IFD", Quantity: 1, UnitPrice: dec("2.75"), CPAMShare: dec("1.65")},
			},
			Amount: dec("5.43"),
		},
	}
	h := Header{BatchID: "7", CreatedAt: time.Date(2026, 11, 22, 10, 30, 0, 0, calendar.Paris()),
		ClaimCount: 2, Total: dec("35.43")}
	return h, claims
}

// seq streams claims as the store would, optionally failing after them.
func seq(claims []Claim, fail error) iter.Seq2[Claim, error] {
	return func(yield func(Claim, error) bool) {
		for _, c := range claims {
			if !yield(c, nil) {
				return
			}
		}
		if fail != nil {
			yield(Claim{}, fail)
		}
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestJSONWriterGolden(t *testing.T) {
	t.Parallel()
	h, claims := sampleBatch()
	var buf bytes.Buffer
	if err := JSONWriter().Write(&buf, h, seq(claims, nil)); err != nil {
		t.Fatal(err)
	}
	golden(t, "batch.json.golden", buf.Bytes())

	// The streamed document is one valid JSON value with the documented shape.
	var doc struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
		Batch         struct {
			ClaimCount int    `json:"claim_count"`
			Total      string `json:"total"`
			CreatedAt  string `json:"created_at"`
		} `json:"batch"`
		Claims []struct {
			Provider struct {
				RPPS   *string `json:"rpps"`
				FINESS *string `json:"finess"`
			} `json:"provider"`
			Patient struct {
				LastName string  `json:"last_name"`
				NIR      *string `json:"nir"`
			} `json:"patient"`
			Amount string `json:"amount"`
			Lines  []struct {
				CPAMShare string `json:"cpam_share"`
			} `json:"lines"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not valid JSON: %v", err)
	}
	if doc.Format != "passd-claims" || doc.FormatVersion != FormatVersion || doc.Batch.ClaimCount != 2 || doc.Batch.Total != "35.43" {
		t.Errorf("header = %+v", doc)
	}
	if doc.Batch.CreatedAt != "2026-11-22T09:30:00Z" {
		t.Errorf("created_at = %q, want UTC", doc.Batch.CreatedAt)
	}
	if len(doc.Claims) != 2 || doc.Claims[0].Patient.NIR != nil || doc.Claims[1].Patient.NIR == nil ||
		doc.Claims[0].Provider.FINESS != nil || doc.Claims[1].Provider.RPPS != nil {
		t.Errorf("claims = %+v", doc.Claims)
	}
	if doc.Claims[0].Patient.LastName != "NGUYỄN-GARÇON" || doc.Claims[1].Amount != "5.43" || len(doc.Claims[1].Lines) != 2 {
		t.Errorf("claims = %+v", doc.Claims)
	}
}

func TestCSVWriterGolden(t *testing.T) {
	t.Parallel()
	h, claims := sampleBatch()
	var buf bytes.Buffer
	if err := CSVWriter().Write(&buf, h, seq(claims, nil)); err != nil {
		t.Fatal(err)
	}
	golden(t, "batch.csv.golden", buf.Bytes())

	if bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Error("the machine CSV must not start with a BOM")
	}
	r := csv.NewReader(bytes.NewReader(buf.Bytes()))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(rows) != 4 { // header + 1 line + 2 lines
		t.Fatalf("%d rows, want 4", len(rows))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	if rows[0][0] != "format_version" || len(rows[0]) != len(csvColumns) {
		t.Errorf("header = %v", rows[0])
	}
	for _, row := range rows[1:] {
		if row[0] != strconv.Itoa(FormatVersion) {
			t.Errorf("format_version = %q", row[0])
		}
	}
	if got := rows[1][col["patient_nir"]]; got != "" {
		t.Errorf("unknown NIR written as %q", got)
	}
	if got := rows[2][col["external_ref"]]; got != "IDE;19" {
		t.Errorf("external_ref = %q", got)
	}
	if got := rows[3][col["provider_name"]]; got != `CMS "Daniel Renoult"` {
		t.Errorf("provider_name = %q", got)
	}
	if rows[2][col["claim_id"]] != "42" || rows[3][col["claim_id"]] != "42" || rows[3][col["line_number"]] != "2" ||
		rows[3][col["claim_amount"]] != "5.43" || rows[3][col["line_cpam_share"]] != "1.65" {
		t.Errorf("second claim rows = %v / %v", rows[2], rows[3])
	}
}

func TestWritersAgreeOnFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ format, contentType string }{
		{"json", "application/json"},
		{"csv", "text/csv; charset=utf-8"},
	} {
		w, ok := WriterFor(tt.format)
		if !ok || w.Format() != tt.format || w.ContentType() != tt.contentType {
			t.Errorf("WriterFor(%q) = %v, %v", tt.format, w, ok)
		}
	}
	if _, ok := WriterFor("b2"); ok {
		t.Error("WriterFor(b2) found a writer")
	}
}

func TestEmptyBatch(t *testing.T) {
	t.Parallel()
	h := Header{BatchID: "CB-0", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Total: decimal.Zero}
	var buf bytes.Buffer
	if err := JSONWriter().Write(&buf, h, seq(nil, nil)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v in %s", err, buf.Bytes())
	}
	if c, ok := doc["claims"].([]any); !ok || len(c) != 0 {
		t.Errorf("claims = %v", doc["claims"])
	}
}

// TestWritersRefuseInconsistentBatches: a header that does not match its
// claims, or a claim whose amount is not the sum of its lines, is an error
// in both formats.
func TestWritersRefuseInconsistentBatches(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	tests := []struct {
		name   string
		change func(*Header, []Claim) []Claim
		fail   error
		want   string
	}{
		{"fewer claims than announced", func(h *Header, c []Claim) []Claim { h.ClaimCount = 3; return c },
			nil, "announces 3 claims but 2 were written"},
		{"more claims than announced", func(h *Header, c []Claim) []Claim { h.ClaimCount = 1; return c },
			nil, "announces 1 claims but 2 were written"},
		{"total off by a cent", func(h *Header, c []Claim) []Claim { h.Total = dec("35.44"); return c },
			nil, "announces a total of 35.44 but its claims sum to 35.43"},
		{"claim amount not the sum of shares", func(h *Header, c []Claim) []Claim {
			c[1].Amount = dec("5.44")
			h.Total = dec("35.44")
			return c
		}, nil, "claim 42: amount 5.44 is not the sum"},
		{"claim without lines", func(h *Header, c []Claim) []Claim { c[0].Lines = nil; return c },
			nil, "claim 41 has no lines"},
		{"share with three decimals", func(h *Header, c []Claim) []Claim {
			c[0].Lines[0].CPAMShare = dec("29.999")
			return c
		}, nil, "at most two decimals"},
		{"iterator error", func(h *Header, c []Claim) []Claim { return c }, boom, "connection reset"},
		{"header without id", func(h *Header, c []Claim) []Claim { h.BatchID = ""; return c }, nil, "no id"},
	}
	for _, tt := range tests {
		for _, w := range []Writer{JSONWriter(), CSVWriter()} {
			h, claims := sampleBatch()
			claims = tt.change(&h, claims)
			err := w.Write(&bytes.Buffer{}, h, seq(claims, tt.fail))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s, %s: err = %v, want %q", tt.name, w.Format(), err, tt.want)
			}
			if tt.fail != nil && !errors.Is(err, tt.fail) {
				t.Errorf("%s, %s: err = %v does not wrap the iterator's error", tt.name, w.Format(), err)
			}
		}
	}
}

// failingWriter accepts n bytes then fails, like a client that went away.
type failingWriter struct{ n int }

var errGone = errors.New("client gone")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errGone
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWritersReportWriteErrors(t *testing.T) {
	t.Parallel()
	for _, w := range []Writer{JSONWriter(), CSVWriter()} {
		h, claims := sampleBatch()
		if err := w.Write(&failingWriter{n: 10}, h, seq(claims, nil)); !errors.Is(err, errGone) {
			t.Errorf("%s: err = %v, want the write error", w.Format(), err)
		}
	}
}

// TestWriterStopsTheIterator: a writer that fails mid-batch stops pulling
// claims (so the store's query is closed early).
func TestWriterStopsTheIterator(t *testing.T) {
	t.Parallel()
	h, claims := sampleBatch()
	claims[0].Lines = nil
	for _, w := range []Writer{JSONWriter(), CSVWriter()} {
		pulled := 0
		it := func(yield func(Claim, error) bool) {
			for _, c := range claims {
				pulled++
				if !yield(c, nil) {
					return
				}
			}
		}
		if err := w.Write(&bytes.Buffer{}, h, it); err == nil || pulled != 1 {
			t.Errorf("%s: err = %v after pulling %d claims", w.Format(), err, pulled)
		}
	}
}

// TestDocumentedExamples keeps docs/claims-export.md honest: its examples
// are the golden files, byte for byte (CSV line ends aside).
func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "claims-export.md"))
	if err != nil {
		t.Fatalf("docs/claims-export.md must sit next to the code: %v", err)
	}
	for _, name := range []string{"batch.json.golden", "batch.csv.golden"} {
		example, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), strings.ReplaceAll(string(example), "\r\n", "\n")) {
			t.Errorf("docs/claims-export.md does not show testdata/%s; update the example", name)
		}
	}
	if !strings.Contains(string(doc), strings.Join(csvColumns, ";")) {
		t.Error("docs/claims-export.md does not list the CSV columns of this version")
	}
}
