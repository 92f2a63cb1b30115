package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/referrals"
)

// The CCAS–SOS Médecins convention's pages: a social worker's under /ccas,
// a doctor's under /sos. Each side's home lists what waits for it and what
// it sent; a case's page shows the person, the timeline and the step the
// side may take; the directory shows the convention's referents. They call
// the same store methods as the JSON API (package referrals).

func (s *Server) referralRoutes(page func(method, path string, h echo.HandlerFunc, roles ...auth.Role)) {
	page(http.MethodGet, "/ccas", s.referralHome, auth.SocialWorker)
	page(http.MethodGet, "/ccas/demandes/nouvelle", s.newReferralForm, auth.SocialWorker)
	page(http.MethodPost, "/ccas/demandes/nouvelle", s.createReferral, auth.SocialWorker)
	page(http.MethodGet, "/ccas/dossiers/:id", s.referralCase, auth.SocialWorker)
	page(http.MethodPost, "/ccas/dossiers/:id/prise-en-charge", s.acknowledgeAlert, auth.SocialWorker)
	page(http.MethodPost, "/ccas/dossiers/:id/suivi", s.followUpAlert, auth.SocialWorker)
	page(http.MethodGet, "/ccas/annuaire", s.referralDirectory, auth.SocialWorker)
	page(http.MethodGet, "/sos", s.referralHome, auth.Doctor)
	page(http.MethodGet, "/sos/alertes/nouvelle", s.newAlertForm, auth.Doctor)
	page(http.MethodPost, "/sos/alertes/nouvelle", s.createAlert, auth.Doctor)
	page(http.MethodGet, "/sos/dossiers/:id", s.referralCase, auth.Doctor)
	page(http.MethodPost, "/sos/dossiers/:id/reponse", s.answerReferral, auth.Doctor)
	page(http.MethodPost, "/sos/dossiers/:id/issue", s.referralOutcome, auth.Doctor)
	page(http.MethodPost, "/sos/dossiers/:id/information", s.alertInformed, auth.Doctor)
	page(http.MethodGet, "/sos/annuaire", s.referralDirectory, auth.Doctor)
	page(http.MethodGet, "/coordination/orientations", s.orientations, auth.Coordinator)
	page(http.MethodPost, "/coordination/orientations/:id", s.linkOrientation, auth.Coordinator)
	s.adminConventionRoutes(page)
}

// referralBase is a side's prefix: /ccas or /sos.
func referralBase(p auth.Principal) string {
	if p.Role == auth.Doctor {
		return "/sos"
	}
	return "/ccas"
}

func viewer(c echo.Context) (auth.Principal, referrals.Viewer) {
	p, _ := principal(c)
	return p, httpapi.ViewerOf(p)
}

