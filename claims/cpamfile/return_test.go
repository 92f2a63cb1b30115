package cpamfile

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"passd/fault"
)

func TestParseReturnJSON(t *testing.T) {
	t.Parallel()
	body := `{"lines":[
		{"claim_id":"123","outcome":"paid","paid_amount":"30.00","paid_on":"2026-11-20"},
		{"claim_id":124,"outcome":"rejected","reason":"  droits non ouverts  "},
		{"claim_id":"125","outcome":"paid","paid_amount":"2.5","paid_on":"2026-11-21","reason":null}
	]}`
	lines, err := ParseReturn("application/json; charset=utf-8", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 123 paid 30.00 2026-11-20 ",
		"2 124 rejected 0.00  droits non ouverts",
		"3 125 paid 2.50 2026-11-21 ",
	}
	checkLines(t, lines, want)
}

func TestParseReturnCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       []string
	}{
		{"comma, all columns", "claim_id,outcome,paid_amount,paid_on,reason\n123,paid,30.00,2026-11-20,\n124,rejected,,,droits non ouverts\n",
			[]string{"1 123 paid 30.00 2026-11-20 ", "2 124 rejected 0.00  droits non ouverts"}},
		{"semicolon, decimal comma, BOM, CRLF, columns reordered and cased",
			"\ufeff Reason ;OUTCOME;Claim_ID;paid_on;paid_amount\r\n;paid;123;2026-11-20;30,00\r\n\"droits; non ouverts\";rejected;124;;\r\n",
			[]string{"1 123 paid 30.00 2026-11-20 ", "2 124 rejected 0.00  droits; non ouverts"}},
		{"semicolon, decimal point still accepted", "claim_id;outcome;paid_amount;paid_on\n123;paid;1234.5;2026-11-20\n",
			[]string{"1 123 paid 1234.50 2026-11-20 "}},
		{"blank lines and spreadsheet trailing rows ignored", "\n\nclaim_id;outcome;reason\n\n124;rejected;x\n;;\n  \n125;rejected;y\n;;\n",
			[]string{"1 124 rejected 0.00  x", "2 125 rejected 0.00  y"}},
		{"only the required columns for rejections", "claim_id,outcome,reason\n\"124\",rejected,\"dossier incomplet, pièce manquante\"\n",
			[]string{"1 124 rejected 0.00  dossier incomplet, pièce manquante"}},
	}
	for _, tt := range tests {
		lines, err := ParseReturn("text/csv; charset=utf-8", []byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		checkLines(t, lines, tt.want)
	}
}

