package api

import (
	"errors"
	"strings"
	"testing"

	"passd/api/apitest"
	"passd/fault"
)

type probe struct {
	Name  Value `json:"name"`
	Lines Value `json:"lines"`
	Inner *struct {
		A Value `json:"a"`
	} `json:"inner"`
}

func TestDecodeBytesNamesTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body   string
		kind   fault.Kind
		field  string
		status int
	}{
		{`{"name":"a","name":"b"}`, "duplicate_field", "name", 400},
		{`{"inner":{"a":1,"a":2}}`, "duplicate_field", "inner.a", 400},
		{`{"lines":[{"x":1},{"x":1,"x":2}]}`, "duplicate_field", "lines[1].x", 400},
		{`{"colour":"red"}`, "unknown_field", "colour", 0},
		{`{"inner":[]}`, "", "inner", 0},
		{`[]`, "malformed_json", "", 400},
		{`{"name":"a"} {}`, "malformed_json", "", 400},
		{`{"name":`, "malformed_json", "", 400},
		{"{\"name\":\"\xff\"}", "malformed_json", "", 400},
		{``, "malformed_json", "", 400},
		// encoding/json matches names ignoring case and Unicode-folds them.
		{`{"name":"a","NAME":"b"}`, "duplicate_field", "NAME", 400},
		{`{"lines":[{"x":1,"X":2}]}`, "duplicate_field", "lines[0].X", 400},
		{`{"NAME":"a"}`, "unknown_field", "NAME", 0},
		{`{"inner":{"A":1}}`, "unknown_field", "inner.A", 0},
		{`{"lineſ":[]}`, "unknown_field", "lineſ", 0}, // U+017F folds to "s"
		{`{"lines":[],"lineſ":[]}`, "duplicate_field", "lineſ", 400},
		{`{"name":"a\ud800"}`, "malformed_json", "", 400},
		{`{"name":"a\udc00\ud800"}`, "malformed_json", "", 400},
		{`{"\ud800":1}`, "malformed_json", "", 400},
	}
	for _, tt := range tests {
		var p probe
		err := DecodeBytes([]byte(tt.body), &p)
		var fe *fault.Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a fault", tt.body, err)
			continue
		}
		if fe.Kind != tt.kind || fe.Field != tt.field || fe.Status != tt.status {
			t.Errorf("%s: kind %q field %q status %d, want %q %q %d", tt.body, fe.Kind, fe.Field, fe.Status, tt.kind, tt.field, tt.status)
		}
	}
}

// A body of a million brackets is refused as encoding/json refuses 10 001,
// without the member check following it down (it once did, recursively,
// for minutes and hundreds of megabytes).
func TestDecodeBytesRefusesAMillionBrackets(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"name":` + strings.Repeat("[", MaxBody-10),
		strings.Repeat(`{"a":`, MaxBody/5),
		`{"lines":[` + strings.Repeat(`{"a":[`, MaxBody/7),
	} {
		var p probe
		err := DecodeBytes([]byte(body), &p)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != "malformed_json" || fe.Status != 400 {
			t.Errorf("%.20s…: %v, want malformed_json", body, err)
		}
	}
}

func TestDecodeBytesAcceptsSurrogatePairsAndEscapedBackslashes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"name":"\ud83d\ude00"}`: `"\ud83d\ude00"`,
		`{"name":"\\ud800"}`:      `"\\ud800"`,
		`{"name":"\u00e9\\"}`:     `"\u00e9\\"`,
	} {
		var p probe
		if err := DecodeBytes([]byte(body), &p); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if got := string(p.Name.raw); got != want {
			t.Errorf("%s: name %s, want %s", body, got, want)
		}
	}
}

func TestContentTypesOtherThanJSONInUTF8AreRefused(t *testing.T) {
	t.Parallel()
	for ct, ok := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON; charset=UTF-8": true,
		"application/json; charset=utf8": true, "application/json; charset=latin1": false, "application/json; charset=utf-16": false,
		"": false, "text/plain": false, "application/json, text/plain": false, "application/jsonx": false, ";;": false,
	} {
		err := CheckJSONContentType(ct)
		var fe *fault.Error
		if ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Status != 415)) {
			t.Errorf("%q: %v, want accepted=%v or a 415", ct, err, ok)
		}
	}
	// An optional body may be absent whatever its type; once present, it
	// must say it is JSON.
	for _, tt := range []struct {
		ct, body string
		ok       bool
	}{{"", "", true}, {"text/plain", " ", true}, {"", "{}", false}, {"text/plain", "{}", false}, {"application/json", "{}", true}} {
		if err := DecodeOptionalBody(tt.ct, []byte(tt.body), nil); tt.ok != (err == nil) {
			t.Errorf("optional %q %q: %v, want accepted=%v", tt.ct, tt.body, err, tt.ok)
		}
	}
}

// TestHostileBodiesAreRefused keeps apitest.HostileBodies to its promise,
// on which the fuzzers and the hostile HTTP suite rely: whatever the
// target, and whether the body is required or optional, each is refused.
func TestHostileBodiesAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range apitest.HostileBodies {
		var p probe
		if err := DecodeBody("application/json", []byte(b.Body), &p); err == nil {
			t.Errorf("%s: DecodeBody accepted %q", b.Name, b.Body)
		}
		var empty struct{}
		if err := DecodeBody("application/json", []byte(b.Body), &empty); err == nil {
			t.Errorf("%s: DecodeBody into struct{} accepted %q", b.Name, b.Body)
		}
		if err := DecodeOptionalBody("application/json", []byte(b.Body), nil); err == nil {
			t.Errorf("%s: DecodeOptionalBody accepted %q", b.Name, b.Body)
		}
	}
}

func TestValueArrayAndObjectNameTheElement(t *testing.T) {
	t.Parallel()
	var p probe
	if err := DecodeBytes([]byte(`{"lines":[{"a":"x"},{"a":"y","b":1},"z",{"A":"x"}]}`), &p); err != nil {
		t.Fatal(err)
	}
	lines, err := p.Lines.Array("lines")
	if err != nil || len(lines) != 4 {
		t.Fatalf("Array: %v, %d elements", err, len(lines))
	}
	var el struct {
		A Value `json:"a"`
	}
	if err := lines[0].Object("lines[0]", &el); err != nil {
		t.Fatalf("lines[0]: %v", err)
	}
	for _, tt := range []struct {
		i            int
		field, blame string
	}{{1, "lines[1]", "lines[1].b"}, {2, "lines[2]", "lines[2]"}, {3, "lines[3]", "lines[3].A"}} {
		err := lines[tt.i].Object(tt.field, &el)
		if fe := (*fault.Error)(nil); !errors.As(err, &fe) || fe.Field != tt.blame {
			t.Errorf("element %d: %v, want field %s", tt.i, err, tt.blame)
		}
	}
}

// FuzzDecodeBytes checks that no body can panic the decoder or its
// duplicate-key walker, and that an accepted body is a JSON object.
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"lines":[{"a":1},{"a":[1,{"b":2}]}]}`, `{"a":{"a":{"a":1}}}`, `{"name":1e999}`,
		`{"lines":[[[[[[[]]]]]]]}`, "{\"\\ud800\":1}", `{"name":"a","name":"a"}`, `{}`, `null`} {
		f.Add([]byte(s))
	}
	for _, s := range seedBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p probe
		err := DecodeBytes(body, &p)
		if err == nil {
			return
		}
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.Invalid {
			t.Fatalf("err = %v, want an invalid fault", err)
		}
	})
}
