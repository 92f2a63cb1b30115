package scheduler

import (
	"context"
	"errors"
	"sync"
	"testing"

	"passd/db"
	"passd/db/dbtest"
)

// TestEachConventionRunsItsOwnJobAndOneFailureStopsNoOther: on a deployment
// of two conventions, a scheduled job runs once for each, in its
// convention, each run recorded in its own; the first convention's failure
// is its run's error and the second still runs.
func TestEachConventionRunsItsOwnJobAndOneFailureStopsNoOther(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	owner := dbtest.Owner(t, url)
	ctx := context.Background()
	var second int64
	if err := owner.QueryRow(ctx, `SELECT passd_tenant_create('Ville B')`).Scan(&second); err != nil {
		t.Fatal(err)
	}
	pool := db.NewPool(dbtest.App(t, url).Pool) // the server's: bound to no convention
	var mu sync.Mutex
	ran := map[int64]int{}
	s := newScheduler(t, pool, &recorder{}, []Job{{Name: "sweep", Schedule: farFuture, Run: func(ctx context.Context) (int64, error) {
		tenant, ok := db.TenantOf(ctx)
		mu.Lock()
		ran[tenant]++
		mu.Unlock()
		if !ok {
			return 0, errors.New("a run with no convention")
		}
		if tenant == dbtest.Convention {
			return 0, errors.New("the first convention's database is away")
		}
		// The job's statements act in its convention.
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM settings`).Scan(&n); err != nil || n != 1 {
			return 0, errors.Join(err, errors.New("the job does not see its convention's one settings row"))
		}
		return 7, nil
	}}})
	s.Start(ctx)
	counts := func(tenant int64) (runs, failed int64) {
		if err := owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE error IS NOT NULL) FROM job_runs
			WHERE tenant_id = $1 AND finished_at IS NOT NULL`, tenant).Scan(&runs, &failed); err != nil {
			t.Fatal(err)
		}
		return runs, failed
	}
	waitFor(t, "the start-up run of both conventions", func() bool {
		a, _ := counts(dbtest.Convention)
		b, _ := counts(second)
		return a == 1 && b == 1
	})
	if runs, failed := counts(dbtest.Convention); runs != 1 || failed != 1 {
		t.Errorf("convention 1: %d runs, %d failed; want its one run, failed", runs, failed)
	}
	var rows int64
	var runErr *string
	if err := owner.QueryRow(ctx, `SELECT rows, error FROM job_runs WHERE tenant_id = $1`, second).Scan(&rows, &runErr); err != nil {
		t.Fatal(err)
	}
	if rows != 7 || runErr != nil {
		t.Errorf("convention %d's run: %d rows, error %v; want 7 and none", second, rows, runErr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 2 || ran[dbtest.Convention] != 1 || ran[second] != 1 {
		t.Errorf("runs by convention: %v; want one for each of the two", ran)
	}
	// Each convention lists its own runs only.
	lister := newScheduler(t, pool.Bind(second), &recorder{}, []Job{{Name: "sweep", Schedule: farFuture,
		Run: func(context.Context) (int64, error) { return 0, nil }}})
	if runs := mustRuns(t, lister, ""); len(runs) != 1 || runs[0].Tenant != second {
		t.Errorf("convention %d lists %+v; want its one run", second, runs)
	}
}