func checkLines(t *testing.T, lines []ReturnLine, want []string) {
	t.Helper()
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, l := range lines {
		got := fmt.Sprintf("%d %d %s %s %s %s", l.Line, l.ClaimID, l.Outcome, l.PaidAmount.StringFixed(2), l.PaidOn, l.Reason)
		if got != want[i] {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
}

// badCase is a return file that must be refused, blaming field.
type badCase struct {
	name, body, field string
	msg               string // a part of the message, when it matters
}

func TestParseReturnJSONInvalid(t *testing.T) {
	t.Parallel()
	paid := `"outcome":"paid","paid_amount":"30.00","paid_on":"2026-11-20"`
	ok := `{"claim_id":"1",` + paid + `}`
	tests := []badCase{
		{"empty list", `{"lines":[]}`, "lines", "no lines"},
		{"no lines member", `{}`, "lines", "required"},
		{"lines not an array", `{"lines":{}}`, "lines", "array"},
		{"line not an object", `{"lines":[` + ok + `,"x"]}`, "lines[1]", "object"},
		{"unknown top-level member", `{"lines":[` + ok + `],"batch":"x"}`, "batch", "unknown"},
		{"unknown line member", `{"lines":[` + ok + `,{"claim_id":"2",` + paid + `,"colour":"red"}]}`, "lines[1].colour", "unknown"},
		{"duplicate key", `{"lines":[{"claim_id":"1","claim_id":"2",` + paid + `}]}`, "lines[0].claim_id", "twice"},
		{"missing claim id", `{"lines":[{` + paid + `}]}`, "lines[0].claim_id", "required"},
		{"empty claim id", `{"lines":[{"claim_id":"",` + paid + `}]}`, "lines[0].claim_id", "required"},
		{"claim id with letters", `{"lines":[{"claim_id":"12a",` + paid + `}]}`, "lines[0].claim_id", "claim id"},
		{"claim id zero", `{"lines":[{"claim_id":"0",` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id leading zero", `{"lines":[{"claim_id":"012",` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id negative", `{"lines":[{"claim_id":-3,` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id float", `{"lines":[{"claim_id":1.5,` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id beyond int64", `{"lines":[{"claim_id":"9223372036854775808",` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id too long", `{"lines":[{"claim_id":"12345678901234567890",` + paid + `}]}`, "lines[0].claim_id", ""},
		{"claim id object", `{"lines":[{"claim_id":{},` + paid + `}]}`, "lines[0].claim_id", ""},
		{"same claim twice", `{"lines":[` + ok + `,{"claim_id":"2","outcome":"rejected","reason":"x"},` + ok + `]}`, "lines[2].claim_id", "claim 1 appears twice"},
		{"same claim as string and number", `{"lines":[` + ok + `,{"claim_id":1,` + paid + `}]}`, "lines[1].claim_id", "claim 1 appears twice"},
		{"unknown outcome", `{"lines":[{"claim_id":"1","outcome":"partial"}]}`, "lines[0].outcome", "paid, rejected"},
		{"outcome upper case", `{"lines":[{"claim_id":"1","outcome":"PAID"}]}`, "lines[0].outcome", ""},
		{"missing outcome", `{"lines":[{"claim_id":"1"}]}`, "lines[0].outcome", "required"},
		{"paid without amount", `{"lines":[{"claim_id":"1","outcome":"paid","paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", "required"},
		{"paid amount zero", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"0.00","paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", "greater than zero"},
		{"paid amount three decimals", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"3.333","paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", "two decimals"},
		{"paid amount number", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":30,"paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", "decimal string"},
		{"paid amount negative", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"-3","paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", ""},
		{"paid amount decimal comma in JSON", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"30,00","paid_on":"2026-11-20"}]}`, "lines[0].paid_amount", ""},
		{"paid without date", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"30.00"}]}`, "lines[0].paid_on", "required"},
		{"paid on impossible date", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"30.00","paid_on":"2026-02-30"}]}`, "lines[0].paid_on", "valid date"},
		{"paid on french date", `{"lines":[{"claim_id":"1","outcome":"paid","paid_amount":"30.00","paid_on":"20/11/2026"}]}`, "lines[0].paid_on", ""},
		{"paid with reason", `{"lines":[{"claim_id":"1",` + paid + `,"reason":"x"}]}`, "lines[0].reason", "only for rejected"},
		{"paid with empty reason", `{"lines":[{"claim_id":"1",` + paid + `,"reason":""}]}`, "lines[0].reason", "only for rejected"},
		{"rejected with amount", `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"x","paid_amount":"1.00"}]}`, "lines[0].paid_amount", "only for paid"},
		{"rejected with date", `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"x","paid_on":"2026-11-20"}]}`, "lines[0].paid_on", "only for paid"},
		{"rejected without reason", `{"lines":[{"claim_id":"1","outcome":"rejected"}]}`, "lines[0].reason", "required"},
		{"rejected with blank reason", `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"   "}]}`, "lines[0].reason", "required"},
		{"reason too long", `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"` + strings.Repeat("é", 501) + `"}]}`, "lines[0].reason", "500"},
		{"reason with control characters", `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"a\nb"}]}`, "lines[0].reason", "control"},
		{"trailing data", `{"lines":[` + ok + `]} {}`, "", "more than one"},
		{"not an object", `[` + ok + `]`, "", "object"},
		{"not UTF-8", "{\"lines\":[{\"claim_id\":\"1\",\"outcome\":\"rejected\",\"reason\":\"\xff\"}]}", "", "UTF-8"},
		{"empty body", ``, "", "empty"},
	}
	for _, tt := range tests {
		assertBad(t, "application/json", tt)
	}
	// The longest reason is accepted.
	long := `{"lines":[{"claim_id":"1","outcome":"rejected","reason":"` + strings.Repeat("é", 500) + `"}]}`
	if _, err := ParseReturn("application/json", []byte(long)); err != nil {
		t.Errorf("a 500-character reason: %v", err)
	}
}