// The French words of the convention's values.
var (
	caseKindFR   = map[referrals.Kind]string{referrals.KindReferral: "Demande d'intervention", referrals.KindAlert: "Alerte"}
	caseStatusFR = map[referrals.Status]string{referrals.StatusSent: "envoyée", referrals.StatusAccepted: "acceptée",
		referrals.StatusDeclined: "refusée", referrals.StatusAcknowledged: "prise en charge", referrals.StatusClosed: "close"}
	caseReasonFR = map[referrals.Reason]string{referrals.ReasonIsolation: "Isolement", referrals.ReasonLossOfAutonomy: "Perte d'autonomie",
		referrals.ReasonPrecarity: "Précarité", referrals.ReasonNoCare: "Sans soins depuis longtemps", referrals.ReasonDependency: "Dépendance",
		referrals.ReasonOther: "Autre"}
	urgencyFR = map[referrals.Urgency]string{referrals.UrgencyToday: "Aujourd'hui", referrals.UrgencyWithin48h: "Sous 48 heures",
		referrals.UrgencyPlanned: "Programmée"}
	placeFR   = map[referrals.Place]string{referrals.PlaceAddress: "Au domicile de la personne", referrals.PlaceCCAS: "Dans les locaux du CCAS"}
	outcomeFR = map[referrals.Outcome]string{referrals.OutcomeVisitDone: "Visite faite", referrals.OutcomeHospital: "Orientée vers l'hôpital",
		referrals.OutcomePASS: "Orientée vers la PASS", referrals.OutcomeNoAnswer: "Personne absente à l'adresse"}
	followUpFR = map[referrals.FollowUp]string{referrals.FollowUpContacted: "Personne contactée",
		referrals.FollowUpRightsStarted: "Demande de droits engagée", referrals.FollowUpHomeHelp: "Aide à domicile mise en place",
		referrals.FollowUpClosed: "Suivi terminé"}
	basisFR = map[referrals.Basis]string{referrals.BasisConsent: "Consentement de la personne",
		referrals.BasisEmergency: "Urgence (sans consentement préalable)", referrals.BasisImpossibleToInform: "Information de la personne impossible"}
	consentHowFR = map[referrals.ConsentHow]string{"oral": "Oral", "written": "Écrit"}
	consentByFR  = map[referrals.ConsentBy]string{"person": "La personne elle-même", "legal_representative": "Son représentant légal",
		"trusted_person": "Sa personne de confiance"}
	eventFR = map[string]string{"sent": "Envoyée", "accepted": "Acceptée par SOS Médecins", "declined": "Refusée par SOS Médecins",
		"outcome": "Retour d'intervention", "acknowledged": "Prise en charge par le CCAS", "follow_up": "Suivi du CCAS",
		"pass_linked": "Dossier PASS ouvert", "informed": "Personne informée de l'alerte", "anonymised": "Données personnelles effacées (durée de conservation écoulée)"}
)

// choices turns a French table into a select's options, in order.
func choices[T ~string](order []T, labels map[T]string, selected string) []choice {
	out := make([]choice, len(order))
	for i, v := range order {
		out[i] = choice{Value: string(v), Label: labels[v], Selected: string(v) == selected}
	}
	return out
}

// caseRow is a case in a list.
type caseRow struct {
	ID                      int64
	Href, Kind, Person      string
	Reason, Status, Urgency string
	Sent                    string
}

func toCaseRow(base string, c referrals.Case) caseRow {
	r := caseRow{ID: c.ID, Href: fmt.Sprintf("%s/dossiers/%d", base, c.ID), Kind: caseKindFR[c.Kind], Reason: caseReasonFR[c.Reason],
		Status: caseStatusFR[c.Status], Urgency: urgencyFR[c.Urgency], Sent: FormatMoment(c.CreatedAt)}
	r.Person = "(données effacées)"
	if c.Person != nil {
		r.Person = strings.TrimSpace(c.Person.LastName + " " + c.Person.FirstName)
	}
	return r
}

type referralHomePage struct {
	Base           string
	ToHandle, Sent []caseRow
	NewHref        string
	NewLabel       string
	SentTitle      string
}

