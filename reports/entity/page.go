// Package entity is the entity investigation page: everything the lake and the findings say about one
// entity (a principal, an access key, an IP, an instance, a domain, a bucket), like Amazon Detective's
// profile pages but as one self-contained HTML file, and where a run directory keeps such pages. The
// lake is read by package reports/investigate; this package needs no database, so the report can link
// to pages without one.
package entity

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
)

// Page is what an entity page shows.
type Page struct {
	Entity       group.Link
	From, To     time.Time
	HistoryFrom  time.Time
	FirstSeen    time.Time // in any table, in the data read; zero if none
	LastSeen     time.Time
	Tables       []Table // the sources that can mention the entity, in registry order
	Findings     []lake.Finding
	Groups       []group.Group
	FindingsFrom string
	// InRun is set for a page in a run directory's entities/: it links back to the report and to the
	// pages of Siblings, the other entities the run has pages for.
	InRun       bool
	Siblings    []group.Link
	LakeURL     string
	LakeVersion int64
	Generated   time.Time
}

// Table is one source table's part of a page.
type Table struct {
	Name, Title       string
	NoFiles           bool  // the lake has no files of the table in the stretch read
	Rows, HistoryRows int64 // rows about the entity in the window and in the history
	FirstSeen         time.Time
	LastSeen          time.Time
	Bucket            time.Duration
	Buckets           []time.Time // start of each bucket of the window
	Series            []Series    // the busiest activities, per bucket, then "other"
	Top               []Activity
	New               []NewValues
	EvidenceCols      []string
	Evidence          []Evidence
	EvidenceNote      string
}

// Series is one activity's row counts per bucket.
type Series struct {
	Label  string
	Counts []int64
	Total  int64
}

// Activity is one thing the entity did in the window.
type Activity struct {
	Label       string
	Count       int64
	First, Last time.Time
}

// NewValues are the values of one dimension first seen in the window.
type NewValues struct {
	Dim    string
	Values []NewValue
	More   int64 // new values not listed
}

// Total is how many values were new, listed or not.
func (n NewValues) Total() int64 { return int64(len(n.Values)) + n.More }

// NewValue is one value the entity had in the window and never in its history.
type NewValue struct {
	Value string
	First time.Time
	Count int64
}

// Evidence is one raw row about the entity, with lineage to its raw object.
type Evidence struct {
	Time       time.Time
	Cells      []string
	SourceKey  string
	SourceLine int64
}

// Involving returns the findings about e, in time order, and the groups of all findings that hold e.
func Involving(e group.Link, all []lake.Finding) ([]lake.Finding, []group.Group) {
	var fs []lake.Finding
	for _, f := range all {
		if slices.Contains(group.Links(f), e) {
			fs = append(fs, f)
		}
	}
	slices.SortFunc(fs, func(a, b lake.Finding) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.HuntID, b.HuntID), cmp.Compare(a.ID, b.ID))
	})
	var gs []group.Group
	for _, g := range group.Build(all) {
		if slices.Contains(g.Links, e) {
			gs = append(gs, g)
		}
	}
	return fs, gs
}

// ErrUnknownEntity is returned by ParseEntity for text that is not KIND:VALUE of a known kind.
var ErrUnknownEntity = errors.New("not an entity")

// ParseEntity reads KIND:VALUE, explaining what is wrong with text that is not one.
func ParseEntity(s string) (group.Link, error) {
	if l, ok := group.Parse(s); ok {
		return l, nil
	}
	kind, _, found := strings.Cut(s, ":")
	if !found || !slices.Contains(group.Kinds, kind) {
		return group.Link{}, fmt.Errorf("%w: %q: give KIND:VALUE with KIND one of %s", ErrUnknownEntity, safetext.Line(s), strings.Join(group.Kinds, ", "))
	}
	return group.Link{}, fmt.Errorf("%w: %q is not a valid %s (e.g. %s)", ErrUnknownEntity, safetext.Line(s), kind, example[kind])
}

var example = map[string]string{
	group.KindIP: "ip:203.0.113.7", group.KindPrincipal: "principal:arn:aws:iam::111122223333:user/alice",
	group.KindAccessKey: "access-key:AKIAIOSFODNN7EXAMPLE", group.KindInstance: "instance:i-0123456789abcdef0",
	group.KindDomain: "domain:example.com", group.KindBucket: "bucket:my-bucket",
}
