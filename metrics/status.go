package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"passd/db"
)

// CompactAbove is how many delta rows of status_counts a scrape tolerates
// before folding them into one row per status. Submissions append one row
// each, so at a thousand invoices a minute a scrape every 15 s finds a few
// hundred.
const CompactAbove = 1000

// statusTimeout bounds the read of the counts (a few rows: milliseconds),
// so that a scrape is answered within about that even when the database
// is out of reach, as the API's requests are (PASSD_REQUEST_TIMEOUT).
const statusTimeout = 2 * time.Second

// StatusCount is how many invoices (Kind "invoice") or payouts ("payout")
// are in Status, and their amount: the invoices' totals, the payouts'
// amounts.
type StatusCount struct {
	Kind   string
	Status string
	N      int64
	Amount decimal.Decimal
}

// ReadStatusCounts sums the deltas of status_counts per kind and status. It
// also returns how many delta rows it summed, which tells when to compact.
func ReadStatusCounts(ctx context.Context, q db.DBTX) (counts []StatusCount, deltas int64, err error) {
	rows, err := q.Query(ctx, `
		SELECT kind, status, sum(n)::bigint, sum(amount), count(*)
		FROM status_counts WHERE tenant_id = passd_tenant()
		GROUP BY kind, status
		ORDER BY kind, status`)
	if err != nil {
		return nil, 0, fmt.Errorf("metrics: read the status counts: %w", err)
	}
	var c StatusCount
	var folded int64
	_, err = pgx.ForEachRow(rows, []any{&c.Kind, &c.Status, &c.N, &c.Amount, &folded}, func() error {
		counts = append(counts, c)
		deltas += folded
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("metrics: read the status counts: %w", err)
	}
	return counts, deltas, nil
}

// CompactStatusCounts folds the deltas into one row per kind and status
// (status_counts_compact, migration 00006) and returns how many it folded:
// 0 when another session was compacting at the same moment.
func CompactStatusCounts(ctx context.Context, q db.DBTX) (int64, error) {
	var folded int64
	if err := q.QueryRow(ctx, `SELECT status_counts_compact()`).Scan(&folded); err != nil {
		return 0, fmt.Errorf("metrics: compact the status counts: %w", err)
	}
	return folded, nil
}

// statusCollector reads the business gauges from status_counts at each
// scrape.
type statusCollector struct {
	pool   *db.Pool
	logger *slog.Logger

	invoices, invoicesAmount, payoutsDue, payoutsDueAmount *prometheus.Desc
}

// NewStatusCollector reports invoices by status (count and amount) and the
// payouts the city owes and has not batched yet (count and amount), from
// status_counts. A failed compaction is logged; the scrape is not failed
// for it.
func NewStatusCollector(pool *db.Pool, logger *slog.Logger) prometheus.Collector {
	return &statusCollector{
		pool:   pool,
		logger: logger,
		invoices: prometheus.NewDesc("passd_invoices",
			"Invoices in each status.", []string{"convention", "status"}, nil),
		invoicesAmount: prometheus.NewDesc("passd_invoices_amount_euros",
			"Sum of the totals of the invoices in each status, in euros.", []string{"convention", "status"}, nil),
		payoutsDue: prometheus.NewDesc("passd_payouts_due",
			"Payouts the city owes that no batch holds yet (status due).", []string{"convention"}, nil),
		payoutsDueAmount: prometheus.NewDesc("passd_payouts_due_amount_euros",
			"Sum of the payouts due, in euros.", []string{"convention"}, nil),
	}
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.invoices
	ch <- c.invoicesAmount
	ch <- c.payoutsDue
	ch <- c.payoutsDueAmount
}

// Collect reports each convention's gauges under its number (the label
// convention): the metrics are the platform's, which runs them all.
func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	tenants, err := c.pool.Tenants(ctx)
	if err != nil {
		for _, d := range []*prometheus.Desc{c.invoices, c.invoicesAmount, c.payoutsDue, c.payoutsDueAmount} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	for _, t := range tenants {
		c.collect(db.WithTenant(ctx, t), strconv.FormatInt(t, 10), ch)
	}
}

func (c *statusCollector) collect(ctx context.Context, convention string, ch chan<- prometheus.Metric) {
	counts, deltas, err := ReadStatusCounts(ctx, c.pool)
	if err != nil {
		for _, d := range []*prometheus.Desc{c.invoices, c.invoicesAmount, c.payoutsDue, c.payoutsDueAmount} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	// Prometheus values are float64: an amount is converted here, for
	// display only. Below 10^13 euros a sum to the cent prints exactly.
	due, dueAmount := int64(0), decimal.Zero
	for _, sc := range counts {
		switch sc.Kind {
		case "invoice":
			ch <- prometheus.MustNewConstMetric(c.invoices, prometheus.GaugeValue, float64(sc.N), convention, sc.Status)
			ch <- prometheus.MustNewConstMetric(c.invoicesAmount, prometheus.GaugeValue, sc.Amount.InexactFloat64(), convention, sc.Status)
		case "payout":
			if sc.Status == "due" {
				due, dueAmount = sc.N, sc.Amount
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.payoutsDue, prometheus.GaugeValue, float64(due), convention)
	ch <- prometheus.MustNewConstMetric(c.payoutsDueAmount, prometheus.GaugeValue, dueAmount.InexactFloat64(), convention)
	if deltas > CompactAbove {
		if _, err := CompactStatusCounts(ctx, c.pool); err != nil {
			c.logger.Error("metrics: compacting the status counts failed", "error", err.Error())
		}
	}
}