// referralHome is "À traiter": what waits for the side, then what it sent.
func (s *Server) referralHome(c echo.Context) error {
	p, v := viewer(c)
	ctx := c.Request().Context()
	base := referralBase(p)
	toHandle, err := s.referrals.Cases(ctx, v, referrals.Filter{ToHandle: true}, db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	sentKind := referrals.KindReferral
	out := referralHomePage{Base: base, NewHref: "/ccas/demandes/nouvelle", NewLabel: "Nouvelle demande d'intervention",
		SentTitle: "Demandes envoyées à SOS Médecins"}
	if p.Role == auth.Doctor {
		sentKind = referrals.KindAlert
		out.NewHref, out.NewLabel, out.SentTitle = "/sos/alertes/nouvelle", "Nouvelle alerte au CCAS", "Alertes envoyées au CCAS"
	}
	sent, err := s.referrals.Cases(ctx, v, referrals.Filter{Kind: sentKind}, db.PageRequest{Limit: 100})
	if err != nil {
		return err
	}
	for _, cs := range toHandle {
		out.ToHandle = append(out.ToHandle, toCaseRow(base, cs))
	}
	for i, cs := range sent {
		if i < 100 {
			out.Sent = append(out.Sent, toCaseRow(base, cs))
		}
	}
	return s.render(c, http.StatusOK, "referral-home.html", "À traiter", out)
}

// personForm is the person's fields of a form, as typed, with their
// errors.
type personForm struct {
	LastName, FirstName, Birth, Phone, Address, Note string
	Errors                                           map[string]string
	Summary                                          string
	// The address's label and hint: a referral keeps it for a home visit
	// only, an alert when the CCAS needs it to reach the person.
	AddressLabel, AddressHint string
}

func readPersonForm(c echo.Context) personForm {
	return personForm{LastName: c.FormValue("last_name"), FirstName: c.FormValue("first_name"), Birth: c.FormValue("birth"),
		Phone: c.FormValue("phone"), Address: c.FormValue("address"), Note: c.FormValue("note"), Errors: map[string]string{}}
}

func (f personForm) identity() referrals.Identity {
	return referrals.Identity{LastName: f.LastName, FirstName: f.FirstName, Birth: f.Birth, Phone: f.Phone, Address: f.Address, Note: f.Note}
}

// referralFieldFR says, in French, what a field must hold.
var referralFieldFR = map[string]string{
	"last_name":        fmt.Sprintf("Indiquez le nom de la personne (%d caractères au plus).", referrals.MaxName),
	"first_name":       fmt.Sprintf("Le prénom tient en %d caractères au plus.", referrals.MaxName),
	"birth":            "Indiquez une année (1948) ou une date de naissance (1948-03-02), pas dans le futur.",
	"phone":            "Le téléphone ne contient que des chiffres, des espaces, des points, des tirets et un + au début.",
	"address":          "L'adresse est demandée pour une visite à domicile, et seulement dans ce cas.",
	"note":             fmt.Sprintf("La note tient en %d caractères au plus, sans diagnostic.", referrals.MaxNote),
	"urgency":          "Choisissez l'urgence.",
	"place":            "Choisissez le lieu de la visite.",
	"reason":           "Choisissez le motif.",
	"convention_id":    "Votre organisme n'a pas de convention avec cette association.",
	"basis":            "Indiquez le consentement de la personne, ou l'exception (urgence, information impossible) qui s'applique.",
	"consent_on":       "Indiquez la date du consentement (dans l'année écoulée, pas dans le futur).",
	"consent_how":      "Indiquez comment le consentement a été donné.",
	"consent_by":       "Indiquez qui a donné le consentement.",
	"exception_reason": fmt.Sprintf("Expliquez pourquoi le consentement n'a pas pu être recueilli (%d caractères au plus).", referrals.MaxNote),
	"decision":         "Choisissez d'accepter ou de refuser.",
	"outcome":          "Choisissez l'issue de l'intervention.",
	"on":               "Indiquez la date de l'intervention (pas dans le futur, pas avant la demande).",
	"assign_to":        "Choisissez un travailleur social de votre CCAS.",
	"step":             "Choisissez l'étape du suivi.",
	"informed_on":      "Indiquez le jour où la personne a été informée (pas dans le futur, pas avant l'alerte).",
	"file_number":      "Indiquez le numéro d'un dossier PASS existant : ouvrez d'abord le dossier de la personne.",
	// The admin's conventions page.
	"kind":           "Choisissez le type d'organisme.",
	"name":           "Indiquez le nom (200 caractères au plus) ; un organisme de ce nom ne doit pas déjà exister.",
	"ccas_id":        "Choisissez un CCAS.",
	"association_id": "Choisissez une association SOS Médecins ; ces deux organismes ne doivent pas déjà avoir de convention.",
	"signed_on":      "Indiquez la date de signature de la convention.",
	"side":           "Choisissez le côté du référent.",
	"title":          "La fonction tient en 200 caractères au plus.",
	"email":          "Indiquez une adresse électronique (nom@exemple.fr).",
	"status":         "Ce dossier a changé d'état entre-temps : rechargez la page.",
}

// explainReferral puts a client fault's French message under its field;
// false for any other error (the error page's).
func explainReferral(err error, errs map[string]string, summary *string) bool {
	fe, ok := clientFault(err)
	if !ok {
		return false
	}
	msg, known := referralFieldFR[fe.Field]
	if !known {
		msg = "Le formulaire n'a pas pu être enregistré : vérifiez les champs."
	}
	if fe.Field != "" {
		errs[fe.Field] = msg
	}
	*summary = "Rien n'a été enregistré. " + msg
	return true
}

type referralFormPage struct {
	personForm
	Urgencies, Places, Reasons []choice
}

func (s *Server) newReferralForm(c echo.Context) error {
	return s.renderReferralForm(c, http.StatusOK, personForm{Errors: map[string]string{}}, "", "", "")
}

func (s *Server) renderReferralForm(c echo.Context, status int, f personForm, urgency, place, reason string) error {
	f.AddressLabel, f.AddressHint = "Adresse", "Seulement si la visite a lieu au domicile de la personne."
	return s.render(c, status, "referral-new.html", "Nouvelle demande d'intervention", referralFormPage{personForm: f,
		Urgencies: choices(referrals.Urgencies, urgencyFR, urgency), Places: choices(referrals.Places, placeFR, place),
		Reasons: choices(referrals.ReferralReasons, caseReasonFR, reason)})
}

func (s *Server) createReferral(c echo.Context) error {
	_, v := viewer(c)
	f := readPersonForm(c)
	urgency, place, reason := c.FormValue("urgency"), c.FormValue("place"), c.FormValue("reason")
	in := referrals.NewReferral{Urgency: urgency, Place: place, Reason: reason, Person: f.identity()}
	again := func(status int) error { return s.renderReferralForm(c, status, f, urgency, place, reason) }
	// Every field's problem at once; the store's (no convention) after.
	if problems := in.Problems(calendar.Today(s.now())); len(problems) > 0 {
		return showRefusedFields(problems, f.explainEach, again)
	}
	cs, err := s.referrals.CreateReferral(c.Request().Context(), v, in)
	if err != nil {
		return showRefusedForm(err, func(err error) bool { return explainReferral(err, f.Errors, &f.Summary) }, again)
	}
	return redirectWithFlash(c, "referral-sent", fmt.Sprintf("/ccas/dossiers/%d", cs.ID))
}

// personFieldIDs are the ids of the person's inputs, in the form's order.
var personFieldIDs = []string{"last_name", "first_name", "birth", "phone", "address", "note"}

// problemsOf is the error summary of a form whose fields are ids, in
// order: each one's message, linking to it.
func (f personForm) problemsOf(ids ...string) []problemLink {
	pairs := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		pairs = append(pairs, id, f.Errors[id])
	}
	return fieldProblems(pairs...)
}

