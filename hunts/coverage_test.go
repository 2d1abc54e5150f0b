package hunts

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

func hunt(id string, tactics, techniques, stratus, tables []string) *Hunt {
	return &Hunt{ID: id, Tables: tables, Attack: huntfile.Attack{Tactics: tactics, Techniques: techniques, Stratus: stratus}}
}

func refs(ids ...string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func refIDs(rs []HuntRef) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestNewCoverage(t *testing.T) {
	type row struct {
		ID      string
		Tactics []string
		Hunts   []string
		Stratus []string
	}
	tests := []struct {
		name    string
		hunts   []*Hunt
		rows    []row
		stratus map[string][]string
	}{
		{
			name: "a hunt with two techniques and two Stratus ids is under each",
			hunts: []*Hunt{hunt("evasion", refs("defense-evasion"), refs("T1562.008", "T1562.001"),
				refs("aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.cloudtrail-delete"), refs("cloudtrail"))},
			rows: []row{
				{"T1562.001", refs("defense-evasion"), refs("evasion"), refs("aws.defense-evasion.cloudtrail-delete", "aws.defense-evasion.cloudtrail-stop")},
				{"T1562.008", refs("defense-evasion"), refs("evasion"), refs("aws.defense-evasion.cloudtrail-delete", "aws.defense-evasion.cloudtrail-stop")},
			},
			stratus: map[string][]string{"aws.defense-evasion.cloudtrail-delete": refs("evasion"), "aws.defense-evasion.cloudtrail-stop": refs("evasion")},
		},
		{
			name: "sorted by first tactic along the kill chain, then id; hunts by id; Stratus merged",
			hunts: []*Hunt{
				hunt("z-exfil", refs("exfiltration"), refs("T1048"), refs("aws.exfiltration.ec2-share-ami"), refs("cloudtrail")),
				hunt("b-accounts", refs("persistence"), refs("T1078.004", "T1580"), nil, refs("cloudtrail")),
				hunt("a-accounts", refs("initial-access"), refs("T1078.004"), refs("aws.exfiltration.ec2-share-ami"), refs("cloudtrail", "vpc_flow")),
			},
			rows: []row{
				{"T1078.004", refs("initial-access", "persistence", "privilege-escalation", "defense-evasion"), refs("a-accounts", "b-accounts"), refs("aws.exfiltration.ec2-share-ami")},
				{"T1580", refs("discovery"), refs("b-accounts"), refs()},
				{"T1048", refs("exfiltration"), refs("z-exfil"), refs("aws.exfiltration.ec2-share-ami")},
			},
			stratus: map[string][]string{"aws.exfiltration.ec2-share-ami": refs("a-accounts", "z-exfil")},
		},
		{
			name: "a technique lakehunt does not know takes the tactics its hunts declare",
			hunts: []*Hunt{
				hunt("one", refs("impact", "discovery"), refs("T1999"), nil, refs("cloudtrail")),
				hunt("two", refs("collection"), refs("T1999"), nil, refs("cloudtrail")),
			},
			rows:    []row{{"T1999", refs("discovery", "collection", "impact"), refs("one", "two"), refs()}},
			stratus: map[string][]string{},
		},
		{name: "no hunts", rows: []row{}, stratus: map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCoverage(tc.hunts)
			got := []row{}
			for _, r := range c.Techniques {
				got = append(got, row{r.ID, r.Tactics, refIDs(r.Hunts), r.Stratus})
			}
			if !reflect.DeepEqual(got, tc.rows) {
				t.Errorf("techniques:\n got %+v\nwant %+v", got, tc.rows)
			}
			gotS := map[string][]string{}
			var order []string
			for _, s := range c.Stratus {
				gotS[s.ID] = refIDs(s.Hunts)
				order = append(order, s.ID)
			}
			if !reflect.DeepEqual(gotS, tc.stratus) || !slices.IsSorted(order) {
				t.Errorf("stratus: got %v (order %v), want %v", gotS, order, tc.stratus)
			}
		})
	}
}

