package referrals

import (
	"slices"
	"strconv"
	"time"

	"passd/calendar"
	"passd/fault"
	"passd/text"
)

// Kind says which way a case goes.
type Kind string

const (
	KindReferral Kind = "referral" // CCAS → SOS Médecins: a visit asked
	KindAlert    Kind = "alert"    // SOS Médecins → CCAS: a person to help
)

// Status is where a case stands.
type Status string

const (
	StatusSent         Status = "sent"
	StatusAccepted     Status = "accepted"     // a referral the association takes on
	StatusDeclined     Status = "declined"     // a referral it cannot take on (terminal)
	StatusAcknowledged Status = "acknowledged" // an alert a social worker follows
	StatusClosed       Status = "closed"
)

// Statuses lists every status, for a list's filter.
var Statuses = []Status{StatusSent, StatusAccepted, StatusDeclined, StatusAcknowledged, StatusClosed}

// Reason is why a case is opened: a category, never a diagnosis.
type Reason string

const (
	ReasonIsolation      Reason = "isolation"
	ReasonLossOfAutonomy Reason = "loss_of_autonomy"
	ReasonPrecarity      Reason = "precarity"
	ReasonNoCare         Reason = "no_care" // no care for a long time
	ReasonDependency     Reason = "dependency"
	ReasonOther          Reason = "other"
)

// ReferralReasons and AlertReasons are the reasons each kind takes.
var (
	ReferralReasons = []Reason{ReasonIsolation, ReasonLossOfAutonomy, ReasonPrecarity, ReasonNoCare, ReasonOther}
	AlertReasons    = []Reason{ReasonPrecarity, ReasonIsolation, ReasonDependency}
)

// Urgency is how soon a referral asks for a visit.
type Urgency string

const (
	UrgencyToday     Urgency = "today"
	UrgencyWithin48h Urgency = "within_48h"
	UrgencyPlanned   Urgency = "planned"
)

// Urgencies lists them.
var Urgencies = []Urgency{UrgencyToday, UrgencyWithin48h, UrgencyPlanned}

// Place is where the visit is to happen.
type Place string

const (
	PlaceAddress Place = "address" // the person's home: the address is required
	PlaceCCAS    Place = "ccas"    // the CCAS's premises
)

// Places lists them.
var Places = []Place{PlaceAddress, PlaceCCAS}

// Basis is an alert's lawful basis: the person's consent or an exception.
type Basis string

const (
	BasisConsent            Basis = "consent"
	BasisEmergency          Basis = "emergency"
	BasisImpossibleToInform Basis = "impossible_to_inform"
)

// Bases lists them.
var Bases = []Basis{BasisConsent, BasisEmergency, BasisImpossibleToInform}

// ConsentHow is how consent was given; ConsentBy who gave it.
type (
	ConsentHow string
	ConsentBy  string
)

// How and by whom consent may be given.
var (
	ConsentHows = []ConsentHow{"oral", "written"}
	ConsentBys  = []ConsentBy{"person", "legal_representative", "trusted_person"}
)

// Outcome is what the association did for a referral it accepted.
type Outcome string

const (
	OutcomeVisitDone Outcome = "visit_done"
	OutcomeHospital  Outcome = "hospital"
	OutcomePASS      Outcome = "pass" // oriented to the PASS: the coordinator links a patient file
	OutcomeNoAnswer  Outcome = "no_answer"
)

// Outcomes lists them.
var Outcomes = []Outcome{OutcomeVisitDone, OutcomeHospital, OutcomePASS, OutcomeNoAnswer}

// FollowUp is a step of the CCAS's follow-up of an alert; FollowUpClosed
// ends it.
type FollowUp string

const (
	FollowUpContacted     FollowUp = "contacted"
	FollowUpRightsStarted FollowUp = "rights_started"
	FollowUpHomeHelp      FollowUp = "home_help"
	FollowUpClosed        FollowUp = "closed"
)

// FollowUps lists them.
var FollowUps = []FollowUp{FollowUpContacted, FollowUpRightsStarted, FollowUpHomeHelp, FollowUpClosed}

// Limits of free text.
const (
	MaxName    = 100
	MaxPhone   = 30
	MaxAddress = 300
	MaxNote    = 500
)

// Identity is what a case keeps of the person: the minimum (names, birth
// year or date, phone, and an address only where a visit needs it).
// Sealed as one value, with the note.
type Identity struct {
	LastName  string `json:"last_name"`
	FirstName string `json:"first_name"`
	Birth     string `json:"birth"` // "1948" or "1948-03-02"
	Phone     string `json:"phone"`
	Address   string `json:"address"`
	Note      string `json:"note"`
}

