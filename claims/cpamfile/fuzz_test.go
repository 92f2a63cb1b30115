package cpamfile

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"passd/fault"
	"passd/settlement"
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
		case settlement.ClaimPaid:
			if !l.PaidAmount.IsPositive() || l.PaidAmount.Exponent() < -2 || l.PaidOn.IsZero() || l.Reason != "" {
				t.Fatalf("paid line %+v", l)
			}
		case settlement.ClaimRejected:
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
	// What the hostile HTTP suite sends: odd encodings, surrogates,
	// case-folded members, exponents and huge numbers.
	f.Add([]byte(`{"LINES":[{"claim_id":"1","outcome":"rejected","reason":"x"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":"1","CLAIM_ID":"2","outcome":"rejected","reason":"x"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":"1","outcome":"rejected","reason":"\ud800"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":1e0,"outcome":"paid","paid_amount":"3.0e1","paid_on":"2026-06-10"}]}`))
	f.Add([]byte(`{"lines":[{"claim_id":9223372036854775808,"outcome":"paid","paid_amount":"1e400","paid_on":"٢٠٢٦-٠٦-١٠"}]}`))
	f.Add([]byte("\xef\xbb\xbf{\"lines\":[]}"))
	f.Add([]byte("\xff\xfe{\x00\"\x00l\x00"))
	f.Add([]byte(`{"lines":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`))
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
	f.Add([]byte("claim_id;outcome;reason\r\n1;rejected;refus\xe9\r\n"))
	f.Add([]byte("claim_id;outcome;reason\r\n=1+1;rejected;x\r\n"))
	f.Add([]byte("claim_id;outcome;paid_amount;paid_on\r\n1;paid;3,0e1;2026-06-10\r\n"))
	f.Add([]byte("claim_id;outcome;paid_amount;paid_on\r\n١;paid;1.030,00;10/06/2026\r\n"))
	f.Add([]byte("\xff\xfec\x00l\x00a\x00i\x00m\x00"))
	f.Add([]byte("claim_id;out\x00come\r\n1;paid\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := ParseReturn("text/csv", body)
		checkParsed(t, lines, err)
	})
}

// FuzzParseReturnContentType feeds any content type with a valid return
// in either format: only JSON or CSV in UTF-8 is read, anything else is a
// 415 naming content_type.
func FuzzParseReturnContentType(f *testing.F) {
	jsonBody := []byte(`{"lines":[{"claim_id":"1","outcome":"rejected","reason":"x"}]}`)
	csvBody := []byte("claim_id;outcome;reason\r\n1;rejected;x\r\n")
	for _, ct := range []string{"application/json", "text/csv", "text/csv; charset=utf-8", "text/csv; charset=latin1",
		"application/json; charset=utf-16", "text/plain", "", "application/json, text/csv", "multipart/form-data; boundary=x",
		"TEXT/CSV; CHARSET=UTF-8", "text/csv; charset=\"utf-8\"", ";;", "application/vnd.ms-excel"} {
		f.Add(ct, jsonBody)
		f.Add(ct, csvBody)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		lines, err := ParseReturn(contentType, body)
		checkParsed(t, lines, err)
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Kind == "unsupported_media_type" {
			if fe.Status != http.StatusUnsupportedMediaType || fe.Field != "content_type" {
				t.Fatalf("%q: %#v", contentType, fe)
			}
			return
		}
		mt, params, perr := mime.ParseMediaType(contentType)
		if perr != nil || (mt != "application/json" && mt != "text/csv") {
			t.Fatalf("content type %q was read", contentType)
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			t.Fatalf("content type %q (charset %q) was read", contentType, cs)
		}
	})
}
