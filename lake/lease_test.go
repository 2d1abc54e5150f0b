package lake_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

func TestLeaseIsExclusiveAndExpires(t *testing.T) {
	ctx := context.Background()
	for name, url := range backends(t) {
		t.Run(name, func(t *testing.T) {
			l, err := lake.Open(ctx, url, lake.Options{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			// Many concurrent acquirers, all with the same owner name: exactly one wins.
			var wg sync.WaitGroup
			var mu sync.Mutex
			var winners []*lake.Lease
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					le, err := l.AcquireLease(ctx, "scheduler", "runner", 10*time.Minute)
					if err == nil {
						mu.Lock()
						winners = append(winners, le)
						mu.Unlock()
					} else if !errors.Is(err, lake.ErrLeaseHeld) {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("%d runners hold the lease, want 1", len(winners))
			}
			held := winners[0]
			if err := held.Renew(ctx, 10*time.Minute); err != nil {
				t.Fatalf("renew: %v", err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "runner", time.Minute); !errors.Is(err, lake.ErrLeaseHeld) {
				t.Fatalf("renewed lease taken over before expiry by a runner of the same name: %v", err)
			}
			// The holder stops renewing (it crashed): once the lease expires on the real clock, another
			// runner takes over, and the old holder can neither renew nor release the new holder's lease.
			if err := held.Renew(ctx, 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Until(held.Expires) + 10*time.Millisecond)
			b, err := l.AcquireLease(ctx, "scheduler", "b", time.Minute)
			if err != nil {
				t.Fatalf("expired lease not taken over: %v", err)
			}
			if err := held.Renew(ctx, time.Minute); !errors.Is(err, lake.ErrLeaseHeld) {
				t.Fatalf("stale holder renewed a lease it lost: %v", err)
			}
			if err := held.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if owner, _, expires, err := l.LeaseInfo(ctx, "scheduler"); err != nil || owner != "b" || !time.Now().Before(expires) {
				t.Fatalf("after the stale holder's release: held by %q until %s (%v), want b, unexpired", owner, expires, err)
			}
			if err := b.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "c", time.Minute); err != nil {
				t.Fatalf("released lease not available: %v", err)
			}
		})
	}
}
