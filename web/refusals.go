package web

import "passd/fault"

// showEveryProblem answers a form whose fields the domain's rules refused:
// explain puts each of problems under its field and in the form's summary
// (as explainEach does), and again shows the form as typed, 422. When one
// of them is not the client's, the first is returned instead (a 500 or 503
// page), as showRefusedForm does for one error.
func showEveryProblem(problems []error, explain func([]error) bool, again func(status int) error) error {
	return showRefusedForm(problems[0], func(error) bool { return explain(problems) }, again)
}

// withoutSeenFields is problems followed by those of more whose field none
// of problems names: the form's reading of a field is its problem, and the
// domain's rules tell the fields that read well.
func withoutSeenFields(problems, more []error) []error {
	seen := map[string]bool{}
	for _, p := range problems {
		if fe, ok := fault.As(p); ok {
			seen[fe.Field] = true
		}
	}
	for _, p := range more {
		if fe, ok := fault.As(p); !ok || !seen[fe.Field] {
			problems = append(problems, p)
		}
	}
	return problems
}
