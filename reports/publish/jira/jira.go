// Package jira opens a Jira Cloud issue per finding group (or per finding), labelled with the finding
// ids, and comments on the open issue instead when a finding comes back.
package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
)

// MaxSummary is the length limit of an issue summary; MaxLabel of a label.
const (
	MaxSummary = 255
	MaxLabel   = 255
)

// Publisher files Jira issues through the Cloud REST API (v3 with Atlassian Document Format, or v2 with
// wiki text), authenticated with an account's email and API token.
type Publisher struct {
	BaseURL    string // https://your-site.atlassian.net
	Email      string
	Token      string
	Project    string // the project key, e.g. SEC
	IssueType  string // default "Task"
	PerFinding bool   // one issue per finding instead of per group
	APIVersion int    // 3 (default) or 2
	// MinSeverity leaves out groups (or findings, per finding) below it.
	MinSeverity string
	Labels      []string // added to every issue (default: lakehunt)
	HTTP        publish.HTTP
}

func (p *Publisher) Name() string { return "jira" }

// Check reports a configuration that cannot file issues.
func (p *Publisher) Check() error {
	var miss []string
	for _, f := range []struct{ name, v string }{{"url", p.BaseURL}, {"email", p.Email}, {"token", p.Token}, {"project", p.Project}} {
		if f.v == "" {
			miss = append(miss, f.name)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("jira: set %s", strings.Join(miss, ", "))
	}
	if p.APIVersion != 0 && p.APIVersion != 2 && p.APIVersion != 3 {
		return fmt.Errorf("jira: api_version %d: use 3 (or 2)", p.APIVersion)
	}
	return nil
}

// unit is what one issue is about.
type unit struct {
	group    group.Group
	findings []lake.Finding // the findings to file (per finding: one)
}

// Publish files or comments on one issue per unit. It goes on after a unit fails (the next may be
// fine: a field one finding cannot fill) and returns every failure.
func (p *Publisher) Publish(ctx context.Context, in publish.Input) ([]lake.Sent, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var units []unit
	for _, g := range in.Groups {
		if !p.PerFinding {
			if lake.SeverityRank(g.Severity) >= lake.SeverityRank(p.MinSeverity) || p.MinSeverity == "" {
				units = append(units, unit{g, g.Findings})
			}
			continue
		}
		for _, f := range g.Findings {
			if !in.WasSent(f.ID) && (p.MinSeverity == "" || lake.SeverityRank(f.Severity) >= lake.SeverityRank(p.MinSeverity)) {
				units = append(units, unit{g, []lake.Finding{f}})
			}
		}
	}
	var sent []lake.Sent
	var errs []error
	for _, u := range units {
		s, err := p.file(ctx, in, u)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		sent = append(sent, s)
	}
	return sent, errors.Join(errs...)
}

func (p *Publisher) file(ctx context.Context, in publish.Input, u unit) (lake.Sent, error) {
	labels := make([]string, 0, len(u.findings))
	for _, f := range u.findings {
		labels = append(labels, Label(f.ID))
	}
	what := "group " + u.group.ID
	if p.PerFinding {
		what = "finding " + u.findings[0].ID
	}
	s := lake.Sent{GroupID: u.group.ID, At: time.Now().UTC()}
	for _, f := range u.findings {
		s.FindingIDs = append(s.FindingIDs, f.ID)
	}
	key, have, err := p.openIssue(ctx, labels)
	if err != nil {
		return s, fmt.Errorf("%s: search for its open issue: %w", what, err)
	}
	if key == "" {
		key, err = p.create(ctx, in, u, labels)
		if err != nil {
			return s, fmt.Errorf("%s: create an issue: %w", what, err)
		}
		s.Ref, s.Action = key, "created"
		return s, nil
	}
	if err := p.comment(ctx, in, u, key); err != nil {
		return s, fmt.Errorf("%s: comment on %s: %w", what, key, err)
	}
	s.Ref, s.Action = key, "commented"
	var add []string
	for _, l := range labels {
		if !slices.Contains(have, l) {
			add = append(add, l)
		}
	}
	if len(add) > 0 {
		// So that the group's new findings find this issue when they come back.
		if err := p.addLabels(ctx, key, add); err != nil {
			return s, fmt.Errorf("%s: label %s: %w", what, key, err)
		}
	}
	return s, nil
}

func (p *Publisher) api(path string) string {
	v := p.APIVersion
	if v == 0 {
		v = 3
	}
	return fmt.Sprintf("%s/rest/api/%d/%s", strings.TrimSuffix(p.BaseURL, "/"), v, path)
}

func (p *Publisher) header() http.Header {
	auth := base64.StdEncoding.EncodeToString([]byte(p.Email + ":" + p.Token))
	return http.Header{"Authorization": {"Basic " + auth}, "Accept": {"application/json"}, "Content-Type": {"application/json"}}
}

// openIssue finds the open issue that carries any of the labels: its key and labels ("" if none).
// Jira Cloud's JQL search is GET /rest/api/{2|3}/search/jql (the older /search answers 410 Gone).
func (p *Publisher) openIssue(ctx context.Context, labels []string) (string, []string, error) {
	q := url.Values{"jql": {JQL(p.Project, labels)}, "fields": {"labels"}, "maxResults": {"1"}}
	body, err := p.HTTP.Do(ctx, publish.Request{Method: http.MethodGet, URL: p.api("search/jql") + "?" + q.Encode(), Header: p.header()})
	if err != nil {
		return "", nil, err
	}
	var r struct {
		Issues []struct {
			Key    string `json:"key"`
			Fields struct {
				Labels []string `json:"labels"`
			} `json:"fields"`
		} `json:"issues"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", nil, fmt.Errorf("unreadable search answer: %w", err)
	}
	if len(r.Issues) == 0 {
		return "", nil, nil
	}
	return r.Issues[0].Key, r.Issues[0].Fields.Labels, nil
}

// JQL is the search for a project's open issues that carry any of the labels, oldest first.
func JQL(project string, labels []string) string {
	q := make([]string, len(labels))
	for i, l := range labels {
		q[i] = quote(l)
	}
	return fmt.Sprintf("project = %s AND labels in (%s) AND statusCategory != Done ORDER BY created ASC", quote(project), strings.Join(q, ", "))
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Label turns a finding id into a Jira label (no spaces, at most MaxLabel characters).
func Label(id string) string {
	l := strings.Join(strings.Fields(id), "_")
	if len(l) > MaxLabel {
		l = l[:MaxLabel]
	}
	return l
}

func (p *Publisher) create(ctx context.Context, in publish.Input, u unit, labels []string) (string, error) {
	extra := p.Labels
	if extra == nil {
		extra = []string{"lakehunt"}
	}
	for _, l := range extra {
		if l = Label(l); l != "" && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	issueType := p.IssueType
	if issueType == "" {
		issueType = "Task"
	}
	fields := map[string]any{
		"project":     map[string]string{"key": p.Project},
		"issuetype":   map[string]string{"name": issueType},
		"summary":     summary(u, p.PerFinding),
		"labels":      labels,
		"description": p.doc(describe(in, u)),
	}
	b, err := json.Marshal(map[string]any{"fields": fields})
	if err != nil {
		return "", err
	}
	body, err := p.HTTP.Do(ctx, publish.Request{Method: http.MethodPost, URL: p.api("issue"), Header: p.header(), Body: b})
	if err != nil {
		return "", err
	}
	var r struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Key == "" {
		return "", fmt.Errorf("no issue key in the answer %.200q", body)
	}
	return r.Key, nil
}

func (p *Publisher) comment(ctx context.Context, in publish.Input, u unit, key string) error {
	lines := append([]string{"Seen again by lakehunt."}, describe(in, u)...)
	b, err := json.Marshal(map[string]any{"body": p.doc(lines)})
	if err != nil {
		return err
	}
	_, err = p.HTTP.Do(ctx, publish.Request{Method: http.MethodPost, URL: p.api("issue/" + url.PathEscape(key) + "/comment"), Header: p.header(), Body: b})
	return err
}

func (p *Publisher) addLabels(ctx context.Context, key string, labels []string) error {
	ops := make([]map[string]string, len(labels))
	for i, l := range labels {
		ops[i] = map[string]string{"add": l}
	}
	b, err := json.Marshal(map[string]any{"update": map[string]any{"labels": ops}})
	if err != nil {
		return err
	}
	_, err = p.HTTP.Do(ctx, publish.Request{Method: http.MethodPut, URL: p.api("issue/" + url.PathEscape(key)), Header: p.header(), Body: b})
	return err
}

func summary(u unit, perFinding bool) string {
	s := u.group.Severity + ": " + u.group.Title()
	if perFinding {
		f := u.findings[0]
		s = f.Severity + ": " + f.Title
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > MaxSummary {
		s = string(r[:MaxSummary-1]) + "…"
	}
	return s
}

// describe is the issue text, one paragraph per line.
func describe(in publish.Input, u unit) []string {
	var out []string
	if in.Run != nil {
		out = append(out, fmt.Sprintf("Run %s, window %s to %s.", in.Run.ID, in.Run.WindowStart.UTC().Format(time.RFC3339), in.Run.WindowEnd.UTC().Format(time.RFC3339)))
	}
	g := u.group
	out = append(out, fmt.Sprintf("Group %s: %s, %s to %s.", g.ID, g.Severity, g.Start.UTC().Format(time.RFC3339), g.End.UTC().Format(time.RFC3339)))
	if len(g.Tactics) > 0 {
		out = append(out, "Tactics: "+strings.Join(g.Tactics, " → "))
	}
	for _, f := range u.findings {
		line := fmt.Sprintf("[%s] %s (hunt %s, finding %s): %s %s, %s to %s, %d events.", f.Severity, f.Title, f.HuntID, f.ID,
			f.Entity.Type, f.Entity.Key, f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339), f.Count)
		if f.Description != "" {
			line += " " + f.Description
		}
		if in.ReportURL != "" {
			line += " " + in.ReportURL + "#" + reports.Anchor(f.ID)
		}
		out = append(out, line)
	}
	return out
}

// doc is a description or comment body: an Atlassian Document Format document (v3), or wiki text in a
// {noformat} block so that finding text cannot become Jira markup (v2).
func (p *Publisher) doc(lines []string) any {
	if p.APIVersion == 2 {
		text := strings.ReplaceAll(strings.Join(lines, "\n"), "{noformat}", "{ noformat}")
		return "{noformat}\n" + text + "\n{noformat}"
	}
	content := []any{}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": l}}})
		}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}
