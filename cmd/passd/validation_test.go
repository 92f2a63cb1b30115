package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rejection is a request that must be refused with this status, error code
// and field, storing nothing.
type rejection struct {
	name    string
	body    string
	headers []string
	status  int
	code    string
	field   string
}

// field422 is the common case: a rule broken by one field.
func field422(name, body, field string) rejection {
	return rejection{name: name, body: body, status: http.StatusUnprocessableEntity, code: "invalid", field: field}
}

// assertRejected sends each request and checks its answer and that no
// table changed.
func (h *harness) assertRejected(t *testing.T, method, path, token string, cases []rejection) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.state(t)
			status, body := h.do(t, method, path, token, c.body, c.headers...)
			wantError(t, method+" "+path, status, body, c.status, c.code, c.field)
			h.assertUnchanged(t, c.name, before)
		})
	}
}

// bodyRejections are the cases every JSON route shares, built around a
// valid body: framing, encoding, size and content type.
func bodyRejections(valid string) []rejection {
	fields := valid[1:] // the members after the opening brace
	huge := `{"x":"` + strings.Repeat("a", 1<<20) + `"}`
	return []rejection{
		{name: "malformed JSON", body: `{"a":`, status: 400, code: "malformed_json"},
		{name: "unterminated object", body: valid[:len(valid)-1], status: 400, code: "malformed_json"},
		{name: "syntax error", body: `{"a" 1}`, status: 400, code: "malformed_json"},
		{name: "array instead of object", body: "[" + valid + "]", status: 400, code: "malformed_json"},
		{name: "JSON null", body: "null", status: 400, code: "malformed_json"},
		{name: "a string", body: `"x"`, status: 400, code: "malformed_json"},
		{name: "empty body", body: "", status: 400, code: "malformed_json"},
		{name: "blank body", body: " \n\t", status: 400, code: "malformed_json"},
		{name: "two objects", body: valid + valid, status: 400, code: "malformed_json"},
		{name: "trailing garbage", body: valid + " x", status: 400, code: "malformed_json"},
		{name: "unknown field", body: `{"zzz_unknown":1,` + fields, status: 422, code: "unknown_field", field: "zzz_unknown"},
		{name: "invalid UTF-8", body: `{"zzz":"` + "\xff\xfe" + `",` + fields, status: 400, code: "malformed_json"},
		{name: "invalid UTF-8 in a valid body", body: valid[:len(valid)-1] + `,"x":"` + "\xc3\x28" + `"}`, status: 400, code: "malformed_json"},
		{name: "body over 1 MiB", body: huge, status: 413, code: "body_too_large"},
		{name: "valid body padded over 1 MiB", body: valid + strings.Repeat(" ", 1<<20), status: 413, code: "body_too_large"},
		{name: "text/plain", body: valid, headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "form content type", body: valid, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "json-like content type", body: valid, headers: []string{"Content-Type", "application/jsonx"}, status: 415, code: "unsupported_media_type"},
		{name: "garbled content type", body: valid, headers: []string{"Content-Type", ";;"}, status: 415, code: "unsupported_media_type"},
		{name: "no content type", body: valid, headers: []string{"Content-Type", ""}, status: 415, code: "unsupported_media_type"},
		{name: "JSON in Latin-1", body: valid, headers: []string{"Content-Type", "application/json; charset=latin1"}, status: 415, code: "unsupported_media_type"},
	}
}

// edit changes a decoded JSON body before it is sent again.
type edit func(m map[string]any)

func set(key string, v any) edit { return func(m map[string]any) { m[key] = v } }
func del(key string) edit        { return func(m map[string]any) { delete(m, key) } }

// raw is a JSON value sent as written (a number where a string is due).
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// lineAt edits line i of an invoice body.
func lineAt(i int, e edit) edit {
	return func(m map[string]any) { e(m["lines"].([]any)[i].(map[string]any)) }
}

// withEdits returns valid with the edits applied.
func withEdits(t *testing.T, valid string, edits ...edit) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(valid), &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		e(m)
	}
	return mustJSON(t, m)
}

func manyLines(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "1.00"}
	}
	return out
}

func TestCreateInvoiceRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	valid := invoiceBody(t, p.fileNumber, "V-1", "2026-06-01", line{"G", "30.00", 1}, line{"C", "25.00", 2})
	inv := func(edits ...edit) string { return withEdits(t, valid, edits...) }
	price1 := func(v any) string { return inv(lineAt(1, set("unit_price", v))) }
	qty0 := func(v any) string { return inv(lineAt(0, set("quantity", v))) }
	fields := valid[1:]

	cases := bodyRejections(valid)
	cases = append(cases,
		rejection{name: "duplicated key", body: `{"external_ref":"V-0",` + fields, status: 400, code: "duplicate_field", field: "external_ref"},
		rejection{name: "duplicated key in a line", status: 400, code: "duplicate_field", field: "lines[1].unit_price",
			body: strings.Replace(valid, `"unit_price":"25.00"`, `"unit_price":"25.00","unit_price":"1.00"`, 1)},
		rejection{name: "unknown field in a line", body: inv(lineAt(1, set("vat", "0.00"))), status: 422, code: "unknown_field", field: "lines[1].vat"},
		rejection{name: "provider_id smuggled in", body: inv(set("provider_id", "2")), status: 422, code: "unknown_field", field: "provider_id"},
		rejection{name: "a line that is not an object", body: inv(func(m map[string]any) { m["lines"] = append(m["lines"].([]any), 7) }),
			status: 422, code: "invalid", field: "lines[2]"},

		field422("file number as a number", inv(set("patient_file_number", 123)), "patient_file_number"),
		field422("external_ref as a boolean", inv(set("external_ref", true)), "external_ref"),
		field422("care_date as a number", inv(set("care_date", 20260601)), "care_date"),
		field422("lines as a string", inv(set("lines", "G")), "lines"),
		field422("lines as an object", inv(set("lines", map[string]any{})), "lines"),
		field422("code as a number", inv(lineAt(0, set("code", 7))), "lines[0].code"),
		field422("label as an array", inv(lineAt(1, set("label", []string{"a"}))), "lines[1].label"),
		field422("quantity as a string", qty0("2"), "lines[0].quantity"),

		field422("missing patient_file_number", inv(del("patient_file_number")), "patient_file_number"),
		field422("missing birth_date", inv(del("birth_date")), "birth_date"),
		field422("null birth_date", inv(set("birth_date", nil)), "birth_date"),
		field422("birth_date as a number", inv(set("birth_date", 19900412)), "birth_date"),
		field422("French birth date", inv(set("birth_date", "12/04/1990")), "birth_date"),
		field422("30 February birth", inv(set("birth_date", "1990-02-30")), "birth_date"),
		field422("missing external_ref", inv(del("external_ref")), "external_ref"),
		field422("missing care_date", inv(del("care_date")), "care_date"),
		field422("missing lines", inv(del("lines")), "lines"),
		field422("missing code", inv(lineAt(1, del("code"))), "lines[1].code"),
		field422("missing label", inv(lineAt(0, del("label"))), "lines[0].label"),
		field422("missing quantity", inv(lineAt(0, del("quantity"))), "lines[0].quantity"),
		field422("missing unit_price", inv(lineAt(1, del("unit_price"))), "lines[1].unit_price"),
		field422("empty object", "{}", "patient_file_number"),

		field422("null patient_file_number", inv(set("patient_file_number", nil)), "patient_file_number"),
		field422("null external_ref", inv(set("external_ref", nil)), "external_ref"),
		field422("null care_date", inv(set("care_date", nil)), "care_date"),
		field422("null lines", inv(set("lines", nil)), "lines"),
		field422("null line", inv(set("lines", []any{nil})), "lines[0]"),
		field422("null quantity", qty0(nil), "lines[0].quantity"),
		field422("null unit_price", price1(nil), "lines[1].unit_price"),
		field422("blank external_ref", inv(set("external_ref", "   ")), "external_ref"),
		field422("empty patient_file_number", inv(set("patient_file_number", "")), "patient_file_number"),
		field422("external_ref of 65 characters", inv(set("external_ref", strings.Repeat("R", 65))), "external_ref"),
		field422("label of 201 characters", inv(lineAt(0, set("label", strings.Repeat("é", 201)))), "lines[0].label"),
		field422("control character in a label", inv(lineAt(1, set("label", "Consul\u0007tation"))), "lines[1].label"),

		field422("negative amount", price1("-25.00"), "lines[1].unit_price"),
		field422("zero amount", price1("0"), "lines[1].unit_price"),
		field422("zero amount with cents", price1("0.00"), "lines[1].unit_price"),
		field422("three decimals", price1("25.001"), "lines[1].unit_price"),
		field422("exponent", price1("1e2"), "lines[1].unit_price"),
		field422("decimal comma", price1("30,00"), "lines[1].unit_price"),
		field422("plus sign", price1("+25.00"), "lines[1].unit_price"),
		field422("leading zero", price1("025.00"), "lines[1].unit_price"),
		field422("trailing dot", price1("25."), "lines[1].unit_price"),
		field422("currency sign", price1("25.00€"), "lines[1].unit_price"),
		field422("NaN", price1("NaN"), "lines[1].unit_price"),
		field422("empty amount", price1(""), "lines[1].unit_price"),
		field422("amount as a JSON number", price1(raw("30.00")), "lines[1].unit_price"),
		field422("amount as a JSON integer", price1(raw("30")), "lines[1].unit_price"),
		field422("unit price above 100000.00", price1("100000.01"), "lines[1].unit_price"),
		field422("zero quantity", qty0(0), "lines[0].quantity"),
		field422("negative quantity", qty0(-1), "lines[0].quantity"),
		field422("quantity of 1000", qty0(1000), "lines[0].quantity"),
		field422("fractional quantity", qty0(raw("1.5")), "lines[0].quantity"),
		field422("quantity with an exponent", qty0(raw("1e2")), "lines[0].quantity"),
		field422("huge quantity", qty0(raw("99999999999999999999")), "lines[0].quantity"),

		field422("30 February", inv(set("care_date", "2026-02-30")), "care_date"),
		field422("French date format", inv(set("care_date", "22/11/2026")), "care_date"),
		field422("date without zeros", inv(set("care_date", "2026-6-1")), "care_date"),
		field422("timestamp instead of date", inv(set("care_date", "2026-06-01T00:00:00Z")), "care_date"),
		field422("care date tomorrow", inv(set("care_date", "2026-06-16")), "care_date"),
		field422("care date next year", inv(set("care_date", "2027-01-01")), "care_date"),
		field422("care date a day beyond the 1095-day submission limit", inv(set("care_date", "2023-06-15")), "care_date"),
		field422("care date in 1999", inv(set("care_date", "1999-01-01")), "care_date"),

		rejection{name: "unknown file number", body: inv(set("patient_file_number", "PASS-2026-999999")),
			status: 422, code: "unknown_file_number", field: "patient_file_number"},
		rejection{name: "another birth date", body: inv(set("birth_date", "1990-04-13")),
			status: 422, code: "unknown_file_number", field: "patient_file_number"},
		field422("a bidi override in external_ref", inv(set("external_ref", "V-1\u202e")), "external_ref"),
		field422("a zero-width space in a label", inv(lineAt(0, set("label", "Consul\u200btation"))), "lines[0].label"),
		field422("empty lines", inv(set("lines", []any{})), "lines"),
		field422("101 lines", inv(set("lines", manyLines(101))), "lines"),
		rejection{name: "act code outside the catalogue", body: inv(lineAt(1, set("code", "XYZ"))), status: http.StatusUnprocessableEntity,
			code: "act_not_billable", field: "lines[1].code"},
		rejection{name: "act code another kind bills", body: inv(lineAt(1, set("code", "AMI"))), status: http.StatusUnprocessableEntity,
			code: "act_not_billable", field: "lines[1].code"},
		rejection{name: "unit price over the act's ceiling", body: inv(lineAt(0, set("unit_price", "30.01"))), status: http.StatusUnprocessableEntity,
			code: "over_ceiling", field: "lines[0].unit_price"},
		field422("CCAM code too short", inv(lineAt(1, set("code", "ZBQK00"))), "lines[1].code"),
		field422("CIP13 with a wrong check digit", inv(lineAt(0, set("code", "3400930000001"))), "lines[0].code"),
		field422("a bad line after a good one", inv(lineAt(1, set("unit_price", "-1"))), "lines[1].unit_price"),
		rejection{name: "Idempotency-Key of 201 characters", body: valid, headers: []string{"Idempotency-Key", strings.Repeat("k", 201)},
			status: 422, code: "invalid", field: "Idempotency-Key"},
	)
	h.assertRejected(t, "POST", "/api/v1/invoices", pr.token, cases)
	if n := h.count(t, "invoices"); n != 0 {
		t.Fatalf("%d invoices stored after rejected requests only", n)
	}
}

func TestCreateInvoiceAcceptsTheLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	valid := invoiceBody(t, p.fileNumber, "L-0", "2026-06-01")
	// The convention's ceiling on a total (2 000.00 by default) at its
	// highest, so that the limits of a submission are what is tried.
	h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{
		"regie_name": "Régie PASS", "regie_iban": validIBAN2, "regie_bic": validBIC, "regie_ceiling": "10000.00",
		"annual_budget": "50000.00", "invoice_ceiling": "9999999999.99"}))
	cases := []struct {
		name    string
		edits   []edit
		headers []string
		total   string
	}{
		{"100 lines", []edit{set("lines", manyLines(100))}, nil, "100.00"},
		{"quantity 999 at the maximum price", []edit{lineAt(0, set("code", "YYYY010")), lineAt(0, set("quantity", 999)),
			lineAt(0, set("unit_price", "100000.00"))}, nil, "99900000.00"},
		{"care date today", []edit{set("care_date", today)}, nil, "30.00"},
		{"care date exactly two years ago", []edit{set("care_date", "2024-06-15")}, nil, "30.00"},
		{"amount without decimals", []edit{lineAt(0, set("unit_price", "30"))}, nil, "30.00"},
		{"amount with one decimal", []edit{lineAt(0, set("unit_price", "20.5"))}, nil, "20.50"},
		{"amount below one euro", []edit{lineAt(0, set("unit_price", "0.01"))}, nil, "0.01"},
		{"lower-case act code", []edit{lineAt(0, set("code", "g"))}, nil, "30.00"},
		{"JSON with a charset", nil, []string{"Content-Type", "application/json; charset=utf-8"}, "30.00"},
	}
	for i, c := range cases {
		body := withEdits(t, valid, append(c.edits, set("external_ref", fmt.Sprintf("L-%d", i+1)))...)
		got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, body, c.headers...)
		if got["total"] != c.total || got["status"] != "pending" {
			t.Errorf("%s: total %v status %v, want %s pending", c.name, got["total"], got["status"], c.total)
		}
	}
	if n := h.count(t, "invoices"); n != int64(len(cases)) {
		t.Errorf("%d invoices stored, want %d", n, len(cases))
	}
	if n := h.count(t, "invoice_lines"); n != int64(len(cases)-1+100) {
		t.Errorf("%d invoice lines stored, want %d", n, len(cases)-1+100)
	}
}

func TestCreateInvoiceStoresWhatWasSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	got := h.submit(t, pr, p, "S-1", "2026-06-01", line{"G", "30.00", 1}, line{" deqp003 ", "21.28", 2})
	want := map[string]any{"provider_id": pr.id, "patient_file_number": p.fileNumber, "external_ref": "S-1",
		"care_date": "2026-06-01", "deadline": "2026-08-30", "status": "pending", "total": "72.56",
		"decision_reason": nil, "outcome": nil, "decided_at": nil, "created_at": "2026-06-15T10:00:00Z"}
	wantFields(t, "invoice", got, want)
	// Codes are normalised, labels trimmed; totals are quantity × price.
	wantLines := []map[string]any{
		{"code": "G", "label": "Acte G", "quantity": 1, "unit_price": "30.00", "total": "30.00", "rate_class": "general_practitioner"},
		{"code": "DEQP003", "label": "Acte  deqp003", "quantity": 2, "unit_price": "21.28", "total": "42.56", "rate_class": "general_practitioner"},
	}
	lines, _ := got["lines"].([]any)
	if len(lines) != len(wantLines) {
		t.Fatalf("lines = %v, want %v", lines, wantLines)
	}
	for i, l := range lines {
		wantFields(t, fmt.Sprintf("line %d", i), l.(map[string]any), wantLines[i])
	}
	// What GET answers is what POST answered.
	again := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+str(t, got, "id"), pr.token, "")
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("GET differs from POST (-POST +GET):\n%s", diff)
	}
}

