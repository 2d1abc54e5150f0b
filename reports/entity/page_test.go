package entity

import (
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
)

const (
	acct    = "111122223333"
	mallory = "arn:aws:iam::" + acct + ":user/mallory"
	trent   = "arn:aws:iam::" + acct + ":user/trent"
)

func TestParseEntityErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"host:web-1", "KIND one of principal, access-key, ip"},
		{"ip:not-an-ip", `not a valid ip (e.g. ip:203.0.113.7)`},
		{"instance:web-1", "not a valid instance"},
		{"principal:bob", "not a valid principal"},
	} {
		if _, err := ParseEntity(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEntity(%q) = %v, want an error saying %q", tc.in, err, tc.want)
		}
	}
	if l, err := ParseEntity("principal:arn:aws:sts::" + acct + ":assumed-role/admin/session"); err != nil || l.Value != "arn:aws:iam::"+acct+":role/admin" {
		t.Errorf("an assumed-role session reads as %v, %v; want its role", l, err)
	}
}

func TestPageNames(t *testing.T) {
	a := PageName(group.Link{Kind: group.KindPrincipal, Value: mallory})
	b := PageName(group.Link{Kind: group.KindPrincipal, Value: "arn:aws:iam::999999999999:user/mallory"})
	if a == b || !strings.HasPrefix(a, "entities/principal-mallory-") || !strings.HasSuffix(a, ".html") {
		t.Errorf("page names %q and %q: want distinct, readable names under entities/", a, b)
	}
	if n := PageName(group.Link{Kind: group.KindDomain, Value: "../../<x>.example"}); strings.Count(n, "/") != 1 || strings.ContainsAny(n, "<>") {
		t.Errorf("page name %q leaves entities/ or holds markup", n)
	}
	f := func(id, sev, key string) lake.Finding {
		return lake.Finding{ID: id, HuntID: "h", Severity: sev, Entity: lake.Entity{Type: "principal", Key: key}}
	}
	groups := group.Build([]lake.Finding{f("a", lake.SeverityLow, trent), f("b", lake.SeverityHigh, mallory), f("c", lake.SeverityLow, mallory)})
	if got := PageLinks(groups); len(got) != 2 || got[0].Value != mallory || got[1].Value != trent {
		t.Errorf("page links %v, want mallory's group (the more severe) first, then trent's", got)
	}
}

// A page in a run directory links back to the report and to the pages of the other entities of its
// groups that the run has pages for; other entities are named, not linked.
func TestRunPageLinks(t *testing.T) {
	ip := group.Link{Kind: group.KindIP, Value: "203.0.113.66"}
	me := group.Link{Kind: group.KindPrincipal, Value: mallory}
	them := group.Link{Kind: group.KindPrincipal, Value: trent}
	fs := []lake.Finding{
		{ID: "a", HuntID: "h", Severity: lake.SeverityHigh, Entity: lake.Entity{Type: "principal", Key: mallory}, Fields: map[string]any{"source_ip": ip.Value}},
		{ID: "b", HuntID: "h", Severity: lake.SeverityLow, Entity: lake.Entity{Type: "principal", Key: trent}, Fields: map[string]any{"source_ip": ip.Value}},
	}
	p := &Page{Entity: me, InRun: true, Siblings: []group.Link{me, them}}
	p.Findings, p.Groups = Involving(me, fs)
	var buf strings.Builder
	if err := Render(&buf, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, s := range []string{`<a href="../` + reports.ReportFile + `">`, `<a href="` + strings.TrimPrefix(PageName(them), Dir+"/") + `">principal: ` + trent + `</a>`, "ip: 203.0.113.66"} {
		if !strings.Contains(html, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if strings.Contains(html, `href="ip-`) {
		t.Error("the page links an entity the run has no page for")
	}
	p.InRun = false
	buf.Reset()
	if err := Render(&buf, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<a href=") {
		t.Error("a page outside a run directory links to pages that may not exist")
	}
}