// cleanIdentity checks and cleans the identity's free text; address says
// whether the address is required (a home visit), allowed, or not kept
// (and "" leaves it unchecked: where the visit happens is unknown).
// problems holds each field's error, the first one Validate-like callers
// answer.
func cleanIdentity(in Identity, today calendar.Date, address string) (out Identity, problems []error) {
	keep := fault.Collect(&problems)
	var err error
	out.LastName, err = text.Required("last_name", in.LastName, MaxName)
	keep(err)
	out.FirstName, err = text.Clean("first_name", in.FirstName, MaxName)
	keep(err)
	out.Birth, err = cleanBirth(in.Birth, today)
	keep(err)
	out.Phone, err = cleanPhone(in.Phone)
	keep(err)
	out.Note, err = text.Clean("note", in.Note, MaxNote)
	keep(err)
	switch address {
	case "required":
		out.Address, err = text.Required("address", in.Address, MaxAddress)
		keep(err)
	case "optional":
		out.Address, err = text.Clean("address", in.Address, MaxAddress)
		keep(err)
	case "none":
		// Data minimisation: a visit at the CCAS needs no address.
		if in.Address != "" {
			keep(fault.Field("address", "address is kept only for a visit at the person's address"))
		}
	}
	return out, problems
}

// cleanBirth accepts a birth year (4 digits) or date, neither in the future
// nor more than 130 years back; "" is allowed.
func cleanBirth(s string, today calendar.Date) (string, error) {
	s, err := text.Clean("birth", s, 10)
	if err != nil || s == "" {
		return s, err
	}
	bad := fault.Field("birth", "birth must be a year (1948) or a date (1948-03-02), not in the future")
	if len(s) == 4 {
		y, err := strconv.Atoi(s)
		if err != nil || y > today.Year() || y < today.Year()-130 {
			return "", bad
		}
		return s, nil
	}
	d, err := calendar.Parse(s)
	if err != nil || d.After(today) || d.Year() < today.Year()-130 {
		return "", bad
	}
	return d.String(), nil
}

// cleanPhone keeps digits, spaces, dots, dashes and a leading +.
func cleanPhone(s string) (string, error) {
	s, err := text.Clean("phone", s, MaxPhone)
	if err != nil {
		return "", err
	}
	for i, r := range s {
		if (r < '0' || r > '9') && r != ' ' && r != '.' && r != '-' && !(r == '+' && i == 0) {
			return "", fault.Field("phone", "phone may hold only digits, spaces, dots, dashes and a leading +")
		}
	}
	return s, nil
}

// NewReferral is a social worker's request for a visit.
type NewReferral struct {
	ConventionID int64 // 0: the CCAS's only convention
	Urgency      string
	Place        string
	Reason       string
	Person       Identity
}

// referral is a NewReferral checked.
type referral struct {
	urgency Urgency
	place   Place
	reason  Reason
	person  Identity
}

func (n NewReferral) check(today calendar.Date) (referral, error) {
	r, problems := n.checked(today)
	return r, fault.First(problems)
}

// Problems checks every field of a referral, as CreateReferral does, and
// returns each one's error, the one CreateReferral answers first: a form
// shows them all at once rather than one per attempt. A field has one
// error at most.
func (n NewReferral) Problems(today calendar.Date) []error {
	_, problems := n.checked(today)
	return problems
}

func (n NewReferral) checked(today calendar.Date) (r referral, problems []error) {
	keep := fault.Collect(&problems)
	var err error
	r.urgency, err = text.OneOf("urgency", n.Urgency, Urgencies...)
	keep(err)
	r.place, err = text.OneOf("place", n.Place, Places...)
	keep(err)
	r.reason, err = text.OneOf("reason", n.Reason, ReferralReasons...)
	keep(err)
	// The address follows the place: unchecked while the place is unknown.
	address := "none"
	switch {
	case !slices.Contains(Places, r.place):
		address = ""
	case r.place == PlaceAddress:
		address = "required"
	}
	person, personProblems := cleanIdentity(n.Person, today, address)
	r.person = person
	return r, append(problems, personProblems...)
}

// NewAlert is a doctor's alert to the CCAS, with its lawful basis.
type NewAlert struct {
	ConventionID int64 // 0: the association's only convention
	Reason       string
	Person       Identity
	Basis        string
	ConsentOn    calendar.Date
	ConsentHow   string
	ConsentBy    string
	// ExceptionReason: why consent could not be asked (an exception).
	ExceptionReason string
}

// alert is a NewAlert checked.
type alert struct {
	reason          Reason
	person          Identity
	basis           Basis
	consentOn       *calendar.Date
	consentHow      *ConsentHow
	consentBy       *ConsentBy
	exceptionReason *string
}

