package web

// showEveryProblem answers a form whose fields the domain's rules refused:
// explain puts each of problems under its field and in the form's summary
// (as explainEach does), and again shows the form as typed, 422. When one
// of them is not the client's, the first is returned instead (a 500 or 503
// page), as showRefusedForm does for one error.
func showEveryProblem(problems []error, explain func([]error) bool, again func(status int) error) error {
	return showRefusedForm(problems[0], func(error) bool { return explain(problems) }, again)
}
