package iceberg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	icetable "github.com/apache/iceberg-go/table"

	"github.com/lakehunt/lakehunt/lake"
)

// Expire drops the snapshots that stopped being current before cutoff (a table's current snapshot is
// always kept), deletes the Iceberg files older than cutoff that no kept snapshot needs, and returns the
// data file keys the kept snapshots reference: Vacuum must not delete those.
func (Catalog) Expire(ctx context.Context, l *lake.Lake, cutoff time.Time) (map[string]bool, error) {
	ptr, etag, err := ReadPointer(ctx, l)
	if err != nil || ptr == nil {
		return nil, err
	}
	previous := map[string]bool{}
	for _, k := range ptr.Tables {
		previous[k] = true // readers that just read the old pointer may still load these
	}
	s := newSync(l, ptr)
	for _, name := range sortedKeys(ptr.Tables) {
		st, err := s.table(ctx, name)
		if err != nil {
			return nil, err
		}
		if ids := expired(st.meta, cutoff); len(ids) > 0 {
			b, err := icetable.MetadataBuilderFromBase(st.meta, "")
			if err != nil {
				return nil, err
			}
			if err := b.RemoveSnapshots(ids, false); err != nil {
				return nil, err
			}
			if st.meta, err = b.Build(); err != nil {
				return nil, err
			}
			st.changed = true
		}
	}
	if err := s.publish(ctx, ptr.Version, etag, false); err != nil {
		if errors.Is(err, errSuperseded) {
			return nil, errors.New("a commit landed while vacuum expired Iceberg snapshots; run vacuum again")
		}
		return nil, err
	}
	retained := map[string]bool{}
	for _, name := range sortedKeys(s.tables) {
		st := s.tables[name]
		needed := map[string]bool{s.ptr.Tables[name]: true}
		for _, snap := range st.meta.Snapshots() {
			key, err := keyOf(l, snap.ManifestList)
			if err != nil {
				return nil, err
			}
			needed[key] = true
			mfs, err := s.manifestList(ctx, snap.ManifestList)
			if err != nil {
				return nil, err
			}
			for _, m := range mfs {
				key, err := keyOf(l, m.FilePath())
				if err != nil {
					return nil, err
				}
				if needed[key] {
					continue // shared with another snapshot: read once
				}
				needed[key] = true
				es, err := s.manifestEntries(ctx, m)
				if err != nil {
					return nil, err
				}
				for _, e := range es {
					k, err := keyOf(l, e.DataFile().FilePath())
					if err != nil {
						return nil, err
					}
					retained[k] = true
				}
			}
		}
		var doomed []string
		err := l.Store().List(ctx, name+"/metadata/", func(o lake.ObjectInfo) error {
			if !needed[o.Key] && !previous[o.Key] && o.Modified.Before(cutoff) && isIcebergFile(o.Key) {
				doomed = append(doomed, o.Key)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, k := range doomed {
			if err := l.Store().Delete(ctx, k); err != nil {
				return nil, fmt.Errorf("delete expired Iceberg file %s: %w", k, err)
			}
		}
	}
	return retained, nil
}

func isIcebergFile(key string) bool {
	return strings.HasSuffix(key, ".avro") || strings.HasSuffix(key, ".metadata.json")
}

// expired lists the snapshots whose successor became current before cutoff: no reader started after
// cutoff can be reading them.
func expired(m icetable.Metadata, cutoff time.Time) []int64 {
	snaps := slices.Clone(m.Snapshots())
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].SequenceNumber < snaps[j].SequenceNumber })
	cur := m.CurrentSnapshot()
	var ids []int64
	for i := 0; i+1 < len(snaps); i++ {
		if cur != nil && snaps[i].SnapshotID == cur.SnapshotID {
			continue
		}
		if snaps[i+1].TimestampMs < cutoff.UnixMilli() {
			ids = append(ids, snaps[i].SnapshotID)
		}
	}
	return ids
}
