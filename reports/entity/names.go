package entity

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
)

// Dir is the folder of a run directory that holds its entity pages.
const Dir = "entities"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// PageName is the path, relative to the run directory, of the page about l: a readable part (the
// value's last segment) and a hash of the whole link, so two entities never share a page.
// The report links a group, and each of its findings, to PageOf(group).
func PageName(l group.Link) string {
	v := l.Value
	if i := strings.LastIndexAny(v, "/:"); i >= 0 && i < len(v)-1 {
		v = v[i+1:]
	}
	v = strings.Trim(unsafeName.ReplaceAllString(v, "_"), "._")
	if len(v) > 40 {
		v = v[:40]
	}
	sum := sha256.Sum256([]byte(l.String()))
	return Dir + "/" + l.Kind + "-" + v + "-" + hex.EncodeToString(sum[:4]) + ".html"
}

// PageLinks are the entities a run directory has pages for: each group's leading entity, then each
// finding's own entity (FindingLink), once each.
func PageLinks(groups []group.Group) []group.Link {
	var out []group.Link
	seen := map[group.Link]bool{}
	add := func(l group.Link) {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for _, g := range groups {
		if len(g.Links) > 0 {
			add(g.Links[0])
		}
	}
	for _, g := range groups {
		for _, f := range g.Findings {
			if l, ok := FindingLink(f); ok {
				add(l)
			}
		}
	}
	return out
}

// FindingLink is the entity a finding is first about (its entity, else its first resource or field that
// names one), whose page a run directory holds.
func FindingLink(f lake.Finding) (group.Link, bool) {
	if ls := group.Links(f); len(ls) > 0 {
		return ls[0], true
	}
	return group.Link{}, false
}

// PageOf is the path, relative to the run directory, of the page a run writes for the group (its leading
// entity's), or "" for a group without entities.
func PageOf(g group.Group) string {
	if len(g.Links) == 0 {
		return ""
	}
	return PageName(g.Links[0])
}
