package lake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// TestLocalStoreOpensRegularFilesUnderItsRootOnly: Open refuses, without blocking, a FIFO, a device and a
// path that leads out of the root through a symbolic link; List hides the store's own temporary files and
// every entry that is not a regular file, ListRaw hides nothing and says why each entry it skips is skipped.
func TestLocalStoreOpensRegularFilesUnderItsRootOnly(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	st, err := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "d", "file"), []byte("ok"), 0o644)
	os.WriteFile(filepath.Join(dir, "d", ".tmp-123"), []byte("raw object or temp file"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "d", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, to := range map[string]string{"zero": "/dev/zero", "out": filepath.Join(outside, "secret"), "outdir": outside, "in": "file"} {
		if err := os.Symlink(to, filepath.Join(dir, "d", name)); err != nil {
			t.Fatal(err)
		}
	}
	opened := make(chan error, 1)
	go func() {
		for _, k := range []string{"d/fifo", "d/zero", "d/out", "d/outdir/secret"} {
			if rc, err := st.Open(ctx, k); err == nil {
				rc.Close()
				opened <- os.ErrInvalid
				t.Errorf("Open(%s) succeeded", k)
				return
			}
		}
		opened <- nil
	}()
	select {
	case <-opened:
	case <-time.After(30 * time.Second):
		t.Fatal("Open blocked on an entry that is not a regular file")
	}
	if b, err := lake.ReadAll(ctx, st, "d/file"); err != nil || string(b) != "ok" {
		t.Errorf("ReadAll(d/file) = %q, %v", b, err)
	}

	var listed []string
	st.List(ctx, "", func(o lake.ObjectInfo) error { listed = append(listed, o.Key); return nil })
	if strings.Join(listed, ",") != "d/file" {
		t.Errorf("List = %v, want d/file alone", listed)
	}
	listed = nil
	skipped := map[string]string{}
	err = lake.ListRaw(ctx, st, "", nil, func(o lake.ObjectInfo) error { listed = append(listed, o.Key); return nil },
		func(key, why string) error { skipped[key] = why; return nil })
	if err != nil || strings.Join(listed, ",") != "d/.tmp-123,d/file" {
		t.Errorf("ListRaw = %v, %v; want d/.tmp-123 and d/file", listed, err)
	}
	for key, want := range map[string]string{"d/fifo": "not a regular file (fifo)", "d/zero": "symbolic link to /dev/zero", "d/out": "symbolic link to " + outside,
		"d/outdir": "symbolic link to " + outside, "d/in": "symbolic link to file"} {
		if !strings.Contains(skipped[key], want) {
			t.Errorf("ListRaw skipped %s as %q, want %q", key, skipped[key], want)
		}
	}
}

// ListRaw asks wanted about each object before reading its size and time: the objects it does not want
// are listed all the same, in key order, by key alone; entries that are not files are reported whatever
// wanted says.
func TestListRawReadsSizeOfWantedObjectsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/keep-1", "a/other", "b/keep-2", "b/c/other-2"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, k)), 0o755)
		os.WriteFile(filepath.Join(dir, k), []byte(k), 0o644)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "a", "other-fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	var listed []string
	var skipped []string
	var asked int
	wanted := func(key string) bool { asked++; return strings.Contains(key, "keep") }
	err = lake.ListRaw(ctx, st, "", wanted, func(o lake.ObjectInfo) error {
		listed = append(listed, fmt.Sprintf("%s:%d:%t", o.Key, o.Size, o.Modified.IsZero()))
		return nil
	}, func(key, why string) error { skipped = append(skipped, key); return nil })
	want := "a/keep-1:8:false,a/other:0:true,b/c/other-2:0:true,b/keep-2:8:false"
	if err != nil || strings.Join(listed, ",") != want || asked != 4 {
		t.Errorf("ListRaw = %v, %v (wanted asked %d times); want %s, asked 4 times", listed, err, asked, want)
	}
	if strings.Join(skipped, ",") != "a/other-fifo" {
		t.Errorf("ListRaw skipped %v, want a/other-fifo", skipped)
	}
}
