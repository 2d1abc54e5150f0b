package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// benchLake holds 31 days of CloudTrail: eventsPerDay calls a day by 50 principals over 40 APIs.
func benchLake(b *testing.B, eventsPerDay int) *lake.Lake {
	lk := newLake(b)
	start := mustTime("2024-05-01T00:00:00Z")
	for d := 0; d < 31; d++ {
		var events []lake.CloudTrailEvent
		for i := 0; i < eventsPerDay; i++ {
			at := start.AddDate(0, 0, d).Add(time.Duration(i) * 24 * time.Hour / time.Duration(eventsPerDay))
			e := ev(fmt.Sprintf("user%02d", i%50), at.Format(time.RFC3339), "ec2.amazonaws.com",
				fmt.Sprintf("DescribeThing%02d", (i/50)%40), []string{"us-east-1", "eu-west-1"}[i%2], "aws-cli/2.15.0")
			events = append(events, e)
		}
		commitEvents(b, lk, events)
	}
	return lk
}

// BenchmarkDailyRun measures the daily run of cloudtrail-new-behaviour (24h window, 30-day baseline):
// "first-run" summarises all 30 baseline days; "next-day" finds 29 of them in the cache, as the daily
// run after the first one does, and summarises only the newest day.
func BenchmarkDailyRun(b *testing.B) {
	ctx := context.Background()
	lk := benchLake(b, 5000)
	h := libraryHunt(b, "cloudtrail-new-behaviour")
	to := mustTime("2024-06-01T00:00:00Z")
	run := func(cache string) {
		r, _, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, To: to, CacheDir: cache})
		if err != nil || r.FailedCount > 0 {
			b.Fatalf("%v %+v", err, r)
		}
	}
	b.Run("first-run", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cache := b.TempDir()
			run(cache)
		}
	})
	b.Run("next-day", func(b *testing.B) {
		cache := b.TempDir()
		run(cache)
		newest := filepath.Join(cache, "baselines", h.ID, "principal_values")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			// Forget the newest baseline day: yesterday's run had not summarised it yet.
			matches, _ := filepath.Glob(filepath.Join(newest, "2024-05-31-*.parquet"))
			for _, m := range matches {
				os.Remove(m)
			}
			b.StartTimer()
			run(cache)
		}
	})
	b.Run("no-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run("")
		}
	})
}
