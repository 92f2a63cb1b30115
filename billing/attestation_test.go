package billing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
)

// submitAs holds an invoice for the GP of f with the patient named as
// given (issue 15 §4): the file number and birth date of the attestation.
func submitAs(t *testing.T, f *fixture, fileNumber string, birth calendar.Date, ref string) (billing.Invoice, error) {
	t.Helper()
	pu := f.provider(t, billing.KindGP)
	return f.billing.CreateInvoice(context.Background(), pu.actor, pu.id, billing.NewInvoice{PatientFileNumber: fileNumber, BirthDate: birth,
		ExternalRef: ref, CareDate: d("2026-03-10"), Lines: []billing.Line{{Code: "G", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}}})
}

// refusal is what a caller can see of a refusal: everything but the cause.
func refusal(t *testing.T, err error) fault.Error {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *fault.Error", err)
	}
	return fault.Error{Code: fe.Code, Kind: fe.Kind, Message: fe.Message, Field: fe.Field, Status: fe.Status, Details: fe.Details}
}

// TestAnInvoiceNamesItsPatientByNumberAndBirthDate: a provider bills a
// file only with its patient's birth date, and a wrong birth date is
// refused exactly as a file number no file has, so that the answers do
// not tell which file numbers exist (issue 15 §4).
func TestAnInvoiceNamesItsPatientByNumberAndBirthDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	p := f.patientBorn(t, "Diallo", "Aminata", "1990-04-12")
	ctx := context.Background()

	wrongBirth := refusal(t, func() error { _, err := submitAs(t, f, p.FileNumber, d("1990-04-13"), "A-1"); return err }())
	unknownFile := refusal(t, func() error { _, err := submitAs(t, f, "PASS-2026-999999", d("1990-04-12"), "A-1"); return err }())
	want := fault.Error{Code: fault.Invalid, Kind: fault.KindUnknownFileNumber, Field: "patient_file_number",
		Message: "no patient file has this number and this birth date"}
	if diff := cmp.Diff(want, wrongBirth); diff != "" {
		t.Errorf("a wrong birth date (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wrongBirth, unknownFile); diff != "" {
		t.Errorf("an unknown file is refused otherwise than a wrong birth date (-wrong birth +unknown file):\n%s", diff)
	}
	if n := countRows(t, f, `SELECT count(*) FROM invoices`); n != 0 {
		t.Fatalf("%d invoices stored by refused submissions", n)
	}

	// Without a birth date, the field is named before anything is looked up.
	_, err := submitAs(t, f, p.FileNumber, calendar.Date{}, "A-1")
	if fe := refusal(t, err); fe.Code != fault.Invalid || fe.Field != "birth_date" {
		t.Errorf("no birth date: %+v, want a 422 on birth_date", fe)
	}

	inv, err := submitAs(t, f, " "+p.FileNumber+" ", p.BirthDate, "A-1")
	if err != nil {
		t.Fatalf("the right file number and birth date: %v", err)
	}
	var patientID int64
	if err := f.pool.QueryRow(ctx, `SELECT patient_id FROM invoices WHERE id = $1`, inv.ID).Scan(&patientID); err != nil || patientID != p.ID {
		t.Fatalf("the invoice is for patient %d (%v), want %d", patientID, err, p.ID)
	}
}

// TestADuplicateReferenceIsTheSameConflictWhateverTheFile: an external_ref
// the provider used already is the same 409 whether the file named exists,
// whether its birth date is right, in either order, and a reference typed
// with its accents decomposed is the same reference (issue 15 §4, §5).
func TestADuplicateReferenceIsTheSameConflictWhateverTheFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	p := f.patientBorn(t, "Diallo", "Aminata", "1990-04-12")
	first, err := submitAs(t, f, p.FileNumber, p.BirthDate, "Facture-\u00e9t\u00e9-1")
	if err != nil {
		t.Fatal(err)
	}
	want := fault.Error{Code: fault.Conflict, Kind: fault.KindDuplicateInvoice, Field: "external_ref",
		Message: "an invoice with this external_ref already exists", Details: map[string]string{"existing_id": ident.FormatID(first.ID)}}
	ways := []struct {
		name  string
		file  string
		birth calendar.Date
		ref   string
	}{
		{"the same file", p.FileNumber, p.BirthDate, "Facture-\u00e9t\u00e9-1"},
		{"the same file, another birth date", p.FileNumber, d("2001-01-01"), "Facture-\u00e9t\u00e9-1"},
		{"a file number no file has", "PASS-2026-999999", p.BirthDate, "Facture-\u00e9t\u00e9-1"},
		{"the same file, the reference decomposed", p.FileNumber, p.BirthDate, "Facture-e\u0301te\u0301-1"},
		{"a file number no file has, the reference decomposed", "PASS-2026-999999", p.BirthDate, "Facture-e\u0301te\u0301-1"},
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}} {
		for _, i := range order {
			w := ways[i]
			_, err := submitAs(t, f, w.file, w.birth, w.ref)
			if diff := cmp.Diff(want, refusal(t, err)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", w.name, diff)
			}
		}
	}
	if n := countRows(t, f, `SELECT count(*) FROM invoices`); n != 1 {
		t.Errorf("%d invoices stored, want the first only", n)
	}

	// A refused submission keeps no reference: the same one, for the file
	// with its birth date, is then stored.
	if _, err := submitAs(t, f, "PASS-2026-999999", p.BirthDate, "B-1"); refusal(t, err).Kind != fault.KindUnknownFileNumber {
		t.Fatalf("unknown file: %v", err)
	}
	if _, err := submitAs(t, f, p.FileNumber, p.BirthDate, "B-1"); err != nil {
		t.Fatalf("a reference refused once, then sent for the right file: %v", err)
	}
}

func countRows(t *testing.T, f *fixture, query string) int64 {
	t.Helper()
	var n int64
	if err := f.pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
