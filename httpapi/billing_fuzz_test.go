package httpapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"passd/api"
	"passd/api/apitest"
	"passd/billing"
	"passd/calendar"
	"passd/fault/faulttest"
	"passd/ident"
	"passd/sepa"
)

// positiveCents reports whether d is a positive amount in cents, at most max.
func positiveCents(d, max decimal.Decimal) bool {
	return d.IsPositive() && d.Equal(d.Truncate(2)) && !d.GreaterThan(max)
}

// checkInvoice decodes a body of POST /invoices and checks it as billing
// does on 1 December 2026.
func checkInvoice(body []byte) (billing.NewInvoice, error) {
	var r invoiceRequest
	if err := api.DecodeBody("application/json", body, &r); err != nil {
		return billing.NewInvoice{}, err
	}
	in, err := r.invoice()
	if err != nil {
		return in, err
	}
	return in, in.Validate(calendar.NewDate(2026, 12, 1))
}

// FuzzInvoiceRequest feeds arbitrary bodies to the submission decoder and
// billing's Validate: they must never panic, a refusal names its field, and
// whatever they accept must fit the schema (positive amounts with two
// decimals, a total within NUMERIC(12,2), canonical act codes, clean text).
func FuzzInvoiceRequest(f *testing.F) {
	f.Add([]byte(`{"patient_file_number":"PASS-2026-000001","external_ref":"F-1","care_date":"2026-11-20","lines":[{"code":"G","label":"Consultation","quantity":1,"unit_price":"30.00"}]}`))
	f.Add([]byte(`{"patient_file_number":"PASS-2026-000001","external_ref":"F-1","care_date":"2026-11-20","lines":[{"code":"ZBQK002","label":"X","quantity":999,"unit_price":"100000.00"}]}`))
	f.Add([]byte(`{"lines":[{"unit_price":1e2}]}`))
	f.Add([]byte(`{"lines":[{"quantity":"2"}],"lines":[]}`))
	f.Add([]byte(`{"care_date":"2026-02-30"}`))
	f.Add([]byte("{\"external_ref\":\"\xff\"}"))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"patient_file_number":"PASS-2026-000001","EXTERNAL_REF":"F-1","care_date":"2026-11-20","lines":[{"code":"G","label":"C","quantity":1,"unit_price":"30.00"}]}`))
	f.Add([]byte(`{"patient_file_number":"1' OR '1'='1","external_ref":"\ud800","care_date":"٢٠٢٦-٠٦-٠١","lines":[{"code":"<script>","label":"C","quantity":1E2,"unit_price":"3.0e1"}]}`))
	f.Add([]byte(`{"patient_file_number":"P","external_ref":"F","care_date":"2026-06-01","lines":[{"code":"G","label":"C","quantity":99999999999999999999,"unit_price":"99999999999999999999"}]}`))
	f.Add([]byte(`{"patient_file_number":"P","external_ref":"F","care_date":"2026-06-01","lines":[{"code":"G","Code":"C","label":"C","quantity":1,"unit_price":"1"}]}`))
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	max := decimal.RequireFromString("9999999999.99")
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := checkInvoice(body)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if !apitest.CleanText(in.PatientFileNumber, 32) || !apitest.CleanText(in.ExternalRef, 64) || in.CareDate.IsZero() {
			t.Fatalf("accepted %+v", in)
		}
		if len(in.Lines) == 0 || len(in.Lines) > billing.MaxLines {
			t.Fatalf("accepted %d lines", len(in.Lines))
		}
		for _, l := range in.Lines {
			if !positiveCents(l.UnitPrice, billing.MaxUnitPrice) || l.Quantity < 1 || l.Quantity > 999 || !apitest.CleanText(l.Label, 200) {
				t.Fatalf("accepted line %+v", l)
			}
			if _, code, err := ident.ParseActCode(l.Code); err != nil || code != l.Code {
				t.Fatalf("accepted act code %q, which is not canonical", l.Code)
			}
		}
		if billing.TotalOf(in.Lines).GreaterThan(max) {
			t.Fatalf("accepted a total over NUMERIC(12,2): %s", billing.TotalOf(in.Lines))
		}
	})
}

// FuzzProviderRequest checks POST /providers bodies: an accepted provider
// has a known kind, a name a SEPA file can carry, and identifiers in their
// canonical form.
func FuzzProviderRequest(f *testing.F) {
	f.Add([]byte(`{"kind":"nurse","name":"Cabinet des Lilas","rpps":"10004567890","iban":"FR7630006000011234567890189","bic":"AGRIFRPP"}`))
	f.Add([]byte(`{"kind":"pharmacy","name":"Pharmacie","finess":"2a0012345","iban":"fr76 3000 6000 0112 3456 7890 189","bic":"agrifrppxxx"}`))
	f.Add([]byte(`{"kind":"NURSE","name":"市役所","rpps":"１０００４５６７８９０","iban":"FR76' OR '1'='1","bic":"<script>"}`))
	f.Add([]byte(`{"kind":"nurse","KIND":"pharmacy","name":"A","rpps":10004567890,"iban":null,"bic":"AGRIFRPP"}`))
	f.Add([]byte(`{"kind":"nurse","name":"A\u0000","rpps":"10004567890\u0000","finess":"93001234","iban":"FR7630006000011234567890189","bic":"AGRIFR1P"}`))
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r providerRequest
		err := api.DecodeBody("application/json", body, &r)
		var p billing.Provider
		if err == nil {
			p, err = r.provider()
		}
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if !slices.Contains(billing.ProviderKinds, p.Kind) || !apitest.CleanText(p.Name, 200) || sepa.Text(p.Name, 70) == "" {
			t.Fatalf("accepted %+v", p)
		}
		if p.RPPS == "" && p.FINESS == "" {
			t.Fatalf("accepted a provider without RPPS nor FINESS: %+v", p)
		}
		canonical := func(name, v string, parse func(string) (string, error)) {
			if again, err := parse(v); err != nil || again != v {
				t.Fatalf("accepted %s %q, which is not canonical (%q, %v)", name, v, again, err)
			}
		}
		if p.RPPS != "" {
			canonical("rpps", p.RPPS, ident.ParseRPPS)
		}
		if p.FINESS != "" {
			canonical("finess", p.FINESS, ident.ParseFINESS)
		}
		canonical("iban", p.IBAN, ident.ParseIBAN)
		canonical("bic", p.BIC, ident.ParseBIC)
	})
}

// FuzzSettingsRequest checks PUT /settings bodies: accepted settings can
// be written to a SEPA file and fit their columns.
func FuzzSettingsRequest(f *testing.F) {
	f.Add([]byte(`{"regie_name":"Régie PASS","regie_iban":"FR1830006000010000098765432","regie_bic":"AGRIFRPP","regie_ceiling":"10000.00","annual_budget":"50000.00","deadline_days":90}`))
	f.Add([]byte(`{"regie_name":"R","regie_iban":"FR1830006000010000098765432","regie_bic":"AGRIFRPP","regie_ceiling":"9999999999.99","annual_budget":"1"}`))
	f.Add([]byte(`{"regie_name":"R","regie_iban":"FR1830006000010000098765432","regie_bic":"AGRIFRPP","regie_ceiling":10000,"annual_budget":"5e4","deadline_days":"90"}`))
	f.Add([]byte(`{"regie_name":"R","regie_iban":"FR1830006000010000098765432","regie_bic":"AGRIFRPP","regie_ceiling":"1e400","annual_budget":"-1","deadline_days":1e2}`))
	f.Add([]byte(`{"regie_name":"<script>\u0000","REGIE_NAME":"R","regie_iban":"","regie_bic":"AGRIFRPP","regie_ceiling":"0","annual_budget":"0.00","deadline_days":0}`))
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r settingsRequest
		err := api.DecodeBody("application/json", body, &r)
		var st billing.Settings
		if err == nil {
			st, err = r.settings()
		}
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if !apitest.CleanText(st.RegieName, 70) || sepa.Text(st.RegieName, 70) == "" {
			t.Fatalf("accepted régie name %q", st.RegieName)
		}
		if iban, err := ident.ParseIBAN(st.RegieIBAN); err != nil || iban != st.RegieIBAN {
			t.Fatalf("accepted IBAN %q", st.RegieIBAN)
		}
		if bic, err := ident.ParseBIC(st.RegieBIC); err != nil || bic != st.RegieBIC {
			t.Fatalf("accepted BIC %q", st.RegieBIC)
		}
		if !positiveCents(st.RegieCeiling, billing.MaxSettingAmount) || !positiveCents(st.AnnualBudget, billing.MaxSettingAmount) {
			t.Fatalf("accepted ceiling %s and budget %s", st.RegieCeiling, st.AnnualBudget)
		}
		if st.DeadlineDays < 0 || st.DeadlineDays > 3650 {
			t.Fatalf("accepted deadline_days %d", st.DeadlineDays)
		}
	})
}

// FuzzDraftRequest checks POST /payout-batches bodies: nothing, or the
// canonical id of a provider.
func FuzzDraftRequest(f *testing.F) {
	for _, b := range []string{``, `{}`, `{"provider_id":"12"}`, `{"provider_id":null}`, `{"provider_id":12}`, `{"provider_id":"012"}`,
		`{"provider_id":"1e2"}`, `{"provider_id":"-1"}`, `{"provider_id":"0"}`, `{"provider_id":"9223372036854775808"}`,
		`{"provider_id":"١"}`, `{"provider_id":"1' OR '1'='1"}`, `{"Provider_ID":"12"}`, `{"provider_id":" 12 "}`} {
		f.Add("application/json", []byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add("application/json", []byte(b.Body))
	}
	f.Add("text/plain", []byte(`{"provider_id":"12"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		var r draftRequest
		err := api.DecodeOptionalBody(contentType, body, &r)
		var id int64
		if err == nil {
			id, err = r.providerID()
		}
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		raw, given, _ := r.ProviderID.OptString("provider_id", 20)
		if id < 0 || given != (id > 0) || (given && ident.FormatID(id) != raw) {
			t.Fatalf("accepted provider %d from %q", id, body)
		}
	})
}

