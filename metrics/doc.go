// Package metrics is what passd tells Prometheus: HTTP requests by route
// and status, job runs, the connection pool, invoices by status and what
// the city owes, plus the Go runtime and the process. Each Metrics has a
// registry of its own, never the global one, so that several passd apps
// (the tests start many in one process) keep apart.
//
// Invariants:
//
//   - Labels take few values, whatever clients send: a route is Echo's
//     template ("/api/v1/invoices/:id"), or Unmatched for a path no route
//     serves; a method is a standard one or "OTHER".
//   - No metric carries identity: only counts, durations and sums.
//   - Every series in money is named *_euros (MoneySuffix), and only a
//     private scrape (Handler with money) shows them: cmd/passd serves
//     them on PASSD_METRICS_ADDR, or to a scrape with PASSD_METRICS_TOKEN.
//   - The business gauges cost a handful of rows per scrape, not a count
//     over millions of invoices: triggers of migration 00006 append deltas
//     (kind, status, n, amount) to status_counts in the transaction of each
//     change, the collector sums them, and folds them into one row per
//     status (status_counts_compact) once they pile up. They are exact: a
//     change is counted when, and only when, it commits.
//   - The package knows neither Echo nor the scheduler: cmd/passd feeds it
//     each request (ObserveRequest) and each job run (ObserveJob).
//
// It imports db.
package metrics
