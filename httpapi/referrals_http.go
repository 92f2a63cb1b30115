package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/auth"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/programme"
	"passd/referrals"
)

// ReferralRoutes registers the CCAS–SOS Médecins convention's routes on g:
// organisations and conventions (an admin's), the directory, referrals and
// alerts (each side's), and the steering committee's indicators.
func ReferralRoutes(g *echo.Group, s *referrals.Store, today func() calendar.Date) {
	h := referralHandlers{store: s}
	g.POST("/organisations", h.createOrganisation)
	g.GET("/organisations", h.listOrganisations)
	g.POST("/conventions", h.createConvention)
	g.GET("/conventions", h.listConventions)
	g.POST("/conventions/:id/referents", h.addReferent)
	g.POST("/referrals", h.createReferral)
	g.GET("/referrals", h.list(referrals.KindReferral))
	g.GET("/referrals/:id", h.get(referrals.KindReferral))
	g.POST("/referrals/:id/answer", h.answer)
	g.POST("/referrals/:id/outcome", h.outcome)
	g.POST("/referrals/:id/pass-file", h.linkPASSFile)
	g.POST("/alerts", h.createAlert)
	g.GET("/alerts", h.list(referrals.KindAlert))
	g.GET("/alerts/:id", h.get(referrals.KindAlert))
	g.POST("/alerts/:id/acknowledge", h.acknowledge)
	g.POST("/alerts/:id/follow-up", h.followUp)
	g.POST("/alerts/:id/informed", h.informed)
	g.GET("/reports/referrals", func(c echo.Context) error { return h.indicators(c, today()) })
}

type referralHandlers struct{ store *referrals.Store }

// ViewerOf is the referrals' viewer of a principal: a social worker reads
// as its CCAS, a doctor as its association, the coordinator as the PASS.
func ViewerOf(p auth.Principal) referrals.Viewer {
	v := referrals.Viewer{Actor: p.Actor(), OrganisationID: p.OrganisationID}
	switch p.Role {
	case auth.SocialWorker:
		v.Side = referrals.SideCCAS
	case auth.Doctor:
		v.Side = referrals.SideAssociation
	case auth.Coordinator:
		v.Side = referrals.SideCoordinator
	}
	return v
}

// idValue reads an id sent as a string ("" when absent).
func (r *valueReader) id(v api.Value, field string) int64 {
	s := r.text(v, field)
	if r.err != nil || s == "" {
		return 0
	}
	id, err := ident.ParseID(s)
	if err != nil {
		r.err = fault.Field(field, "%s must be an id", field)
	}
	return id
}

type organisationJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func toOrganisationJSON(o referrals.Organisation) organisationJSON {
	return organisationJSON{ID: ident.FormatID(o.ID), Kind: string(o.Kind), Name: o.Name, CreatedAt: o.CreatedAt.UTC()}
}

func (h referralHandlers) createOrganisation(c echo.Context) error {
	var b struct {
		Kind api.Value `json:"kind"`
		Name api.Value `json:"name"`
	}
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	kind, name := r.text(b.Kind, "kind"), r.text(b.Name, "name")
	if r.err != nil {
		return r.err
	}
	o, err := h.store.CreateOrganisation(c.Request().Context(), auth.From(c).Actor(), kind, name)
	return answerJSON(c, http.StatusCreated, o, err, toOrganisationJSON)
}

