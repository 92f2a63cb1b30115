package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottleRefusesAnAddressAfterTooManyFailuresUntilTheWindowPasses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{FailureLimit: 3, Window: time.Minute, Now: func() time.Time { return now }})
	for i := range 3 {
		if wait := th.Wait("203.0.113.5"); wait != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i, wait)
		}
		th.Failed("203.0.113.5")
		now = now.Add(10 * time.Second)
	}
	// The window began at the first failure, 30 s ago.
	if wait := th.Wait("203.0.113.5"); wait != 30*time.Second {
		t.Fatalf("after 3 failures: wait %v, want 30s", wait)
	}
	if wait := th.Wait("203.0.113.6"); wait != 0 {
		t.Fatalf("another address waits %v", wait)
	}
	now = now.Add(29 * time.Second)
	if wait := th.Wait("203.0.113.5"); wait != time.Second {
		t.Fatalf("a second before the end: wait %v", wait)
	}
	now = now.Add(time.Second)
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("once the window passed: wait %v, want none", wait)
	}
	// A new window: the count starts again.
	th.Failed("203.0.113.5")
	th.Failed("203.0.113.5")
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("two failures in a new window: wait %v", wait)
	}
	// A clock set back before the window began ends it.
	th.Failed("203.0.113.5")
	now = now.Add(-time.Hour)
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("clock set back: wait %v", wait)
	}
}

func TestThrottleCountsAnIPv6ClientByItsSlash64(t *testing.T) {
	t.Parallel()
	th := NewThrottle(ThrottleConfig{FailureLimit: 2})
	th.Failed("2001:db8:1:2::1")
	th.Failed("2001:db8:1:2:ffff::9")
	if th.Wait("2001:db8:1:2::abcd") == 0 {
		t.Error("another address of the same /64 is not refused")
	}
	if th.Wait("2001:db8:1:3::1") != 0 {
		t.Error("another /64 is refused")
	}
	th.Failed("::ffff:192.0.2.1")
	th.Failed("192.0.2.1")
	if th.Wait("192.0.2.1") == 0 {
		t.Error("an IPv4 address and its IPv6-mapped form are counted apart")
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{FailureLimit: 1, MaxClients: 100, Now: func() time.Time { return now }})
	th.Failed("192.0.2.1")
	for i := range 10_000 {
		now = now.Add(time.Millisecond)
		th.Failed(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255))
		if n := th.Tracked(); n > 100 {
			t.Fatalf("%d addresses tracked, want at most 100", n)
		}
	}
	// The oldest were forgotten, the most recent are still refused.
	if th.Wait("192.0.2.1") != 0 {
		t.Error("the oldest address is still tracked")
	}
	if th.Wait("10.0.39.15") == 0 {
		t.Error("the last address is not refused")
	}
}
