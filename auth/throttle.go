package auth

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Defaults of the throttle of failed authentications: ten failures a
// minute from one address, then that address waits out the minute.
const (
	DefaultFailureLimit  = 10
	DefaultFailureWindow = time.Minute
	DefaultMaxClients    = 10_000
)

// ThrottleConfig tunes a Throttle; zero fields take the defaults.
type ThrottleConfig struct {
	// FailureLimit is how many failed authentications one client address
	// may make in a window before its further failures are answered 429.
	FailureLimit int
	// Window starts at a client's first failure; when it has passed, the
	// client's count starts again from zero.
	Window time.Duration
	// MaxClients bounds the addresses tracked at once, so that a flood of
	// addresses costs bounded memory: beyond it, the address whose last
	// failure is the oldest is forgotten.
	MaxClients int
	Now        func() time.Time
}

// Throttle counts failed authentications per client address and tells
// when an address has failed too often. Guessing tokens is hopeless at 256
// bits; the throttle makes a client that tries visible (429s from its
// address) and tells it to wait (Retry-After). It never refuses a token
// that authenticates (Middleware): one address is often many people.
//
// Hand-written (a map and a list from the standard library): the rate
// limiters at hand (golang.org/x/time/rate, Echo's RateLimiter) count
// every request rather than failures, and do not bound their memory by a
// number of clients.
type Throttle struct {
	cfg     ThrottleConfig
	mu      sync.Mutex
	clients map[string]*list.Element // of *failures
	byLast  *list.List               // least recent failure at the front
}

type failures struct {
	key   string
	since time.Time
	count int
}

// NewThrottle returns a throttle with cfg's limits.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.FailureLimit <= 0 {
		cfg.FailureLimit = DefaultFailureLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultFailureWindow
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{cfg: cfg, clients: map[string]*list.Element{}, byLast: list.New()}
}

// clientKey is what failures are counted by: the address, or for IPv6 its
// /64, which one client typically holds whole.
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		prefix, err := ip.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return ip.String()
}

// Wait returns how long the client at addr must wait before a failed
// authentication of its own is answered 401 again rather than 429; zero
// when it has not failed too often.
func (t *Throttle) Wait(addr string) time.Duration {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.clients[clientKey(addr)]
	if !ok {
		return 0
	}
	f := el.Value.(*failures)
	if t.expired(f, now) {
		t.forget(el)
		return 0
	}
	if f.count < t.cfg.FailureLimit {
		return 0
	}
	return f.since.Add(t.cfg.Window).Sub(now)
}

// Failed counts one failed authentication of the client at addr.
func (t *Throttle) Failed(addr string) {
	now := t.cfg.Now()
	key := clientKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.clients[key]; ok {
		f := el.Value.(*failures)
		if t.expired(f, now) {
			f.since, f.count = now, 0
		}
		f.count++
		t.byLast.MoveToBack(el)
		return
	}
	for len(t.clients) >= t.cfg.MaxClients {
		t.forget(t.byLast.Front())
	}
	t.clients[key] = t.byLast.PushBack(&failures{key: key, since: now, count: 1})
}

// expired reports whether f's window is over. A clock that went back
// before the window began ends it too, rather than stretching it.
func (t *Throttle) expired(f *failures, now time.Time) bool {
	return !now.Before(f.since.Add(t.cfg.Window)) || now.Before(f.since)
}

func (t *Throttle) forget(el *list.Element) {
	delete(t.clients, el.Value.(*failures).key)
	t.byLast.Remove(el)
}

// Tracked returns how many client addresses the throttle holds.
func (t *Throttle) Tracked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients)
}
