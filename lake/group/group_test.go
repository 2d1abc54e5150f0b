package group

import (
	"slices"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

var t0 = time.Date(2025, 6, 10, 8, 0, 0, 0, time.UTC)

func finding(id, hunt, sev string, at int, entity lake.Entity, tactics []string, res []lake.Resource, fields map[string]any) lake.Finding {
	return lake.Finding{ID: id, HuntID: hunt, Severity: sev, Entity: entity, Tactics: tactics, Resources: res, Fields: fields,
		FirstSeen: t0.Add(time.Duration(at) * time.Hour), LastSeen: t0.Add(time.Duration(at)*time.Hour + 10*time.Minute)}
}

const ben = "arn:aws:iam::204842927659:user/ben.schmidt"

// One principal's recon, logging evasion and threat-intel contact (found in that order by three hunts),
// an instance reached through a role session and an unrelated finding.
var story = []lake.Finding{
	finding("f-ti", "ti-ip-cloudtrail", "HIGH", 5, lake.Entity{Type: "principal", Key: ben}, []string{"Command and Control"},
		[]lake.Resource{{Type: "AwsIamUser", ID: ben}, {Type: "AwsAccount", ID: "AWS::::Account:204842927659"}},
		map[string]any{"indicator": "192.0.2.10"}),
	finding("f-recon", "discovery-burst", "MEDIUM", 1, lake.Entity{Type: "principal", Key: ben}, []string{"Discovery"}, nil, nil),
	finding("f-evasion", "cloudtrail-logging-evasion", "CRITICAL", 3, lake.Entity{Type: "principal", Key: ben}, []string{"Defense Evasion"}, nil, nil),
	finding("f-flow", "ti-ip-vpc-flow", "HIGH", 6, lake.Entity{Type: "ec2_asset", Key: "i-0891743d0fd2bcb57"}, []string{"Command and Control"},
		[]lake.Resource{{Type: "AwsEc2Instance", ID: "arn:aws:ec2:eu-west-1:982971165489:instance/i-0891743d0fd2bcb57"}, {Type: "Other", ID: "192.0.2.99"}}, nil),
	finding("f-creds", "instance-credentials-outside", "HIGH", 2,
		lake.Entity{Type: "principal", Key: "arn:aws:sts::982971165489:assumed-role/prod-web-ec2-role/i-0891743D0FD2BCB57"}, []string{"Credential Access"},
		[]lake.Resource{{Type: "AwsIamRole", ID: "arn:aws:iam::982971165489:role/prod-web-ec2-role"}}, map[string]any{"instance_id": "I-0891743D0FD2BCB57"}),
	finding("f-root", "root-account-usage", "LOW", 0, lake.Entity{Type: "principal", Key: "arn:aws:iam::982971165489:root"}, nil,
		[]lake.Resource{{Type: "AwsAccount", ID: "AWS::::Account:982971165489"}}, nil),
}

func ids(g Group) []string {
	var out []string
	for _, f := range g.Findings {
		out = append(out, f.ID)
	}
	return out
}

func TestBuildTellsOneStoryPerEntity(t *testing.T) {
	groups := Build(story)
	if len(groups) != 3 {
		t.Fatalf("got %d groups, want 3: %+v", len(groups), groups)
	}
	tests := []struct {
		findings []string
		severity string
		tactics  []string
		lead     Link
	}{
		{[]string{"f-recon", "f-evasion", "f-ti"}, "CRITICAL", []string{"Discovery", "Defense Evasion", "Command and Control"}, Link{KindPrincipal, ben}},
		{[]string{"f-creds", "f-flow"}, "HIGH", []string{"Credential Access", "Command and Control"}, Link{KindInstance, "i-0891743d0fd2bcb57"}},
		{[]string{"f-root"}, "LOW", nil, Link{KindPrincipal, "arn:aws:iam::982971165489:root"}},
	}
	for i, tt := range tests {
		g := groups[i]
		if !slices.Equal(ids(g), tt.findings) {
			t.Errorf("group %d: findings %v, want %v (in time order)", i, ids(g), tt.findings)
		}
		if g.Severity != tt.severity || !slices.Equal(g.Tactics, tt.tactics) {
			t.Errorf("group %d: severity %s tactics %v, want %s %v", i, g.Severity, g.Tactics, tt.severity, tt.tactics)
		}
		if len(g.Links) == 0 || g.Links[0] != tt.lead {
			t.Errorf("group %d: leading link %v, want %v", i, g.Links, tt.lead)
		}
		if !g.Start.Equal(g.Findings[0].FirstSeen) {
			t.Errorf("group %d: start %v, want the first finding's first_seen", i, g.Start)
		}
	}
	if got := groups[0].Title(); got != "principal:"+ben+": 3 findings" {
		t.Errorf("title %q", got)
	}
}

func TestGroupIDIsTheMembers(t *testing.T) {
	a := Build(story)
	reversed := slices.Clone(story)
	slices.Reverse(reversed)
	b := Build(reversed)
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("group %d: id %s, then %s for the same findings in another order", i, a[i].ID, b[i].ID)
		}
	}
	grown := Build(append(slices.Clone(story), finding("f-new", "secrets-burst", "LOW", 9, lake.Entity{Type: "principal", Key: ben}, nil, nil, nil)))
	if grown[0].ID == a[0].ID {
		t.Errorf("a group that gained a finding kept its id %s", a[0].ID)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		kind, value string
		want        Link
		ok          bool
	}{
		{KindPrincipal, "arn:aws:sts::111122223333:assumed-role/dev/alice", Link{KindPrincipal, "arn:aws:iam::111122223333:role/dev"}, true},
		{KindPrincipal, "arn:aws-us-gov:sts::111122223333:assumed-role/dev/alice", Link{KindPrincipal, "arn:aws-us-gov:iam::111122223333:role/dev"}, true},
		{KindPrincipal, "alice", Link{}, false},
		{KindInstance, "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc12345678def00", Link{KindInstance, "i-0abc12345678def00"}, true},
		{KindInstance, "I-0ABC12345678DEF00", Link{KindInstance, "i-0abc12345678def00"}, true},
		{KindInstance, "10.0.0.5", Link{KindIP, "10.0.0.5"}, true}, // a DNS client that is an address
		{KindIP, "::ffff:192.0.2.1", Link{KindIP, "192.0.2.1"}, true},
		{KindIP, "evil.example.", Link{KindDomain, "evil.example"}, true}, // a domain indicator
		{KindIP, "AWS Internal", Link{}, false},
		{KindDomain, "Mesaforge.Online.", Link{KindDomain, "mesaforge.online"}, true},
		{KindBucket, "arn:aws:s3:::logs-bucket/AWSLogs/1", Link{KindBucket, "logs-bucket"}, true},
		{KindBucket, "*", Link{}, false},
		{KindAccessKey, "AKIAIOSFODNN7EXAMPLE", Link{KindAccessKey, "AKIAIOSFODNN7EXAMPLE"}, true},
		{KindAccessKey, "not-a-key", Link{}, false},
		{KindPrincipal, "  ", Link{}, false},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.kind, tt.value)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%s, %q) = %v %v, want %v %v", tt.kind, tt.value, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParse(t *testing.T) {
	if l, ok := Parse("principal:arn:aws:sts::111122223333:assumed-role/dev/alice"); !ok || l.Value != "arn:aws:iam::111122223333:role/dev" {
		t.Errorf("Parse(principal:<role session>) = %v %v, want the role", l, ok)
	}
	if l, ok := Parse("ip:192.0.2.1"); !ok || l != (Link{KindIP, "192.0.2.1"}) {
		t.Errorf("Parse(ip:192.0.2.1) = %v %v", l, ok)
	}
	for _, bad := range []string{"host:x", "ip:evil.example", "nothing", "instance:i-zz"} {
		if l, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) = %v, want it refused", bad, l)
		}
	}
}

func TestAssignSetsEachFindingsGroup(t *testing.T) {
	fs := slices.Clone(story)
	Assign(fs)
	want := map[string]string{}
	for _, g := range Build(story) {
		for _, f := range g.Findings {
			want[f.ID] = g.ID
		}
	}
	for _, f := range fs {
		if f.GroupID == "" || f.GroupID != want[f.ID] {
			t.Errorf("finding %s: group_id %q, want %q", f.ID, f.GroupID, want[f.ID])
		}
	}
	if fs[0].GroupID != fs[1].GroupID || fs[0].GroupID == fs[5].GroupID {
		t.Errorf("ben's findings share a group and root's is apart: got %s %s %s", fs[0].GroupID, fs[1].GroupID, fs[5].GroupID)
	}
}
