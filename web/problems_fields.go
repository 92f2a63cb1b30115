package web

import (
	"net/http"

	"passd/fault"
)

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
