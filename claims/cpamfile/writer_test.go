package cpamfile

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"iter"
	"os"
	"path/filepath"
	"reflect"
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

// sample is a batch as a writer receives it.
type sample struct {
	h       Header
	claims  []Claim
	cancels []Cancellation
}

// sampleBatch is two claims and a cancellation: a GP consultation for a
// patient with accents in both names and no NIR yet; a recovery of two
// nurse acts for a patient with a NIR and a provider name that needs
// quoting in CSV; and the cancellation of a claim sent in batch 5.
func sampleBatch() sample {
	claims := []Claim{
		{
			ID: "41", Kind: KindClaim, InvoiceID: "17", ExternalRef: "F-2026-0031",
			Provider: Provider{Kind: "general_practitioner", Name: "Dr Hélène Lefèvre", RPPS: "10003456789"},
			Patient: Patient{FileNumber: "PASS-2026-000042", LastName: "NGUYỄN-GARÇON", FirstName: "Zoé",
				BirthDate: date("1987-03-14")},
			Regime: "ame", DecisionReference: "AME-93-2026-1187", CareDate: date("2026-09-02"),
			Lines:  []Line{{Code: "G", Quantity: 1, UnitPrice: dec("30"), CPAMShare: dec("30")}},
			Amount: dec("30"),
		},
		{
			ID: "42", Kind: KindRecovery, InvoiceID: "19", ExternalRef: "IDE;19",
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
	cancels := []Cancellation{{
		ClaimID: "35", Kind: KindClaim, SentBatchID: "5", InvoiceID: "12",
		Patient: Patient{FileNumber: "PASS-2026-000031", LastName: "Diallo", FirstName: "Aminata",
			BirthDate: date("1979-05-23")},
		Regime: "ame", DecisionReference: "AME-93-2026-0954", Amount: dec("25"), CancelledOn: date("2026-11-18"),
	}}
	h := Header{BatchID: "7", CreatedAt: time.Date(2026, 11, 22, 10, 30, 0, 0, calendar.Paris()),
		ClaimCount: 2, CancellationCount: 1, Total: dec("35.43")}
	return sample{h: h, claims: claims, cancels: cancels}
}

// write writes b with w, the iterators failing after their elements when
// asked to.
func (b sample) write(w Writer, out io.Writer, claimsFail, cancelsFail error) error {
	return w.Write(out, b.h, seq(b.claims, claimsFail), seq(b.cancels, cancelsFail))
}

// seq streams items as the store would, optionally failing after them.
func seq[T any](items []T, fail error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, c := range items {
			if !yield(c, nil) {
				return
			}
		}
		if fail != nil {
			var zero T
			yield(zero, fail)
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
	var buf bytes.Buffer
	if err := sampleBatch().write(JSONWriter(), &buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "batch.json.golden", buf.Bytes())

	// The streamed document is one valid JSON value with the documented shape.
	var doc struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
		Batch         struct {
			ClaimCount        int    `json:"claim_count"`
			CancellationCount int    `json:"cancellation_count"`
			Total             string `json:"total"`
			CreatedAt         string `json:"created_at"`
		} `json:"batch"`
		Claims []struct {
			Kind     string `json:"kind"`
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
		Cancellations []map[string]any `json:"cancellations"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not valid JSON: %v", err)
	}
	if doc.Format != "passd-claims" || doc.FormatVersion != FormatVersion || FormatVersion != 3 || doc.Batch.ClaimCount != 2 ||
		doc.Batch.CancellationCount != 1 || doc.Batch.Total != "35.43" {
		t.Errorf("header = %+v", doc)
	}
	if doc.Batch.CreatedAt != "2026-11-22T09:30:00Z" {
		t.Errorf("created_at = %q, want UTC", doc.Batch.CreatedAt)
	}
	if len(doc.Claims) != 2 || doc.Claims[0].Patient.NIR != nil || doc.Claims[1].Patient.NIR == nil ||
		doc.Claims[0].Provider.FINESS != nil || doc.Claims[1].Provider.RPPS != nil {
		t.Errorf("claims = %+v", doc.Claims)
	}
	if doc.Claims[0].Patient.LastName != "NGUYỄN-GARÇON" || doc.Claims[1].Amount != "5.43" || len(doc.Claims[1].Lines) != 2 ||
		doc.Claims[0].Kind != "claim" || doc.Claims[1].Kind != "recovery" {
		t.Errorf("claims = %+v", doc.Claims)
	}
	want := map[string]any{"claim_id": "35", "kind": "claim", "sent_batch_id": "5", "invoice_id": "12",
		"patient": map[string]any{"file_number": "PASS-2026-000031", "last_name": "Diallo", "first_name": "Aminata", "birth_date": "1979-05-23", "nir": nil},
		"regime":  "ame", "decision_reference": "AME-93-2026-0954", "amount": "25.00", "cancelled_on": "2026-11-18"}
	if len(doc.Cancellations) != 1 || !reflect.DeepEqual(doc.Cancellations[0], want) {
		t.Errorf("cancellations = %v, want [%v]", doc.Cancellations, want)
	}
}

func TestCSVWriterGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := sampleBatch().write(CSVWriter(), &buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "batch.csv.golden", buf.Bytes())

	if bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Error("the machine CSV must not start with a BOM")
	}
	rows, col := readCSV(t, buf.Bytes())
	if len(rows) != 5 { // header + 1 line + 2 lines + 1 cancellation
		t.Fatalf("%d rows, want 5", len(rows))
	}
	if rows[0][0] != "format_version" || rows[0][1] != "record" || len(rows[0]) != len(csvColumns) {
		t.Errorf("header = %v", rows[0])
	}
	for _, row := range rows[1:] {
		if row[0] != strconv.Itoa(FormatVersion) || len(row) != len(csvColumns) {
			t.Errorf("row %v: format_version %q, %d cells", row, row[0], len(row))
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
		rows[3][col["claim_amount"]] != "5.43" || rows[3][col["line_cpam_share"]] != "1.65" || rows[3][col["claim_kind"]] != "recovery" {
		t.Errorf("second claim rows = %v / %v", rows[2], rows[3])
	}
	// Claim rows leave the cancellation's columns empty, and the reverse.
	for _, row := range rows[1:4] {
		if row[col["record"]] != "claim" || row[col["sent_batch_id"]] != "" || row[col["cancelled_on"]] != "" {
			t.Errorf("claim row %v", row)
		}
	}
	cancel := rows[4]
	want := map[string]string{"record": "cancellation", "batch_id": "7", "claim_id": "35", "claim_kind": "claim", "sent_batch_id": "5",
		"invoice_id": "12", "patient_file_number": "PASS-2026-000031", "patient_last_name": "Diallo", "regime": "ame",
		"decision_reference": "AME-93-2026-0954", "claim_amount": "25.00", "cancelled_on": "2026-11-18"}
	for _, name := range csvColumns[1:] {
		if want[name] == "" && cancel[col[name]] != "" && !strings.HasPrefix(name, "patient_") && name != "batch_created_at" {
			t.Errorf("cancellation row: %s = %q, want empty", name, cancel[col[name]])
		}
		if want[name] != "" && cancel[col[name]] != want[name] {
			t.Errorf("cancellation row: %s = %q, want %q", name, cancel[col[name]], want[name])
		}
	}
}

// readCSV reads a machine CSV and indexes its header.
func readCSV(t *testing.T, b []byte) ([][]string, map[string]int) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	return rows, col
}

// TestTheCSVNeutralisesFormulas: free text that a spreadsheet would run as
// a formula is written with a leading apostrophe, as in the finance CSVs.
func TestTheCSVNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	s := sampleBatch()
	s.claims[0].Patient.LastName = "=HYPERLINK(\"http://x\")"
	s.claims[0].ExternalRef = "+33 1 23"
	s.claims[1].Provider.Name = "@SUM(A1)"
	s.cancels[0].Patient.FirstName = "-1+1"
	var buf bytes.Buffer
	if err := s.write(CSVWriter(), &buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	rows, col := readCSV(t, buf.Bytes())
	for _, c := range []struct {
		row       int
		name, got string
	}{
		{1, "patient_last_name", "'=HYPERLINK(\"http://x\")"}, {1, "external_ref", "'+33 1 23"}, {2, "provider_name", "'@SUM(A1)"},
		{4, "patient_first_name", "'-1+1"}, {1, "patient_first_name", "Zoé"},
	} {
		if rows[c.row][col[c.name]] != c.got {
			t.Errorf("row %d %s = %q, want %q", c.row, c.name, rows[c.row][col[c.name]], c.got)
		}
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
	if err := JSONWriter().Write(&buf, h, seq[Claim](nil, nil), nil); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v in %s", err, buf.Bytes())
	}
	if c, ok := doc["claims"].([]any); !ok || len(c) != 0 {
		t.Errorf("claims = %v", doc["claims"])
	}
	if c, ok := doc["cancellations"].([]any); !ok || len(c) != 0 {
		t.Errorf("cancellations = %v", doc["cancellations"])
	}
}

// TestBatchOfCancellationsOnly: a batch may carry no claim, only the
// cancellations a correction left to send.
func TestBatchOfCancellationsOnly(t *testing.T) {
	t.Parallel()
	b := sampleBatch()
	b.claims, b.h.ClaimCount, b.h.Total = nil, 0, decimal.Zero
	var js, cs bytes.Buffer
	if err := b.write(JSONWriter(), &js, nil, nil); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Batch         map[string]any `json:"batch"`
		Claims        []any          `json:"claims"`
		Cancellations []struct {
			ClaimID string `json:"claim_id"`
		} `json:"cancellations"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("%v in %s", err, js.Bytes())
	}
	if doc.Claims == nil || len(doc.Claims) != 0 || len(doc.Cancellations) != 1 || doc.Cancellations[0].ClaimID != "35" ||
		doc.Batch["claim_count"] != 0.0 || doc.Batch["cancellation_count"] != 1.0 || doc.Batch["total"] != "0.00" {
		t.Errorf("JSON = %s", js.Bytes())
	}
	if err := b.write(CSVWriter(), &cs, nil, nil); err != nil {
		t.Fatal(err)
	}
	rows, col := readCSV(t, cs.Bytes())
	if len(rows) != 2 || rows[1][col["record"]] != "cancellation" || rows[1][col["claim_id"]] != "35" {
		t.Errorf("CSV rows = %v", rows)
	}
}

// TestWritersRefuseInconsistentBatches: a header that does not match its
// claims or cancellations, a claim whose amount is not the sum of its
// lines, or a cancellation that names no earlier batch is an error in both
// formats.
func TestWritersRefuseInconsistentBatches(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	tests := []struct {
		name              string
		change            func(*sample)
		fail, cancelsFail error
		want              string
	}{
		{"fewer claims than announced", func(b *sample) { b.h.ClaimCount = 3 }, nil, nil, "announces 3 claims but 2 were written"},
		{"more claims than announced", func(b *sample) { b.h.ClaimCount = 1 }, nil, nil, "announces 1 claims but 2 were written"},
		{"total off by a cent", func(b *sample) { b.h.Total = dec("35.44") }, nil, nil, "announces a total of 35.44 but its claims sum to 35.43"},
		{"claim amount not the sum of shares", func(b *sample) {
			b.claims[1].Amount = dec("5.44")
			b.h.Total = dec("35.44")
		}, nil, nil, "claim 42: amount 5.44 is not the sum"},
		{"claim without lines", func(b *sample) { b.claims[0].Lines = nil }, nil, nil, "claim 41 has no lines"},
		{"claim without a kind", func(b *sample) { b.claims[0].Kind = "" }, nil, nil, `claim 41: unknown kind ""`},
		{"share with three decimals", func(b *sample) { b.claims[0].Lines[0].CPAMShare = dec("29.999") }, nil, nil, "at most two decimals"},
		{"iterator error", func(*sample) {}, boom, nil, "connection reset"},
		{"header without id", func(b *sample) { b.h.BatchID = "" }, nil, nil, "no id"},
		{"fewer cancellations than announced", func(b *sample) { b.h.CancellationCount = 2 }, nil, nil, "announces 2 cancellations but 1 were written"},
		{"cancellations not announced", func(b *sample) { b.h.CancellationCount = 0 }, nil, nil, "announces 0 cancellations but 1 were written"},
		{"cancellation of a claim sent in this batch", func(b *sample) { b.cancels[0].SentBatchID = "7" }, nil, nil, "earlier batch"},
		{"cancellation without its batch", func(b *sample) { b.cancels[0].SentBatchID = "" }, nil, nil, "earlier batch"},
		{"cancellation of an unknown kind", func(b *sample) { b.cancels[0].Kind = "refund" }, nil, nil, `unknown kind "refund"`},
		{"cancellation without a date", func(b *sample) { b.cancels[0].CancelledOn = calendar.Date{} }, nil, nil, "has no date"},
		{"cancellation with three decimals", func(b *sample) { b.cancels[0].Amount = dec("25.001") }, nil, nil, "at most two decimals"},
		{"cancellation iterator error", func(*sample) {}, nil, boom, "reading cancellations: connection reset"},
	}
	for _, tt := range tests {
		for _, w := range []Writer{JSONWriter(), CSVWriter()} {
			b := sampleBatch()
			tt.change(&b)
			err := b.write(w, &bytes.Buffer{}, tt.fail, tt.cancelsFail)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s, %s: err = %v, want %q", tt.name, w.Format(), err, tt.want)
			}
			if fail := cmp.Or(tt.fail, tt.cancelsFail); fail != nil && !errors.Is(err, fail) {
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
		if err := sampleBatch().write(w, &failingWriter{n: 10}, nil, nil); !errors.Is(err, errGone) {
			t.Errorf("%s: err = %v, want the write error", w.Format(), err)
		}
	}
}

// TestWriterStopsTheIterator: a writer that fails mid-batch stops pulling
// claims (so the store's query is closed early), and never starts on the
// cancellations.
func TestWriterStopsTheIterator(t *testing.T) {
	t.Parallel()
	b := sampleBatch()
	b.claims[0].Lines = nil
	for _, w := range []Writer{JSONWriter(), CSVWriter()} {
		pulled, cancelsPulled := 0, 0
		claims := func(yield func(Claim, error) bool) {
			for _, c := range b.claims {
				pulled++
				if !yield(c, nil) {
					return
				}
			}
		}
		cancels := func(yield func(Cancellation, error) bool) {
			cancelsPulled++
			yield(b.cancels[0], nil)
		}
		if err := w.Write(&bytes.Buffer{}, b.h, claims, cancels); err == nil || pulled != 1 || cancelsPulled != 0 {
			t.Errorf("%s: err = %v after pulling %d claims and %d cancellations", w.Format(), err, pulled, cancelsPulled)
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
