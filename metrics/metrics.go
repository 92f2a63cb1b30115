package metrics

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Unmatched is the route label of a request that no route serves, so that
// a scanner trying a thousand paths adds one series, not a thousand.
const Unmatched = "unmatched"

// otherMethod is the method label of a method outside the standard ones.
const otherMethod = "OTHER"

// Buckets of the request durations, in seconds: fine below 50 ms, where
// the API's targets are (p99 ≤ 50 ms), up to the 4 s request timeout and
// beyond it for the exports.
var httpBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Buckets of the job durations, in seconds: a release run over a few files
// takes milliseconds, a deadline sweep over a million invoices minutes.
var jobBuckets = []float64{.01, .05, .1, .5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 2400}

// Metrics holds passd's registry and the metrics it feeds itself.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	jobRuns        *prometheus.CounterVec
	jobDuration    *prometheus.HistogramVec
	jobRows        *prometheus.CounterVec
	jobErrors      *prometheus.CounterVec
	jobLastSuccess *prometheus.GaugeVec
}

// New returns a registry holding the Go runtime's and the process's
// collectors and the HTTP and job metrics. Collectors reading the database
// (NewPoolCollector, NewStatusCollector) are added with Register.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passd_http_requests_total",
			Help: "HTTP requests answered, by method, route template (or \"unmatched\") and status.",
		}, []string{"method", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passd_http_request_duration_seconds",
			Help:    "Time from the request's arrival at passd's router to its answer, by method, route and status.",
			Buckets: httpBuckets,
		}, []string{"method", "route", "status"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passd_job_runs_total",
			Help: "Job runs that took their job's lock, by job and outcome (ok or error).",
		}, []string{"job", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passd_job_duration_seconds",
			Help:    "Duration of job runs, by job.",
			Buckets: jobBuckets,
		}, []string{"job"}),
		jobRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passd_job_rows_total",
			Help: "Rows the job runs touched (a failed run counts what its committed batches did), by job.",
		}, []string{"job"}),
		jobErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passd_job_errors_total",
			Help: "Job runs that ended with an error, by job.",
		}, []string{"job"}),
		jobLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passd_job_last_success_timestamp_seconds",
			Help: "When the job's last successful run finished, as a Unix time; 0 before the first.",
		}, []string{"job"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration,
		m.jobRuns, m.jobDuration, m.jobRows, m.jobErrors, m.jobLastSuccess,
	)
	return m
}

// Register adds collectors to the registry; it fails on a collector whose
// metrics another already gives.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Gatherer is the registry, for tests that read the metrics without HTTP.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// MoneySuffix ends the name of every series that holds an amount of money
// (passd_invoices_amount_euros, …): what Handler leaves out of a public
// scrape. A new money series must be named so.
const MoneySuffix = "_euros"

// Handler serves the registry in the Prometheus text format, the one the
// API contract describes, whatever the Accept header asks. Scrapes that
// arrive together share one collection, so a burst of them costs the
// database one read of the counts. A collector that fails (the database
// is out of reach) is logged and left out; the rest is served.
//
// With money false, the series in euros (MoneySuffix) are left out: how
// much the city owes and to whom in total is for its own monitoring, not
// for whoever reaches the public address. Counts and durations stay.
func (m *Metrics) Handler(logger *slog.Logger, money bool) http.Handler {
	var g prometheus.Gatherer = m.registry
	if !money {
		g = withoutMoney{m.registry}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:        slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:   promhttp.ContinueOnError,
		Registry:        m.registry,
		CoalesceGather:  true,
		AcceptedFormats: []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain)},
	})
}

// withoutMoney gathers every family but those in euros.
type withoutMoney struct{ prometheus.Gatherer }

func (g withoutMoney) Gather() ([]*dto.MetricFamily, error) {
	families, err := g.Gatherer.Gather()
	return slices.DeleteFunc(families, func(f *dto.MetricFamily) bool {
		return strings.HasSuffix(f.GetName(), MoneySuffix)
	}), err
}

// ObserveRequest counts one answered request. route is Echo's route
// template, or Unmatched; any other method than the standard ones is
// counted as "OTHER".
func (m *Metrics) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	if route == "" {
		route = Unmatched
	}
	// Label values in order, not a Labels map: no allocation per request.
	method, code := methodLabel(method), strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.requestDuration.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return otherMethod
}

// DeclareJobs makes every job's series exist at zero before its first run,
// so that a rate or an alert on a job that never ran sees a 0, not nothing.
func (m *Metrics) DeclareJobs(names ...string) {
	for _, name := range names {
		m.jobRuns.WithLabelValues(name, "ok")
		m.jobRuns.WithLabelValues(name, "error")
		m.jobDuration.WithLabelValues(name)
		m.jobRows.WithLabelValues(name)
		m.jobErrors.WithLabelValues(name)
		m.jobLastSuccess.WithLabelValues(name)
	}
}

// JobRun is one finished run of a job, as the scheduler recorded it.
type JobRun struct {
	Job      string
	Elapsed  time.Duration
	Rows     int64
	Failed   bool
	Finished time.Time
}

// ObserveJob counts one run of a job.
func (m *Metrics) ObserveJob(r JobRun) {
	outcome := "ok"
	if r.Failed {
		outcome = "error"
		m.jobErrors.WithLabelValues(r.Job).Inc()
	} else {
		m.jobLastSuccess.WithLabelValues(r.Job).Set(float64(r.Finished.UnixNano()) / 1e9)
	}
	m.jobRuns.WithLabelValues(r.Job, outcome).Inc()
	m.jobDuration.WithLabelValues(r.Job).Observe(r.Elapsed.Seconds())
	if r.Rows > 0 {
		m.jobRows.WithLabelValues(r.Job).Add(float64(r.Rows))
	}
}
