package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads the pool's statistics at each scrape: they are
// pgxpool's own counters, so nothing is counted twice or kept here.
type poolCollector struct {
	stat func() *pgxpool.Stat

	total, idle, acquired, constructing, max           *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires, cancelled *prometheus.Desc
	emptyAcquireWait, newConns                         *prometheus.Desc
}

// NewPoolCollector reports the connections of pool (open, idle, in use,
// being opened, the most allowed) and how acquiring them went: how many
// acquisitions, the time they took, how many had to wait for a connection
// (empty) and how many gave up (cancelled). A pool that waits often or
// long is too small for its load.
func NewPoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	return newPoolCollector(pool.Stat)
}

func newPoolCollector(stat func() *pgxpool.Stat) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("passd_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		stat:             stat,
		total:            d("total_conns", "Connections open (idle, in use and being opened)."),
		idle:             d("idle_conns", "Connections open and idle."),
		acquired:         d("acquired_conns", "Connections in use."),
		constructing:     d("constructing_conns", "Connections being opened."),
		max:              d("max_conns", "The most connections the pool opens (pool_max_conns)."),
		acquires:         d("acquires_total", "Connections acquired from the pool."),
		acquireSeconds:   d("acquire_duration_seconds_total", "Time spent acquiring connections, waits included."),
		emptyAcquires:    d("empty_acquires_total", "Acquisitions that found no idle connection and waited for one."),
		cancelled:        d("canceled_acquires_total", "Acquisitions given up (context cancelled or timed out) before a connection came."),
		emptyAcquireWait: d("empty_acquire_wait_seconds_total", "Time spent by acquisitions that found no idle connection."),
		newConns:         d("new_conns_total", "Connections opened since the pool started."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.constructing, c.max,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.cancelled, c.emptyAcquireWait, c.newConns} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.cancelled, float64(s.CanceledAcquireCount()))
	counter(c.emptyAcquireWait, s.EmptyAcquireWaitTime().Seconds())
	counter(c.newConns, float64(s.NewConnsCount()))
}
