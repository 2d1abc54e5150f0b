//go:build !linux

package lake

import "os"

// openBeneath has no single-call form here: the caller uses os.Root.
func openBeneath(root, key string, flags int) (*os.File, bool, error) { return nil, false, nil }
