package lake

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// beneath opens objects of a local store with one openat2 call that the kernel confines to the store's
// folder (RESOLVE_BENEATH: no "..", absolute path or symbolic link leads out of it; /proc magic links are
// refused too). os.Root gives the same guarantee by opening every folder on the way one at a time, two
// system calls each: for a compaction that reads many small raw objects in deep AWSLogs/ folders that
// was most of the cost of opening them. The folder is opened once, and an object is read through its
// file descriptor, not an *os.File (which would try to register a regular file with the network poller:
// two more system calls per object).
type beneath struct {
	mu  sync.Mutex
	dir *os.File // the store's folder (O_PATH), once opened; closed when the store is collected
}

// open opens key (relative, in the local form) for reading. ok is false where the kernel has no openat2
// (before Linux 5.6, or a sandbox that filters it): the caller then uses os.Root.
func (b *beneath) open(root, key string) (rc io.ReadCloser, ok bool, err error) {
	dir, err := b.folder(root)
	if err != nil {
		return nil, true, err
	}
	fd, err := unix.Openat2(int(dir.Fd()), key, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC, // a FIFO must not block the open
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	runtime.KeepAlive(dir)
	switch {
	case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM):
		return nil, false, nil
	case errors.Is(err, unix.EXDEV): // what openat2 says of a path that leads out
		return nil, true, &os.PathError{Op: "openat2", Path: key, Err: errors.New("path escapes from parent")}
	case err != nil:
		return nil, true, &os.PathError{Op: "openat2", Path: key, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, true, &os.PathError{Op: "fstat", Path: key, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, true, fmt.Errorf("%s: %s", key, notRegularReason(fileMode(st.Mode)))
	}
	f := &fdReader{fd: fd}
	runtime.SetFinalizer(f, (*fdReader).Close) // as os.File does, for a reader that is never closed
	return f, true, nil
}

func (b *beneath) folder(root string) (*os.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir == nil {
		fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: root, Err: err}
		}
		b.dir = os.NewFile(uintptr(fd), root)
	}
	return b.dir, nil
}

func fileMode(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

// fdReader reads a regular file through its descriptor. Not safe for concurrent use.
type fdReader struct {
	fd     int
	closed bool
}

func (f *fdReader) Read(b []byte) (int, error) {
	if f.closed {
		return 0, os.ErrClosed
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: "", Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *fdReader) Close() error {
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	runtime.SetFinalizer(f, nil)
	return unix.Close(f.fd)
}
