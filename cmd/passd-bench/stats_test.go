package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p0 is the min", ms(hundred...), 0, 1 * time.Millisecond},
		// 5 values: rank ceil(0.5*5)=3, ceil(0.95*5)=5.
		{"p50 of five", ms(1, 2, 3, 4, 50), 50, 3 * time.Millisecond},
		{"p95 of five is the slowest", ms(1, 2, 3, 4, 50), 95, 50 * time.Millisecond},
		// Never interpolated: p50 of two is the first.
		{"p50 of two", ms(10, 20), 50, 10 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(p%.0f) = %s, want %s", c.name, c.p, got, c.want)
		}
	}
}

func TestSummarizeSortsAndReadsExactly(t *testing.T) {
	t.Parallel()
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	rand.Shuffle(len(lat), func(i, j int) { lat[i], lat[j] = lat[j], lat[i] })
	got := summarize(lat)
	want := Latency{Count: 1000, Mean: 500.5, P50: 500, P95: 950, P99: 990, Max: 1000}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if (summarize(nil) != Latency{}) {
		t.Fatal("summarize(nil) is not zero")
	}
}

func TestMillisecondsKeepTheMicrosecond(t *testing.T) {
	t.Parallel()
	if got := ms(1234567 * time.Nanosecond); got != 1.235 {
		t.Fatalf("ms(1.234567ms) = %v, want 1.235", got)
	}
}
