package lake

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// localStore keeps objects as files under a root directory. Writes go to a temp file in the same
// directory and are renamed (Put) or hard-linked (Create) into place, so a reader never sees half an object.
type localStore struct {
	root    string
	mu      sync.Mutex // serialises ReplaceIf within this process; cross-process callers rely on leases
	beneath beneath    // opens objects (Open)
}

func openLocal(dir string) (*localStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The directory is not created here: writes create the folders they need, and opening a mistyped
	// path for reading must not leave an empty directory behind.
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a directory", abs)
	}
	return &localStore{root: abs}, nil
}

func (s *localStore) URL() string { return s.root }

// Path is the local file path of key (local stores only): DuckDB reads lake files in place.
func (s *localStore) Path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

func (s *localStore) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	return s.list(ctx, prefix, false, nil, fn, nil)
}

// ListRaw lists a location of raw logs, which others write. Unlike List it hides no names (List leaves out
// the local store's own temporary files, .tmp-*, a name a raw object may have too), and it reports through
// skip, with why, the entries of a local directory that are not objects: symbolic links (never followed, so
// nothing outside the location is read), FIFOs, devices, sockets, and folders it cannot read. An S3
// location holds objects only. wanted, if not nil, is asked about each object's key first: an object it
// does not want may be handed to fn with its key alone (a local listing does not read its size and time,
// one system call per file, which adds up when most of a location's objects are of other sources).
func ListRaw(ctx context.Context, s Store, prefix string, wanted func(key string) bool, fn func(ObjectInfo) error, skip func(key, why string) error) error {
	if ls, ok := s.(*localStore); ok {
		return ls.list(ctx, prefix, true, wanted, fn, skip)
	}
	return s.List(ctx, prefix, fn)
}

// IsLocalStore reports whether s is a local directory, whose files may still be being written.
func IsLocalStore(s Store) bool { _, ok := s.(*localStore); return ok }

func (s *localStore) list(ctx context.Context, prefix string, raw bool, wanted func(string) bool, fn func(ObjectInfo) error, skip func(key, why string) error) error {
	// Start from the deepest directory the prefix names, then filter by the full prefix.
	dir := prefix
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		dir = dir[:i]
	} else {
		dir = ""
	}
	return s.listDir(ctx, dir, prefix, raw, wanted, fn, skip)
}

// listDir calls fn for the objects under dir ("" for the root) in lexical key order, one directory in
// memory at a time: a directory's entries sort as their keys do, a subdirectory "a" as "a/".
func (s *localStore) listDir(ctx context.Context, dir, prefix string, raw bool, wanted func(string) bool, fn func(ObjectInfo) error, skip func(key, why string) error) error {
	entries, err := os.ReadDir(s.Path(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if raw && dir != "" {
			return skip(dir+"/", fmt.Sprintf("cannot list folder: %v", errors.Unwrap(err)))
		}
		return err
	}
	name := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	sort.Slice(entries, func(i, j int) bool { return name(entries[i]) < name(entries[j]) })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := e.Name()
		if dir != "" {
			key = dir + "/" + key
		}
		if e.IsDir() {
			if strings.HasPrefix(key+"/", prefix) || strings.HasPrefix(prefix, key+"/") {
				if err := s.listDir(ctx, key, prefix, raw, wanted, fn, skip); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) || (!raw && strings.HasPrefix(e.Name(), ".tmp-")) {
			continue
		}
		if !e.Type().IsRegular() {
			if raw {
				if err := skip(key, s.notRegular(key, e.Type())); err != nil {
					return err
				}
			}
			continue
		}
		if wanted != nil && !wanted(key) {
			if err := fn(ObjectInfo{Key: key}); err != nil {
				return err
			}
			continue
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since ReadDir
			}
			return err
		}
		if err := fn(ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC()}); err != nil {
			return err
		}
	}
	return nil
}

// notRegular says what a directory entry that is not a regular file is.
func (s *localStore) notRegular(key string, mode fs.FileMode) string {
	if mode&fs.ModeSymlink != 0 {
		if to, err := os.Readlink(s.Path(key)); err == nil {
			return fmt.Sprintf("symbolic link to %s (links are not followed)", to)
		}
		return "symbolic link (links are not followed)"
	}
	return notRegularReason(mode)
}

func notRegularReason(mode fs.FileMode) string {
	kind := "irregular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "fifo"
	case mode&fs.ModeSocket != 0:
		kind = "socket"
	case mode&fs.ModeCharDevice != 0:
		kind = "character device"
	case mode&fs.ModeDevice != 0:
		kind = "device"
	}
	return "not a regular file (" + kind + ")"
}

// Open reads a regular file under the root and nothing else: a path that leads out of the root (a
// symbolic link swapped in after listing) is refused, and a FIFO or device neither blocks nor is read.
func (s *localStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, ok, err := s.beneath.open(s.root, filepath.FromSlash(key))
	if !ok {
		rc, err = openInRoot(s.root, filepath.FromSlash(key))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// openInRoot opens a regular file under dir for reading with os.Root.
func openInRoot(dir, key string) (io.ReadCloser, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(key, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %s", filepath.ToSlash(key), notRegularReason(fi.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (s *localStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	fi, err := os.Stat(s.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return ObjectInfo{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	b, err := os.ReadFile(s.Path(key))
	if err != nil {
		return ObjectInfo{}, err
	}
	sum := md5.Sum(b)
	return ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC(), ETag: hex.EncodeToString(sum[:])}, nil
}

func (s *localStore) writeTemp(key string, body io.Reader) (string, error) {
	dst := s.Path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), ".tmp-")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; lake objects are for every reader
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (s *localStore) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	tmp, err := s.writeTemp(key, body)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := os.Rename(tmp, s.Path(key)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func (s *localStore) Create(ctx context.Context, key string, body []byte) error {
	tmp, err := s.writeTemp(key, strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	defer os.Remove(tmp)
	// link(2) fails if the target exists: an atomic create-if-absent of a complete file.
	if err := os.Link(tmp, s.Path(key)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", key, ErrExists)
		}
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func (s *localStore) ReplaceIf(ctx context.Context, key string, body []byte, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.Stat(ctx, key)
	if err != nil {
		return err
	}
	if cur.ETag != etag {
		return fmt.Errorf("%s: %w", key, ErrExists)
	}
	return s.Put(ctx, key, strings.NewReader(string(body)), int64(len(body)))
}

func (s *localStore) Delete(ctx context.Context, key string) error {
	err := os.Remove(s.Path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// removeStaleTemps deletes the temporary files (".tmp-*") under the given directories that were last
// modified before cutoff: left by writers killed between writing and renaming them. It returns how many.
func (s *localStore) removeStaleTemps(ctx context.Context, dirs []string, cutoff time.Time) (int, error) {
	n := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(s.Path(dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), ".tmp-") {
				return nil
			}
			fi, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // renamed or deleted since it was listed
			}
			if err != nil {
				return err
			}
			if !fi.ModTime().Before(cutoff) {
				return nil
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("delete stale temporary files under %s: %w", s.Path(dir), err)
		}
	}
	return n, nil
}

// WriteFileAtomic writes a local file whole (mode 0644): readers see the old content or the new, never
// a part. Run directories and reports are written this way.
func WriteFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
