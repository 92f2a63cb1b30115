package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/money"
)

// ---- the list ----

type invoiceRow struct {
	Invoice billing.Invoice
	Badge   Badge
}

type invoiceListPage struct {
	Rows       []invoiceRow
	NextCursor string
	// The filters as typed (they live in the query string: no identity
	// is among them), the choices of status, how many invoices match, and
	// the query string that keeps the filters on the next page.
	Status, From, To, FilterErr string
	StatusFilter                statusFilter // its select, id "statut" as the page has no other
	Matching                    int64
	Filtered                    bool
	Query                       template.URL
	// Sort: "" (by receipt), "soins" or "soins-asc" (by care date); the
	// column's link switches it; Next is the next page's address.
	Sort     string
	SortNext template.URL // the care-date column's link
	Next     template.URL
}

// invoiceSorts are the orders the list offers, by their ?tri= value.
var invoiceSorts = map[string]billing.InvoiceOrder{"soins": billing.ByCareDateDesc, "soins-asc": billing.ByCareDateAsc}

// readInvoiceFilter reads the list's filters (?statut=, ?du=, ?au=, care
// dates YYYY-MM-DD); a value that reads as none is a French message, and
// the list shows everything it would otherwise.
func readInvoiceFilter(c echo.Context, out *invoiceListPage) billing.InvoiceFilter {
	out.From, out.To = c.QueryParam("du"), c.QueryParam("au")
	var f billing.InvoiceFilter
	f.Status, out.StatusFilter = readStatusFilter(c, billing.Statuses, billing.InvoiceStatus.Label)
	out.StatusFilter.ID, out.Status = "statut", out.StatusFilter.Status
	if out.StatusFilter.FilterErr != "" {
		out.FilterErr = "Ce statut n'existe pas : toutes les factures sont montrées."
	}
	period := readPeriod(c, "de soins")
	f.CareFrom, f.CareTo = period.FromDay, period.ToDay
	if period.FilterErr != "" {
		out.FilterErr = period.FilterErr
	}
	q := url.Values{}
	for k, v := range map[string]string{"statut": out.Status, "du": out.From, "au": out.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	out.Filtered = len(q) > 0
	readInvoiceSort(c, &f, out, q)
	return f
}

// readInvoiceSort reads ?tri= and, for a care-date order, ?apres= (the
// previous page's last row, "YYYY-MM-DD.id"), and writes the links that
// keep the filters q: the column's, which switches the order, and Query,
// which the next page adds to.
func readInvoiceSort(c echo.Context, f *billing.InvoiceFilter, out *invoiceListPage, q url.Values) {
	if order, ok := invoiceSorts[c.QueryParam("tri")]; ok {
		out.Sort, f.Order = c.QueryParam("tri"), order
		if day, id, found := strings.Cut(c.QueryParam("apres"), "."); found {
			d, errD := calendar.Parse(day)
			n, errN := ident.ParseID(id)
			if errD == nil && errN == nil {
				f.After = billing.InvoiceKey{CareDate: d, ID: n}
			}
		}
	}
	toggle := url.Values{}
	for k, v := range q {
		toggle[k] = v
	}
	toggle.Set("tri", "soins")
	if out.Sort == "soins" {
		toggle.Set("tri", "soins-asc")
	}
	out.SortNext = template.URL(toggle.Encode())
	if out.Sort != "" {
		q.Set("tri", out.Sort)
	}
	out.Query = template.URL(q.Encode())
}

func (s *Server) invoiceList(c echo.Context) error {
	p, _ := principal(c)
	var out invoiceListPage
	filter := readInvoiceFilter(c, &out)
	filter.ProviderID = p.ProviderID
	invoices, err := readPage(c, func(ctx context.Context, page db.PageRequest) ([]billing.Invoice, error) {
		return s.billing.Invoices(ctx, filter, page)
	}, func(inv billing.Invoice) int64 { return inv.ID }, asRead)
	if err != nil {
		return err
	}
	if out.Matching, err = s.billing.CountInvoices(c.Request().Context(), filter); err != nil {
		return err
	}
	ids := make([]int64, len(invoices.Items))
	for i, inv := range invoices.Items {
		ids[i] = inv.ID
	}
	settled, err := s.billing.Settlements(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	out.NextCursor = invoices.NextCursor
	if out.NextCursor != "" {
		out.Next = template.URL("cursor=" + out.NextCursor)
		if filter.Order != "" {
			// A care-date order pages past its last row, not below an id.
			last := invoices.Items[len(invoices.Items)-1]
			out.Next = template.URL("apres=" + url.QueryEscape(last.CareDate.String()+"."+strconv.FormatInt(last.ID, 10)))
		}
	}
	for _, inv := range invoices.Items {
		out.Rows = append(out.Rows, invoiceRow{Invoice: inv, Badge: InvoiceBadge(inv, settled[inv.ID])})
	}
	return s.render(c, http.StatusOK, "invoices.html", "Mes factures", out)
}

// invoiceListCSV is the list's download: exactly what it filters, in its
// order.
func (s *Server) invoiceListCSV(c echo.Context) error {
	p, _ := principal(c)
	var out invoiceListPage
	filter := readInvoiceFilter(c, &out)
	filter.ProviderID, filter.After = p.ProviderID, billing.InvoiceKey{}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "mes-factures.csv", func(w io.Writer) error {
		return s.billing.InvoicesCSV(c.Request().Context(), filter, w)
	})
}

// ---- one invoice ----

type invoicePage struct {
	Invoice billing.Invoice
	Badge   Badge
	Back    navLink // where the reader came from: its own list, or its home
	// Review says where the coordinator's review of an invoice over a
	// ceiling stands ("" when it had none), and why it was held.
	Review        string
	ReviewReasons []string
	ReviewLink    bool // the reader is the coordinator, who decides it
	// Reasons shows why it was decided (rights opened, refused…), and
	// why decided again: not to its provider, whom it would tell the
	// patient's rights (issue 15 §4).
	Reasons bool
}

// reviewLabel says in French where an invoice's review stands.
func reviewLabel(inv billing.Invoice) string {
	switch {
	case inv.ReviewStatus == billing.ReviewAccepted:
		return "acceptée par la coordination après vérification"
	case inv.ReviewStatus == billing.ReviewFlagged && inv.Status == billing.StatusPending:
		return "à vérifier par la coordination : elle ne sera pas décidée avant"
	case inv.ReviewStatus == billing.ReviewFlagged:
		return "retenue pour vérification"
	}
	return ""
}

// ShowClasses: the lines' rate classes are worth a column when they
// differ, or when a line is a drug (its class is then its own).
func (p invoicePage) ShowClasses() bool {
	for _, l := range p.Invoice.Lines {
		if l.RateClass.IsDrug() || l.RateClass != p.Invoice.Lines[0].RateClass {
			return true
		}
	}
	return false
}

// invoiceBack is the link under an invoice, by the reader's role.
var invoiceBack = map[auth.Role]navLink{
	auth.Provider:    {Href: "/effecteur/factures", Label: "Retour à mes factures"},
	auth.Coordinator: {Href: "/coordination/dossiers", Label: "Retour aux dossiers"},
	auth.Finance:     {Href: "/finances", Label: "Retour au tableau de bord"},
	auth.Admin:       {Href: "/admin", Label: "Retour à l'administration"},
}

func (s *Server) invoicePage(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Another provider's invoice is not found, as in the API; the other
	// roles (no provider id) read every invoice.
	inv, err := s.billing.Invoice(ctx, id, p.ProviderID)
	if err != nil {
		return err
	}
	reasons := p.Role != auth.Provider
	if !reasons {
		inv = inv.ForProvider()
	}
	settled, err := s.billing.Settlements(ctx, []int64{inv.ID})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "invoice.html", "Facture "+inv.ExternalRef+" du "+FormatDate(inv.CareDate),
		invoicePage{Invoice: inv, Badge: InvoiceBadge(inv, settled[inv.ID]), Back: invoiceBack[p.Role], Review: reviewLabel(inv),
			ReviewReasons: reviewReasons(inv), ReviewLink: p.Role == auth.Coordinator && inv.ReviewStatus == billing.ReviewFlagged &&
				inv.Status == billing.StatusPending, Reasons: reasons})
}

