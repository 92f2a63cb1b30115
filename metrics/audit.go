package metrics

import (
	"context"
	"passd/db"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type auditCollector struct {
	pool              *db.Pool
	unsealed, waiting *prometheus.Desc
}

// NewAuditCollector reports the audit rows still awaiting their seal
// (audit.RunSealer chains them a moment after their commit): a count that
// grows, or an oldest row that ages, says the sealer is stuck or gone, and
// that those rows are not yet tamper-evident. The partial index on unsealed
// rows makes the read as small as the backlog.
func NewAuditCollector(pool *db.Pool) prometheus.Collector {
	return &auditCollector{
		pool: pool,
		unsealed: prometheus.NewDesc("passd_audit_rows_unsealed",
			"Audit rows committed but not yet chained by the sealer.", []string{"convention"}, nil),
		waiting: prometheus.NewDesc("passd_audit_oldest_unsealed_age_seconds",
			"How long the oldest unsealed audit row has waited for its seal; 0 when none waits.", []string{"convention"}, nil),
	}
}

func (c *auditCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.unsealed
	ch <- c.waiting
}

func (c *auditCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	tenants, err := c.pool.Tenants(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.unsealed, err)
		ch <- prometheus.NewInvalidMetric(c.waiting, err)
		return
	}
	// Each convention's chain is sealed apart: each its own backlog.
	for _, t := range tenants {
		var n int64
		var age float64
		err := c.pool.QueryRow(db.WithTenant(ctx, t), `SELECT count(*), coalesce(extract(epoch FROM now() - min(at)), 0)::float8
			FROM audit_log WHERE chain_seq IS NULL AND tenant_id = passd_tenant()`).Scan(&n, &age)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.unsealed, err)
			ch <- prometheus.NewInvalidMetric(c.waiting, err)
			return
		}
		convention := strconv.FormatInt(t, 10)
		ch <- prometheus.MustNewConstMetric(c.unsealed, prometheus.GaugeValue, float64(n), convention)
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, max(age, 0), convention)
	}
}
