package httpapi

import (
	"fmt"
	"testing"

	"passd/api"
	"passd/api/apitest"
	"passd/billing"
)

var sinkInvoice billing.NewInvoice

// BenchmarkParseInvoice decodes a submission and checks it, as POST
// /invoices does before its one statement.
func BenchmarkParseInvoice(b *testing.B) {
	for _, n := range []int{3, 20} {
		body := []byte(apitest.InvoiceBody(n))
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				in, err := checkInvoice(body)
				if err != nil {
					b.Fatal(err)
				}
				sinkInvoice = in
			}
		})
	}
}

var sinkProvider billing.Provider

func BenchmarkParseProvider(b *testing.B) {
	body := []byte(`{"kind": "pharmacy", "name": "Pharmacie de l’Église", "finess": "750000001",
		"iban": "FR14 2004 1010 0505 0001 3M02 606", "bic": "PSSTFRPPLYO"}`)
	b.ReportAllocs()
	for b.Loop() {
		var r providerRequest
		err := api.DecodeBytes(body, &r)
		var p billing.Provider
		if err == nil {
			p, err = r.provider()
		}
		if err != nil {
			b.Fatal(err)
		}
		sinkProvider = p
	}
}
