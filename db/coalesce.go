package db

import (
	"context"
	"slices"
	"sync"
)

// Coalescer runs together the calls of one convention that arrive while
// earlier ones are in flight: the hot path's statements (a burst of
// pharmacy invoices) cost PostgreSQL a round trip, a transaction and, for
// a write, a WAL flush each, more than the rows they touch; in a group
// they share them. A call that finds fewer than inFlight groups running
// runs at once, alone, so a lone client waits for no one.
//
// Items carry their own answer (a channel): run must answer every item of
// the group it is given, whatever happens.
type Coalescer[T any] struct {
	run      func(ctx context.Context, group []T)
	maxGroup int
	inFlight int

	mu      sync.Mutex
	tenants map[int64]*coalesceQueue[T]
}

// coalesceQueue is one convention's waiting items: a transaction acts in
// one convention, so groups never mix them.
type coalesceQueue[T any] struct {
	waiting []T
	running int
}

// NewCoalescer returns a coalescer whose groups hold at most maxGroup
// items, at most inFlight of them running at once per convention, each
// run by run with a context acting in its convention and cancelled by no
// request (a group outlives the request that leads it: run bounds it).
func NewCoalescer[T any](maxGroup, inFlight int, run func(ctx context.Context, group []T)) *Coalescer[T] {
	return &Coalescer[T]{run: run, maxGroup: maxGroup, inFlight: inFlight, tenants: map[int64]*coalesceQueue[T]{}}
}

// Add queues item in tenant's convention. When fewer than inFlight groups
// run, the caller runs the next group itself (its item among them, unless
// more than a group was waiting) before Add returns, and leaves what
// queued meanwhile to a goroutine of its own, so that it is not kept from
// its answer. Otherwise Add returns at once and item is answered by
// whichever group takes it.
func (c *Coalescer[T]) Add(ctx context.Context, tenant int64, item T) {
	c.mu.Lock()
	q := c.tenants[tenant]
	if q == nil {
		q = &coalesceQueue[T]{}
		c.tenants[tenant] = q
	}
	q.waiting = append(q.waiting, item)
	var group []T
	if q.running < c.inFlight {
		q.running++
		group = c.take(q)
	}
	c.mu.Unlock()
	if group == nil {
		return
	}
	gctx := WithTenant(context.WithoutCancel(ctx), tenant)
	c.run(gctx, group)
	if next := c.next(tenant); next != nil {
		go c.drain(gctx, tenant, next)
	}
}

// take removes the next group from q; the caller holds c.mu.
func (c *Coalescer[T]) take(q *coalesceQueue[T]) []T {
	n := min(len(q.waiting), c.maxGroup)
	group := slices.Clone(q.waiting[:n])
	q.waiting = slices.Delete(q.waiting, 0, n)
	return group
}

// next takes tenant's next group or, with none waiting, ends the caller's
// turn.
func (c *Coalescer[T]) next(tenant int64) []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.tenants[tenant]
	if len(q.waiting) == 0 {
		q.running--
		if q.running == 0 {
			delete(c.tenants, tenant)
		}
		return nil
	}
	return c.take(q)
}

func (c *Coalescer[T]) drain(ctx context.Context, tenant int64, group []T) {
	for ; group != nil; group = c.next(tenant) {
		c.run(ctx, group)
	}
}

// Waiting is how many items wait for a group, in every convention.
func (c *Coalescer[T]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, q := range c.tenants {
		n += len(q.waiting)
	}
	return n
}
