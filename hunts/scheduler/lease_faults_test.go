package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// TestLeaseUnderS3Faults: a tick whose lease PUT S3 applied but answered with a 500 holds the lease (it is
// not locked out by itself, and the next tick is not either); a renewal that fails once is tried again
// instead of stopping the tick; and the lease runs on the real clock, not on the tick's --now: status says
// it is held while a tick runs with a --now far in the past.
func TestLeaseUnderS3Faults(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	p := srv.StartFaultProxy(t, 1)
	lk, err := lake.Open(ctx, srv.Bucket(t, "sched-lake")+"lake/", lake.Options{CacheDir: t.TempDir(), Create: true,
		Store: lake.StoreOptions{S3Endpoint: p.URL, S3MaxBackoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2020, 3, 2, 12, 30, 0, 0, time.UTC) // years ago: leases must not care
	w := newWorld(t)
	w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.Add(-2*time.Hour), now.Add(-time.Hour))
	w.deliver(now)
	var heldDuringTick bool
	opts := Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{loadHunt(t, "sched-stoplogging", "")},
		Now: now, Owner: "runner-a", LeaseTTL: 3 * time.Second,
		Publish: func(ctx context.Context, dir string) error {
			rep, err := ReadStatus(ctx, lk, nil, now, 0)
			heldDuringTick = err == nil && rep.Lease != nil && rep.Lease.Held
			// The next renewal (the heartbeat's, every second) cannot read the lease: every attempt fails.
			p.Script(s3test.KindHead, "_lakehunt/leases/", s3test.Fault500, s3test.Fault500, s3test.Fault500, s3test.Fault500, s3test.Fault500)
			time.Sleep(2500 * time.Millisecond)
			return nil
		}}
	p.Script(s3test.KindPut, "_lakehunt/leases/", s3test.Fault500After)
	res, err := Tick(ctx, opts)
	if err != nil || res.Status != StatusOK {
		t.Fatalf("tick with a lost answer to its lease PUT and a failed renewal: %+v, %v", res, err)
	}
	if n := p.Injected()[s3test.Fault500]; n != 5 {
		t.Errorf("%d renewal requests failed, want 5 (one renewal)", n)
	}
	if !heldDuringTick {
		t.Error("status did not show the lease held while a tick with a --now in the past ran")
	}
	p.Script(s3test.KindPut, "_lakehunt/leases/", s3test.Fault500After)
	opts.Publish, opts.Owner = nil, "runner-b"
	if res, err := Tick(ctx, opts); err != nil || res.Status == StatusBusy {
		t.Fatalf("next tick: %+v, %v; the released lease must be free", res, err)
	}
}