// referralNotSaved heads the summary of a referral or an alert refused
// for its fields (their words are referralFieldFR's).
const referralNotSaved = "Rien n'a été enregistré : corrigez les champs signalés."

// explainEach puts each of a form's errors under its field, the summary
// saying that nothing was saved; false when one of them is not the
// client's.
func (f *personForm) explainEach(errs ...error) bool {
	for _, err := range errs {
		if !explainReferral(err, f.Errors, &f.Summary) {
			return false
		}
	}
	f.Summary = referralNotSaved
	return true
}

// Problems is the referral form's error summary.
func (p referralFormPage) Problems() []problemLink {
	return p.problemsOf(append([]string{"urgency", "place", "reason"}, personFieldIDs...)...)
}

type alertFormPage struct {
	personForm
	Reasons, Bases, Hows, Bys []choice
	ConsentOn, Exception      string
}

func (s *Server) newAlertForm(c echo.Context) error {
	return s.renderAlertForm(c, http.StatusOK, alertFormPage{personForm: personForm{Errors: map[string]string{}}}, "", "", "", "")
}

func (s *Server) renderAlertForm(c echo.Context, status int, f alertFormPage, reason, basis, how, by string) error {
	f.AddressLabel, f.AddressHint = "Adresse (facultative)", "Seulement si le CCAS en a besoin pour joindre la personne."
	f.Reasons = choices(referrals.AlertReasons, caseReasonFR, reason)
	f.Bases = choices(referrals.Bases, basisFR, basis)
	f.Hows = choices(referrals.ConsentHows, consentHowFR, how)
	f.Bys = choices(referrals.ConsentBys, consentByFR, by)
	return s.render(c, status, "alert-new.html", "Nouvelle alerte au CCAS", f)
}