// ---- the new invoice form ----

// lineForm is one line of the form as typed, with its French errors.
type lineForm struct {
	N                                  int // 1-based, for the labels
	Code, Label, Quantity, UnitPrice   string
	CodeErr, LabelErr, QtyErr, UnitErr string
}

type invoiceForm struct {
	FileNumber, BirthDate, Ref, CareDate string
	FileErr, BirthErr, RefErr, DateErr   string
	LinesErr, Summary                    string
	Lines                                []lineForm
	Total                                string
	MaxLines                             int
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f invoiceForm) Problems() []problemLink {
	var out []problemLink
	add := func(id, msg string) {
		if msg != "" {
			out = append(out, problemLink{id, msg})
		}
	}
	add("patient_file_number", f.FileErr)
	add("birth_date", f.BirthErr)
	add("external_ref", f.RefErr)
	add("care_date", f.DateErr)
	add("lines", f.LinesErr)
	for _, l := range f.Lines {
		n := strconv.Itoa(l.N)
		add("code-"+n, l.CodeErr)
		add("label-"+n, l.LabelErr)
		add("quantity-"+n, l.QtyErr)
		add("unit_price-"+n, l.UnitErr)
	}
	return out
}

func (f *invoiceForm) number() {
	for i := range f.Lines {
		f.Lines[i].N = i + 1
	}
	f.Total = FormatAmount(f.total())
	f.MaxLines = billing.MaxLines
}

