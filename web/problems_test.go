package web

import (
	"errors"
	"slices"
	"testing"

	"passd/fault"
)

func TestFieldProblemsKeepsTheFormsOrderAndLeavesOutFieldsWithoutAMessage(t *testing.T) {
	got := fieldProblems("last_name", "Indiquez le nom.", "first_name", "", "nir", "Ce NIR n'est pas valide.")
	want := []problemLink{{"last_name", "Indiquez le nom."}, {"nir", "Ce NIR n'est pas valide."}}
	if !slices.Equal(got, want) {
		t.Fatalf("fieldProblems = %v, want %v", got, want)
	}
}

func TestExplainEachPutsEveryErrorUnderItsField(t *testing.T) {
	var last, birth, nir, summary string
	slots := map[string]*string{"last_name": &last, "birth_date": &birth, "nir": &nir}
	errs := []error{fault.Field("last_name", "last_name is required"), fault.Field("nir", "nir is not a valid NIR")}
	if !explainEach(errs, "patient", slots, &summary) {
		t.Fatal("explainEach did not take the client's errors")
	}
	if last == "" || nir == "" || birth != "" {
		t.Errorf("messages: last_name %q, birth_date %q, nir %q; want the first and the last only", last, birth, nir)
	}
	if summary != messages[messageKey{"patient", "", whyNotSaved}] {
		t.Errorf("summary %q, want the form's sentence", summary)
	}
	if explainEach([]error{errs[0], errors.New("connection reset")}, "patient", slots, &summary) {
		t.Error("explainEach took an error that is not the client's")
	}
}
