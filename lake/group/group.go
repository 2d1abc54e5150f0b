// Package group joins the findings of a run (or a period) that share an entity — a principal, an
// access key, an IP address, an instance, a domain, a bucket — into finding groups: one attacker's
// steps, ordered as a timeline, instead of unrelated cards.
package group

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// Entity kinds, as `lakehunt investigate --entity KIND:VALUE` names them.
const (
	KindIP        = "ip"
	KindPrincipal = "principal"
	KindAccessKey = "access-key"
	KindInstance  = "instance"
	KindDomain    = "domain"
	KindBucket    = "bucket"
)

// Kinds lists the entity kinds in the order pages and reports show them.
var Kinds = []string{KindPrincipal, KindAccessKey, KindIP, KindInstance, KindDomain, KindBucket}

// Link is one entity a finding is about, normalised so that the same thing found by two hunts compares
// equal: a role session's ARN becomes its role's ARN, an instance ARN its instance id, a domain loses its
// trailing dot and case.
type Link struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (l Link) String() string { return l.Kind + ":" + l.Value }

// Group is the findings that share at least one Link with another member, transitively.
type Group struct {
	// ID is a hash of the member finding ids: the same findings give the same id on every re-run;
	// a group that gains a finding is a new group (publishers record what they sent per finding).
	ID       string         `json:"id"`
	Severity string         `json:"severity"`          // the highest of its findings
	Tactics  []string       `json:"tactics,omitempty"` // in the order the group's findings show them
	Links    []Link         `json:"links"`             // every entity its findings are about, most shared first
	Start    time.Time      `json:"start"`             // the earliest first_seen
	End      time.Time      `json:"end"`               // the latest last_seen
	Findings []lake.Finding `json:"findings"`
}

// Title names a group by its most shared entity, e.g. "principal arn:aws:iam::1:user/ben: 4 findings".
func (g Group) Title() string {
	n := "1 finding"
	if len(g.Findings) != 1 {
		n = strconv.Itoa(len(g.Findings)) + " findings"
	}
	if len(g.Links) == 0 {
		return n
	}
	return g.Links[0].String() + ": " + n
}

// Build groups findings. Every finding is in exactly one group (a finding that shares nothing is a group
// of one). Groups are ordered by highest severity, then size, then start; findings in a group by
// first_seen, then hunt id, then id.
func Build(findings []lake.Finding) []Group {
	parent := make([]int, len(findings))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[Link]int{}
	links := make([][]Link, len(findings))
	for i, f := range findings {
		links[i] = Links(f)
		for _, l := range links[i] {
			if j, ok := owner[l]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[l] = i
			}
		}
	}
	members := map[int][]int{}
	var roots []int
	for i := range findings {
		r := find(i)
		if _, ok := members[r]; !ok {
			roots = append(roots, r)
		}
		members[r] = append(members[r], i)
	}
	groups := make([]Group, 0, len(roots))
	for _, r := range roots {
		groups = append(groups, build(findings, links, members[r]))
	}
	slices.SortStableFunc(groups, func(a, b Group) int {
		return cmp.Or(
			cmp.Compare(lake.SeverityRank(b.Severity), lake.SeverityRank(a.Severity)),
			cmp.Compare(len(b.Findings), len(a.Findings)),
			a.Start.Compare(b.Start),
			cmp.Compare(a.ID, b.ID))
	})
	return groups
}

func build(all []lake.Finding, links [][]Link, idx []int) Group {
	g := Group{}
	count := map[Link]int{}
	ids := make([]string, 0, len(idx))
	for _, i := range idx {
		f := all[i]
		g.Findings = append(g.Findings, f)
		ids = append(ids, f.ID)
		if lake.SeverityRank(f.Severity) > lake.SeverityRank(g.Severity) || g.Severity == "" {
			g.Severity = f.Severity
		}
		if g.Start.IsZero() || f.FirstSeen.Before(g.Start) {
			g.Start = f.FirstSeen
		}
		if f.LastSeen.After(g.End) {
			g.End = f.LastSeen
		}
		for _, l := range links[i] {
			count[l]++
		}
	}
	slices.SortFunc(g.Findings, func(a, b lake.Finding) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.HuntID, b.HuntID), cmp.Compare(a.ID, b.ID))
	})
	for l := range count {
		g.Links = append(g.Links, l)
	}
	slices.SortFunc(g.Links, func(a, b Link) int {
		return cmp.Or(cmp.Compare(count[b], count[a]),
			cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)),
			cmp.Compare(a.Value, b.Value))
	})
	for _, f := range g.Findings {
		for _, t := range f.Tactics {
			if !slices.Contains(g.Tactics, t) {
				g.Tactics = append(g.Tactics, t)
			}
		}
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	g.ID = "g-" + hex.EncodeToString(sum[:8])
	return g
}

// Which of a finding's fields name an entity. Hunts name their result columns freely; these are the
// names the shipped library uses for the same things.
var fieldKinds = map[string]string{
	"principal_arn": KindPrincipal, "user_identity_arn": KindPrincipal, "principal": KindPrincipal,
	"grantee_arn": KindPrincipal, "role_arn": KindPrincipal, "root_arn": KindPrincipal,
	"access_key_id": KindAccessKey, "access_key": KindAccessKey,
	"source_ip": KindIP, "source_ip_address": KindIP, "client_ip": KindIP, "indicator": KindIP,
	"instance_id": KindInstance,
	"domain":      KindDomain, "registered_domain": KindDomain, "query_name": KindDomain,
	"bucket_name": KindBucket, "bucket": KindBucket,
}

