package hids

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
)

// BenchmarkParse: generated alerts (the gen mix), parsed from an uncompressed object.
func BenchmarkParse(b *testing.B) {
	var mu sync.Mutex
	var buf bytes.Buffer
	n, err := generate(source.GenConfig{Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), Days: 1, Accounts: []string{"111122223333"},
		Regions: []string{"us-east-1"}, Seed: 1, PerDay: 2000}, func(_ string, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		buf.Write(gunzip(b, body))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for range b.N {
		if _, err := Parse(bytes.NewReader(in), Options{Key: "k"}, func(*Alert) error { return nil }, func(int64, string, []byte) { b.Fatal("bad") }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}