// nir returns a valid NIR for a 13-digit body: the key is 97 - body mod 97.
func nir(body string) string {
	r := 0
	for _, c := range body {
		r = (r*10 + int(c-'0')) % 97
	}
	return fmt.Sprintf("%s%02d", body, 97-r)
}

func TestCreatePatientRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	existing := nir("1850375056123")
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": "Benali", "first_name": "Karim", "birth_date": "1985-03-13", "nir": existing}))
	firstID := "1"

	valid := mustJSON(t, map[string]any{"last_name": "Diallo", "first_name": "Aminata", "birth_date": "1990-04-12", "nir": nir("2900499350123")})
	pat := func(edits ...edit) string { return withEdits(t, valid, edits...) }
	badKey := nir("2900499350123")
	badKey = badKey[:13] + fmt.Sprintf("%02d", (int(badKey[13]-'0')*10+int(badKey[14]-'0'))%97+1)

	cases := bodyRejections(valid)
	cases = append(cases,
		rejection{name: "duplicated key", body: `{"nir":null,` + valid[1:], status: 400, code: "duplicate_field", field: "nir"},
		field422("missing last_name", pat(del("last_name")), "last_name"),
		field422("null first_name", pat(set("first_name", nil)), "first_name"),
		field422("blank first_name", pat(set("first_name", " ")), "first_name"),
		field422("last_name as a number", pat(set("last_name", 42)), "last_name"),
		field422("last_name of 101 characters", pat(set("last_name", strings.Repeat("a", 101))), "last_name"),
		field422("missing birth_date", pat(del("birth_date")), "birth_date"),
		field422("30 February birth", pat(set("birth_date", "1990-02-30")), "birth_date"),
		field422("French birth date", pat(set("birth_date", "12/04/1990")), "birth_date"),
		field422("birth tomorrow", pat(set("birth_date", "2026-06-16")), "birth_date"),
		field422("birth 131 years ago", pat(set("birth_date", "1895-01-01")), "birth_date"),
		field422("invalid NIR key", pat(set("nir", badKey)), "nir"),
		field422("NIR of 14 characters", pat(set("nir", "29004993501230")), "nir"),
		field422("NIR with a bad sex digit", pat(set("nir", nir("3900499350123"))), "nir"),
		field422("NIR as a number", pat(set("nir", raw("290049935012309"))), "nir"),
		// Several fields wrong: the first in the rules' order, as ever
		// (the pages tell them all).
		field422("every field wrong", pat(set("last_name", " "), set("first_name", " "), set("birth_date", "2026-06-16"),
			set("commune_code", "561"), set("nir", badKey)), "last_name"),
		field422("birth date and NIR wrong", pat(set("birth_date", "2026-06-16"), set("nir", badKey)), "birth_date"),
		rejection{name: "NIR already on file", body: pat(set("nir", existing)), status: 409, code: "duplicate_nir", field: "nir"},
		rejection{name: "NIR already on file, written with spaces", body: pat(set("nir", existing[:1]+" "+existing[1:3]+" "+existing[3:])),
			status: 409, code: "duplicate_nir", field: "nir"},
	)
	h.assertRejected(t, "POST", "/api/v1/patients", h.coordinator, cases)

	status, body := h.do(t, "POST", "/api/v1/patients", h.coordinator, pat(set("nir", existing)))
	if e, _ := body["error"].(map[string]any); status != http.StatusConflict || e["existing_id"] != firstID {
		t.Errorf("duplicate NIR: %d %v, want 409 with existing_id %s", status, body, firstID)
	}
	// Without a NIR, or with a valid one, the file opens.
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator, pat(del("nir")))
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator, pat())
}

func TestCreateProviderRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.newProvider(t, "Dr Existing", "general_practitioner", "10000000001")
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/providers", h.admin,
		mustJSON(t, map[string]any{"kind": "pharmacy", "name": "Pharmacie", "finess": "930012345", "iban": validIBAN2, "bic": "PSSTFRPPPAR"}))

	valid := mustJSON(t, map[string]any{"kind": "nurse", "name": "Cabinet des Lilas", "rpps": "10004567890", "iban": validIBAN, "bic": validBIC})
	prov := func(edits ...edit) string { return withEdits(t, valid, edits...) }
	badIBAN := validIBAN[:len(validIBAN)-1] + "0"

	cases := bodyRejections(valid)
	cases = append(cases,
		rejection{name: "duplicated key", body: `{"iban":"` + validIBAN2 + `",` + valid[1:], status: 400, code: "duplicate_field", field: "iban"},
		field422("missing kind", prov(del("kind")), "kind"),
		field422("unknown kind", prov(set("kind", "dentist")), "kind"),
		field422("missing name", prov(del("name")), "name"),
		field422("name of 201 characters", prov(set("name", strings.Repeat("n", 201))), "name"),
		field422("neither rpps nor finess", prov(del("rpps")), "rpps"),
		field422("null rpps and no finess", prov(set("rpps", nil)), "rpps"),
		field422("blank rpps and blank finess", prov(set("rpps", " "), set("finess", "")), "rpps"),
		field422("rpps of 10 digits", prov(set("rpps", "1000456789")), "rpps"),
		field422("rpps with a letter", prov(set("rpps", "1000456789A")), "rpps"),
		field422("rpps as a number", prov(set("rpps", raw("10004567890"))), "rpps"),
		field422("finess of 8 characters", prov(set("finess", "93001234")), "finess"),
		field422("finess with letters", prov(set("finess", "9300A2345")), "finess"),
		field422("missing iban", prov(del("iban")), "iban"),
		field422("bad IBAN checksum", prov(set("iban", badIBAN)), "iban"),
		field422("IBAN too short for France", prov(set("iban", "FR76300060000112345678901")), "iban"),
		field422("missing bic", prov(del("bic")), "bic"),
		field422("BIC of 9 characters", prov(set("bic", "AGRIFRPP1")), "bic"),
		field422("BIC with digits in the bank code", prov(set("bic", "AGR1FRPP")), "bic"),
		field422("BIC the SEPA schema refuses", prov(set("bic", "AGRIFR1P")), "bic"),
		field422("name with no Latin letter", prov(set("name", "市役所")), "name"),
		rejection{name: "rpps already registered", body: prov(set("rpps", "10000000001")), status: 409, code: "duplicate_provider", field: "rpps"},
		rejection{name: "finess already registered", body: prov(del("rpps"), set("finess", "930012345")), status: 409, code: "duplicate_provider", field: "finess"},
	)
	h.assertRejected(t, "POST", "/api/v1/providers", h.admin, cases)

	status, body := h.do(t, "POST", "/api/v1/providers", h.admin, prov(set("rpps", "10000000001")))
	if e, _ := body["error"].(map[string]any); status != http.StatusConflict || e["existing_id"] != "1" {
		t.Errorf("duplicate rpps: %d %v, want 409 with existing_id 1", status, body)
	}
	got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/providers", h.admin,
		prov(set("iban", "fr76 3000 6000 0112 3456 7890 189"), set("bic", "agrifrpp")))
	if got["iban"] != validIBAN || got["bic"] != validBIC || got["finess"] != nil || got["rpps"] != "10004567890" {
		t.Errorf("provider stored as %v, want normalised IBAN and BIC", got)
	}
}

func TestRightsRequestRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Diallo")
	opened := h.newPatient(t, "Nguyen")
	h.openRights(t, opened, "puma", "2026-01-01")

	valid := mustJSON(t, map[string]any{"regime": "puma", "filed_on": "2026-06-01"})
	req := func(edits ...edit) string { return withEdits(t, valid, edits...) }
	cases := bodyRejections(valid)
	cases = append(cases,
		rejection{name: "duplicated key", body: `{"regime":"ame",` + valid[1:], status: 400, code: "duplicate_field", field: "regime"},
		field422("missing regime", req(del("regime")), "regime"),
		field422("unknown regime", req(set("regime", "cmu")), "regime"),
		field422("regime as a number", req(set("regime", 1)), "regime"),
		field422("missing filed_on", req(del("filed_on")), "filed_on"),
		field422("null filed_on", req(set("filed_on", nil)), "filed_on"),
		field422("filed on 31 April", req(set("filed_on", "2026-04-31")), "filed_on"),
		field422("French filed_on", req(set("filed_on", "01/06/2026")), "filed_on"),
		field422("filed tomorrow", req(set("filed_on", "2026-06-16")), "filed_on"),
		// Both wrong: the regime, as ever (the page tells both).
		field422("unknown regime, no filed_on", req(set("regime", "cmu"), del("filed_on")), "regime"),
	)
	h.assertRejected(t, "POST", "/api/v1/patients/"+p.id+"/rights-request", h.coordinator, cases)
	h.assertRejected(t, "POST", "/api/v1/patients/"+opened.id+"/rights-request", h.coordinator, []rejection{
		{name: "rights already opened", body: valid, status: 409, code: "rights_already_opened"},
	})
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-request", h.coordinator, req(set("filed_on", today)))
}

func TestRightsDecisionRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Diallo")
	h.requestRights(t, p, "puma", "2026-06-01")

	opened := mustJSON(t, map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-05-01",
		"effective_to": "2027-04-30", "reference": "PUMA-93-1"})
	refused := mustJSON(t, map[string]any{"decision": "refused", "reason": "résidence non établie"})
	open := func(edits ...edit) string { return withEdits(t, opened, edits...) }
	refuse := func(edits ...edit) string { return withEdits(t, refused, edits...) }

	cases := bodyRejections(opened)
	cases = append(cases,
		rejection{name: "duplicated key", body: `{"decision":"refused",` + opened[1:], status: 400, code: "duplicate_field", field: "decision"},
		field422("missing decision", open(del("decision")), "decision"),
		field422("unknown decision", open(set("decision", "maybe")), "decision"),
		field422("decision in capitals", open(set("decision", "OPENED")), "decision"),

		field422("refused with a regime", refuse(set("regime", "puma")), "regime"),
		field422("refused with effective_from", refuse(set("effective_from", "2026-05-01")), "effective_from"),
		field422("refused with a reference", refuse(set("reference", "X")), "reference"),
		field422("refused without a reason", refuse(del("reason")), "reason"),
		field422("refused with a blank reason", refuse(set("reason", "  ")), "reason"),
		field422("refused with a reason of 501 characters", refuse(set("reason", strings.Repeat("r", 501))), "reason"),

		field422("opened without reference", open(del("reference")), "reference"),
		field422("opened with a null reference", open(set("reference", nil)), "reference"),
		field422("opened with a reason", open(set("reason", "x")), "reason"),
		field422("opened without regime", open(del("regime")), "regime"),
		field422("opened with an unknown regime", open(set("regime", "cmu")), "regime"),
		field422("opened without effective_from", open(del("effective_from")), "effective_from"),
		field422("effective_from on 30 February", open(set("effective_from", "2026-02-30")), "effective_from"),
		field422("effective_to in French", open(set("effective_to", "30/04/2027")), "effective_to"),
		field422("effective_to before effective_from", open(set("effective_to", "2026-04-30")), "effective_to"),
		// Several fields wrong: the first in the rules' order, as ever
		// (the pages tell them all).
		field422("opened with every field wrong", open(set("regime", "cmu"), del("effective_from"), set("reference", " "),
			set("caisse", "9a"), set("reason", "x")), "caisse"),
		field422("opened with regime and reference wrong", open(set("regime", "cmu"), set("reference", " ")), "regime"),
		field422("refused with a regime and no reason", refuse(set("regime", "puma"), del("reason")), "regime"),
	)
	h.assertRejected(t, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, cases)

	// The limits: a period of one day, and no end date.
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, open(set("effective_to", "2026-05-01")))
	got := h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, open(del("effective_to")))
	rights := got["rights"].(map[string]any)
	if rights["status"] != "opened" || rights["regime"] != "puma" || rights["effective_from"] != "2026-05-01" || rights["effective_to"] != nil {
		t.Errorf("rights = %v, want opened puma from 2026-05-01 without end", rights)
	}
}

// A refusal that carries several fields of an opening is rejected; which
// field is blamed must not depend on Go's map iteration order, or the same
// request gets different answers.
func TestRightsDecisionBlamesTheSameFieldEveryTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Diallo")
	body := mustJSON(t, map[string]any{"decision": "refused", "reason": "x", "regime": "puma",
		"effective_from": "2026-05-01", "effective_to": "2026-12-31", "reference": "R"})
	seen := map[string]int{}
	for range 40 {
		status, got := h.do(t, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, body)
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422: %v", status, got)
		}
		seen[errorField(got)]++
	}
	if len(seen) != 1 {
		t.Errorf("the same request blamed different fields: %v", seen)
	}
}
