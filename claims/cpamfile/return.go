package cpamfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"passd/api"
	"passd/calendar"
	"passd/fault"
	"passd/settlement"
	"passd/spreadsheet"
)

// Outcomes are what a return line may say the CPAM did with a claim.
var Outcomes = []settlement.ClaimStatus{settlement.ClaimPaid, settlement.ClaimRejected}

// MaxReturnLines bounds a return file: far above any PASS batch, low enough
// that a runaway file is refused before the database sees it.
const MaxReturnLines = 100000

// maxReason is the longest rejection reason kept, in characters.
const maxReason = 500

// ReturnLine is one line of a CPAM return, checked: a paid line carries a
// positive amount and a date, a rejected line a reason, never both.
type ReturnLine struct {
	Line       int                    // 1-based position in the file: the CSV data row number (blank rows not counted), or the JSON array index + 1
	ClaimID    int64                  // the claim's id, as written in the batch's "id"
	Outcome    settlement.ClaimStatus // settlement.ClaimPaid or settlement.ClaimRejected
	PaidAmount decimal.Decimal
	PaidOn     calendar.Date
	Reason     string // trimmed, 1–500 characters
}

// ParseReturn reads a CPAM return file. contentType chooses the parser:
// application/json or text/csv, in UTF-8 (a charset parameter naming
// another encoding is refused, other parameters are ignored). The
// whole file is refused when any line is malformed: the error is a
// *fault.Error naming the place as a JSON path ("lines[2].paid_amount", the
// index 0-based and, in a CSV, counting data rows), so that a referent can
// fix the file and send it again. An unsupported content type is a fault
// with status 415 and field "content_type".
//
// ParseReturn checks the file only; whether a claim exists, belongs to a
// transmitted batch or already has an outcome is for the caller.
func ParseReturn(contentType string, body []byte) ([]ReturnLine, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if cs, ok := params["charset"]; err == nil && ok && !api.IsUTF8Charset(cs) {
		// The bytes are read as UTF-8 whatever the label says: a file
		// labelled otherwise would be misread, so it is refused.
		return nil, fault.New(fault.Invalid, "a return file must be UTF-8, not %q", cs).
			WithKind(fault.KindUnsupportedMediaType).WithField("content_type").WithStatus(http.StatusUnsupportedMediaType)
	}
	switch {
	case err == nil && mt == "application/json":
		return parseJSONReturn(body)
	case err == nil && mt == "text/csv":
		return parseCSVReturn(body)
	}
	return nil, fault.New(fault.Invalid, "a return file must be sent as application/json or text/csv").
		WithKind(fault.KindUnsupportedMediaType).WithField("content_type").WithStatus(http.StatusUnsupportedMediaType)
}

// rawLine is one return line before its checks. Both parsers fill it, the
// CSV one by turning cells into JSON strings, so that one set of checks —
// api.Value's, with the API's wording — applies to both formats.
type rawLine struct {
	ClaimID    api.Value `json:"claim_id"`
	Outcome    api.Value `json:"outcome"`
	PaidAmount api.Value `json:"paid_amount"`
	PaidOn     api.Value `json:"paid_on"`
	Reason     api.Value `json:"reason"`
}

// check validates the line at 0-based index i.
func (r rawLine) check(i int) (ReturnLine, error) {
	at := fmt.Sprintf("lines[%d]", i)
	l := ReturnLine{Line: i + 1}
	var err error
	if l.ClaimID, err = claimID(r.ClaimID, at+".claim_id"); err != nil {
		return ReturnLine{}, err
	}
	if l.Outcome, err = api.Enum(r.Outcome, at+".outcome", Outcomes...); err != nil {
		return ReturnLine{}, err
	}
	if l.Outcome == settlement.ClaimPaid {
		if r.Reason.Present() {
			return ReturnLine{}, fault.Field(at+".reason", "%s.reason is only for rejected lines", at)
		}
		if l.PaidAmount, err = r.PaidAmount.Amount(at + ".paid_amount"); err != nil {
			return ReturnLine{}, err
		}
		if l.PaidOn, err = r.PaidOn.Date(at + ".paid_on"); err != nil {
			return ReturnLine{}, err
		}
		return l, nil
	}
	for _, f := range []struct {
		name string
		v    api.Value
	}{{"paid_amount", r.PaidAmount}, {"paid_on", r.PaidOn}} {
		if f.v.Present() {
			return ReturnLine{}, fault.Field(at+"."+f.name, "%s.%s is only for paid lines", at, f.name)
		}
	}
	if l.Reason, err = r.Reason.String(at+".reason", maxReason); err != nil {
		return ReturnLine{}, err
	}
	return l, nil
}

// claimID reads a claim id: a string of digits as the batch wrote it, or a
// JSON integer, which a hand-made return may hold. Zero, signs, leading
// zeros and anything beyond int64 are not ids passd gave out.
func claimID(v api.Value, field string) (int64, error) {
	if !v.Present() {
		return 0, fault.Field(field, "%s is required", field)
	}
	bad := fault.Field(field, "%s must be a claim id, a string of digits like \"123\"", field)
	s, ok, err := v.OptString(field, 19)
	if err != nil {
		if n, err := v.Int(field, 1, math.MaxInt); err == nil {
			return int64(n), nil
		}
		return 0, bad
	}
	if !ok {
		return 0, fault.Field(field, "%s is required", field)
	}
	if s[0] < '1' || s[0] > '9' {
		return 0, bad
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, bad
	}
	return n, nil
}

// collector gathers checked lines and refuses a claim seen twice.
type collector struct {
	lines []ReturnLine
	seen  map[int64]bool
}

