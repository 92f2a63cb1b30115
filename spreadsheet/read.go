package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"passd/fault"
)

// Row is one data row of a table read by ReadTable: its line number in the
// file (the header is line 1, as a spreadsheet numbers it) and its cells by
// column name. A column the header does not have reads as "".
type Row struct {
	Line  int
	Cells map[string]string
}

// ReadTable reads a CSV table as a person saves it from a spreadsheet: an
// optional UTF-8 BOM, a header row naming the columns (any order, any
// case), then the data rows. The separator is ',' or ';', taken from the
// header row. Blank rows are skipped. A column that is not among columns,
// a repeated one, or a missing one of required is refused, as is a row
// with more cells than the header: each error names the file's line
// ("line 3"), with the field header or file.
func ReadTable(body []byte, columns, required []string) ([]Row, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	sep, err := Separator(body, columns)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma, r.FieldsPerRecord, r.TrimLeadingSpace = sep, -1, true
	var header []string
	for header == nil || Blank(header) {
		if header, err = r.Read(); err != nil {
			return nil, fault.Field("header", "the header row is not valid CSV: %s", Reason(err))
		}
	}
	names, err := headerNames(header, columns, required)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fault.Field("file", "the file is not valid CSV: %s", Reason(err))
		}
		if Blank(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		for _, cell := range rec {
			if !utf8.ValidString(cell) {
				return nil, fault.Field("file", "line %d is not in UTF-8: save the file as \"CSV UTF-8\"", line)
			}
		}
		if len(rec) > len(names) {
			return nil, fault.Field("file", "line %d has %d cells, the header %d", line, len(rec), len(names))
		}
		cells := make(map[string]string, len(names))
		for i, cell := range rec {
			cells[names[i]] = strings.TrimSpace(cell)
		}
		rows = append(rows, Row{Line: line, Cells: cells})
	}
}

// Separator is the separator of a CSV file, ',' or ';', taken from its
// first row that is not blank; columns name the header it expects, for
// the error of an empty file.
func Separator(body []byte, columns []string) (rune, error) {
	var first string
	for line := range strings.Lines(string(body)) {
		if strings.Trim(line, " \t\r\n;,") != "" {
			first = line
			break
		}
	}
	semi, comma := strings.ContainsRune(first, ';'), strings.ContainsRune(first, ',')
	switch {
	case first == "":
		return 0, fault.Field("header", "the file is empty; a header row naming the columns %s is expected", strings.Join(columns, ", "))
	case semi && comma:
		return 0, fault.Field("header", "the header row mixes ',' and ';'; separate the columns with one of them")
	case semi:
		return ';', nil
	}
	return ',', nil
}

func headerNames(header, columns, required []string) ([]string, error) {
	if !utf8.ValidString(strings.Join(header, "")) {
		return nil, fault.Field("header", "the header row is not in UTF-8: save the file as \"CSV UTF-8\"")
	}
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, cell := range header {
		name := strings.ToLower(strings.TrimSpace(cell))
		known := false
		for _, c := range columns {
			known = known || c == name
		}
		switch {
		case !known:
			return nil, fault.Field("header", "the header names an unknown column %q; the columns are %s", cell, strings.Join(columns, ", "))
		case seen[name]:
			return nil, fault.Field("header", "the header names the column %q twice", name)
		}
		seen[name], names[i] = true, name
	}
	for _, c := range required {
		if !seen[c] {
			return nil, fault.Field("header", "the header has no column %q (required: %s)", c, strings.Join(required, ", "))
		}
	}
	return names, nil
}

// Blank reports whether a row holds nothing but spaces.
func Blank(rec []string) bool {
	for _, cell := range rec {
		if strings.TrimSpace(cell) != "" {
			return false
		}
	}
	return true
}

// Reason words an encoding/csv error without its Go prefix.
func Reason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s at line %d, column %d of the file", pe.Err, pe.Line, pe.Column)
	}
	return err.Error()
}