// TestCoverageJSON pins the shape `lakehunt hunt coverage --json` prints.
func TestCoverageJSON(t *testing.T) {
	c := NewCoverage([]*Hunt{hunt("evasion", refs("defense-evasion"), refs("T1562.008"), refs("aws.defense-evasion.cloudtrail-stop"), refs("cloudtrail"))})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"techniques":[{"id":"T1562.008","name":"Impair Defenses: Disable or Modify Cloud Logs","tactics":["defense-evasion"],` +
		`"hunts":[{"id":"evasion","tables":["cloudtrail"]}],"stratus":["aws.defense-evasion.cloudtrail-stop"]}],` +
		`"stratus":[{"id":"aws.defense-evasion.cloudtrail-stop","hunts":[{"id":"evasion","tables":["cloudtrail"]}]}]}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	c.CheckLake([]string{"vpc_flow"})
	b, _ = json.Marshal(c.Lake)
	if want := `{"tables":["vpc_flow"],"blind_hunts":[{"id":"evasion","tables":["cloudtrail"],"missing_tables":["cloudtrail"]}],"uncovered_techniques":["T1562.008"]}`; string(b) != want {
		t.Errorf("lake JSON:\n got %s\nwant %s", b, want)
	}
}

func TestCheckLake(t *testing.T) {
	c := NewCoverage([]*Hunt{
		hunt("flows", refs("command-and-control"), refs("T1071"), nil, refs("vpc_flow", "ti_indicators")),
		hunt("trail", refs("command-and-control", "discovery"), refs("T1071", "T1580"), refs("aws.discovery.ses-enumerate"), refs("cloudtrail")),
		hunt("dns", refs("command-and-control"), refs("T1071.004"), nil, refs("route53_resolver")),
	})
	c.CheckLake([]string{"cloudtrail", "vpc_flow"})
	if got, want := c.Lake.Blind, []HuntRef{
		{ID: "dns", Tables: refs("route53_resolver"), Missing: refs("route53_resolver")},
		{ID: "flows", Tables: refs("vpc_flow", "ti_indicators"), Missing: refs("ti_indicators")},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("blind hunts: got %+v, want %+v", got, want)
	}
	// T1071 still has a hunt that sees (trail); T1071.004 has none.
	if got := c.Lake.Uncovered; !reflect.DeepEqual(got, refs("T1071.004")) {
		t.Errorf("uncovered techniques: %v, want [T1071.004]", got)
	}
	for _, r := range c.Techniques {
		for _, h := range r.Hunts {
			if (h.ID == "trail") != (h.Missing == nil) {
				t.Errorf("%s under %s: missing %v", h.ID, r.ID, h.Missing)
			}
		}
	}
}

// TestAttackTable keeps the technique table consistent: known tactics in kill-chain order, sub-techniques
// under a known parent.
func TestAttackTable(t *testing.T) {
	for id, tech := range attackTechniques {
		if len(tech.tactics) == 0 || !slices.IsSortedFunc(tech.tactics, func(a, b string) int { return tacticRank(a) - tacticRank(b) }) {
			t.Errorf("%s: tactics %v not in kill-chain order", id, tech.tactics)
		}
		for _, tac := range tech.tactics {
			if tacticRank(tac) == len(tacticOrder) {
				t.Errorf("%s: unknown tactic %q", id, tac)
			}
		}
	}
	for id := range attackSubTechniques {
		if _, ok := attackTechniques[strings.Split(id, ".")[0]]; !ok {
			t.Errorf("sub-technique %s has no parent in attackTechniques", id)
		}
	}
}

const (
	coverageBegin = "<!-- coverage:begin -->"
	coverageEnd   = "<!-- coverage:end -->"
)

// TestCoverageMatrix checks that the matrix in hunts/README.md is the shipped library's.
// UPDATE_COVERAGE=1 rewrites it.
func TestCoverageMatrix(t *testing.T) {
	set, err := LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range set.Diagnostics {
		t.Error(d)
	}
	c := NewCoverage(set.Hunts)
	for _, r := range c.Techniques {
		if _, _, ok := lookupTechnique(r.ID); !ok {
			t.Errorf("%s (hunts %v) is not in hunts/attack.go: add its ATT&CK name (and tactics, for a new parent technique)", r.ID, refIDs(r.Hunts))
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), coverageBegin+"\n")
	current, after, ok2 := strings.Cut(rest, coverageEnd)
	if !ok1 || !ok2 {
		t.Fatalf("hunts/README.md lacks the %s ... %s markers", coverageBegin, coverageEnd)
	}
	want := c.Markdown()
	if current == want {
		return
	}
	if os.Getenv("UPDATE_COVERAGE") == "1" {
		if err := os.WriteFile("README.md", []byte(before+coverageBegin+"\n"+want+coverageEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("hunts/README.md coverage matrix rewritten")
		return
	}
	t.Errorf("the coverage matrix in hunts/README.md is not the library's; regenerate it with\n  UPDATE_COVERAGE=1 go test -run TestCoverageMatrix ./hunts/\nwant:\n%s", want)
}
