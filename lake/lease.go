package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseHeld means another runner holds an unexpired lease.
var ErrLeaseHeld = errors.New("lease held by another runner")

const leasePrefix = MetaPrefix + "leases/"

// Lease is an exclusive, expiring claim on a name in the lake (e.g. "scheduler"), so that two overlapping
// ticks cannot both run. It is one object, created with If-None-Match and taken over or renewed with
// If-Match; a crashed holder's lease simply expires.
type Lease struct {
	lake    *Lake
	key     string
	etag    string
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

type leaseBody struct {
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// currentETag reads the ETag of the lease just written. It is not computed from the body: with SSE-KMS
// an ETag is not the MD5. Nobody can replace a freshly written, unexpired lease in between.
func (l *Lake) currentETag(ctx context.Context, key string) (string, error) {
	info, err := l.store.Stat(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read back lease %s: %w", key, err)
	}
	return info.ETag, nil
}

// AcquireLease takes the lease name for owner until now+ttl, or fails with ErrLeaseHeld naming the holder.
func (l *Lake) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (*Lease, error) {
	key := leasePrefix + name + ".json"
	body, _ := json.Marshal(leaseBody{Owner: owner, Since: now.UTC(), Expires: now.Add(ttl).UTC()})
	le := &Lease{lake: l, key: key, Owner: owner, Since: now.UTC(), Expires: now.Add(ttl).UTC()}
	err := l.store.Create(ctx, key, body)
	if err == nil {
		le.etag, err = l.currentETag(ctx, key)
		return le, err
	}
	if !errors.Is(err, ErrExists) {
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	info, err := l.store.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return l.AcquireLease(ctx, name, owner, ttl, now) // released in between: try again
	}
	if err != nil {
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	cur, err := ReadAll(ctx, l.store, key)
	if err != nil {
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	var held leaseBody
	if json.Unmarshal(cur, &held) == nil && now.Before(held.Expires) {
		return nil, fmt.Errorf("%w: %s holds %q since %s until %s", ErrLeaseHeld, held.Owner, name, held.Since.Format(time.RFC3339), held.Expires.Format(time.RFC3339))
	}
	// Expired (or unreadable): take it over, but only if nobody else did since we looked.
	if err := l.store.ReplaceIf(ctx, key, body, info.ETag); err != nil {
		if errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("%w: another runner took over %q first", ErrLeaseHeld, name)
		}
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	le.etag, err = l.currentETag(ctx, key)
	return le, err
}

// Renew extends a held lease; it fails if the lease was lost (expired and taken over).
func (le *Lease) Renew(ctx context.Context, ttl time.Duration, now time.Time) error {
	body, _ := json.Marshal(leaseBody{Owner: le.Owner, Since: le.Since, Expires: now.Add(ttl).UTC()})
	if err := le.lake.store.ReplaceIf(ctx, le.key, body, le.etag); err != nil {
		if errors.Is(err, ErrExists) {
			return fmt.Errorf("%w: lease %s was lost (it expired and another runner took it)", ErrLeaseHeld, le.key)
		}
		return err
	}
	etag, err := le.lake.currentETag(ctx, le.key)
	if err != nil {
		return err
	}
	le.etag, le.Expires = etag, now.Add(ttl).UTC()
	return nil
}

// Release gives the lease up (by expiring it, conditionally, so a lease taken over by another is untouched).
func (le *Lease) Release(ctx context.Context) error {
	body, _ := json.Marshal(leaseBody{Owner: le.Owner, Since: le.Since, Expires: time.Unix(0, 0).UTC()})
	if err := le.lake.store.ReplaceIf(ctx, le.key, body, le.etag); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	return nil
}

// LeaseInfo reads who holds a lease and until when, without taking it (for status displays).
// ErrNotFound if it was never taken.
func (l *Lake) LeaseInfo(ctx context.Context, name string) (owner string, since, expires time.Time, err error) {
	b, err := ReadAll(ctx, l.store, leasePrefix+name+".json")
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	var lb leaseBody
	if err := json.Unmarshal(b, &lb); err != nil {
		return "", time.Time{}, time.Time{}, fmt.Errorf("lease %s is damaged: %w", name, err)
	}
	return lb.Owner, lb.Since, lb.Expires, nil
}