func (h referralHandlers) listOrganisations(c echo.Context) error {
	list, err := h.store.Organisations(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]organisationJSON, len(list))
	for i, o := range list {
		out[i] = toOrganisationJSON(o)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

type referentJSON struct {
	ID    string `json:"id"`
	Side  string `json:"side"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

type conventionJSON struct {
	ID            string         `json:"id"`
	CCASID        string         `json:"ccas_id"`
	CCAS          string         `json:"ccas"`
	AssociationID string         `json:"association_id"`
	Association   string         `json:"association"`
	SignedOn      calendar.Date  `json:"signed_on"`
	Referents     []referentJSON `json:"referents"`
}

func toConventionJSON(cv referrals.Convention) conventionJSON {
	out := conventionJSON{ID: ident.FormatID(cv.ID), CCASID: ident.FormatID(cv.CCASID), CCAS: cv.CCAS,
		AssociationID: ident.FormatID(cv.AssociationID), Association: cv.Association, SignedOn: cv.SignedOn, Referents: []referentJSON{}}
	for _, r := range cv.Referents {
		out.Referents = append(out.Referents, referentJSON{ID: ident.FormatID(r.ID), Side: string(r.Side), Name: r.Name, Title: r.Title,
			Phone: r.Phone, Email: r.Email})
	}
	return out
}

func (h referralHandlers) createConvention(c echo.Context) error {
	var b struct {
		CCASID        api.Value `json:"ccas_id"`
		AssociationID api.Value `json:"association_id"`
		SignedOn      api.Value `json:"signed_on"`
	}
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	ccas, assoc, signed := r.id(b.CCASID, "ccas_id"), r.id(b.AssociationID, "association_id"), r.date(b.SignedOn, "signed_on")
	if r.err != nil {
		return r.err
	}
	cv, err := h.store.CreateConvention(c.Request().Context(), auth.From(c).Actor(), ccas, assoc, signed)
	return answerJSON(c, http.StatusCreated, cv, err, toConventionJSON)
}

// listConventions is the directory: an admin reads every convention, a
// social worker or a doctor those of its organisation.
func (h referralHandlers) listConventions(c echo.Context) error {
	v := ViewerOf(auth.From(c))
	list, err := h.store.Conventions(c.Request().Context(), v.Side, v.OrganisationID)
	if err != nil {
		return err
	}
	out := make([]conventionJSON, len(list))
	for i, cv := range list {
		out[i] = toConventionJSON(cv)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (h referralHandlers) addReferent(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Side  api.Value `json:"side"`
		Name  api.Value `json:"name"`
		Title api.Value `json:"title"`
		Phone api.Value `json:"phone"`
		Email api.Value `json:"email"`
	}
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	in := referrals.NewReferent{Side: r.text(b.Side, "side"), Name: r.text(b.Name, "name"), Title: r.text(b.Title, "title"),
		Phone: r.text(b.Phone, "phone"), Email: r.text(b.Email, "email")}
	if r.err != nil {
		return r.err
	}
	cv, err := h.store.AddReferent(c.Request().Context(), auth.From(c).Actor(), id, in)
	return answerJSON(c, http.StatusCreated, cv, err, toConventionJSON)
}

// personBody is the person's fields of a new referral or alert.
type personBody struct {
	LastName  api.Value `json:"last_name"`
	FirstName api.Value `json:"first_name"`
	Birth     api.Value `json:"birth"`
	Phone     api.Value `json:"phone"`
	Address   api.Value `json:"address"`
	Note      api.Value `json:"note"`
}

func (b personBody) person(r *valueReader) referrals.Identity {
	return referrals.Identity{LastName: r.text(b.LastName, "last_name"), FirstName: r.text(b.FirstName, "first_name"),
		Birth: r.text(b.Birth, "birth"), Phone: r.text(b.Phone, "phone"), Address: r.text(b.Address, "address"), Note: r.text(b.Note, "note")}
}

func (h referralHandlers) createReferral(c echo.Context) error {
	var b struct {
		ConventionID api.Value `json:"convention_id"`
		Urgency      api.Value `json:"urgency"`
		Place        api.Value `json:"place"`
		Reason       api.Value `json:"reason"`
		personBody
	}
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	in := referrals.NewReferral{ConventionID: r.id(b.ConventionID, "convention_id"), Urgency: r.text(b.Urgency, "urgency"),
		Place: r.text(b.Place, "place"), Reason: r.text(b.Reason, "reason"), Person: b.person(&r)}
	if r.err != nil {
		return r.err
	}
	cs, err := h.store.CreateReferral(c.Request().Context(), ViewerOf(auth.From(c)), in)
	return answerJSON(c, http.StatusCreated, cs, err, toCaseJSON)
}

func (h referralHandlers) createAlert(c echo.Context) error {
	var b struct {
		ConventionID    api.Value `json:"convention_id"`
		Reason          api.Value `json:"reason"`
		Basis           api.Value `json:"basis"`
		ConsentOn       api.Value `json:"consent_on"`
		ConsentHow      api.Value `json:"consent_how"`
		ConsentBy       api.Value `json:"consent_by"`
		ExceptionReason api.Value `json:"exception_reason"`
		personBody
	}
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	in := referrals.NewAlert{ConventionID: r.id(b.ConventionID, "convention_id"), Reason: r.text(b.Reason, "reason"),
		Basis: r.text(b.Basis, "basis"), ConsentOn: r.dateOrZero(b.ConsentOn, "consent_on"), ConsentHow: r.text(b.ConsentHow, "consent_how"),
		ConsentBy: r.text(b.ConsentBy, "consent_by"), ExceptionReason: r.text(b.ExceptionReason, "exception_reason"), Person: b.person(&r)}
	if r.err != nil {
		return r.err
	}
	cs, err := h.store.CreateAlert(c.Request().Context(), ViewerOf(auth.From(c)), in)
	return answerJSON(c, http.StatusCreated, cs, err, toCaseJSON)
}

func (h referralHandlers) list(kind referrals.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		page, err := ParsePage(c)
		if err != nil {
			return err
		}
		f := referrals.Filter{Kind: kind}
		if f.Status, err = QueryEnum(c, "status", referrals.Statuses); err != nil {
			return err
		}
		switch c.QueryParam("to_handle") {
		case "", "false":
		case "true":
			f.ToHandle = true
		default:
			return fault.Field("to_handle", "to_handle must be true or false")
		}
		list, err := h.store.Cases(c.Request().Context(), ViewerOf(auth.From(c)), f, page)
		return answerPage(c, page, list, err, func(cs referrals.Case) int64 { return cs.ID }, toCaseJSON)
	}
}

func (h referralHandlers) get(kind referrals.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		return answerByID(c, func(ctx context.Context, id int64) (referrals.Case, error) {
			return h.store.Case(ctx, ViewerOf(auth.From(c)), kind, id)
		}, toCaseJSON)
	}
}

// stepOf decodes a step's body with read and applies it with do.
func stepOf[B any](c echo.Context, read func(B, *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error)) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	var b B
	if err := Decode(c, &b); err != nil {
		return err
	}
	var r valueReader
	do := read(b, &r)
	if r.err != nil {
		return r.err
	}
	cs, err := do(c.Request().Context(), ViewerOf(auth.From(c)), id)
	return answerJSON(c, http.StatusOK, cs, err, toCaseJSON)
}

type answerBody struct {
	Decision api.Value `json:"decision"`
	Reason   api.Value `json:"reason"`
}

func (h referralHandlers) answer(c echo.Context) error {
	return stepOf(c, func(b answerBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		in := referrals.Answer{Decision: r.text(b.Decision, "decision"), Reason: r.text(b.Reason, "reason")}
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.Answer(ctx, v, id, in)
		}
	})
}

type outcomeBody struct {
	Outcome api.Value `json:"outcome"`
	On      api.Value `json:"on"`
	Note    api.Value `json:"note"`
}

func (h referralHandlers) outcome(c echo.Context) error {
	return stepOf(c, func(b outcomeBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		in := referrals.Result{Outcome: r.text(b.Outcome, "outcome"), On: r.dateOrZero(b.On, "on"), Note: r.text(b.Note, "note")}
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.RecordOutcome(ctx, v, id, in)
		}
	})
}

type passFileBody struct {
	FileNumber api.Value `json:"file_number"`
}

func (h referralHandlers) linkPASSFile(c echo.Context) error {
	return stepOf(c, func(b passFileBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		n := r.text(b.FileNumber, "file_number")
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.LinkPASSFile(ctx, v, id, n)
		}
	})
}

type acknowledgeBody struct {
	AssignTo api.Value `json:"assign_to"`
}

func (h referralHandlers) acknowledge(c echo.Context) error {
	return stepOf(c, func(b acknowledgeBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		in := referrals.Acknowledgement{AssignTo: r.id(b.AssignTo, "assign_to")}
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.Acknowledge(ctx, v, id, in)
		}
	})
}

type followUpBody struct {
	Step api.Value `json:"step"`
	Note api.Value `json:"note"`
}

func (h referralHandlers) followUp(c echo.Context) error {
	return stepOf(c, func(b followUpBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		in := referrals.Step{Step: r.text(b.Step, "step"), Note: r.text(b.Note, "note")}
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.FollowUp(ctx, v, id, in)
		}
	})
}

type informedBody struct {
	InformedOn api.Value `json:"informed_on"`
}

func (h referralHandlers) informed(c echo.Context) error {
	return stepOf(c, func(b informedBody, r *valueReader) func(context.Context, referrals.Viewer, int64) (referrals.Case, error) {
		on := r.dateOrZero(b.InformedOn, "informed_on")
		return func(ctx context.Context, v referrals.Viewer, id int64) (referrals.Case, error) {
			return h.store.RecordInformed(ctx, v, id, on)
		}
	})
}

type personJSON struct {
	LastName  string  `json:"last_name"`
	FirstName string  `json:"first_name"`
	Birth     *string `json:"birth"`
	Phone     *string `json:"phone"`
	Address   *string `json:"address"`
	Note      *string `json:"note"`
}

type eventJSON struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Kind   string    `json:"kind"`
	Detail *string   `json:"detail"`
	Note   *string   `json:"note"`
}

type caseJSON struct {
	ID              string         `json:"id"`
	Kind            string         `json:"kind"`
	ConventionID    string         `json:"convention_id"`
	CCAS            string         `json:"ccas"`
	Association     string         `json:"association"`
	Status          string         `json:"status"`
	Reason          string         `json:"reason"`
	Urgency         *string        `json:"urgency"`
	Place           *string        `json:"place"`
	Person          *personJSON    `json:"person"`
	Basis           *string        `json:"basis"`
	ConsentOn       *calendar.Date `json:"consent_on"`
	ConsentHow      *string        `json:"consent_how"`
	ConsentBy       *string        `json:"consent_by"`
	ExceptionReason *string        `json:"exception_reason"`
	InformedOn      *calendar.Date `json:"informed_on"`
	DeclineReason   *string        `json:"decline_reason"`
	Outcome         *string        `json:"outcome"`
	OutcomeOn       *calendar.Date `json:"outcome_on"`
	PASSFileNumber  *string        `json:"pass_file_number"`
	AssignedTo      *string        `json:"assigned_to"`
	CreatedBy       string         `json:"created_by"`
	CreatedAt       time.Time      `json:"created_at"`
	FirstAnswerAt   *time.Time     `json:"first_answer_at"`
	ClosedAt        *time.Time     `json:"closed_at"`
	AnonymisedAt    *time.Time     `json:"anonymised_at"`
	Timeline        []eventJSON    `json:"timeline"`
}

func toCaseJSON(cs referrals.Case) caseJSON {
	out := caseJSON{ID: ident.FormatID(cs.ID), Kind: string(cs.Kind), ConventionID: ident.FormatID(cs.ConventionID), CCAS: cs.CCAS,
		Association: cs.Association, Status: string(cs.Status), Reason: string(cs.Reason), Urgency: nullable(string(cs.Urgency)),
		Place: nullable(string(cs.Place)), Basis: nullable(string(cs.Basis)), ConsentOn: cs.ConsentOn, ConsentHow: nullable(cs.ConsentHow),
		ConsentBy: nullable(cs.ConsentBy), ExceptionReason: nullable(cs.ExceptionReason), InformedOn: cs.InformedOn, DeclineReason: nullable(cs.DeclineReason),
		Outcome: nullable(string(cs.Outcome)), OutcomeOn: cs.OutcomeOn, PASSFileNumber: nullable(cs.PASSFileNumber),
		AssignedTo: nullable(cs.AssignedTo), CreatedBy: cs.CreatedBy, CreatedAt: cs.CreatedAt.UTC(), FirstAnswerAt: utc(cs.FirstAnswerAt),
		ClosedAt: utc(cs.ClosedAt), AnonymisedAt: utc(cs.AnonymisedAt), Timeline: []eventJSON{}}
	if p := cs.Person; p != nil {
		out.Person = &personJSON{LastName: p.LastName, FirstName: p.FirstName, Birth: nullable(p.Birth), Phone: nullable(p.Phone),
			Address: nullable(p.Address), Note: nullable(p.Note)}
	}
	for _, e := range cs.Events {
		out.Timeline = append(out.Timeline, eventJSON{At: e.At.UTC(), By: e.By, Kind: e.Kind, Detail: nullable(e.Detail), Note: nullable(e.Note)})
	}
	return out
}

type flowJSON struct {
	Sent             programme.People            `json:"sent"`
	Answered         programme.People            `json:"answered"`
	DelayMedianHours *int                        `json:"first_answer_median_hours"`
	WithFeedback     programme.People            `json:"with_feedback"`
	FeedbackPct      *string                     `json:"with_feedback_pct"`
	Outcomes         map[string]programme.People `json:"outcomes"`
	ByBasis          map[string]programme.People `json:"by_basis,omitempty"`
}

type referralMonthJSON struct {
	Month     string           `json:"month"`
	Referrals programme.People `json:"referrals"`
	Alerts    programme.People `json:"alerts"`
}

func toFlowJSON(f referrals.Flow) flowJSON {
	return flowJSON{Sent: f.Sent, Answered: f.Answered, DelayMedianHours: f.DelayMedianHours, WithFeedback: f.WithFeedback,
		FeedbackPct: nullable(f.FeedbackPct), Outcomes: f.Outcomes, ByBasis: f.ByBasis}
}

func (h referralHandlers) indicators(c echo.Context, today calendar.Date) error {
	p, err := programme.ParsePeriod(today, c.QueryParam("year"), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	in, err := h.store.Indicators(c.Request().Context(), p)
	if err != nil {
		return err
	}
	months := make([]referralMonthJSON, len(in.Months))
	for i, m := range in.Months {
		months[i] = referralMonthJSON(m)
	}
	return c.JSON(http.StatusOK, map[string]any{"from": p.From, "to": p.To, "by_month": months,
		"referrals": toFlowJSON(in.Referrals), "alerts": toFlowJSON(in.Alerts)})
}
