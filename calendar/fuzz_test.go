package calendar

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzUnmarshalJSON checks the JSON form of a date: null leaves the date
// as it was, anything else accepted is a string whose content is the
// date's canonical form, and a refusal leaves the date untouched.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{`"2026-06-15"`, `null`, ` null `, `"2026-02-30"`, `"2026-06-15T00:00:00Z"`, `20260615`, `1767225600`,
		`"\u0032026-06-15"`, `"2026-06-15\u0000"`, `"٢٠٢٦-٠٦-١٥"`, `"+2026-06-15"`, `"99999-01-01"`, `"0000-01-01"`, `""`, `"`,
		`"\ud800"`, `["2026-06-15"]`, `{"date":"2026-06-15"}`, `"2026-06-15' OR '1'='1"`, "\"2026-06-1\xff\"", `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDate(2000, 1, 1)
		err := d.UnmarshalJSON(data)
		trimmed := bytes.TrimSpace(data)
		switch {
		case err != nil:
			if d != NewDate(2000, 1, 1) {
				t.Fatalf("UnmarshalJSON(%q) failed with %v but changed the date to %v", data, err, d)
			}
		case string(trimmed) == "null":
			if d != NewDate(2000, 1, 1) {
				t.Fatalf("null changed the date to %v", d)
			}
		default:
			var s string
			if json.Unmarshal(trimmed, &s) != nil || s != d.String() {
				t.Fatalf("UnmarshalJSON(%q) = %v, but the string says %q", data, d, s)
			}
			again, err := d.MarshalJSON()
			if err != nil || string(again) != `"`+s+`"` {
				t.Fatalf("%v marshals as %s, %v", d, again, err)
			}
		}
	})
}
