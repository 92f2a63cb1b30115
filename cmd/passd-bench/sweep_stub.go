package main

// Compile-only stand-ins for the sweep seeding and raw-SQL equivalents,
// which land in sweep.go; this file goes when that one arrives.

import (
	"context"
	"errors"
)

var errSweepNotHere = errors.New("passd-bench: the sweep seeding (cmd/passd-bench/sweep.go) is not in this build")

func seedSweep(ctx context.Context, ownerURL string, n, opened int) (int64, error) {
	return 0, errSweepNotHere
}

func rawSweep(ctx context.Context, ownerURL, job string) (int64, error) {
	return 0, errSweepNotHere
}

func sweepSummary(ctx context.Context, ownerURL string) (map[string]string, error) {
	return nil, errSweepNotHere
}

func seedPayoutBatch(ctx context.Context, ownerURL string, n int) (int64, error) {
	return 0, errSweepNotHere
}
