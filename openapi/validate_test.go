package openapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"passd/api"
	"passd/api/apitest"
)

func TestTypeName(t *testing.T) {
	for _, tt := range []struct {
		types  openapi3.Types
		format string
		want   string
	}{
		{openapi3.Types{openapi3.TypeString}, "date", "a date YYYY-MM-DD"},
		{openapi3.Types{openapi3.TypeString}, "", "a string"},
		{openapi3.Types{openapi3.TypeInteger}, "", "a whole number"},
		{openapi3.Types{openapi3.TypeNumber}, "", "a number"},
		{openapi3.Types{openapi3.TypeBoolean}, "", "true or false"},
		{openapi3.Types{openapi3.TypeArray}, "", "an array"},
		{openapi3.Types{openapi3.TypeObject}, "", "an object"},
		{openapi3.Types{openapi3.TypeString, openapi3.TypeNull}, "", "a valid value"},
		{nil, "", "a valid value"},
	} {
		s := &openapi3.Schema{Format: tt.format}
		if tt.types != nil {
			s.Type = &tt.types
		}
		if got := typeName(s); got != tt.want {
			t.Errorf("typeName(%v, format %q) = %q, want %q", tt.types, tt.format, got, tt.want)
		}
	}
}

// TestBodyCheckIsValidateRequestBodys: the guard validates a JSON body on
// the value api.CheckObject decoded, as openapi3filter.ValidateRequestBody
// would on the bytes (it used to call that function, which decodes the body
// again). For every operation taking JSON, bodies that break its schema in
// many ways must get the same finding, and so the same answer, from both.
func TestBodyCheckIsValidateRequestBodys(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	values := []string{`null`, `1e400`, `-1`, `1.5`, `0`, `"x"`, `""`, `"2026-06-01"`, `[]`, `[{}]`, `["x"]`, `{}`, `true`}
	swap := func(old, new string) string {
		if !strings.Contains(validInvoice, old) {
			t.Fatalf("%q is not in the valid invoice", old)
		}
		return strings.Replace(validInvoice, old, new, 1)
	}
	invoices := []string{validInvoice, apitest.InvoiceBody(3), apitest.InvoiceBody(101),
		swap(`"birth_date":"1990-04-12",`, ``), swap(`"30.00"`, `30`), swap(`"30.00"`, `"30,00"`),
		swap(`"quantity":2`, `"quantity":1000`), swap(`"quantity":2`, `"quantity":2.5`), swap(`"quantity":2`, `"quantity":"2"`),
		swap(`"code":"C",`, ``), swap(`"code":"C"`, `"code":"C","vat":"0"`), swap(`{`, `{"provider_id":"2",`),
		swap(`"2026-06-01"`, `"2026-13-01"`), swap(`"Acte"`, `""`), swap(`"F-1"`, `"`+strings.Repeat("F", 65)+`"`),
		swap(`]}`, `,7]}`), swap(`]}`, `,null]}`), swap(`"F-1"`, `7`) + "\n"}
	checked := 0
	for _, o := range spec.Operations() {
		if o.bodySchema == nil {
			continue
		}
		bodies := []string{`{}`, `{"zz":1}`, ` {"zz":{"a":[1,2]}} `}
		for _, name := range slices.Sorted(maps.Keys(o.bodySchema.Properties)) {
			for _, v := range values {
				bodies = append(bodies, fmt.Sprintf(`{%q:%s}`, name, v))
			}
		}
		if o.Method == http.MethodPost && o.Path == "/api/v1/invoices" {
			bodies = append(bodies, invoices...)
		}
		for _, body := range bodies {
			value, err := api.CheckObject([]byte(body))
			if err != nil {
				t.Fatalf("%s %s %s: %v", o.Method, o.Path, body, err)
			}
			req := httptest.NewRequest(o.Method, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", mediaTypeJSON)
			input := &openapi3filter.RequestValidationInput{Request: req, Route: o.route,
				Options: &openapi3filter.Options{SkipSettingDefaults: true}}
			want := openapi3filter.ValidateRequestBody(context.Background(), input, o.route.Operation.RequestBody.Value)
			got := o.bodySchema.VisitJSON(value, o.bodyOptions...)
			if (want == nil) != (got == nil) {
				t.Fatalf("%s %s %s: ValidateRequestBody says %v, VisitJSON %v", o.Method, o.Path, body, want, got)
			}
			checked++
			if want == nil {
				continue
			}
			var re *openapi3filter.RequestError
			if !errors.As(want, &re) || re.Err == nil || re.Err.Error() != got.Error() {
				t.Errorf("%s %s %s: ValidateRequestBody found %v, VisitJSON %v", o.Method, o.Path, body, want, got)
			}
			in := requestInput{operation: o, body: value, mediaType: mediaTypeJSON}
			if a, b := in.bodyFault(want), in.bodyFault(got); !reflect.DeepEqual(a, b) {
				t.Errorf("%s %s %s: answered %#v, was %#v", o.Method, o.Path, body, b, a)
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d bodies checked", checked)
	}
}
