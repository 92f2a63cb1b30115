// Package web serves passd's pages in French, for people rather than
// programs: html/template pages embedded in the binary, on the same address
// as the JSON API but outside /api/v1. A person signs in by pasting a token
// once; the server then keeps a session (web_sessions) behind an HttpOnly,
// SameSite=Strict cookie. Every form carries Echo's CSRF token, every page
// the security headers of a strict Content-Security-Policy (no inline
// script), and every page declares the roles that may see it.
//
// The pages call the same stores as the JSON API (billing.Store, …) and go
// through the same validation: there is no second copy of business rules.
// Forms work without JavaScript; static/passd.js and htmx only enhance them.
package web

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"passd/db"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"passd/auth"
	"passd/billing"
	"passd/claims"
	"passd/fault"
	"passd/platform"
	"passd/programme"
	"passd/referrals"
	"passd/scheduler"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// SessionCookie names the cookie that carries the session id.
const SessionCookie = "passd_session"

// csrfCookie names the cookie of Echo's CSRF middleware; csrfField is the
// hidden form field that must repeat it.
const (
	csrfCookie = "passd_csrf"
	csrfField  = "_csrf"
	csrfKey    = "csrf"
)

// DefaultIdle is how long a session lives without a request.
const DefaultIdle = 12 * time.Hour

// ContentSecurityPolicy is sent with every page: scripts, styles and
// images only from passd itself, no framing, forms posting only to passd.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// Config is what the pages need from the rest of passd.
type Config struct {
	Pool     *db.Pool
	Users    *auth.Store
	Throttle *auth.Throttle // failed sign-ins count as failed authentications
	Billing  *billing.Store
	Claims   *claims.Store
	Jobs     *scheduler.Scheduler
	Logger   *slog.Logger
	Now      func() time.Time
	Idle     time.Duration // zero: DefaultIdle

	// Referrals: the CCAS–SOS Médecins convention's pages (/ccas, /sos).
	Referrals *referrals.Store
}

// Server serves the pages.
type Server struct {
	users    *auth.Store
	throttle *auth.Throttle
	billing  *billing.Store
	claims   *claims.Store
	jobs     *scheduler.Scheduler
	logger   *slog.Logger
	now      func() time.Time
	// programme reads the programme's figures for /bilan.
	programme *programme.Store
	referrals *referrals.Store
	sessions  *sessions
	pages     pages
	csrf      echo.MiddlewareFunc // cookie without Secure (plain HTTP)
	csrfTLS   echo.MiddlewareFunc // cookie with Secure (the request came over TLS)
	// platform lists and creates the conventions for /plateforme.
	platform *platform.Store
}

// New builds the pages' server; it panics only on a template that does not
// parse, which the tests catch.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	s := &Server{users: cfg.Users, throttle: cfg.Throttle, billing: cfg.Billing, claims: cfg.Claims, jobs: cfg.Jobs, logger: cfg.Logger, now: cfg.Now,
		sessions: &sessions{pool: cfg.Pool, now: cfg.Now, idle: cfg.Idle}, pages: mustParsePages(), programme: programme.NewStore(cfg.Pool)}
	s.referrals = cfg.Referrals
	s.platform = platform.NewStore(cfg.Pool)
	s.csrf, s.csrfTLS = s.csrfMiddleware(false), s.csrfMiddleware(true)
	return s
}

func (s *Server) csrfMiddleware(secure bool) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + csrfField,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteStrictMode,
		ContextKey:     csrfKey,
		ErrorHandler: func(err error, c echo.Context) error {
			return s.renderError(c, http.StatusForbidden, "Formulaire refusé",
				"Ce formulaire a expiré ou ne vient pas de passd. Rechargez la page et recommencez.")
		},
	})
}

