package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"passd/db"
)

// Rows are appended unsealed and chained afterwards (migration 00007):
// inserting takes no lock, so audited writes commit side by side instead
// of taking turns on the chain's head until each one's commit is flushed.
// The SQL function audit_seal chains the committed unsealed rows in id
// order after the head, one sealer at a time (the others return 0 at
// once), and passd serve runs it through RunSealer.

const (
	// SealInterval is how often passd serve looks for unsealed rows. It
	// bounds how long a committed row stays outside the chain, the window
	// in which the owner could delete it without a trace; a call that finds
	// nothing costs one index probe.
	SealInterval = 200 * time.Millisecond
	// SealBatch is how many rows one audit_seal call chains, in one
	// transaction: enough to amortise the round trip and the UPDATE, few
	// enough that the call holds its locks for tens of milliseconds, and
	// more than the rows even a sweep appends in one interval.
	SealBatch = 5000
)

// Seal chains up to maxRows committed unsealed rows after the chain's head
// and returns how many it sealed: 0 when none is waiting or another sealer
// holds the head. Run it outside a transaction, or in a READ COMMITTED
// one.
func Seal(ctx context.Context, q db.DBTX, maxRows int) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT audit_seal($1)`, maxRows).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: seal: %w", err)
	}
	return n, nil
}

// SealPending seals batch after batch until one is not full, and returns
// how many rows it sealed: every row committed before it started, unless
// another sealer holds the head (which then seals them).
func SealPending(ctx context.Context, q db.DBTX, batch int) (int64, error) {
	var total int64
	for {
		n, err := Seal(ctx, q, batch)
		total += int64(n)
		if err != nil || n < batch {
			return total, err
		}
	}
}

// SealAll is SealPending for each convention of the pool (every one, or
// the one it is bound to): each keeps its own chain.
func SealAll(ctx context.Context, p *db.Pool, batch int) (int64, error) {
	tenants, err := p.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tenants {
		n, err := SealPending(db.WithTenant(ctx, t), p, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("audit: seal convention %d: %w", t, err)
		}
	}
	return total, nil
}

// sealTimeout bounds one audit_seal call of RunSealer, which is not cut by
// the end of its context.
const sealTimeout = 30 * time.Second

// RunSealer seals pending rows every interval until ctx ends, then
// returns. A batch under way when ctx ends is let finish: cut, it would
// hold the head a moment longer, and a last SealPending run just after
// would find it locked and seal nothing. Several processes may run it on
// one database. A failure (the database away) is logged once, and its end
// once, not at every tick.
func RunSealer(ctx context.Context, p *db.Pool, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		start := time.Now()
		sealed, err := sealConventions(context.WithoutCancel(ctx), ctx.Err, p)
		switch {
		case err != nil:
			if !failing {
				logger.Error("audit sealer failing; retrying at each interval", "error", err.Error(), "sealed", sealed)
			}
			failing = true
		default:
			if failing {
				logger.Info("audit sealer sealing again", "sealed", sealed)
			}
			failing = false
			if sealed > 0 {
				logger.Debug("audit rows sealed", "sealed", sealed, "duration_ms", time.Since(start).Milliseconds())
			}
		}
	}
}

// sealConventions seals what waits in each convention, batch after batch,
// until stopped says to stop. One convention's failure does not keep the
// next from being sealed; the errors are joined.
func sealConventions(ctx context.Context, stopped func() error, p *db.Pool) (int64, error) {
	tenants, err := p.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	var sealed int64
	var errs error
	for _, t := range tenants {
		tctx := db.WithTenant(ctx, t)
		for stopped() == nil {
			n, err := sealOnce(tctx, p)
			sealed += int64(n)
			if err != nil {
				errs = errors.Join(errs, fmt.Errorf("convention %d: %w", t, err))
			}
			if err != nil || n < SealBatch {
				break
			}
		}
	}
	return sealed, errs
}

func sealOnce(ctx context.Context, q db.DBTX) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, sealTimeout)
	defer cancel()
	return Seal(ctx, q, SealBatch)
}
