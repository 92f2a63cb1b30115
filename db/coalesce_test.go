package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"passd/db"
)

// item is one call: its convention, and the group that ran it.
type item struct {
	tenant int64
	ran    chan int // the size of the group that ran it
}

// TestCoalescerGroupsWhatWaitsAndNeverMixesConventions: two calls run at
// once, alone; what comes while they run waits and runs in groups of at
// most maxGroup, each of one convention; every call is answered once.
func TestCoalescerGroupsWhatWaitsAndNeverMixesConventions(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var groups [][]*item
	c := db.NewCoalescer(4, 2, func(ctx context.Context, group []*item) {
		tenant, ok := db.TenantOf(ctx)
		mu.Lock()
		groups = append(groups, group)
		mu.Unlock()
		<-release
		for _, it := range group {
			if !ok || tenant != it.tenant {
				t.Errorf("an item of convention %d ran in convention %d", it.tenant, tenant)
			}
			it.ran <- len(group)
		}
	})
	var wg sync.WaitGroup
	add := func(tenant int64) *item {
		it := &item{tenant: tenant, ran: make(chan int, 2)}
		wg.Go(func() { c.Add(context.Background(), tenant, it) })
		return it
	}
	running := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(groups) == n }
	}
	leaders := []*item{add(1)}
	waitTrue(t, running(1))
	leaders = append(leaders, add(1))
	waitTrue(t, running(2))
	other := add(2) // another convention runs at once, whatever convention 1 does
	waitTrue(t, running(3))
	var queued []*item
	for range 6 {
		queued = append(queued, add(1))
	}
	waitTrue(t, func() bool { return c.Waiting() == 6 })
	close(release)
	wg.Wait()

	for _, it := range append(leaders, other) {
		if n := <-it.ran; n != 1 {
			t.Errorf("a call that found a free turn ran in a group of %d, want alone", n)
		}
	}
	for _, it := range queued {
		if n := <-it.ran; n < 2 || n > 4 {
			t.Errorf("a queued call ran in a group of %d, want 2 to 4", n)
		}
	}
	waitTrue(t, func() bool { return c.Waiting() == 0 })
	for _, it := range append(append(leaders, other), queued...) {
		select {
		case <-it.ran:
			t.Error("a call was answered twice")
		default:
		}
	}
}

func waitTrue(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("waited 10 s")
		}
	}
}
