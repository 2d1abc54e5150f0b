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
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			// Many concurrent acquirers: exactly one wins.
			var wg sync.WaitGroup
			var mu sync.Mutex
			var winners []*lake.Lease
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					le, err := l.AcquireLease(ctx, "scheduler", "runner", 10*time.Minute, t0)
					if err == nil {
						mu.Lock()
						winners = append(winners, le)
						mu.Unlock()
					} else if !errors.Is(err, lake.ErrLeaseHeld) {
						t.Error(err)
					}
				}(i)
			}
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("%d runners hold the lease, want 1", len(winners))
			}
			held := winners[0]
			if err := held.Renew(ctx, 10*time.Minute, t0.Add(5*time.Minute)); err != nil {
				t.Fatalf("renew: %v", err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "b", time.Minute, t0.Add(12*time.Minute)); !errors.Is(err, lake.ErrLeaseHeld) {
				t.Fatalf("renewed lease taken over before expiry: %v", err)
			}
			// The holder crashes: after expiry another runner takes over, and the old holder cannot renew.
			b, err := l.AcquireLease(ctx, "scheduler", "b", time.Minute, t0.Add(16*time.Minute))
			if err != nil {
				t.Fatalf("expired lease not taken over: %v", err)
			}
			if err := held.Renew(ctx, time.Minute, t0.Add(16*time.Minute)); !errors.Is(err, lake.ErrLeaseHeld) {
				t.Fatalf("stale holder renewed a lease it lost: %v", err)
			}
			if err := b.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "c", time.Minute, t0.Add(16*time.Minute)); err != nil {
				t.Fatalf("released lease not available: %v", err)
			}
		})
	}
}