// total adds the lines that already read as valid, for the total shown
// before sending; the stored total is computed by billing from the
// validated lines.
func (f *invoiceForm) total() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range f.Lines {
		q, err := strconv.Atoi(l.Quantity)
		if err != nil || q < 1 || q > billing.MaxQuantity {
			continue
		}
		price, err := formFrenchAmount("unit_price", l.UnitPrice)
		if err != nil {
			continue
		}
		sum = sum.Add(money.LineTotal(q, price))
	}
	return sum
}

func (s *Server) newInvoiceForm(c echo.Context) error {
	f := invoiceForm{Lines: []lineForm{{Quantity: "1"}}}
	f.number()
	return s.render(c, http.StatusOK, "invoice_form.html", "Nouvelle facture", f)
}

// readInvoiceForm reads the posted fields; lines are the repeated fields
// code, label, quantity and unit_price, in order.
func readInvoiceForm(c echo.Context) (invoiceForm, error) {
	values, err := c.FormParams()
	if err != nil {
		return invoiceForm{}, fault.New(fault.Invalid, "unreadable form")
	}
	f := invoiceForm{FileNumber: strings.TrimSpace(values.Get("patient_file_number")), BirthDate: strings.TrimSpace(values.Get("birth_date")),
		Ref: strings.TrimSpace(values.Get("external_ref")), CareDate: strings.TrimSpace(values.Get("care_date"))}
	codes, labels, qtys, prices := values["code"], values["label"], values["quantity"], values["unit_price"]
	n := max(len(codes), len(labels), len(qtys), len(prices))
	if n > billing.MaxLines+1 {
		n = billing.MaxLines + 1 // enough for billing to say there are too many
	}
	at := func(list []string, i int) string {
		if i < len(list) {
			return strings.TrimSpace(list[i])
		}
		return ""
	}
	for i := range n {
		f.Lines = append(f.Lines, lineForm{Code: at(codes, i), Label: at(labels, i), Quantity: at(qtys, i), UnitPrice: at(prices, i)})
	}
	return f, nil
}

