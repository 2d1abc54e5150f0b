package lake_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// faultyStore opens a fresh bucket through a fault-injecting proxy; direct is the same bucket without it.
func faultyStore(t *testing.T) (st, direct lake.Store, p *s3test.FaultProxy) {
	t.Helper()
	ctx := context.Background()
	srv := s3test.Start(t)
	url := srv.Bucket(t, "faults") + "lake/"
	p = srv.StartFaultProxy(t, 1)
	st, err := lake.OpenStore(ctx, url, lake.StoreOptions{S3Endpoint: p.URL, S3MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	direct, err = lake.OpenStore(ctx, url, lake.StoreOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return st, direct, p
}

// TestBrokenBodiesAreFetchedAgain: a body cut short or a connection reset while reading is not the
// object's end. The reader fetches the rest and returns the object exactly, or fails with an error; it
// never returns part of an object as if it were all of it.
func TestBrokenBodiesAreFetchedAgain(t *testing.T) {
	ctx := context.Background()
	st, _, p := faultyStore(t)
	want := make([]byte, 3<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(want)
	if err := lake.PutBytes(ctx, st, "raw/object.bin", want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		faults  []s3test.Fault
		wantErr bool
	}{
		{"truncated once", []s3test.Fault{s3test.FaultTruncate}, false},
		{"truncated on every re-fetch", []s3test.Fault{s3test.FaultTruncate, s3test.FaultTruncate, s3test.FaultTruncate, s3test.FaultTruncate, s3test.FaultTruncate, s3test.FaultTruncate}, false},
		{"reset and 503s", []s3test.Fault{s3test.FaultReset, s3test.Fault503, s3test.FaultTruncate, s3test.Fault500, s3test.FaultReset}, false},
		{"truncated, then every request fails", append([]s3test.Fault{s3test.FaultTruncate}, repeat(s3test.Fault500, 40)...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Script(s3test.KindGet, "raw/object.bin", tc.faults...)
			before := p.InjectedTotal()
			got, err := lake.ReadAll(ctx, st, "raw/object.bin")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("read %d bytes and no error although every re-fetch failed", len(got))
				}
				t.Logf("error: %v", err)
			} else if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d of %d bytes (equal: %v), error %v", len(got), len(want), bytes.Equal(got, want), err)
			}
			if p.InjectedTotal() == before {
				t.Fatal("no fault was injected")
			}
		})
		p.ClearScript() // what a failing case left over
	}
}

// TestBrokenListPagesAreFetchedAgain: a listing page cut short is asked for again, not taken for an error
// (or for the end of the listing).
func TestBrokenListPagesAreFetchedAgain(t *testing.T) {
	ctx := context.Background()
	st, _, p := faultyStore(t)
	for _, k := range []string{"a/1", "a/2", "a/3"} {
		if err := lake.PutBytes(ctx, st, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []s3test.Fault{s3test.FaultTruncate, s3test.FaultReset, s3test.Fault500After, s3test.Fault503} {
		p.Script(s3test.KindList, "", f, f)
		var keys []string
		err := st.List(ctx, "a/", func(o lake.ObjectInfo) error { keys = append(keys, o.Key); return nil })
		if err != nil || len(keys) != 3 {
			t.Errorf("listing with %s twice: %v, %v", f, keys, err)
		}
	}
	if p.InjectedTotal() != 8 {
		t.Errorf("%d faults injected, want 8", p.InjectedTotal())
	}
}

func repeat(f s3test.Fault, n int) []s3test.Fault {
	out := make([]s3test.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// TestLostAnswersToConditionalWrites: S3 applies a conditional PUT (a commit, a lease) and the answer is
// lost (a 500 after applying, a reset), so the SDK retries and gets 412 or gives up. The write is ours:
// reading it back says so. A commit that landed is not reported as a conflict, a lease that landed is held.
func TestLostAnswersToConditionalWrites(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		faults []s3test.Fault
	}{
		{"500 after applying, SDK retry gets 412", []s3test.Fault{s3test.Fault500After}},
		{"reset after applying", []s3test.Fault{s3test.FaultReset}},
		{"every attempt answered 500", repeat(s3test.Fault500After, 5)},
		{"503 then 500 after applying", []s3test.Fault{s3test.Fault503, s3test.Fault500After}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, direct, p := faultyStore(t)
			l := lake.OpenWithStore(st, t.TempDir())

			p.Script(s3test.KindPut, "_lakehunt/log/", tc.faults...)
			snap, err := l.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fe := lake.FileEntry{Table: lake.TableCloudTrail, Key: "cloudtrail/a.parquet", Rows: 1}
			next, err := l.Commit(ctx, snap, lake.Commit{Operation: "test", Add: []lake.FileEntry{fe}})
			if err != nil {
				t.Fatalf("commit whose answer was lost: %v", err)
			}
			if p.InjectedTotal() == 0 {
				t.Fatal("no fault was injected")
			}
			if _, err := l.Commit(ctx, next, lake.Commit{Operation: "test", Add: []lake.FileEntry{{Table: lake.TableCloudTrail, Key: "cloudtrail/b.parquet", Rows: 1}}}); err != nil {
				t.Fatal(err)
			}
			got, err := lake.OpenWithStore(direct, t.TempDir()).Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || len(got.Files) != 2 {
				t.Fatalf("lake at version %d with %d files, want 2 and 2 (each commit once)", got.Version, len(got.Files))
			}

			// The lease: taken although the answer was lost, so the tick is not locked out by itself.
			p.Script(s3test.KindPut, "_lakehunt/leases/", tc.faults...)
			le, err := l.AcquireLease(ctx, "scheduler", "runner-a", time.Hour)
			if err != nil {
				t.Fatalf("lease whose answer was lost: %v", err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "runner-a", time.Hour); !errors.Is(err, lake.ErrLeaseHeld) {
				t.Fatalf("a second runner took a held lease: %v", err)
			}
			p.Script(s3test.KindPut, "_lakehunt/leases/", tc.faults...)
			if err := le.Renew(ctx, time.Hour); err != nil {
				t.Fatalf("renewal whose answer was lost: %v", err)
			}
			p.Script(s3test.KindPut, "_lakehunt/leases/", tc.faults...)
			if err := le.Release(ctx); err != nil {
				t.Fatalf("release whose answer was lost: %v", err)
			}
			if _, err := l.AcquireLease(ctx, "scheduler", "runner-b", time.Hour); err != nil {
				t.Fatalf("lease not free after its release: %v", err)
			}
		})
	}
}

// TestConflictIsStillAConflict: another writer's commit at the same version is a conflict even when
// the answer to ours was lost: the read-back shows somebody else's commit.
func TestConflictIsStillAConflict(t *testing.T) {
	ctx := context.Background()
	st, direct, p := faultyStore(t)
	l := lake.OpenWithStore(st, t.TempDir())
	base, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := lake.OpenWithStore(direct, t.TempDir())
	if _, err := other.Commit(ctx, base, lake.Commit{Operation: "test", Add: []lake.FileEntry{{Table: lake.TableCloudTrail, Key: "cloudtrail/other.parquet", Rows: 1}}}); err != nil {
		t.Fatal(err)
	}
	// Ours removes a file the other writer's commit does not have: it cannot be rebased.
	p.Script(s3test.KindPut, "_lakehunt/log/", s3test.Fault500After)
	_, err = l.Commit(ctx, base, lake.Commit{Operation: "test", Remove: []string{"cloudtrail/gone.parquet"}})
	if !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("commit on a version another writer holds: %v, want ErrConflict", err)
	}
	snap, err := other.Snapshot(ctx)
	if err != nil || snap.Version != 1 {
		t.Fatalf("lake at version %d (%v), want 1", snap.Version, err)
	}
}
