package main

import (
	"math"
	"slices"
	"time"
)

// Latency is the exact distribution of one run's latencies: every latency
// is kept and sorted, none estimated from buckets.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize sorts lat in place and reads its percentiles.
func summarize(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return Latency{
		Count: len(lat),
		Mean:  ms(sum / time.Duration(len(lat))),
		P50:   ms(percentile(lat, 50)),
		P95:   ms(percentile(lat, 95)),
		P99:   ms(percentile(lat, 99)),
		Max:   ms(lat[len(lat)-1]),
	}
}

// percentile is the nearest-rank percentile of sorted (ascending): the
// smallest value such that at least p % of the values are at or below
// it. It is always one of the values measured, never an interpolation.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