func (c *collector) add(r rawLine, i int) error {
	l, err := r.check(i)
	if err != nil {
		return err
	}
	if c.seen[l.ClaimID] {
		return fault.Field(fmt.Sprintf("lines[%d].claim_id", i), "claim %d appears twice", l.ClaimID)
	}
	if c.seen == nil {
		c.seen = map[int64]bool{}
	}
	c.seen[l.ClaimID] = true
	c.lines = append(c.lines, l)
	return nil
}

func (c *collector) result() ([]ReturnLine, error) {
	if len(c.lines) == 0 {
		return nil, fault.Field("lines", "the return holds no lines")
	}
	return c.lines, nil
}

func tooManyLines() error {
	return fault.Field("lines", "the return holds more than %d lines; split it", MaxReturnLines)
}

// parseJSONReturn reads {"lines":[{…},…]} strictly: api.DecodeBytes refuses
// unknown members, repeated keys and trailing data anywhere in the file.
func parseJSONReturn(body []byte) ([]ReturnLine, error) {
	var doc struct {
		Lines api.Value `json:"lines"`
	}
	if err := api.DecodeBytes(body, &doc); err != nil {
		return nil, err
	}
	items, err := doc.Lines.Array("lines")
	if err != nil {
		return nil, err
	}
	if len(items) > MaxReturnLines {
		return nil, tooManyLines()
	}
	c := collector{lines: make([]ReturnLine, 0, len(items))}
	for i, item := range items {
		var r rawLine
		if err := item.Object(fmt.Sprintf("lines[%d]", i), &r); err != nil {
			return nil, err
		}
		if err := c.add(r, i); err != nil {
			return nil, err
		}
	}
	return c.result()
}

var utf8BOM = []byte("\ufeff")

// returnColumns names the columns a CSV return may have; claim_id and outcome
// are required, the others may be left out when no line needs them.
var returnColumns = []string{"claim_id", "outcome", "paid_amount", "paid_on", "reason"}

// parseCSVReturn reads a CSV return: a header row naming the columns in any
// order, then one data row per claim. The separator is ',' or ';', taken
// from the header row; with ';' (a French spreadsheet) an amount may be
// written with a decimal comma. A UTF-8 BOM is skipped, blank rows (empty
// or only separators) are ignored.
func parseCSVReturn(body []byte) ([]ReturnLine, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	sep, err := spreadsheet.Separator(body, returnColumns)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = sep
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true

	var header []string
	for header == nil || spreadsheet.Blank(header) {
		if header, err = r.Read(); err != nil {
			return nil, fault.Field("header", "the header row is not valid CSV: %s", spreadsheet.Reason(err))
		}
	}
	cols, err := columns(header)
	if err != nil {
		return nil, err
	}

	var c collector
	for i := 0; ; {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		at := fmt.Sprintf("lines[%d]", i)
		if err != nil {
			return nil, fault.Field(at, "%s is not valid CSV: %s", at, spreadsheet.Reason(err))
		}
		if spreadsheet.Blank(rec) {
			continue
		}
		if i == MaxReturnLines {
			return nil, tooManyLines()
		}
		fileLine, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fault.Field(at, "%s has %d cells but the header names %d columns (line %d of the file)", at, len(rec), len(header), fileLine)
		}
		var raw rawLine
		for j, name := range cols {
			cell := strings.TrimSpace(rec[j])
			if !utf8.ValidString(cell) {
				return nil, fault.Field(at+"."+name, "%s.%s is not valid UTF-8 (line %d of the file)", at, name, fileLine)
			}
			if name == "paid_amount" && sep == ';' && strings.Count(cell, ",") == 1 && !strings.Contains(cell, ".") {
				cell = strings.Replace(cell, ",", ".", 1)
			}
			*raw.field(name) = cellValue(cell)
		}
		if err := c.add(raw, i); err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) {
				fe.Message += fmt.Sprintf(" (line %d of the file)", fileLine)
			}
			return nil, err
		}
		i++
	}
	return c.result()
}

// columns maps each header cell to a known column name, case-insensitively.
// An unknown or repeated column is refused like an unknown JSON member.
func columns(header []string) ([]string, error) {
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, fault.Field("header", "the header row is not valid UTF-8")
		}
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
			return nil, fault.Field("header", "column %d of the header row has no name", i+1)
		case !known(name):
			return nil, fault.Field("header", "unknown column %q; the columns are %s", name, strings.Join(returnColumns, ", ")).WithKind(fault.KindUnknownField)
		case seen[name]:
			return nil, fault.Field("header", "column %q appears twice", name)
		}
		seen[name] = true
		names[i] = name
	}
	for _, required := range returnColumns[:2] {
		if !seen[required] {
			return nil, fault.Field("header", "the header row has no %q column", required)
		}
	}
	return names, nil
}

func known(name string) bool {
	for _, c := range returnColumns {
		if c == name {
			return true
		}
	}
	return false
}

func (r *rawLine) field(name string) *api.Value {
	switch name {
	case "claim_id":
		return &r.ClaimID
	case "outcome":
		return &r.Outcome
	case "paid_amount":
		return &r.PaidAmount
	case "paid_on":
		return &r.PaidOn
	}
	return &r.Reason
}

// cellValue turns a trimmed CSV cell into the api.Value of a JSON string;
// an empty cell is an absent value.
func cellValue(cell string) api.Value {
	var v api.Value
	if cell == "" {
		return v
	}
	b, err := json.Marshal(cell)
	if err == nil {
		err = v.UnmarshalJSON(b)
	}
	if err != nil { // cannot happen for a valid UTF-8 string; an absent value then fails the checks
		return api.Value{}
	}
	return v
}
