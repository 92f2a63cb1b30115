package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/scheduler"
	"passd/spreadsheet"
)

// The admin role's pages. /admin/taches lists the job runs and runs a job
// now, as GET /jobs and POST /jobs/{name}/run do, through the same
// scheduler.

// jobTriggerLabel is how a run was started, in French.
var jobTriggerLabel = map[string]string{scheduler.TriggerManual: "à la demande", scheduler.TriggerSchedule: "planifiée",
	scheduler.TriggerStartup: "au démarrage"}

type jobRunRow struct {
	Run     scheduler.Run
	Trigger string
}

type jobsPage struct {
	api.Page[jobRunRow] // the runs, newest first
	Names               []string
	Error               string
	Filter              statusFilter // by job (?tache= names it)
	Order               listOrder    // by start: ?tri=anciens reads the oldest first
}

func (s *Server) jobsPage(c echo.Context) error {
	return s.renderJobs(c, http.StatusOK, "")
}

func (s *Server) renderJobs(c echo.Context, status int, message string) error {
	only, filter, order := s.readJobRunsFilter(c)
	runs, err := readOrderedPage(c, order, s.jobRunsOf(only), func(r scheduler.Run) int64 { return r.ID }, func(r scheduler.Run) jobRunRow {
		return jobRunRow{Run: r, Trigger: jobTriggerLabel[r.Trigger]}
	})
	if err != nil {
		return err
	}
	if filter.Matching, err = s.jobs.CountRuns(c.Request().Context(), only); err != nil {
		return err
	}
	return s.render(c, status, "admin-jobs.html", "Tâches planifiées",
		jobsPage{Page: runs, Names: s.jobs.Names(), Error: message, Filter: filter, Order: order})
}

// readJobRunsFilter reads the runs' filter by job (?tache=) and their
// order by start (?tri=), for the list and its download alike.
func (s *Server) readJobRunsFilter(c echo.Context) (string, statusFilter, listOrder) {
	only, filter := readFilter(c, "tache", "Tâche", s.jobs.Names(), JobLabel)
	order := readListOrder(c, "Début", url.Values{"tache": {only}})
	filter.Sort = order.Sort()
	return only, filter, order
}

// jobRunsOf reads a page of the runs of job only ("" every job). The
// scheduler's limit is the rows it returns, where a list's read returns
// one more than its page to tell whether another follows.
func (s *Server) jobRunsOf(only string) func(context.Context, db.PageRequest) ([]scheduler.Run, error) {
	return func(ctx context.Context, page db.PageRequest) ([]scheduler.Run, error) {
		page.Limit++
		return s.jobs.RunsPage(ctx, only, page)
	}
}

// runJob is "Lancer maintenant : {job}".
func (s *Server) runJob(c echo.Context) error {
	name := c.Param("name")
	if !slices.Contains(s.jobs.Names(), name) {
		return fault.New(fault.NotFound, "no job is called %q", name)
	}
	// As in the API, leaving the page does not cut the job short.
	run, err := s.jobs.RunNow(context.WithoutCancel(c.Request().Context()), name)
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind == fault.KindJobRunning {
			return s.renderJobs(c, http.StatusConflict, "La tâche « "+name+" » est déjà en cours : réessayez quand elle sera terminée.")
		}
		return err
	}
	flash := "job-done"
	if run.Error != nil {
		flash = "job-failed"
	}
	return redirectWithFlash(c, flash, "/admin/taches")
}

// FormatMoment writes an instant in Paris time as dd/mm/yyyy hh:mm:ss.
func FormatMoment(t time.Time) string { return t.In(calendar.Paris()).Format("02/01/2006 15:04:05") }

// jobRunsCSV is the runs' download: those of the job filtered, in the
// list's order, read a page at a time by the list's keyset.
func (s *Server) jobRunsCSV(c echo.Context) error {
	only, _, order := s.readJobRunsFilter(c)
	return httpapi.Stream(c, "text/csv; charset=utf-8", "taches.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Tâche", "Déclenchement", "Début", "Fin", "Lignes", "Erreur"); err != nil {
			return err
		}
		err := eachRow(c.Request().Context(), order, s.jobRunsOf(only), func(r scheduler.Run) int64 { return r.ID }, func(r scheduler.Run) error {
			end, failure := "", ""
			if r.FinishedAt != nil {
				end = FormatMoment(*r.FinishedAt)
			}
			if r.Error != nil {
				failure = spreadsheet.Text(*r.Error)
			}
			return out.Write(JobLabel(r.Name), jobTriggerLabel[r.Trigger], FormatMoment(r.StartedAt), end, strconv.FormatInt(r.Rows, 10), failure)
		})
		if err != nil {
			return err
		}
		return out.Flush()
	})
}
