package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// LocalPaths returns a local path for each file, in order. A local lake's files are read in place.
// An S3 lake's files are downloaded into the cache once, checked against the SHA-256 the commit recorded,
// and reused by later runs (lake files are immutable, so a cached copy of the right size is the file).
func (l *Lake) LocalPaths(ctx context.Context, files []FileEntry) ([]string, error) {
	out := make([]string, len(files))
	if ls, ok := l.store.(*localStore); ok {
		for i, f := range files {
			out[i] = ls.Path(f.Key)
		}
		return out, nil
	}
	root := filepath.Join(l.cacheDir, cacheNamespace(l.URL()))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 8)
	)
	for i, f := range files {
		out[i] = filepath.Join(root, filepath.FromSlash(f.Key))
		if st, err := os.Stat(out[i]); err == nil && st.Size() == f.Size {
			continue
		}
		wg.Add(1)
		go func(f FileEntry, dst string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := l.download(ctx, f, dst); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(f, out[i])
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// CacheHits counts how many of files are already in the local cache (for run statistics).
func (l *Lake) CacheHits(files []FileEntry) int {
	if l.IsLocal() {
		return len(files)
	}
	root := filepath.Join(l.cacheDir, cacheNamespace(l.URL()))
	n := 0
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Key))); err == nil && st.Size() == f.Size {
			n++
		}
	}
	return n
}

func cacheNamespace(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:8])
}

func (l *Lake) download(ctx context.Context, f FileEntry, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", f.Key, err)
	}
	rc, err := l.store.Open(ctx, f.Key)
	if err != nil {
		return fmt.Errorf("fetch %s into the cache: %w", f.Key, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch %s into the cache: %w", f.Key, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != f.Size || (f.SHA256 != "" && got != f.SHA256) {
		return fmt.Errorf("lake file %s does not match its commit (size %d, want %d; sha256 %s, want %s): it was changed outside lakehunt", f.Key, n, f.Size, got, f.SHA256)
	}
	return os.Rename(tmp.Name(), dst)
}

// SHA256Hex is the checksum recorded for lake files.
func SHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
