package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"passd/api"
	"passd/fault"
)

// FuzzJobRunRequest checks POST /jobs/{name}/run: only a job's exact name
// runs it, an unknown name is a 404, and the body is nothing or {}.
func FuzzJobRunRequest(f *testing.F) {
	known := []string{"release", "deadline", "claim-batch", "payout-batch", "reminders"}
	for _, c := range []struct{ name, ct, body string }{
		{"release", "", ""}, {"release", "application/json", "{}"}, {"release", "text/plain", "{}"}, {"release", "", "{}"},
		{"RELEASE", "", ""}, {"release\x00", "", ""}, {"..%2frelease", "", ""}, {"release;deadline", "", ""}, {"", "", ""},
		{"release", "application/json", `{"force":true}`}, {"release", "application/json", "null"}, {"release", "application/json", "[]"},
		{"release", "application/json; charset=latin1", "{}"}, {"release", "application/json", "{}x"}, {"release", "application/json", "\xef\xbb\xbf{}"},
		{"release", "application/json", `{"\ud800":1}`}, {"release", "application/x-www-form-urlencoded", "force=1"},
	} {
		f.Add(c.name, c.ct, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, name, contentType string, body []byte) {
		got, err := jobToRun(known, name, contentType, body)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %#v, want a *fault.Error", err)
			}
			switch {
			case fe.Code == fault.NotFound:
				if slices.Contains(known, name) {
					t.Fatalf("job %q not found", name)
				}
			case fe.Code == fault.Invalid && (fe.Field != "" || fe.Status == http.StatusBadRequest || fe.Status == http.StatusUnsupportedMediaType):
			default:
				t.Fatalf("refused with %#v", fe)
			}
			return
		}
		if got != name || !slices.Contains(known, name) {
			t.Fatalf("runs %q for name %q", got, name)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return
		}
		var m map[string]json.RawMessage
		if api.CheckJSONContentType(contentType) != nil || json.Unmarshal(body, &m) != nil || m == nil || len(m) != 0 {
			t.Fatalf("ran %q with body %q under %q", name, body, contentType)
		}
	})
}
