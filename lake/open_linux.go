package lake

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openBeneath opens key (a relative, slash-separated path) under root for reading with one openat2 call
// that the kernel confines to root (RESOLVE_BENEATH: no "..", absolute path or symbolic link leads out of
// it; /proc magic links are refused too). os.Root gives the same guarantee by opening every folder on the
// way one at a time, two system calls each: for a compaction that reads many small raw objects in deep
// AWSLogs/ folders that was most of the cost of opening them. ok is false where the kernel has no
// openat2 (before Linux 5.6, or a sandbox that filters it): the caller then uses os.Root.
func openBeneath(root, key string, flags int) (f *os.File, ok bool, err error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, true, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, key, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return nil, false, nil
	}
	if errors.Is(err, unix.EXDEV) { // what openat2 says of a path that leads out
		return nil, true, &os.PathError{Op: "openat2", Path: key, Err: errors.New("path escapes from parent")}
	}
	if err != nil {
		return nil, true, &os.PathError{Op: "openat2", Path: key, Err: err}
	}
	return os.NewFile(uintptr(fd), key), true, nil
}
