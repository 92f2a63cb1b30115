package referrals

import (
	"strings"
	"testing"

	"passd/calendar"
	"passd/fault"
)

var today = calendar.NewDate(2026, 6, 15)

func TestBirthIsAYearOrADateInThePast(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true}, {"1948", "1948", true}, {" 1948 ", "1948", true}, {"1948-03-02", "1948-03-02", true}, {"2026", "2026", true},
		{"2027", "", false}, {"1895", "", false}, {"48", "", false}, {"2026-06-16", "", false}, {"02/03/1948", "", false},
		{"١٩٤٨", "", false}, {"1948\u200b", "", false},
	} {
		got, err := cleanBirth(c.in, today)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("cleanBirth(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestPhoneHoldsOnlyWhatANumberHolds(t *testing.T) {
	for in, ok := range map[string]bool{"": true, "06 12 34 56 78": true, "+33 6 12 34 56 78": true, "01.60.00.00.00": true, "3624": true,
		"06-12-34": true, "appelez": false, "06+12": false, "0612345678; DROP": false, "٠٦١٢": false} {
		if _, err := cleanPhone(in); (err == nil) != ok {
			t.Errorf("cleanPhone(%q): %v, want ok %v", in, err, ok)
		}
	}
}

func TestAnAddressIsKeptOnlyForAHomeVisit(t *testing.T) {
	base := NewReferral{Urgency: "today", Reason: "isolation", Person: Identity{LastName: "Le Goff"}}
	for _, c := range []struct {
		place, address, field string
	}{
		{"address", "3 allée des Tilleuls", ""}, {"address", "", "address"}, {"ccas", "", ""}, {"ccas", "3 allée des Tilleuls", "address"},
	} {
		n := base
		n.Place, n.Person.Address = c.place, c.address
		_, err := n.check(today)
		if fieldOf(err) != c.field {
			t.Errorf("place %s, address %q: %v, want an error on %q", c.place, c.address, err, c.field)
		}
	}
}

// TestAnAlertNeedsConsentOrAnException: DOMAIN.md's rule, case by case.
func TestAnAlertNeedsConsentOrAnException(t *testing.T) {
	consent := NewAlert{Reason: "isolation", Basis: "consent", ConsentOn: today, ConsentHow: "oral", ConsentBy: "person",
		Person: Identity{LastName: "Le Goff"}}
	exception := NewAlert{Reason: "dependency", Basis: "emergency", ExceptionReason: "inconsciente", Person: Identity{LastName: "Le Goff"}}
	for _, c := range []struct {
		name  string
		edit  func(*NewAlert)
		from  NewAlert
		field string
	}{
		{"consent", func(*NewAlert) {}, consent, ""},
		{"an emergency with its reason", func(*NewAlert) {}, exception, ""},
		{"informing impossible", func(a *NewAlert) { a.Basis = "impossible_to_inform" }, exception, ""},
		{"no basis", func(a *NewAlert) { a.Basis = "" }, consent, "basis"},
		{"consent of last year and a day", func(a *NewAlert) { a.ConsentOn = today.AddDays(-367) }, consent, "consent_on"},
		{"consent and an exception's reason", func(a *NewAlert) { a.ExceptionReason = "urgence" }, consent, "exception_reason"},
		{"an exception without reason", func(a *NewAlert) { a.ExceptionReason = " " }, exception, "exception_reason"},
		{"an exception with a consent's form", func(a *NewAlert) { a.ConsentHow = "oral" }, exception, "basis"},
		{"a reason of referrals", func(a *NewAlert) { a.Reason = "no_care" }, consent, "reason"},
	} {
		a := c.from
		c.edit(&a)
		checked, err := a.check(today)
		if fieldOf(err) != c.field {
			t.Errorf("%s: %v, want an error on %q", c.name, err, c.field)
		}
		if err == nil && (checked.consentOn == nil) == (checked.exceptionReason == nil) {
			t.Errorf("%s: an accepted alert holds consent %v and exception %v: exactly one is wanted", c.name, checked.consentOn, checked.exceptionReason)
		}
	}
}

func fieldOf(err error) string {
	if err == nil {
		return ""
	}
	fe, ok := fault.As(err)
	if !ok {
		return "not a fault: " + err.Error()
	}
	return fe.Field
}

// fieldsOf names the field of each of errs, in order.
func fieldsOf(errs []error) string {
	var out []string
	for _, err := range errs {
		out = append(out, fieldOf(err))
	}
	return strings.Join(out, ",")
}

// TestProblemsNameEveryField: a referral or an alert wrong in several
// fields names each once, the one check answers first; the fields that
// follow another (the address the place, the consent the basis) are left
// alone while that one is unknown.
func TestProblemsNameEveryField(t *testing.T) {
	person := Identity{LastName: " ", Birth: "2027", Phone: "appelez", Address: "3 allée des Tilleuls"}
	for _, c := range []struct {
		name     string
		problems []error
		check    error
		want     string
	}{
		{"a referral", NewReferral{Urgency: "later", Place: "ccas", Reason: "", Person: person}.Problems(today),
			second(NewReferral{Urgency: "later", Place: "ccas", Reason: "", Person: person}.check(today)),
			"urgency,reason,last_name,birth,phone,address"},
		{"a referral to an unknown place", NewReferral{Urgency: "today", Place: "parc", Reason: "isolation", Person: person}.Problems(today),
			second(NewReferral{Urgency: "today", Place: "parc", Reason: "isolation", Person: person}.check(today)),
			"place,last_name,birth,phone"},
		{"an alert with consent", NewAlert{Reason: "no_care", Basis: "consent", ConsentHow: "fax", ExceptionReason: "x", Person: person}.Problems(today),
			second(NewAlert{Reason: "no_care", Basis: "consent", ConsentHow: "fax", ExceptionReason: "x", Person: person}.check(today)),
			"reason,consent_on,consent_how,consent_by,exception_reason,last_name,birth,phone"},
		{"an exception with a consent", NewAlert{Reason: "isolation", Basis: "emergency", ConsentBy: "person"}.Problems(today),
			second(NewAlert{Reason: "isolation", Basis: "emergency", ConsentBy: "person"}.check(today)),
			"basis,exception_reason,last_name"},
		{"no basis", NewAlert{Reason: "isolation", ConsentHow: "fax", Person: Identity{LastName: "Le Goff"}}.Problems(today),
			second(NewAlert{Reason: "isolation", ConsentHow: "fax", Person: Identity{LastName: "Le Goff"}}.check(today)),
			"basis"},
	} {
		if got := fieldsOf(c.problems); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if c.check == nil || c.check.Error() != c.problems[0].Error() {
			t.Errorf("%s: check answers %v, not the first problem %v", c.name, c.check, c.problems[0])
		}
	}
}

func second[T any](_ T, err error) error { return err }
