package api

import (
	"errors"
	"testing"

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
		body, kind, field string
		status            int
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

func TestValueArrayAndObjectNameTheElement(t *testing.T) {
	t.Parallel()
	var p probe
	if err := DecodeBytes([]byte(`{"lines":[{"a":"x"},{"a":"y","b":1},"z"]}`), &p); err != nil {
		t.Fatal(err)
	}
	lines, err := p.Lines.Array("lines")
	if err != nil || len(lines) != 3 {
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
	}{{1, "lines[1]", "lines[1].b"}, {2, "lines[2]", "lines[2]"}} {
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