func TestParseReturnCSVInvalid(t *testing.T) {
	t.Parallel()
	head := "claim_id;outcome;paid_amount;paid_on;reason\n"
	tests := []badCase{
		{"empty file", "", "header", "empty"},
		{"only a BOM and blank lines", "\ufeff\n\n", "header", "empty"},
		{"header only", head, "lines", "no lines"},
		{"header only with blank rows", head + ";;;;\n\n", "lines", "no lines"},
		{"unknown column", "claim_id;outcome;amount\n1;paid;3\n", "header", `unknown column "amount"`},
		{"duplicate column", "claim_id;outcome;Outcome\n1;paid;paid\n", "header", "twice"},
		{"missing outcome column", "claim_id;reason\n1;x\n", "header", `"outcome"`},
		{"unnamed column", "claim_id;outcome;\n1;paid;\n", "header", "no name"},
		{"mixed separators", "claim_id;outcome,reason\n", "header", "mixes"},
		{"tab separated", "claim_id\toutcome\n1\tpaid\n", "header", "unknown column"},
		{"too few cells", head + "1;rejected;;;x\n2;rejected;\n", "lines[1]", "3 cells"},
		{"too many cells", head + "1;rejected;;;x;y\n", "lines[0]", "6 cells"},
		{"bad quoting", head + "1;rejected;;;\"x\n", "lines[0]", "not valid CSV"},
		{"bare quote", head + "1;rejected;;;x\"y\n", "lines[0]", "not valid CSV"},
		{"bad amount", head + "1;rejected;;;x\n2;paid;30 €;2026-11-20;\n", "lines[1].paid_amount", "line 3 of the file"},
		{"decimal comma with thousands point", head + "1;paid;1.234,56;2026-11-20;\n", "lines[0].paid_amount", ""},
		{"decimal comma with comma separator", "claim_id,outcome,paid_amount,paid_on\n1,paid,\"30,00\",2026-11-20\n", "lines[0].paid_amount", ""},
		{"paid with reason", head + "1;paid;30,00;2026-11-20;ok\n", "lines[0].reason", "only for rejected"},
		{"rejected with amount", head + "1;rejected;30,00;;x\n", "lines[0].paid_amount", "only for paid"},
		{"rejected without reason", head + "1;rejected;;;\n", "lines[0].reason", "required"},
		{"paid on impossible date", head + "1;paid;30,00;2026-02-29;\n", "lines[0].paid_on", "valid date"},
		{"same claim twice", head + "7;rejected;;;x\n\n8;rejected;;;x\n7;paid;1;2026-11-20;\n", "lines[2].claim_id", "claim 7 appears twice"},
		{"claim id with sign", head + "+7;rejected;;;x\n", "lines[0].claim_id", "claim id"},
		{"not UTF-8", head + "1;rejected;;;\xe9chec\n", "lines[0].reason", "UTF-8"},
		{"header not UTF-8", "claim_id;outcome;r\xe9ason\n", "header", "UTF-8"},
		{"reason with a line break", head + "1;rejected;;;\"a\nb\"\n", "lines[0].reason", "control"},
	}
	for _, tt := range tests {
		assertBad(t, "text/csv", tt)
	}
}

func assertBad(t *testing.T, contentType string, tt badCase) {
	t.Helper()
	lines, err := ParseReturn(contentType, []byte(tt.body))
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Errorf("%s: err = %v (lines %+v), want a fault", tt.name, err, lines)
		return
	}
	if lines != nil || fe.Code != fault.Invalid || fe.Field != tt.field || !strings.Contains(fe.Message, tt.msg) {
		t.Errorf("%s: got %d lines, fault %q field %q %q; want field %q with %q", tt.name, len(lines), fe.Code, fe.Field, fe.Message, tt.field, tt.msg)
	}
}

func TestParseReturnContentType(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"", "text/plain", "application/xml", "application/jsonx", ";;", "multipart/form-data; boundary=x"} {
		_, err := ParseReturn(ct, []byte(`{"lines":[]}`))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusUnsupportedMediaType || fe.Field != "content_type" {
			t.Errorf("%q: err = %v", ct, err)
		}
	}
	for _, ct := range []string{"Application/JSON", "application/json;charset=UTF-8"} {
		if _, err := ParseReturn(ct, []byte(`{"lines":[{"claim_id":"1","outcome":"rejected","reason":"x"}]}`)); err != nil {
			t.Errorf("%q: %v", ct, err)
		}
	}
	if _, err := ParseReturn("TEXT/CSV; charset=utf-8; header=present", []byte("claim_id,outcome,reason\n1,rejected,x\n")); err != nil {
		t.Errorf("text/csv with parameters: %v", err)
	}
}

func TestParseReturnLineLimit(t *testing.T) {
	t.Parallel()
	var csvBody, jsonBody strings.Builder
	csvBody.WriteString("claim_id,outcome,reason\n")
	jsonBody.WriteString(`{"lines":[`)
	for i := 1; i <= MaxReturnLines+1; i++ {
		fmt.Fprintf(&csvBody, "%d,rejected,x\n", i)
		if i > 1 {
			jsonBody.WriteByte(',')
		}
		fmt.Fprintf(&jsonBody, `{"claim_id":"%d","outcome":"rejected","reason":"x"}`, i)
	}
	jsonBody.WriteString("]}")
	for _, tt := range []struct{ ct, body string }{{"text/csv", csvBody.String()}, {"application/json", jsonBody.String()}} {
		assertBad(t, tt.ct, badCase{name: tt.ct + " over the limit", body: tt.body, field: "lines", msg: "more than 100000"})
	}
	// Exactly the limit is accepted.
	body := csvBody.String()
	body = body[:strings.LastIndex(strings.TrimSuffix(body, "\n"), "\n")+1]
	lines, err := ParseReturn("text/csv", []byte(body))
	if err != nil || len(lines) != MaxReturnLines || lines[MaxReturnLines-1].Line != MaxReturnLines {
		t.Errorf("at the limit: %d lines, %v", len(lines), err)
	}
}