// Routes registers the pages and the static files on e.
func (s *Server) Routes(e *echo.Echo) {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(filesOnly{static})))), securityHeaders)

	// Each page gets the middlewares itself rather than through a group:
	// a group without a prefix would catch every unknown path, and those
	// answer the API's JSON 404. Forms are small: 1 MiB, as the API's
	// bodies, checked before anything parses them.
	common := []echo.MiddlewareFunc{securityHeaders, s.protect, s.pageErrors, middleware.BodyLimit("1M"), s.withCSRF, s.loadSession}
	page := func(method, path string, h echo.HandlerFunc, roles ...auth.Role) {
		mw := common
		if len(roles) > 0 {
			mw = append(slices.Clip(common), s.requireRole(roles...))
		}
		e.Add(method, path, h, mw...)
	}
	page(http.MethodGet, "/", s.home)
	page(http.MethodGet, "/connexion", s.signInForm)
	page(http.MethodPost, "/connexion", s.signIn)
	page(http.MethodPost, "/deconnexion", s.signOut, auth.Roles...)
	// The glossary holds no data: anyone may read it, signed in or not.
	page(http.MethodGet, "/aide/glossaire", s.glossary)

	page(http.MethodGet, "/effecteur/factures", s.invoiceList, auth.Provider)
	page(http.MethodGet, "/effecteur/factures.csv", s.invoiceListCSV, auth.Provider)
	page(http.MethodGet, "/effecteur/factures/nouvelle", s.newInvoiceForm, auth.Provider)
	page(http.MethodPost, "/effecteur/factures/nouvelle", s.submitInvoice, auth.Provider)
	page(http.MethodGet, "/effecteur/factures/:id", s.invoicePage, auth.Provider)
	// Any invoice, for the roles that read them all (as GET
	// /api/v1/invoices/{id}); a provider reads its own above.
	page(http.MethodGet, "/factures/:id", s.invoicePage, auth.Coordinator, auth.Finance, auth.Admin)
	page(http.MethodGet, "/effecteur/releve", s.statementPage, auth.Provider)
	page(http.MethodGet, "/effecteur/releve.csv", s.statementCSV, auth.Provider)

	page(http.MethodGet, "/coordination/dossiers", s.coordinatorFiles, auth.Coordinator)
	page(http.MethodPost, "/coordination/dossiers", s.searchFiles, auth.Coordinator)
	page(http.MethodGet, "/coordination/dossiers.csv", s.filesCSV, auth.Coordinator)
	page(http.MethodGet, "/coordination/dossiers/nouveau", s.newPatientForm, auth.Coordinator)
	page(http.MethodPost, "/coordination/dossiers/nouveau", s.createPatient, auth.Coordinator)
	page(http.MethodGet, "/coordination/dossiers/:id", s.coordinatorFile, auth.Coordinator)
	page(http.MethodPost, "/coordination/dossiers/:id/demande", s.requestRights, auth.Coordinator)
	page(http.MethodPost, "/coordination/dossiers/:id/commune", s.setCommune, auth.Coordinator)
	page(http.MethodGet, "/coordination/dossiers/:id/attestation", s.attestation, auth.Coordinator)
	page(http.MethodGet, "/coordination/relances", s.reminders, auth.Coordinator)
	page(http.MethodGet, "/coordination/factures", s.reviewList, auth.Coordinator)
	page(http.MethodGet, "/coordination/factures.csv", s.reviewCSV, auth.Coordinator)
	page(http.MethodPost, "/coordination/factures/:id/accepter", s.acceptReview, auth.Coordinator)
	page(http.MethodPost, "/coordination/factures/:id/annuler", s.voidInvoice, auth.Coordinator)

	page(http.MethodGet, "/cpam/dossiers", s.referentQueue, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/dossiers.csv", s.queueCSV, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/dossiers/:id", s.referentFile, auth.CPAMReferent)
	page(http.MethodPost, "/cpam/dossiers/:id/decision", s.decideRights, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/dossiers/:id/decisions/:did/corriger", s.correctionForm, auth.CPAMReferent)
	page(http.MethodPost, "/cpam/dossiers/:id/decisions/:did/corriger", s.correctRights, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/demandes", s.claimList, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/demandes.csv", s.claimsCSV, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/lots", s.claimBatches, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/lots.csv", s.claimBatchesCSV, auth.CPAMReferent)
	page(http.MethodPost, "/cpam/lots", s.createClaimBatch, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/lots/:id", s.claimBatch, auth.CPAMReferent)
	page(http.MethodGet, "/cpam/lots/:id/export/:format", s.exportClaimBatch, auth.CPAMReferent)
	page(http.MethodPost, "/cpam/lots/:id/retour", s.importReturn, auth.CPAMReferent)

	s.financeRoutes(page)
	s.adminRoutes(page)
	s.referralRoutes(page)
	s.platformRoutes(page)
}

// financeRoutes registers the finance officers' pages with page (see Routes).
func (s *Server) financeRoutes(page func(method, path string, h echo.HandlerFunc, roles ...auth.Role)) {
	page(http.MethodGet, "/finances", s.financeHome, auth.Finance)
	page(http.MethodGet, "/finances/paiements.csv", s.payoutsCSV, auth.Finance)
	page(http.MethodGet, "/finances/paiements", s.payoutList, auth.Finance)
	page(http.MethodGet, "/finances/lots", s.payoutBatchList, auth.Finance)
	page(http.MethodPost, "/finances/lots", s.draftPayoutBatch, auth.Finance)
	page(http.MethodGet, "/finances/lots.csv", s.payoutBatchesCSV, auth.Finance)
	page(http.MethodGet, "/finances/lots/:id", s.payoutBatchPage, auth.Finance)
	page(http.MethodGet, "/finances/lots/:id/sepa.xml", s.batchSEPA, auth.Finance)
	page(http.MethodPost, "/finances/lots/:id/soumettre", s.batchStep("batch-submitted", s.submitPayoutBatch, nil), auth.Finance)
	page(http.MethodPost, "/finances/lots/:id/approuver", s.batchStep("batch-approved", s.approvePayoutBatch, confirmApproval), auth.Finance)
	page(http.MethodPost, "/finances/lots/:id/annuler", s.batchStep("batch-cancelled", s.cancelPayoutBatch, confirmBatchCancel), auth.Finance)
	page(http.MethodPost, "/finances/lots/:id/paye", s.markPayoutBatchPaid, auth.Finance)
	page(http.MethodGet, "/finances/reprises", s.recoveries, auth.Finance)
	page(http.MethodGet, "/finances/titres-de-recettes.csv", s.titresCSV, auth.Finance)
	page(http.MethodGet, "/finances/remboursements-cpam.csv", s.cpamRefundsCSV, auth.Finance)
}

// adminRoutes registers the admin's pages with page (see Routes).
func (s *Server) adminRoutes(page func(method, path string, h echo.HandlerFunc, roles ...auth.Role)) {
	page(http.MethodGet, "/admin/taches", s.jobsPage, auth.Admin)
	page(http.MethodGet, "/admin/taches.csv", s.jobRunsCSV, auth.Admin)
	page(http.MethodPost, "/admin/taches/:name", s.runJob, auth.Admin)
	page(http.MethodGet, "/admin", s.adminHome, auth.Admin)
	page(http.MethodGet, "/admin/effecteurs", s.adminProviders, auth.Admin)
	page(http.MethodGet, "/admin/effecteurs.csv", s.providersCSV, auth.Admin)
	page(http.MethodGet, "/admin/effecteurs/:id", s.providerPage, auth.Admin)
	page(http.MethodPost, "/admin/effecteurs/:id", s.updateProvider, auth.Admin)
	page(http.MethodGet, "/finances/coordonnees", s.bankChanges, auth.Finance)
	page(http.MethodPost, "/finances/coordonnees/:id/confirmer", s.confirmBankChange, auth.Finance)
	page(http.MethodPost, "/finances/coordonnees/:id/refuser", s.rejectBankChange, auth.Finance)
	page(http.MethodPost, "/admin/effecteurs", s.createProvider, auth.Admin)
	page(http.MethodGet, "/admin/utilisateurs", s.adminUsers, auth.Admin)
	page(http.MethodGet, "/admin/utilisateurs.csv", s.usersCSV, auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs", s.issueToken, auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs/jetons/:id/revoquer", s.revokeToken, auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs/:id/desactiver", s.setUserEnabled(false), auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs/:id/reactiver", s.setUserEnabled(true), auth.Admin)
	page(http.MethodPost, "/admin/effecteurs/:id/desactiver", s.setProviderActive(false), auth.Admin)
	page(http.MethodPost, "/admin/effecteurs/:id/reactiver", s.setProviderActive(true), auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs/jetons/:id/confirmer", s.confirmToken, auth.Admin)
	page(http.MethodPost, "/admin/utilisateurs/reinitialiser", s.resetUser, auth.Admin)
	page(http.MethodGet, "/compte", s.accountPage, auth.Roles...)
	page(http.MethodGet, "/bilan", s.programmePage, auth.Coordinator, auth.Finance, auth.Admin, auth.Observer)
	page(http.MethodPost, "/compte/jeton", s.rotateToken, auth.Roles...)
	page(http.MethodGet, "/admin/parametres", s.adminSettings, auth.Admin)
	page(http.MethodPost, "/admin/parametres", s.saveSettings, auth.Admin)
	page(http.MethodGet, "/admin/actes", s.adminActs, auth.Admin)
	page(http.MethodPost, "/admin/actes", s.putAct, auth.Admin)
	page(http.MethodPost, "/admin/actes/importer", s.importActs, auth.Admin)
	page(http.MethodPost, "/admin/actes/:code/supprimer", s.deleteAct, auth.Admin)
	page(http.MethodGet, "/admin/medicaments", s.adminDrugs, auth.Admin)
	page(http.MethodPost, "/admin/medicaments", s.putDrug, auth.Admin)
	page(http.MethodPost, "/admin/medicaments/importer", s.importDrugs, auth.Admin)
	page(http.MethodPost, "/admin/medicaments/:cip13/supprimer", s.deleteDrug, auth.Admin)
	page(http.MethodGet, "/admin/taux", s.adminRates, auth.Admin)
	page(http.MethodPost, "/admin/taux", s.addRate, auth.Admin)
}

// IsPage reports whether a path is served by this package rather than the
// JSON API (the route-vs-contract test leaves pages aside).
func IsPage(path string) bool {
	return !isUnder(path, "/api/") && !slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"}, path)
}

func isUnder(path, prefix string) bool {
	return len(path) >= len(prefix) && path[:len(prefix)] == prefix
}

// homes is each role's first page.
var homes = map[auth.Role]string{
	auth.Provider:      "/effecteur/factures",
	auth.Coordinator:   "/coordination/dossiers",
	auth.CPAMReferent:  "/cpam/dossiers",
	auth.Finance:       "/finances",
	auth.Admin:         "/admin",
	auth.Observer:      "/bilan",
	auth.SocialWorker:  "/ccas",
	auth.Doctor:        "/sos",
	auth.PlatformAdmin: "/plateforme",
}

// filesOnly serves the files of an FS and never a directory: a directory
// is not found, so http.FileServer lists none.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// securityHeaders sets the headers every page and static file carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// protect keeps pages, which carry personal data, out of caches.
func (s *Server) protect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// withCSRF runs Echo's CSRF middleware with a Secure cookie when the
// request came over TLS.
func (s *Server) withCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	plain, tls := s.csrf(next), s.csrfTLS(next)
	return func(c echo.Context) error {
		if overTLS(c) {
			return tls(c)
		}
		return plain(c)
	}
}

// overTLS: the connection is TLS, or a proxy in front says so (a client
// lying about it only gets a cookie its own browser will not send back over
// plain HTTP).
func overTLS(c echo.Context) bool { return c.IsTLS() || c.Scheme() == "https" }

const principalKey = "web.principal"

// loadSession reads the session cookie, if any, and keeps the principal.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cookie, err := c.Cookie(SessionCookie)
		if err == nil && cookie.Value != "" && len(cookie.Value) <= 64 {
			p, err := s.sessions.principal(c.Request().Context(), cookie.Value)
			switch {
			case err == nil:
				c.Set(principalKey, p)
				// Everything the page does acts in its user's convention.
				c.SetRequest(c.Request().WithContext(db.WithTenant(c.Request().Context(), p.Tenant)))
			case !errors.Is(err, errNoSession):
				return err
			}
		}
		return next(c)
	}
}

