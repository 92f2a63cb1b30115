package auth

import (
	"sync"
	"time"
)

// principalCache remembers for a short while who a token's bearer is (see
// WithCache). A nil cache remembers nothing.
type principalCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]cachedPrincipal
}

type cachedPrincipal struct {
	principal Principal
	expiresAt *time.Time // the token's own expiry
	until     time.Time  // when the cache stops trusting the lookup
}

// maxCachedTokens bounds the memory the cache can take; past it the cache
// starts again empty, which costs one lookup per token in use.
const maxCachedTokens = 10_000

func (c *principalCache) get(hash []byte, now time.Time) (Principal, bool) {
	if c == nil {
		return Principal{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[[32]byte(hash)]
	if !ok || !now.Before(e.until) || (e.expiresAt != nil && !now.Before(*e.expiresAt)) {
		return Principal{}, false
	}
	return e.principal, true
}

func (c *principalCache) put(hash []byte, p Principal, expiresAt *time.Time, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
	c.entries[[32]byte(hash)] = cachedPrincipal{principal: p, expiresAt: expiresAt, until: now.Add(c.ttl)}
}

// forget drops every entry: after a revocation, whichever tokens it named.
func (c *principalCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