// Entity types hunts use, by kind (the value decides between instance and IP for clients and assets).
var entityKinds = map[string]string{
	"principal": KindPrincipal, "role": KindPrincipal, "iam_identity": KindPrincipal, "user": KindPrincipal,
	"access_key": KindAccessKey, "access-key": KindAccessKey,
	"ip": KindIP, "source_ip": KindIP,
	"instance": KindInstance, "ec2_asset": KindInstance, "dns_client": KindInstance,
	"domain":    KindDomain,
	"s3_bucket": KindBucket, "bucket": KindBucket,
}

var (
	instanceIDRe = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	accessKeyRe  = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{12,}$`)
	instanceARN  = regexp.MustCompile(`^arn:aws[a-z-]*:ec2:[^:]*:\d*:instance/(i-[0-9a-f]+)$`)
	assumedRole  = regexp.MustCompile(`^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.*$`)
)

// Links lists the entities a finding is about: its entity, its ASFF resources and the fields that name
// an entity, normalised and de-duplicated. Accounts are not links (every finding of an account would
// join one group).
func Links(f lake.Finding) []Link {
	var out []Link
	add := func(kind, value string) {
		if l, ok := Normalize(kind, value); ok && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if k, ok := entityKinds[strings.ToLower(f.Entity.Type)]; ok {
		add(k, f.Entity.Key)
	}
	for _, r := range f.Resources {
		switch r.Type {
		case "AwsIamUser", "AwsIamRole":
			add(KindPrincipal, r.ID)
		case "AwsIamAccessKey":
			add(KindAccessKey, r.ID)
		case "AwsEc2Instance":
			add(KindInstance, r.ID)
		case "AwsS3Bucket":
			add(KindBucket, r.ID)
		case "Other":
			if _, err := netip.ParseAddr(r.ID); err == nil {
				add(KindIP, r.ID)
			} else if strings.Contains(r.ID, ".") && !strings.ContainsAny(r.ID, ":/ ") {
				add(KindDomain, r.ID)
			}
		}
	}
	keys := make([]string, 0, len(f.Fields))
	for k := range f.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kind, ok := fieldKinds[k]
		if !ok {
			continue
		}
		switch v := f.Fields[k].(type) {
		case string:
			add(kind, v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					add(kind, s)
				}
			}
		}
	}
	return out
}

// Normalize turns a value of a kind into its canonical link, or reports that it is not one (an empty
// value, an indicator that is a domain filed as an IP is moved to its kind, a client that is an IP is an IP).
func Normalize(kind, value string) (Link, bool) {
	v := strings.TrimSpace(value)
	if v == "" || v == "-" {
		return Link{}, false
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return Link{KindIP, a.Unmap().String()}, true
	}
	switch kind {
	case KindIP:
		if strings.Contains(v, ".") && !strings.ContainsAny(v, ":/ ") { // an indicator that is a domain
			return Link{KindDomain, strings.ToLower(strings.TrimSuffix(v, "."))}, true
		}
		return Link{}, false
	case KindPrincipal:
		if m := assumedRole.FindStringSubmatch(v); m != nil {
			v = "arn:" + m[1] + ":iam::" + m[2] + ":role/" + m[3]
		}
		if !strings.HasPrefix(v, "arn:") {
			return Link{}, false
		}
		return Link{KindPrincipal, v}, true
	case KindAccessKey:
		if !accessKeyRe.MatchString(v) {
			return Link{}, false
		}
		return Link{KindAccessKey, v}, true
	case KindInstance:
		if m := instanceARN.FindStringSubmatch(v); m != nil {
			v = m[1]
		}
		v = strings.ToLower(v)
		if !instanceIDRe.MatchString(v) {
			return Link{}, false
		}
		return Link{KindInstance, v}, true
	case KindDomain:
		v = strings.ToLower(strings.TrimSuffix(v, "."))
		if !strings.Contains(v, ".") || strings.ContainsAny(v, ":/ ") {
			return Link{}, false
		}
		return Link{KindDomain, v}, true
	case KindBucket:
		v = strings.TrimPrefix(v, "arn:aws:s3:::")
		if i := strings.IndexByte(v, '/'); i >= 0 {
			v = v[:i]
		}
		if v == "" || v == "*" {
			return Link{}, false
		}
		return Link{KindBucket, v}, true
	}
	return Link{}, false
}

// Parse reads KIND:VALUE as the command line gives it.
func Parse(s string) (Link, bool) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok || !slices.Contains(Kinds, kind) {
		return Link{}, false
	}
	l, ok := Normalize(kind, value)
	return l, ok && l.Kind == kind
}

// Assign sets each finding's GroupID to the id of its group in Build(findings).
func Assign(findings []lake.Finding) {
	ids := map[string]string{}
	for _, g := range Build(findings) {
		for _, f := range g.Findings {
			ids[f.ID] = g.ID
		}
	}
	for i := range findings {
		findings[i].GroupID = ids[findings[i].ID]
	}
}
