package lake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseHeld means another runner holds an unexpired lease.
var ErrLeaseHeld = errors.New("lease held by another runner")

const leasePrefix = MetaPrefix + "leases/"

// Lease is an exclusive, expiring claim on a name in the lake (e.g. "scheduler"), so that two overlapping
// ticks cannot both run. It is one object, created with If-None-Match and taken over, renewed or released
// with If-Match; a crashed holder's lease simply expires.
//
// Leases run on the real clock (time.Now), whatever time a tick pretends it is. The holder is recognised by
// a random token in the object, not by its owner name: after a write whose answer was lost, the store reads
// the lease back, and a lease holding our token is ours.
type Lease struct {
	lake    *Lake
	key     string
	token   string
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

type leaseBody struct {
	Owner   string    `json:"owner"`
	Token   string    `json:"token,omitempty"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (le *Lease) body(expires time.Time) []byte {
	b, _ := json.Marshal(leaseBody{Owner: le.Owner, Token: le.token, Since: le.Since, Expires: expires.UTC()})
	return b
}

// read returns the lease object as stored and its ETag (ETag first: a body with our token read after it
// means the ETag is of a version we wrote, since only we write our token).
func (l *Lake) readLease(ctx context.Context, key string) (leaseBody, string, error) {
	info, err := l.store.Stat(ctx, key)
	if err != nil {
		return leaseBody{}, "", err
	}
	b, err := ReadAll(ctx, l.store, key)
	if err != nil {
		return leaseBody{}, "", err
	}
	var lb leaseBody
	if err := json.Unmarshal(b, &lb); err != nil {
		lb = leaseBody{} // damaged: treated as expired
	}
	return lb, info.ETag, nil
}

// AcquireLease takes the lease name for owner for ttl from now, or fails with ErrLeaseHeld naming the holder.
func (l *Lake) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (*Lease, error) {
	now := time.Now().UTC()
	le := &Lease{lake: l, key: leasePrefix + name + ".json", token: randomToken(), Owner: owner, Since: now, Expires: now.Add(ttl)}
	for attempt := 0; attempt < 3; attempt++ {
		err := l.store.Create(ctx, le.key, le.body(le.Expires))
		if err == nil {
			return le, nil
		}
		if !errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("acquire lease %s: %w", name, err)
		}
		held, etag, err := l.readLease(ctx, le.key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted in between: try again
		}
		if err != nil {
			return nil, fmt.Errorf("acquire lease %s: %w", name, err)
		}
		if held.Token == le.token {
			return le, nil
		}
		if time.Now().Before(held.Expires) {
			return nil, fmt.Errorf("%w: %s holds %q since %s until %s", ErrLeaseHeld, held.Owner, name, held.Since.Format(time.RFC3339), held.Expires.Format(time.RFC3339))
		}
		// Expired (or unreadable): take it over, but only if nobody else did since we looked.
		if err := l.store.ReplaceIf(ctx, le.key, le.body(le.Expires), etag); err != nil {
			if errors.Is(err, ErrExists) {
				return nil, fmt.Errorf("%w: another runner took over %q first", ErrLeaseHeld, name)
			}
			return nil, fmt.Errorf("acquire lease %s: %w", name, err)
		}
		return le, nil
	}
	return nil, fmt.Errorf("acquire lease %s: it was deleted and recreated under us repeatedly; is something else deleting %s?", name, le.key)
}

// Renew extends a held lease to ttl from now; it fails with ErrLeaseHeld if the lease was lost (it expired
// and another runner took it).
func (le *Lease) Renew(ctx context.Context, ttl time.Duration) error {
	expires := time.Now().Add(ttl).UTC()
	if err := le.replace(ctx, expires); err != nil {
		return err
	}
	le.Expires = expires
	return nil
}

// Release gives the lease up (by expiring it, conditionally, so a lease taken over by another is untouched).
func (le *Lease) Release(ctx context.Context) error {
	err := le.replace(ctx, time.Unix(0, 0))
	if errors.Is(err, ErrLeaseHeld) {
		return nil
	}
	return err
}

// replace rewrites our lease with a new expiry, if it is still ours.
func (le *Lease) replace(ctx context.Context, expires time.Time) error {
	lost := fmt.Errorf("%w: lease %s was lost (it expired and another runner took it)", ErrLeaseHeld, le.key)
	held, etag, err := le.lake.readLease(ctx, le.key)
	if errors.Is(err, ErrNotFound) {
		return lost
	}
	if err != nil {
		return fmt.Errorf("read lease %s: %w", le.key, err)
	}
	if held.Token != le.token {
		return lost
	}
	if err := le.lake.store.ReplaceIf(ctx, le.key, le.body(expires), etag); err != nil {
		if errors.Is(err, ErrExists) {
			return lost
		}
		return fmt.Errorf("write lease %s: %w", le.key, err)
	}
	return nil
}

// LeaseInfo reads who holds a lease and until when, without taking it (for status displays; the lease is
// held while time.Now() is before expires). ErrNotFound if it was never taken.
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
