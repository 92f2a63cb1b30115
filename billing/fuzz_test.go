package billing

import (
	"testing"

	"github.com/shopspring/decimal"

	"passd/api"
)

// FuzzInvoiceRequest feeds arbitrary bodies to the submission decoder and
// validator: they must never panic, and whatever they accept must fit the
// schema (positive amounts with two decimals, a total within NUMERIC(12,2)).
func FuzzInvoiceRequest(f *testing.F) {
	f.Add([]byte(`{"patient_file_number":"PASS-2026-000001","external_ref":"F-1","care_date":"2026-11-20","lines":[{"code":"G","label":"Consultation","quantity":1,"unit_price":"30.00"}]}`))
	f.Add([]byte(`{"patient_file_number":"PASS-2026-000001","external_ref":"F-1","care_date":"2026-11-20","lines":[{"code":"ZBQK002","label":"X","quantity":999,"unit_price":"100000.00"}]}`))
	f.Add([]byte(`{"lines":[{"unit_price":1e2}]}`))
	f.Add([]byte(`{"lines":[{"quantity":"2"}],"lines":[]}`))
	f.Add([]byte(`{"care_date":"2026-02-30"}`))
	f.Add([]byte("{\"external_ref\":\"\xff\"}"))
	f.Add([]byte(`[]`))
	max := decimal.RequireFromString("9999999999.99")
	f.Fuzz(func(t *testing.T, body []byte) {
		var r invoiceRequest
		if err := api.DecodeBytes(body, &r); err != nil {
			return
		}
		in, err := r.validate()
		if err != nil {
			return
		}
		if len(in.Lines) == 0 || len(in.Lines) > MaxLines {
			t.Fatalf("accepted %d lines", len(in.Lines))
		}
		for _, l := range in.Lines {
			if !l.UnitPrice.IsPositive() || l.UnitPrice.Exponent() < -2 || l.Quantity < 1 {
				t.Fatalf("accepted line %+v", l)
			}
		}
		if TotalOf(in.Lines).GreaterThan(max) {
			t.Fatalf("accepted a total over NUMERIC(12,2): %s", TotalOf(in.Lines))
		}
	})
}
