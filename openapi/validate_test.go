package openapi

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
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
