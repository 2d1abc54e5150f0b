//go:build !linux

package lake

import "io"

// beneath has no single-call open here: the caller uses os.Root.
type beneath struct{}

func (b *beneath) open(root, key string) (io.ReadCloser, bool, error) { return nil, false, nil }