// check refuses an alert with neither the person's consent nor a recorded
// exception (DOMAIN.md: consent, except in an emergency or where informing
// the person is impossible).
func (n NewAlert) check(today calendar.Date) (alert, error) {
	a, problems := n.checked(today)
	return a, fault.First(problems)
}

// Problems checks every field of an alert, as CreateAlert does, and
// returns each one's error, the one CreateAlert answers first: a form
// shows them all at once rather than one per attempt. A field has one
// error at most.
func (n NewAlert) Problems(today calendar.Date) []error {
	_, problems := n.checked(today)
	return problems
}

func (n NewAlert) checked(today calendar.Date) (a alert, problems []error) {
	var err error
	if a.reason, err = text.OneOf("reason", n.Reason, AlertReasons...); err != nil {
		problems = append(problems, err)
	}
	// The consent's fields follow the basis: unchecked while it is unknown.
	switch {
	case n.Basis == "":
		problems = append(problems, fault.Field("basis", "an alert needs the person's consent (basis consent) or an exception "+
			"(emergency, impossible_to_inform) with its reason"))
	default:
		if a.basis, err = text.OneOf("basis", n.Basis, Bases...); err != nil {
			problems = append(problems, err)
		} else if a.basis == BasisConsent {
			problems = append(problems, a.checkConsent(n, today)...)
		} else {
			problems = append(problems, a.checkException(n)...)
		}
	}
	person, personProblems := cleanIdentity(n.Person, today, "optional")
	a.person = person
	return a, append(problems, personProblems...)
}

// checkConsent checks an alert with the person's consent: each field's
// error, in the order CreateAlert has always answered them.
func (a *alert) checkConsent(n NewAlert, today calendar.Date) []error {
	var problems []error
	switch {
	case n.ConsentOn.IsZero():
		problems = append(problems, fault.Field("consent_on", "consent_on (the day consent was given) is required"))
	case n.ConsentOn.After(today) || n.ConsentOn.Before(today.AddDays(-366)):
		problems = append(problems, fault.Field("consent_on", "consent_on must be within the last year, not in the future"))
	}
	how, err := text.OneOf("consent_how", n.ConsentHow, ConsentHows...)
	if err != nil {
		problems = append(problems, err)
	}
	by, err := text.OneOf("consent_by", n.ConsentBy, ConsentBys...)
	if err != nil {
		problems = append(problems, err)
	}
	if n.ExceptionReason != "" {
		problems = append(problems, fault.Field("exception_reason", "an alert with consent records no exception"))
	}
	if len(problems) == 0 {
		on := n.ConsentOn
		a.consentOn, a.consentHow, a.consentBy = &on, &how, &by
	}
	return problems
}

// checkException checks an alert under an exception: it records no
// consent, and why consent could not be asked.
func (a *alert) checkException(n NewAlert) []error {
	var problems []error
	if n.ConsentHow != "" || n.ConsentBy != "" || !n.ConsentOn.IsZero() {
		problems = append(problems, fault.Field("basis", "an exception records no consent: give basis consent, or an exception "+
			"without consent_on, consent_how, consent_by"))
	}
	reason, err := text.Required("exception_reason", n.ExceptionReason, MaxNote)
	if err != nil {
		return append(problems, err)
	}
	if len(problems) == 0 {
		a.exceptionReason = &reason
	}
	return problems
}

// Answer is the association's answer to a referral: accepted, or declined
// with its reason.
type Answer struct {
	Decision string // "accept" or "decline"
	Reason   string
}

// Result is what the association records of a referral it accepted.
type Result struct {
	Outcome string
	On      calendar.Date
	Note    string
}

// Acknowledgement is the CCAS taking an alert on: the social worker who
// follows it (0: whoever acknowledges).
type Acknowledgement struct {
	AssignTo int64
}

// Step is a follow-up of an alert.
type Step struct {
	Step string
	Note string
}

// Case is a referral or an alert as a side sees it.
type Case struct {
	ID              int64
	Kind            Kind
	ConventionID    int64
	CCAS            string
	Association     string
	Status          Status
	Reason          Reason
	Urgency         Urgency
	Place           Place
	Person          *Identity // nil when the answer carries no identity, or once anonymised
	Basis           Basis
	ConsentOn       *calendar.Date
	ConsentHow      string
	ConsentBy       string
	ExceptionReason string
	InformedOn      *calendar.Date
	DeclineReason   string
	Outcome         Outcome
	OutcomeOn       *calendar.Date
	PASSFileNumber  string
	AssignedTo      string
	CreatedBy       string
	CreatedAt       time.Time
	FirstAnswerAt   *time.Time
	ClosedAt        *time.Time
	AnonymisedAt    *time.Time
	Events          []Event
}

// Event is a step of a case's timeline.
type Event struct {
	At     time.Time
	By     string
	Kind   string
	Detail string
	Note   string
}