func (s *Server) createAlert(c echo.Context) error {
	_, v := viewer(c)
	f := alertFormPage{personForm: readPersonForm(c), ConsentOn: c.FormValue("consent_on"), Exception: c.FormValue("exception_reason")}
	reason, basis, how, by := c.FormValue("reason"), c.FormValue("basis"), c.FormValue("consent_how"), c.FormValue("consent_by")
	in := referrals.NewAlert{Reason: reason, Basis: basis, ConsentHow: how, ConsentBy: by, ExceptionReason: f.Exception, Person: f.identity()}
	again := func(status int) error { return s.renderAlertForm(c, status, f, reason, basis, how, by) }
	// Every field's problem at once: a consent date that does not read as
	// one is its field's, the referrals' rules tell the others; the
	// store's (no convention) after.
	var problems []error
	if f.ConsentOn != "" {
		var err error
		if in.ConsentOn, err = calendar.Parse(f.ConsentOn); err != nil {
			problems = append(problems, fault.Field("consent_on", "consent_on must be a date"))
		}
	}
	if problems = eachFieldOnce(problems, in.Problems(calendar.Today(s.now()))); len(problems) > 0 {
		return showRefusedFields(problems, f.explainEach, again)
	}
	cs, err := s.referrals.CreateAlert(c.Request().Context(), v, in)
	if err != nil {
		return showRefusedForm(err, func(err error) bool { return explainReferral(err, f.Errors, &f.Summary) }, again)
	}
	return redirectWithFlash(c, "alert-sent", fmt.Sprintf("/sos/dossiers/%d", cs.ID))
}

// Problems is the alert form's error summary.
func (p alertFormPage) Problems() []problemLink {
	return p.problemsOf(append([]string{"reason", "basis", "consent_on", "consent_how", "consent_by", "exception_reason"},
		personFieldIDs...)...)
}

// caseFact is a line of a case's facts.
type caseFact struct{ Label, Value string }

type caseEvent struct {
	At, By, What, Detail, Note string
}

type casePage struct {
	Base, Title string
	Case        referrals.Case
	Facts       []caseFact
	Person      []caseFact
	Events      []caseEvent
	// The step the viewer may take, with its form's choices and errors.
	CanAnswer, CanRecordOutcome, CanAcknowledge, CanFollowUp bool
	// CanRecordInformed: an alert sent under an exception whose person
	// is not recorded as informed yet.
	CanRecordInformed        bool
	Outcomes, Workers, Steps []choice
	Errors                   map[string]string
	Summary                  string
	Today                    string
	// Typed: what was typed in the form refused, by field.
	Typed map[string]string
}

// Problems is the error summary of the step refused: each field's message,
// linking to the field.
func (p casePage) Problems() []problemLink {
	note := "step-note"
	if p.CanRecordOutcome {
		note = "outcome-note"
	}
	e := p.Errors
	return fieldProblems("reason", e["reason"], "outcome", e["outcome"], "on", e["on"], "informed_on", e["informed_on"],
		"assign_to", e["assign_to"], "step", e["step"], note, e["note"])
}

// referralCase shows a case to the side that sent or received it.
func (s *Server) referralCase(c echo.Context) error {
	return s.renderCase(c, http.StatusOK, map[string]string{}, "")
}