// invoice builds the submission of POST /invoices from the form, for
// billing to check with the same rules. Blank lines are left out; sent[i]
// is the form line of the submission's line i. A date, a quantity or a
// price that does not read as one is a problem of its field, as the API
// refuses it; problems are every field's, the form's reading first, then
// billing's rules on the rest (one per field).
func (f invoiceForm) invoice(today calendar.Date) (in billing.NewInvoice, sent []int, problems []error) {
	in = billing.NewInvoice{PatientFileNumber: f.FileNumber, ExternalRef: f.Ref}
	keep := fault.Collect(&problems)
	var err error
	// A blank birth date is left to billing, which says it is required.
	in.BirthDate, err = parseFormDate("birth_date", f.BirthDate)
	keep(err)
	for i, l := range f.Lines {
		if l.Code == "" && l.Label == "" && l.UnitPrice == "" && (l.Quantity == "" || l.Quantity == "1") {
			continue
		}
		at := billing.LineFields(len(in.Lines))
		sent = append(sent, i)
		line := billing.Line{Code: l.Code, Label: l.Label}
		line.Quantity, err = formInt(at.Quantity, l.Quantity)
		keep(err)
		line.UnitPrice, err = formFrenchAmount(at.UnitPrice, l.UnitPrice)
		keep(err)
		in.Lines = append(in.Lines, line)
	}
	if f.CareDate != "" {
		in.CareDate, err = formDate("care_date", f.CareDate)
		keep(err)
	}
	checked := in
	checked.Lines = slices.Clone(in.Lines)
	seen := map[string]bool{}
	for _, p := range problems {
		if fe, ok := fault.As(p); ok {
			seen[fe.Field] = true
		}
	}
	for _, p := range checked.Problems(today) {
		if fe, ok := fault.As(p); ok && !seen[fe.Field] {
			seen[fe.Field] = true
			problems = append(problems, p)
		}
	}
	return in, sent, problems
}

