package huntfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Lock pins each hunt id to the version and content hash that were last reviewed.
// The file has one line per hunt: "ID VERSION SHA256"; '#' starts a comment.
type Lock map[string]LockEntry

// LockEntry is one hunt's line in hunts.lock.
type LockEntry struct {
	Version int
	Hash    string
	File    string // the lock file, for messages
	Line    int
}

// ReadLock reads hunts.lock at the root of src; a missing file is an empty lock.
func ReadLock(src Source) (Lock, error) {
	b, err := fs.ReadFile(src.FS, LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path.Join(src.Name, LockFile), err)
	}
	return ParseLock(path.Join(src.Name, LockFile), b)
}

// ParseLock parses the lock file format.
func ParseLock(file string, b []byte) (Lock, error) {
	lock := Lock{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"ID VERSION SHA256\", got %q", file, n, line)
		}
		v, err := strconv.Atoi(f[1])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%s:%d: version %q is not a positive integer", file, n, f[1])
		}
		if _, dup := lock[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: hunt %s is listed twice", file, n, f[0])
		}
		lock[f[0]] = LockEntry{Version: v, Hash: f[2], File: file, Line: n}
	}
	return lock, sc.Err()
}

// Merge adds the entries of other (e.g. a user directory's lock next to the library's).
func (l Lock) Merge(other Lock) Lock {
	out := Lock{}
	for k, v := range l {
		out[k] = v
	}
	for k, v := range other {
		out[k] = v
	}
	return out
}

// FormatLock renders the lock file for hunts (sorted by id).
func FormatLock(hunts []*Hunt) []byte {
	b, _ := UpdateLock(nil, hunts)
	return b
}

// UpdateLock renders the lock file for hunts, but keeps old's entry for each hunt whose query or logic
// changed without a version bump, or whose version went down: pinning those would hide from lint what
// it exists to catch. kept lists them, for the user to bump.
func UpdateLock(old Lock, hunts []*Hunt) (b []byte, kept []string) {
	hs := append([]*Hunt(nil), hunts...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].ID < hs[j].ID })
	var buf bytes.Buffer
	buf.WriteString("# hunts.lock: id, version and content hash of every hunt, as last reviewed.\n")
	buf.WriteString("# `lakehunt hunt lint` fails when a hunt's query or logic changed without a version bump.\n")
	for _, h := range hs {
		version, hash := h.Version, h.ContentHash()
		if e, ok := old[h.ID]; ok && (h.Version < e.Version || (h.Version == e.Version && hash != e.Hash)) {
			version, hash = e.Version, e.Hash
			kept = append(kept, h.ID)
		}
		fmt.Fprintf(&buf, "%s %d %s\n", h.ID, version, hash)
	}
	return buf.Bytes(), kept
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