func (s *Server) renderCase(c echo.Context, status int, errs map[string]string, summary string) error {
	p, v := viewer(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cs, err := s.referrals.Case(ctx, v, "", id)
	if err != nil {
		return err
	}
	page := casePage{Base: referralBase(p), Title: fmt.Sprintf("%s n° %d", caseKindFR[cs.Kind], cs.ID), Case: cs, Errors: errs,
		Summary: summary, Today: calendar.Today(s.now()).String(), Typed: map[string]string{}}
	if status != http.StatusOK {
		page.Typed = typedValues(c)
	}
	page.Facts, page.Person = caseFacts(cs), personFacts(cs.Person)
	for _, e := range cs.Events {
		page.Events = append(page.Events, caseEvent{At: FormatMoment(e.At), By: ActorLabel(e.By), What: eventFR[e.Kind], Detail: eventDetailFR(e), Note: e.Note})
	}
	if err := s.caseActions(ctx, p, &page); err != nil {
		return err
	}
	return s.render(c, status, "referral-case.html", page.Title, page)
}

// caseActions sets the step the viewer may take on the case.
func (s *Server) caseActions(ctx context.Context, p auth.Principal, page *casePage) error {
	cs := page.Case
	switch {
	case p.Role == auth.Doctor && cs.Kind == referrals.KindReferral:
		page.CanAnswer, page.CanRecordOutcome = cs.Status == referrals.StatusSent, cs.Status == referrals.StatusAccepted
		page.Outcomes = choices(referrals.Outcomes, outcomeFR, page.Typed["outcome"])
	case p.Role == auth.Doctor && cs.Kind == referrals.KindAlert:
		page.CanRecordInformed = cs.Basis != referrals.BasisConsent && cs.InformedOn == nil
	case p.Role == auth.SocialWorker && cs.Kind == referrals.KindAlert:
		page.CanAcknowledge, page.CanFollowUp = cs.Status == referrals.StatusSent, cs.Status == referrals.StatusAcknowledged
		page.Steps = choices(referrals.FollowUps, followUpFR, page.Typed["step"])
		if page.CanAcknowledge {
			workers, err := s.referrals.SocialWorkers(ctx, p.OrganisationID)
			if err != nil {
				return err
			}
			for _, w := range workers {
				page.Workers = append(page.Workers, choice{Value: ident.FormatID(w.ID), Label: w.Name, Selected: w.ID == p.UserID})
			}
		}
	}
	return nil
}

func caseFacts(cs referrals.Case) []caseFact {
	facts := []caseFact{{"État", caseStatusFR[cs.Status]}, {"Convention", cs.CCAS + " – " + cs.Association},
		{"Motif", caseReasonFR[cs.Reason]}, {"Envoyée le", FormatMoment(cs.CreatedAt) + " par " + cs.CreatedBy}}
	if cs.Kind == referrals.KindReferral {
		facts = append(facts, caseFact{"Urgence", urgencyFR[cs.Urgency]}, caseFact{"Lieu", placeFR[cs.Place]})
	} else {
		facts = append(facts, caseFact{"Base", basisFR[cs.Basis]})
		if cs.ConsentOn != nil {
			facts = append(facts, caseFact{"Consentement", fmt.Sprintf("%s, %s, donné par : %s", FormatDate(*cs.ConsentOn),
				strings.ToLower(consentHowFR[referrals.ConsentHow(cs.ConsentHow)]), strings.ToLower(consentByFR[referrals.ConsentBy(cs.ConsentBy)]))})
		}
		if cs.ExceptionReason != "" {
			facts = append(facts, caseFact{"Motif de l'exception", cs.ExceptionReason})
		}
		if cs.Basis != referrals.BasisConsent {
			informed := "pas encore"
			if cs.InformedOn != nil {
				informed = "le " + FormatDate(*cs.InformedOn)
			}
			facts = append(facts, caseFact{"Personne informée", informed})
		}
	}
	if cs.AssignedTo != "" {
		facts = append(facts, caseFact{"Suivie par", cs.AssignedTo})
	}
	if cs.DeclineReason != "" {
		facts = append(facts, caseFact{"Motif du refus", cs.DeclineReason})
	}
	if cs.Outcome != "" && cs.OutcomeOn != nil {
		facts = append(facts, caseFact{"Issue", outcomeFR[cs.Outcome] + " le " + FormatDate(*cs.OutcomeOn)})
	}
	if cs.PASSFileNumber != "" {
		facts = append(facts, caseFact{"Dossier PASS", cs.PASSFileNumber})
	}
	return facts
}

func personFacts(p *referrals.Identity) []caseFact {
	if p == nil {
		return nil
	}
	out := []caseFact{{"Nom", p.LastName}}
	for _, f := range []caseFact{{"Prénom", p.FirstName}, {"Naissance", p.Birth}, {"Téléphone", p.Phone}, {"Adresse", p.Address},
		{"Note", p.Note}} {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

func eventDetailFR(e referrals.Event) string {
	switch e.Kind {
	case "outcome":
		return outcomeFR[referrals.Outcome(e.Detail)]
	case "follow_up":
		return followUpFR[referrals.FollowUp(e.Detail)]
	}
	return e.Detail
}

// caseStep runs a step from a case page's form and shows the case again:
// with the flash when done, with the form's errors when refused.
func (s *Server) caseStep(c echo.Context, flash string, do func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error)) error {
	p, v := viewer(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := do(c.Request().Context(), v, id); err != nil {
		errs, summary := map[string]string{}, ""
		if !explainReferral(err, errs, &summary) {
			return err
		}
		return s.renderCase(c, http.StatusUnprocessableEntity, errs, summary)
	}
	return redirectWithFlash(c, flash, fmt.Sprintf("%s/dossiers/%d", referralBase(p), id))
}

func (s *Server) answerReferral(c echo.Context) error {
	in := referrals.Answer{Decision: c.FormValue("decision"), Reason: c.FormValue("reason")}
	if in.Decision == "accept" {
		in.Reason = "" // the decline's reason box is on the same page
	}
	return s.caseStep(c, "referral-answered", func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
		return s.referrals.Answer(ctx, v, id, in)
	})
}

func (s *Server) referralOutcome(c echo.Context) error {
	in := referrals.Result{Outcome: c.FormValue("outcome"), Note: c.FormValue("note")}
	var read []error
	if on, err := calendar.Parse(c.FormValue("on")); err != nil {
		read = append(read, fault.Field("on", "on must be a date"))
	} else {
		in.On = on
	}
	// Every field's problem at once; RecordOutcome checks the same again.
	if problems := eachFieldOnce(read, in.Problems(calendar.Today(s.now()))); len(problems) > 0 {
		return s.refusedCase(c, problems)
	}
	return s.caseStep(c, "referral-outcome", func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
		return s.referrals.RecordOutcome(ctx, v, id, in)
	})
}

// refusedCase shows the case again with every problem of the step sent,
// or leaves one that is not the client's to the error page.
func (s *Server) refusedCase(c echo.Context, problems []error) error {
	errs, summary := map[string]string{}, ""
	for _, err := range problems {
		if !explainReferral(err, errs, &summary) {
			return err
		}
	}
	return s.renderCase(c, http.StatusUnprocessableEntity, errs, referralNotSaved)
}

func (s *Server) alertInformed(c echo.Context) error {
	return s.caseStep(c, "alert-informed", func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
		on, err := calendar.Parse(c.FormValue("informed_on"))
		if err != nil {
			return referrals.Case{}, fault.Field("informed_on", "informed_on must be a date")
		}
		return s.referrals.RecordInformed(ctx, v, id, on)
	})
}

