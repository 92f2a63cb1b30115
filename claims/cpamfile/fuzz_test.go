package cpamfile

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"passd/fault"
)

// checkParsed holds what ParseReturn promises whatever the input: either
// lines that obey every rule, or an Invalid *fault.Error.
func checkParsed(t *testing.T, lines []ReturnLine, err error) {
	t.Helper()
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.Invalid || lines != nil {
			t.Fatalf("err = %#v with %d lines, want an Invalid fault and no lines", err, len(lines))
		}
		return
	}
	if len(lines) == 0 || len(lines) > MaxReturnLines {
		t.Fatalf("accepted %d lines", len(lines))
	}
	seen := map[int64]bool{}
	for i, l := range lines {
		if l.Line != i+1 || l.ClaimID <= 0 || seen[l.ClaimID] {
			t.Fatalf("line %d: %+v", i, l)
		}
		seen[l.ClaimID] = true
		switch l.Outcome {
		case OutcomePaid:
			if !l.PaidAmount.IsPositive() || l.PaidAmount.Exponent() < -2 || l.PaidOn.IsZero() || l.Reason != "" {
				t.Fatalf("paid line %+v", l)
			}
		case OutcomeRejected:
			n := utf8.RuneCountInString(l.Reason)
			if n < 1 || n > maxReason || strings.TrimSpace(l.Reason) != l.Reason || !utf8.ValidString(l.Reason) ||
				!l.PaidAmount.IsZero() || !l.PaidOn.IsZero() {
				t.Fatalf("rejected line %+v", l)
			}
		default:
			t.Fatalf("outcome %q", l.Outcome)
		}
	}
}

// FuzzParseReturn feeds arbitrary JSON returns to ParseReturn.
func FuzzParseReturn(f *testing.F) {
	f.Add([]byte(`{"lines":[{"claim_id":"123","outcome":"paid","paid_amount":"30.00","paid_on":"2026-11-20"},{"claim_id":"124","outcome":"rejected","reason":"droits non ouverts"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":124,"outcome":"rejected","reason":"x"},{"claim_id":"124","outcome":"rejected","reason":"y"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"1e3","paid_on":"2026-02-30","reason":null}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":"1","claim_id":"2"}],"lines":[]}`))
	f.Add([]byte(`{"lines":[null,[],"",1]}`))
	f.Add([]byte("{\"lines\":[{\"reason\":\"\xff\"}]}"))
	f.Add([]byte(`{"lines":[]} x`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := ParseReturn("application/json", body)
		checkParsed(t, lines, err)
	})
}

// FuzzParseReturnCSV feeds arbitrary CSV returns to ParseReturn.
func FuzzParseReturnCSV(f *testing.F) {
	f.Add([]byte("claim_id,outcome,paid_amount,paid_on,reason\n123,paid,30.00,2026-11-20,\n124,rejected,,,droits non ouverts\n"))
	f.Add([]byte("\ufeffReason;OUTCOME;claim_id;paid_on;paid_amount\r\n;paid;123;2026-11-20;30,00\r\n\"a;b\";rejected;124;;\r\n;;;;\r\n"))
	f.Add([]byte("claim_id;outcome\n1;paid\n1;paid\n"))
	f.Add([]byte("claim_id,outcome,reason\n\"1\",rejected,\"x\"\"y\"\n2,rejected,\"a\nb\"\n"))
	f.Add([]byte("claim_id;outcome;paid_amount;paid_on\n9223372036854775807;paid;9999999999,99;2200-12-31\n"))
	f.Add([]byte("claim_id;outcome;reason\n1;rejected;\"unterminated\n"))
	f.Add([]byte("\n\n;,\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := ParseReturn("text/csv", body)
		checkParsed(t, lines, err)
	})
}
