// Package library embeds the hunts shipped with lakehunt: the hunt files, their data files and
// hunts.lock, which pins each hunt's version to its content hash.
package library

import "embed"

// Name is how messages name the library's directory: its path in the lakehunt repository.
const Name = "hunts/library"

// FS holds *.yaml hunt files, data/*.csv and hunts.lock at its root.
//
//go:embed *.yaml data/*.csv hunts.lock
var FS embed.FS