func (s *Server) submitInvoice(c echo.Context) error {
	p, _ := principal(c)
	f, err := readInvoiceForm(c)
	if err != nil {
		return err
	}
	// Without JavaScript, adding and removing lines are submit buttons.
	switch action := c.FormValue("action"); {
	case action == "add-line":
		if len(f.Lines) < billing.MaxLines {
			f.Lines = append(f.Lines, lineForm{Quantity: "1"})
		}
		f.number()
		return s.render(c, http.StatusOK, "invoice_form.html", "Nouvelle facture", f)
	case strings.HasPrefix(action, "remove-line-"):
		n, err := strconv.Atoi(strings.TrimPrefix(action, "remove-line-"))
		if err == nil && n >= 1 && n <= len(f.Lines) && len(f.Lines) > 1 {
			f.Lines = append(f.Lines[:n-1], f.Lines[n:]...)
		}
		f.number()
		return s.render(c, http.StatusOK, "invoice_form.html", "Nouvelle facture", f)
	}

	in, sent, problems := f.invoice(calendar.Today(s.now()))
	if len(problems) > 0 {
		// Every field's problem at once, under its field and in the
		// summary, so that one submission shows all there is to fix.
		for _, p := range problems {
			f.explain(p, sent)
		}
		f.number()
		return s.render(c, http.StatusUnprocessableEntity, "invoice_form.html", "Nouvelle facture", f)
	}
	_, err = s.billing.CreateInvoice(c.Request().Context(), p.Actor(), p.ProviderID, in)
	if err != nil {
		explain := func(err error) bool { return f.explain(err, sent) }
		return showRefusedForm(err, explain, func(status int) error {
			f.number()
			return s.render(c, status, "invoice_form.html", "Nouvelle facture", f)
		})
	}
	return redirectWithFlash(c, "invoice-saved", "/effecteur/factures")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's (it is then a 500 or 503 page). A
// line's field is told on the line the provider typed it on: sent maps the
// lines sent to the form's rows.
func (f *invoiceForm) explain(err error, sent []int) bool {
	fe, ok := clientFault(err)
	if !ok {
		return false
	}
	if !strings.HasPrefix(fe.Field, "lines[") {
		if !explainFields(err, "invoice", map[string]*string{"patient_file_number": &f.FileErr, "birth_date": &f.BirthErr, "external_ref": &f.RefErr,
			"care_date": &f.DateErr, "lines": &f.LinesErr}, &f.Summary) {
			return false
		}
		if fe.Field == "lines" && len(sent) > billing.MaxLines {
			f.LinesErr = messages[messageKey{"invoice", "lines", "too_many"}]
		}
		return true
	}
	f.Summary = messages[messageKey{"invoice", "", whyNotSaved}]
	var i int
	if _, err := fmt.Sscanf(fe.Field, "lines[%d].", &i); err != nil || i < 0 || i >= len(sent) {
		f.LinesErr = messages[messageKey{"invoice", "line", ""}]
		return true
	}
	_, name, _ := strings.Cut(fe.Field, "].")
	l := &f.Lines[sent[i]]
	slot := map[string]*string{"code": &l.CodeErr, "label": &l.LabelErr, "quantity": &l.QtyErr, "unit_price": &l.UnitErr}[name]
	if slot == nil {
		f.LinesErr = messages[messageKey{"invoice", "line", ""}]
		return true
	}
	*slot = message("line", name, fe)
	return true
}

// ---- the statement ----

type statementRow struct {
	Line  billing.StatementLine
	Badge Badge
}

type statementPage struct {
	From, To       string // YYYY-MM-DD, for the inputs
	FromFR, ToFR   string
	FromErr, ToErr string
	Rows           []statementRow
	Total          decimal.Decimal
	CSV            string
	BankChanges    []bankNotice // the period's changes of the provider's bank details
}

// bankNotice is one change of a provider's bank details, for its statement.
type bankNotice struct{ On, IBANEnding string }

func (s *Server) statementPage(c echo.Context) error {
	p, _ := principal(c)
	rawFrom, rawTo := c.QueryParam("du"), c.QueryParam("au")
	from, to, err := billing.StatementPeriod(calendar.Today(s.now()), rawFrom, rawTo)
	if err != nil {
		fe, ok := fault.As(err)
		if !ok {
			return err
		}
		page := statementPage{From: rawFrom, To: rawTo}
		switch {
		case fe.Field == "from":
			page.FromErr = "Indiquez une date de début valide."
		case errors.Is(fe, billing.ErrPeriodReversed):
			page.ToErr = "La date de fin précède la date de début."
		case errors.Is(fe, billing.ErrPeriodTooLong):
			page.ToErr = "Un relevé couvre au plus 366 jours."
		default:
			page.ToErr = "Indiquez une date de fin valide."
		}
		return s.render(c, http.StatusUnprocessableEntity, "statement.html", "Relevé", page)
	}
	lines, err := s.billing.Statement(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	page := statementPage{From: from.String(), To: to.String(), FromFR: FormatDate(from), ToFR: FormatDate(to), Total: decimal.Zero,
		CSV: "/effecteur/releve.csv?du=" + from.String() + "&au=" + to.String()}
	for _, l := range lines {
		st := billing.Settlement{ClaimStatus: l.ClaimStatus, ClaimRejection: l.ClaimRejection, Payouts: len(l.Payouts)}
		for _, po := range l.Payouts {
			if po.Status == "paid" {
				st.PayoutsPaid++
			}
		}
		page.Rows = append(page.Rows, statementRow{Line: l, Badge: InvoiceBadge(l.Invoice, st)})
		page.Total = page.Total.Add(l.Invoice.Total)
	}
	changed, err := s.billing.BankDetailsChanged(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	for _, ch := range changed {
		iban := ch.New.IBAN
		page.BankChanges = append(page.BankChanges, bankNotice{On: FormatMoment(*ch.DecidedAt), IBANEnding: iban[max(len(iban)-4, 0):]})
	}
	return s.render(c, http.StatusOK, "statement.html", "Relevé", page)
}

// statementCSV is GET /statement?format=csv for the signed-in provider:
// the same data and the same writer.
func (s *Server) statementCSV(c echo.Context) error {
	p, _ := principal(c)
	from, to, err := billing.StatementPeriod(calendar.Today(s.now()), c.QueryParam("du"), c.QueryParam("au"))
	if err != nil {
		return err
	}
	lines, err := s.billing.Statement(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", billing.StatementFileName(from, to), func(w io.Writer) error {
		return billing.WriteStatementCSV(w, lines)
	})
}
