package web

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