// FuzzReasonRequest checks the bodies of a reason (a hold, a void, a
// budget override, a rejection): a JSON string, or a client error.
func FuzzReasonRequest(f *testing.F) {
	for _, b := range []string{``, `{}`, `{"reason":"doublon"}`, `{"reason":""}`, `{"reason":1}`, `{"reason":null}`,
		`{"REASON":"x"}`, `{"reason":"a","reason":"b"}`, `{"reason":["x"]}`} {
		f.Add("application/json", []byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add("application/json", []byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		var r reasonRequest
		err := api.DecodeBody(contentType, body, &r)
		var reason string
		if err == nil {
			reason, err = r.reason()
		}
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if reason != "" && !strings.Contains(string(body), "reason") {
			t.Fatalf("reason %q from %q", reason, body)
		}
	})
}

// FuzzPaidRequest checks POST /payout-batches/{id}/paid bodies: a date is
// required and comes out canonical.
func FuzzPaidRequest(f *testing.F) {
	for _, b := range []string{`{"paid_on":"2026-06-15"}`, `{"paid_on":"15/06/2026"}`, `{"paid_on":"2026-02-30"}`, `{"paid_on":20260615}`,
		`{"paid_on":"2026-06-15T00:00:00Z"}`, `{"paid_on":null}`, `{"PAID_ON":"2026-06-15"}`, `{"paid_on":"٢٠٢٦-٠٦-١٥"}`} {
		f.Add([]byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r paidRequest
		err := api.DecodeBody("application/json", body, &r)
		if err == nil {
			paid, verr := r.PaidOn.Date("paid_on")
			if verr == nil {
				var sent struct {
					PaidOn string `json:"paid_on"`
				}
				if paid.IsZero() || json.Unmarshal(body, &sent) != nil || sent.PaidOn != paid.String() {
					t.Fatalf("accepted paid_on %v from %q", paid, body)
				}
				return
			}
			err = verr
		}
		faulttest.RequireInvalid(t, err)
	})
}

// FuzzIdempotencyKey checks the Idempotency-Key header: 1 to 200 printable
// ASCII characters, nothing else.
func FuzzIdempotencyKey(f *testing.F) {
	for _, k := range []string{"k", "key one", "key\none", "clé", "key\x00", strings.Repeat("k", 200), strings.Repeat("k", 201), "~!", "\x7f"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" {
			return // no key: the request is not idempotent, and nothing is checked
		}
		want := len(key) <= 200 && !strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e })
		if got := validIdempotencyKey(key); got != want {
			t.Fatalf("validIdempotencyKey(%q) = %v, want %v", key, got, want)
		}
	})
}