// SignedIn returns the user whose session the request carries, if any,
// once the page's middlewares have run: the request log names who asked.
func SignedIn(c echo.Context) (auth.Principal, bool) { return principal(c) }

// principal returns the signed-in user, if any.
func principal(c echo.Context) (auth.Principal, bool) {
	p, ok := c.Get(principalKey).(auth.Principal)
	return p, ok
}

// requireRole lets through the signed-in users of roles; others see the
// sign-in page (not signed in) or a 403 page (another role).
func (s *Server) requireRole(roles ...auth.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principal(c)
			if !ok {
				return c.Redirect(http.StatusSeeOther, "/connexion")
			}
			if !slices.Contains(roles, p.Role) {
				return s.renderError(c, http.StatusForbidden, "Accès refusé", "Votre rôle ne permet pas d'ouvrir cette page.")
			}
			return next(c)
		}
	}
}

// pageErrors renders what a page handler returns as an error as a page in
// French, never as the API's JSON.
func (s *Server) pageErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var he *echo.HTTPError
		switch {
		case fault.Is(err, fault.NotFound):
			return s.renderError(c, http.StatusNotFound, "Page introuvable", "Cette page n'existe pas, ou vous n'y avez pas accès.")
		case fault.Is(err, fault.Forbidden):
			return s.renderError(c, http.StatusForbidden, "Accès refusé", "Votre rôle ne permet pas d'ouvrir cette page.")
		case fault.Is(err, fault.Unavailable):
			return s.renderError(c, http.StatusServiceUnavailable, "Service indisponible", "passd ne peut pas joindre sa base de données. Réessayez dans un instant.")
		case fault.Is(err, fault.Invalid):
			return s.renderError(c, http.StatusBadRequest, "Demande invalide", "Cette demande n'est pas valide.")
		case errors.As(err, &he) && he.Code == http.StatusNotFound:
			return s.renderError(c, http.StatusNotFound, "Page introuvable", "Cette page n'existe pas, ou vous n'y avez pas accès.")
		case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
			return s.renderError(c, http.StatusMethodNotAllowed, "Méthode non permise", "Cette page ne s'ouvre pas ainsi.")
		case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
			return s.renderError(c, http.StatusRequestEntityTooLarge, "Formulaire trop volumineux", "Ce formulaire dépasse 1 Mio.")
		case errors.As(err, &he) && he.Code >= 400 && he.Code < 500:
			return s.renderError(c, he.Code, "Demande refusée", "Cette demande n'est pas valide.")
		}
		if s.logger != nil {
			s.logger.ErrorContext(c.Request().Context(), "page failed", "route", c.Path(), "error", err.Error())
		}
		return s.renderError(c, http.StatusInternalServerError, "Erreur interne", "Une erreur inattendue est survenue. Elle a été consignée.")
	}
}

// home sends a visitor to the sign-in page or to their role's home.
func (s *Server) home(c echo.Context) error {
	p, ok := principal(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/connexion")
	}
	return c.Redirect(http.StatusSeeOther, homes[p.Role])
}

// glossary explains the words of the trade the pages use.
func (s *Server) glossary(c echo.Context) error {
	return s.render(c, http.StatusOK, "glossary.html", "Glossaire", nil)
}
