package sepa

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.xml from the current output")

// requireXMLLint fails the test when xmllint is missing: the XSD check is
// the point of these tests, so they must never pass silently without it.
func requireXMLLint(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatalf("xmllint is not installed, so SEPA files cannot be checked against the XSD: run `make test`, "+
			"which installs it (scripts/lib/tools.sh), or apt-get install libxml2-utils (%v)", err)
	}
}

// mustValidate checks doc against the embedded XSD.
func mustValidate(t testing.TB, doc []byte) {
	t.Helper()
	requireXMLLint(t)
	if err := Validate(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fixture is a valid 3-transfer message whose names need conversion.
func fixture() (Message, []Transfer) {
	m := Message{
		MsgID:         "PASS-20261123-0001",
		PaymentInfoID: "PASS-PMT-20261123-0001",
		CreatedAt:     time.Date(2026, time.November, 23, 8, 0, 0, 0, time.UTC), // 09:00 in Paris
		ExecutionDate: calendar.NewDate(2026, time.November, 24),
		Debtor:        Debtor{Name: "Régie PASS santé – Ville", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPPXXX"},
		NbOfTxs:       3,
		CtrlSum:       dec("1399.80"),
	}
	ts := []Transfer{
		{
			EndToEndID:   "PASS-PAYOUT-000101",
			CreditorName: "Pharmacie de l’Église",
			IBAN:         "FR1420041010050500013M02606",
			BIC:          "PSSTFRPPLYO",
			Amount:       dec("120.5"),
			Remittance:   Remittance("Factures PASS ", []string{"F-2026-0001", "F-2026-0002"}),
		},
		{
			EndToEndID:   "PASS-PAYOUT-000102",
			CreditorName: "Centre de santé Françoise-Dolto",
			IBAN:         "DE89370400440532013000",
			BIC:          "COBADEFFXXX",
			Amount:       dec("1234.00"),
			Remittance:   "Facture F-2026-0103 – novembre",
		},
		{
			EndToEndID:   "PASS-PAYOUT-000103",
			CreditorName: "Laboratoire d'Analyses Œnone & Fils",
			IBAN:         "NL91ABNA0417164300",
			BIC:          "INGBNL2A",
			Amount:       dec("45.30"),
			Remittance:   "Analyses « bilan » n° 42 <urgent>",
		},
	}
	return m, ts
}

func seq(ts []Transfer) iter.Seq2[Transfer, error] {
	return func(yield func(Transfer, error) bool) {
		for _, t := range ts {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// TestWriteGolden is not parallel: with -update it rewrites golden.xml,
// which the parallel tests then read.
func TestWriteGolden(t *testing.T) {
	m, ts := fixture()
	var buf bytes.Buffer
	if err := Write(&buf, m, seq(ts)); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden.xml")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./sepa -run TestWriteGolden -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended):\n%s", golden, lineDiff(string(want), got))
	}
	mustValidate(t, buf.Bytes())

	// What the golden file must show, said once more in words.
	for _, s := range []string{
		"<CreDtTm>2026-11-23T09:00:00</CreDtTm>",
		"<Nm>Pharmacie de l&#39;Eglise</Nm>",
		"<Nm>Centre de sante Francoise-Dolto</Nm>",
		"<Nm>Laboratoire d&#39;Analyses OEnone + Fils</Nm>",
		"<Nm>Regie PASS sante - Ville</Nm>",
		`<InstdAmt Ccy="EUR">120.50</InstdAmt>`,
		"<Ustrd>Factures PASS F-2026-0001, F-2026-0002</Ustrd>",
		"<Ustrd>Analyses bilan n 42 urgent</Ustrd>",
		"<ReqdExctnDt>2026-11-24</ReqdExctnDt>",
	} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("output lacks %s", s)
		}
	}
}

// TestGoldenWithXMLLint runs the command the README gives, against the
// vendored copy of the XSD, so the check does not depend on Validate.
func TestGoldenWithXMLLint(t *testing.T) {
	t.Parallel()
	requireXMLLint(t)
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema",
		filepath.Join("testdata", "pain.001.001.03.xsd"), filepath.Join("testdata", "golden.xml")).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "(no line differs)"
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		modify func(m *Message, ts *[]Transfer)
		want   string // in the error message
	}{
		{"fewer transfers than NbOfTxs", func(m *Message, _ *[]Transfer) { m.NbOfTxs = 4 }, "3 transfers, but NbOfTxs is 4"},
		{"more transfers than NbOfTxs", func(m *Message, ts *[]Transfer) {
			m.NbOfTxs = 2
			m.CtrlSum = dec("1354.50")
		}, "more transfers than NbOfTxs 2"},
		{"sum below CtrlSum", func(m *Message, _ *[]Transfer) { m.CtrlSum = dec("1399.81") }, "sum to 1399.80, but CtrlSum is 1399.81"},
		{"sum above CtrlSum", func(m *Message, _ *[]Transfer) { m.CtrlSum = dec("1399.79") }, "more than CtrlSum 1399.79"},
		{"duplicate EndToEndID", func(_ *Message, ts *[]Transfer) { (*ts)[2].EndToEndID = (*ts)[0].EndToEndID }, `EndToEndID "PASS-PAYOUT-000101" repeats`},
		{"zero amount", func(m *Message, ts *[]Transfer) {
			(*ts)[1].Amount = decimal.Zero
			m.CtrlSum = dec("165.80")
		}, "Amount: must be positive"},
		{"negative amount", func(_ *Message, ts *[]Transfer) { (*ts)[0].Amount = dec("-120.50") }, "Amount: must be positive"},
		{"three decimals", func(_ *Message, ts *[]Transfer) { (*ts)[0].Amount = dec("120.505") }, "more than two decimals"},
		{"amount above the SEPA maximum", func(_ *Message, ts *[]Transfer) { (*ts)[0].Amount = dec("1000000000") }, "above the SEPA maximum"},
		{"EndToEndID too long", func(_ *Message, ts *[]Transfer) { (*ts)[1].EndToEndID = strings.Repeat("E", 36) }, "longer than 35"},
		{"EndToEndID outside the charset", func(_ *Message, ts *[]Transfer) { (*ts)[1].EndToEndID = "PAYOUT_1" }, "outside the SEPA set"},
		{"EndToEndID with //", func(_ *Message, ts *[]Transfer) { (*ts)[1].EndToEndID = "A//B" }, "//"},
		{"empty EndToEndID", func(_ *Message, ts *[]Transfer) { (*ts)[1].EndToEndID = "" }, "EndToEndID: is empty"},
		{"creditor name empty once converted", func(_ *Message, ts *[]Transfer) { (*ts)[1].CreditorName = "«»" }, "CreditorName"},
		{"bad IBAN checksum", func(_ *Message, ts *[]Transfer) { (*ts)[1].IBAN = "DE89370400440532013001" }, "IBAN"},
		{"IBAN not normalised", func(_ *Message, ts *[]Transfer) { (*ts)[1].IBAN = "de89370400440532013000" }, "not normalised"},
		{"BIC not matching the schema", func(_ *Message, ts *[]Transfer) { (*ts)[1].BIC = "COBADE1F" }, "not a BIC"},
		{"empty MsgID", func(m *Message, _ *[]Transfer) { m.MsgID = "" }, "MsgID: is empty"},
		{"PaymentInfoID too long", func(m *Message, _ *[]Transfer) { m.PaymentInfoID = strings.Repeat("P", 36) }, "PaymentInfoID"},
		{"no execution date", func(m *Message, _ *[]Transfer) { m.ExecutionDate = calendar.Date{} }, "ExecutionDate: is not set"},
		{"no creation time", func(m *Message, _ *[]Transfer) { m.CreatedAt = time.Time{} }, "CreatedAt: is not set"},
		{"no debtor BIC", func(m *Message, _ *[]Transfer) { m.Debtor.BIC = "" }, "Debtor.BIC"},
		{"bad debtor IBAN", func(m *Message, _ *[]Transfer) { m.Debtor.IBAN = "FR76" }, "Debtor.IBAN"},
		{"no transfers announced", func(m *Message, _ *[]Transfer) { m.NbOfTxs = 0 }, "NbOfTxs: must be at least 1"},
		{"CtrlSum with three decimals", func(m *Message, _ *[]Transfer) { m.CtrlSum = dec("1399.801") }, "CtrlSum: has more than two decimals"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, ts := fixture()
			tc.modify(&m, &ts)
			err := Write(io.Discard, m, seq(ts))
			if err == nil {
				t.Fatalf("Write succeeded, want an error containing %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "sepa: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %q, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestWriteInvalidMessageWritesNothing: a bad header is found before the
// first byte, so a caller streaming to an HTTP response can still answer
// with an error status.
func TestWriteInvalidMessageWritesNothing(t *testing.T) {
	t.Parallel()
	m, ts := fixture()
	m.MsgID = strings.Repeat("M", 40)
	var buf bytes.Buffer
	if err := Write(&buf, m, seq(ts)); err == nil || buf.Len() != 0 {
		t.Fatalf("Write = %v and wrote %d bytes, want an error and nothing written", err, buf.Len())
	}
}

func TestWriteTransferErrorNamesTheTransfer(t *testing.T) {
	t.Parallel()
	m, ts := fixture()
	ts[1].Amount = dec("-1")
	err := Write(io.Discard, m, seq(ts))
	if err == nil || !strings.Contains(err.Error(), `transfer 2 ("PASS-PAYOUT-000102")`) || !strings.Contains(err.Error(), `message "PASS-20261123-0001"`) {
		t.Fatalf("Write error = %v, want it to name the message and transfer 2", err)
	}
}

func TestWriteIteratorError(t *testing.T) {
	t.Parallel()
	m, ts := fixture()
	boom := errors.New("database went away")
	yieldedAfterError := false
	transfers := func(yield func(Transfer, error) bool) {
		if !yield(ts[0], nil) {
			return
		}
		if !yield(Transfer{}, boom) {
			return
		}
		yieldedAfterError = true
		yield(ts[1], nil)
	}
	err := Write(io.Discard, m, transfers)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading transfer 2") {
		t.Fatalf("Write error = %v, want it to wrap %v for transfer 2", err, boom)
	}
	if yieldedAfterError {
		t.Error("Write kept iterating after the iterator's error")
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteWriterError(t *testing.T) {
	t.Parallel()
	m, ts := fixture()
	broken := errors.New("connection reset")
	if err := Write(failingWriter{broken}, m, seq(ts)); !errors.Is(err, broken) {
		t.Fatalf("Write error = %v, want it to wrap %v", err, broken)
	}
}

func TestWriteWithoutOptionalParts(t *testing.T) {
	t.Parallel()
	m, ts := fixture()
	ts[0].BIC = ""        // IBAN-only transfer: no CdtrAgt
	ts[1].Remittance = "" // no RmtInf
	ts[2].Remittance = "日本語"
	var buf bytes.Buffer
	if err := Write(&buf, m, seq(ts)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<CdtrAgt>"); n != 2 {
		t.Errorf("%d CdtrAgt, want 2", n)
	}
	if n := strings.Count(buf.String(), "<RmtInf>"); n != 1 {
		t.Errorf("%d RmtInf, want 1", n)
	}
	mustValidate(t, buf.Bytes())
}

// bigBatch yields n valid transfers of 1.01 € each, built on the fly, and
// calls beforeLast just before yielding the last one.
func bigBatch(n int, beforeLast func()) (Message, iter.Seq2[Transfer, error]) {
	m, ts := fixture()
	m.NbOfTxs = n
	amount := dec("1.01")
	m.CtrlSum = amount.Mul(decimal.NewFromInt(int64(n)))
	seq := func(yield func(Transfer, error) bool) {
		for i := range n {
			t := ts[i%len(ts)]
			t.EndToEndID = fmt.Sprintf("PASS-PAYOUT-%08d", i+1)
			t.Amount = amount
			if i == n-1 && beforeLast != nil {
				beforeLast()
			}
			if !yield(t, nil) {
				return
			}
		}
	}
	return m, seq
}

// countingWriter keeps what it receives and counts it.
type countingWriter struct {
	buf bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

// TestWriteStreams writes 10,000 transfers and checks that most of the file
// reached the writer before the iterator yielded the last transfer (so Write
// does not build the document in memory), and that the file validates.
func TestWriteStreams(t *testing.T) {
	t.Parallel()
	const n = 10_000
	w := &countingWriter{}
	var beforeLast int
	m, transfers := bigBatch(n, func() { beforeLast = w.buf.Len() })
	if err := Write(w, m, transfers); err != nil {
		t.Fatal(err)
	}
	total := w.buf.Len()
	if beforeLast == 0 || beforeLast < total/2 {
		t.Fatalf("only %d of %d bytes were written before the last transfer was yielded", beforeLast, total)
	}
	if got := strings.Count(w.buf.String(), "<CdtTrfTxInf>"); got != n {
		t.Fatalf("%d CdtTrfTxInf, want %d", got, n)
	}
	if !strings.Contains(w.buf.String(), "<CtrlSum>10100.00</CtrlSum>") {
		t.Error("CtrlSum 10100.00 missing")
	}
	mustValidate(t, w.buf.Bytes())
}

// BenchmarkWrite writes files of 1,000, 10,000 and 100,000 transfers to
// io.Discard, the transfers made on the fly (one fmt.Sprintf each), and
// reports allocations and bytes per transfer: they stay flat as the file
// grows, but for the set of EndToEndIDs Write keeps to refuse a repeat
// (one per transfer, which is one per provider of a batch).
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("transfers=%d", n), func(b *testing.B) {
			m, transfers := bigBatch(n, nil)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			files := 0
			for b.Loop() {
				if err := Write(io.Discard, m, transfers); err != nil {
					b.Fatal(err)
				}
				files++
			}
			runtime.ReadMemStats(&after)
			perTransfer := float64(files * n)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perTransfer, "allocs/transfer")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/perTransfer, "B/transfer")
		})
	}
}