func (s *Server) acknowledgeAlert(c echo.Context) error {
	return s.caseStep(c, "alert-acknowledged", func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
		var in referrals.Acknowledgement
		if raw := c.FormValue("assign_to"); raw != "" {
			to, err := ident.ParseID(raw)
			if err != nil {
				return referrals.Case{}, fault.Field("assign_to", "assign_to must be an id")
			}
			in.AssignTo = to
		}
		return s.referrals.Acknowledge(ctx, v, id, in)
	})
}

func (s *Server) followUpAlert(c echo.Context) error {
	in := referrals.Step{Step: c.FormValue("step"), Note: c.FormValue("note")}
	if problems := in.Problems(); len(problems) > 0 {
		return s.refusedCase(c, problems)
	}
	return s.caseStep(c, "alert-followed-up", func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
		return s.referrals.FollowUp(ctx, v, id, in)
	})
}

// organisationChoices are the organisations for the admin's user form.
func (s *Server) organisationChoices(ctx context.Context, selected string) ([]choice, error) {
	orgs, err := s.referrals.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]choice, len(orgs))
	for i, o := range orgs {
		id := ident.FormatID(o.ID)
		kind := "CCAS"
		if o.Kind == referrals.OrgAssociation {
			kind = "SOS Médecins"
		}
		out[i] = choice{Value: id, Label: o.Name + " (" + kind + ")", Selected: id == selected}
	}
	return out, nil
}

