package scheduler

import (
	"context"
	"testing"

	"passd/db/dbtest"
	"passd/shutdown"
)

// TestStopLetsABatchJobEndItsBatch runs a job that works in batches and is
// in the middle of one when Stop comes: the batch finishes with its context
// intact, no other starts, and the run is recorded as done, without error.
func TestStopLetsABatchJobEndItsBatch(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	inBatch, finishBatch := make(chan struct{}), make(chan struct{})
	var batches int
	var ctxErrInBatch error
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(ctx context.Context) (int64, error) {
			var rows int64
			for !shutdown.Requested(ctx) {
				batches++
				if batches == 1 {
					close(inBatch)
					<-finishBatch
					ctxErrInBatch = ctx.Err()
				}
				rows += 10
			}
			return rows, nil
		}},
	})
	if shutdown.Requested(context.Background()) {
		t.Fatal("shutdown.Requested outside a run = true")
	}
	s.Start(context.Background())
	recv(t, inBatch, "the first batch")

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	// Stop waits for the batch, whose context is not cancelled.
	waitFor(t, "Stop to tell the run", func() bool {
		select {
		case <-s.stopping:
			return true
		default:
			return false
		}
	})
	close(finishBatch)
	if err := recv(t, stopped, "Stop"); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if ctxErrInBatch != nil || batches != 1 {
		t.Fatalf("the batch saw ctx.Err() = %v and %d batch(es) ran; want no cancellation and 1", ctxErrInBatch, batches)
	}
	runs := mustRuns(t, s, "sweep")
	if len(runs) != 1 || runs[0].FinishedAt == nil || runs[0].Rows != 10 || runs[0].Error != nil {
		t.Fatalf("runs = %+v, want one finished run of 10 rows, no error", runs)
	}
}
