package compact

import (
	"bytes"
	"context"
	"io"

	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lakehunt/lakehunt/compact/cloudtrail"
	"github.com/lakehunt/lakehunt/compact/gen"
	"github.com/lakehunt/lakehunt/compact/route53"
	"github.com/lakehunt/lakehunt/lake"
)

// generated parses the objects gen writes for cfg whose keys want picks, sorted by event time as a
// flush sorts them.
func generated[T any](cfg gen.Config, want func(key string) bool, parse func(r io.Reader, key string, emit func(*T) error) error, at func(*T) time.Time) ([]*T, error) {
	var rows []*T
	var mu sync.Mutex
	_, err := gen.Generate(context.Background(), cfg, func(key string, body []byte) error {
		if !want(key) {
			return nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		return parse(zr, key, func(r *T) error { rows = append(rows, r); return nil })
	})
	slices.SortStableFunc(rows, func(a, b *T) int { return at(a).Compare(at(b)) })
	return rows, err
}

var benchCT = sync.OnceValues(func() ([]*lake.CloudTrailEvent, error) {
	return generated(gen.Config{Scale: "custom", Days: 1, Accounts: 1, Regions: 1, Seed: 3, CloudTrailPerDay: 50_000, FlowsPerDay: 1, DNSPerDay: 1},
		func(key string) bool {
			return strings.Contains(key, "/CloudTrail/") && !strings.Contains(key, "Digest")
		},
		func(r io.Reader, key string, emit func(*lake.CloudTrailEvent) error) error {
			_, err := cloudtrail.Parse(r, cloudtrail.Options{Key: key}, emit, nil)
			return err
		},
		func(e *lake.CloudTrailEvent) time.Time { return e.EventTime })
})

var benchR53 = sync.OnceValues(func() ([]*lake.Route53ResolverQuery, error) {
	return generated(gen.Config{Scale: "custom", Days: 1, Accounts: 1, Regions: 1, Seed: 3, CloudTrailPerDay: 1, FlowsPerDay: 1, DNSPerDay: 150_000},
		func(key string) bool { return strings.Contains(key, "/vpcdnsquerylogs/") },
		func(r io.Reader, key string, emit func(*lake.Route53ResolverQuery) error) error {
			_, err := route53.Parse(r, route53.Options{Key: key}, emit, nil)
			return err
		},
		func(q *lake.Route53ResolverQuery) time.Time { return q.EventTime })
})

// BenchmarkWriteCloudTrail encodes generated CloudTrail rows as one Parquet file, as the flusher does;
// it reports the file's bytes per row next to the CPU time.
func BenchmarkWriteCloudTrail(b *testing.B) {
	rows, err := benchCT()
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, rows, newTableBuf(lake.TableCloudTrail,
		func(r *lake.CloudTrailEvent) time.Time { return r.EventTime }, nil, nil, "",
		func(r *lake.CloudTrailEvent) *lake.Lineage { return &r.Lineage }))
}

// BenchmarkWriteRoute53 is BenchmarkWriteCloudTrail for generated Route 53 Resolver query log rows.
func BenchmarkWriteRoute53(b *testing.B) {
	rows, err := benchR53()
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, rows, newTableBuf(lake.TableRoute53Resolver,
		func(r *lake.Route53ResolverQuery) time.Time { return r.EventTime }, nil, nil, "",
		func(r *lake.Route53ResolverQuery) *lake.Lineage { return &r.Lineage }))
}

func benchWrite[T any](b *testing.B, rows []*T, tb *tableBuf[T]) {
	var size int
	b.ResetTimer()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		f := tb.newFile(partKey{"a", "r", "d"})
		for _, r := range rows {
			if err := f.add(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.writeChunk(); err != nil {
			b.Fatal(err)
		}
		if err := f.pw.Close(); err != nil {
			b.Fatal(err)
		}
		size = f.buf.Len()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*len(rows)), "cpu-ns/row")
	b.ReportMetric(float64(size)/float64(len(rows)), "B/row-on-disk")
}

// cpuTime is the process's user+system CPU time: on a shared machine, wall time says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