type directoryPage struct {
	Base        string
	Conventions []referrals.Convention
}

// referralDirectory shows who to call on each side of the viewer's
// conventions.
func (s *Server) referralDirectory(c echo.Context) error {
	p, v := viewer(c)
	list, err := s.referrals.Conventions(c.Request().Context(), v.Side, v.OrganisationID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "referral-directory.html", "Annuaire des référents", directoryPage{Base: referralBase(p), Conventions: list})
}

// selectFieldData is what the "select-field" template reads: ID is the
// element's id (its Name unless a page has several such selects).
type selectFieldData struct {
	ID, Name, Label, Blank string
	Choices                []choice
	Err                    string
}

type caseTableData struct {
	Label string
	Rows  []caseRow
}

// The convention's templates' own functions, kept beside their pages.
func init() {
	funcs["selectField"] = func(name, label, blank string, choices []choice, err string) selectFieldData {
		return selectFieldData{ID: name, Name: name, Label: label, Blank: blank, Choices: choices, Err: err}
	}
	funcs["selectFieldFor"] = func(id, name, label, blank string, choices []choice, err string) selectFieldData {
		return selectFieldData{ID: id, Name: name, Label: label, Blank: blank, Choices: choices, Err: err}
	}
	funcs["dict"] = func() map[string]string { return map[string]string{} }
	funcs["caseTable"] = func(label string, rows []caseRow) caseTableData { return caseTableData{Label: label, Rows: rows} }
}

// orientationRow is a referral SOS Médecins oriented to the PASS.
type orientationRow struct {
	ID                     int64
	Person, Birth, Phone   string
	Association, OutcomeOn string
	FileNumber             string
}

type orientationsPage struct {
	Rows    []orientationRow
	Errors  map[string]string
	Failed  int64 // the row whose form was refused
	Summary string
}

// orientations lists, for the coordinator, the people SOS Médecins
// oriented to the PASS: who to open a file for, and the form that links
// the file's number to the referral.
func (s *Server) orientations(c echo.Context) error {
	return s.renderOrientations(c, http.StatusOK, orientationsPage{Errors: map[string]string{}})
}

func (s *Server) renderOrientations(c echo.Context, status int, page orientationsPage) error {
	_, v := viewer(c)
	list, err := s.referrals.Cases(c.Request().Context(), v, referrals.Filter{Kind: referrals.KindReferral}, db.PageRequest{Limit: 100})
	if err != nil {
		return err
	}
	for i, cs := range list {
		if i == 100 {
			break
		}
		row := orientationRow{ID: cs.ID, Association: cs.Association, FileNumber: cs.PASSFileNumber, Person: "(données effacées)"}
		if cs.OutcomeOn != nil {
			row.OutcomeOn = FormatDate(*cs.OutcomeOn)
		}
		if p := cs.Person; p != nil {
			row.Person, row.Birth, row.Phone = strings.TrimSpace(p.LastName+" "+p.FirstName), p.Birth, p.Phone
		}
		page.Rows = append(page.Rows, row)
	}
	return s.render(c, status, "coordinator-orientations.html", "Orientations SOS Médecins", page)
}

// linkOrientation records the PASS file opened for an oriented person.
func (s *Server) linkOrientation(c echo.Context) error {
	_, v := viewer(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.referrals.LinkPASSFile(c.Request().Context(), v, id, c.FormValue("file_number")); err != nil {
		page := orientationsPage{Errors: map[string]string{}, Failed: id}
		if !explainReferral(err, page.Errors, &page.Summary) {
			return err
		}
		return s.renderOrientations(c, http.StatusUnprocessableEntity, page)
	}
	return redirectWithFlash(c, "orientation-linked", "/coordination/orientations")
}
