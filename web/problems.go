package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"passd/fault"
)

// A refused form shows every field's problem at once: under each field,
// and in a summary at its top that links to each (the "error-summary"
// template of _problems.html).

// problemLink is one entry of a form's error summary: the message, and the
// id of the field it is about.
type problemLink struct{ ID, Message string }

// fieldProblems is a summary's entries from pairs of a field's id and its
// message, in the form's order; fields without a message are left out.
func fieldProblems(idsAndMessages ...string) []problemLink {
	var out []problemLink
	for i := 0; i+1 < len(idsAndMessages); i += 2 {
		if msg := idsAndMessages[i+1]; msg != "" {
			out = append(out, problemLink{ID: idsAndMessages[i], Message: msg})
		}
	}
	return out
}

// explainEach puts each of errs next to the field it names, as
// explainFields does for one error; false when one of them is not the
// client's. A refusal of the whole form keeps its own summary.
func explainEach(errs []error, form string, slots map[string]*string, summary *string) bool {
	whole := ""
	for _, err := range errs {
		if !explainFields(err, form, slots, summary) {
			return false
		}
		if fe, ok := clientFault(err); ok {
			if _, named := slots[fe.Field]; !named && whole == "" {
				whole = *summary
			}
		}
	}
	if whole != "" {
		*summary = whole
	}
	return true
}

// eachFieldOnce is a form's problems: those of its reading first (a date
// that does not read as one, as the API refuses it), then the domain's
// rules on the fields not already blamed, so that a field has one message.
func eachFieldOnce(read, rules []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, errs := range [][]error{read, rules} {
		for _, err := range errs {
			if err == nil {
				continue
			}
			if fe, ok := fault.As(err); ok {
				if seen[fe.Field] {
					continue
				}
				seen[fe.Field] = true
			}
			out = append(out, err)
		}
	}
	return out
}

// showRefusedFields is showRefusedForm for every problem of a form at
// once: explain places them all, and the form comes back as a 422; a
// problem that is not the client's is returned for the error page.
func showRefusedFields(problems []error, explain func(...error) bool, again func(status int) error) error {
	if !explain(problems...) {
		for _, err := range problems {
			if _, ok := clientFault(err); !ok {
				return err
			}
		}
	}
	return again(http.StatusUnprocessableEntity)
}

// typedValues is what was typed in the form sent, by field (the first
// value of each), for a page that shows a refused form again.
func typedValues(c echo.Context) map[string]string {
	typed := map[string]string{}
	if values, err := c.FormParams(); err == nil {
		for field := range values {
			typed[field] = values.Get(field)
		}
	}
	return typed
}
