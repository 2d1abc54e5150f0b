package gen

import (
	"context"
	"sync/atomic"
	"testing"
)

// BenchmarkGenerate measures generation alone (the sink discards): go test -bench Generate -benchtime 1x ./compact/gen
func BenchmarkGenerate(b *testing.B) {
	for _, scale := range []string{"tiny", "small"} {
		b.Run(scale, func(b *testing.B) {
			var bytes atomic.Int64
			var sum *Summary
			for i := 0; i < b.N; i++ {
				var err error
				sum, err = Generate(context.Background(), Config{Scale: scale, Seed: int64(i)}, func(_ string, body []byte) error {
					bytes.Add(int64(len(body)))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(bytes.Load())/secs/1e6, "gzMB/s")
			b.ReportMetric(float64(sum.Events[tableCloudTrail]+sum.Events[tableVPCFlow]+sum.Events[tableRoute53])*float64(b.N)/secs, "records/s")
		})
	}
}
