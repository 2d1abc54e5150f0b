package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
)

// s3Flags are the flags of every command that may touch S3.
type s3Flags struct {
	endpoint string
	region   string
	cacheDir string
}

func (f *s3Flags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.endpoint, "s3-endpoint", "", "S3-compatible endpoint URL, path-style (default: $AWS_ENDPOINT_URL_S3, else AWS)")
	c.Flags().StringVar(&f.region, "s3-region", "", "region for the S3 client (default: from the AWS environment, else us-east-1)")
	c.Flags().StringVar(&f.cacheDir, "cache-dir", "", "local cache for an S3 lake's files (default: the user cache dir + /lakehunt)")
}

func (f *s3Flags) storeOptions() lake.StoreOptions {
	return lake.StoreOptions{S3Endpoint: f.endpoint, S3Region: f.region}
}

// openRaw opens a raw-log location. Unlike a lake's, a local one must exist: a mistyped --from is an
// error, not an empty directory created on the way.
func openRaw(ctx context.Context, url string, opts lake.StoreOptions) (lake.Store, error) {
	if !strings.Contains(url, "://") {
		if st, err := os.Stat(url); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("raw logs: %s is not a directory (give the folder that holds AWSLogs/, AWSLogs/ itself, or a folder below it)", url)
		}
	}
	return lake.OpenStore(ctx, url, opts)
}

// withPrefix appends a key prefix to a location: what the deprecated --prefix, --raw-prefix and raw[].prefix
// meant, now that --from may name any folder.
func withPrefix(loc, prefix string) string {
	if prefix == "" {
		return loc
	}
	return strings.TrimSuffix(loc, "/") + "/" + strings.TrimPrefix(prefix, "/")
}

// openLake opens an existing lake; reading a location that holds none is an error naming it.
func (f *s3Flags) openLake(ctx context.Context, url string) (*lake.Lake, error) {
	lk, err := lake.Open(ctx, url, lake.Options{Store: f.storeOptions(), CacheDir: f.cacheDir, Catalog: reportingCatalog{}})
	if errors.Is(err, lake.ErrNoLake) {
		return nil, fmt.Errorf("%w; check --lake %s, or create a lake there with 'lakehunt compact --from RAW --lake %s'", err, url, url)
	}
	return lk, err
}

// createLake opens the lake at url, starting an empty one if there is none (for writers that fill it).
func (f *s3Flags) createLake(ctx context.Context, url string) (*lake.Lake, error) {
	return lake.Open(ctx, url, lake.Options{Store: f.storeOptions(), CacheDir: f.cacheDir, Create: true, Catalog: reportingCatalog{}})
}

// isTerminal reports whether w is a terminal (progress lines are only drawn there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// logger is structured JSON on stderr when stderr is not a terminal (scheduled runs), text otherwise.
func logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	if isTerminal(os.Stderr) {
		return slog.New(slog.NewTextHandler(os.Stderr, logOptions(level)))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, logOptions(level)))
}

// logOptions escapes log values for display: the JSON handler escapes C0 controls but passes C1
// controls and right-to-left characters through, and these logs are read on terminals and in consoles.
func logOptions(level slog.Level) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(safetext.Text(a.Value.String()))
		}
		return a
	}}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// plural is "1 finding", "2 findings".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// countsList is "domain 3, ipv4 11": a count per kind, in name order.
func countsList(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
