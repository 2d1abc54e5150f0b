package jira_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/publish/jira"
	"github.com/lakehunt/lakehunt/reports/publish/publishtest"
)

type issue struct {
	Key      string
	Summary  string
	Labels   []string
	Done     bool
	Comments []any
	Desc     any
}

// fakeJira keeps issues in memory and checks requests as Jira Cloud's REST API documents them: basic
// auth with email and API token, GET /rest/api/{v}/search/jql with a JQL query, POST /issue with
// project, issuetype, summary (one line, at most 255 characters), labels (no spaces) and a description
// (an ADF document in v3, a string in v2), POST /issue/{key}/comment, PUT /issue/{key} label updates.
type fakeJira struct {
	t        *testing.T
	v        int
	mu       sync.Mutex
	issues   []*issue
	play     map[string][]int // path prefix → statuses to answer first
	requests []string
}

var labelsIn = regexp.MustCompile(`^project = "SEC" AND labels in \(("[^"]+"(, "[^"]+")*)\) AND statusCategory != Done ORDER BY created ASC$`)

func (s *fakeJira) fail(w http.ResponseWriter, code int, msg string) {
	s.t.Errorf("jira refuses: %s", msg)
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"errorMessages":[%q],"errors":{}}`, msg)
}

func (s *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	for prefix, sts := range s.play {
		if strings.HasPrefix(r.Method+" "+r.URL.Path, prefix) && len(sts) > 0 {
			s.play[prefix] = sts[1:]
			if sts[0] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "2")
			}
			w.WriteHeader(sts[0])
			fmt.Fprint(w, `{"errorMessages":["Field 'customfield_1' is required."],"errors":{"summary":"You must specify a summary of the issue."}}`)
			return
		}
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("sec@example.com:api-token"))
	if r.Header.Get("Authorization") != want {
		w.WriteHeader(http.StatusUnauthorized)
		s.t.Errorf("auth header %q", r.Header.Get("Authorization"))
		return
	}
	base := fmt.Sprintf("/rest/api/%d/", s.v)
	path, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		s.fail(w, 404, "no such API "+r.URL.Path)
		return
	}
	var body map[string]any
	if r.Method != http.MethodGet {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			s.fail(w, 415, "Content-Type "+r.Header.Get("Content-Type"))
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			s.fail(w, 400, "body is not JSON")
			return
		}
	}
	switch {
	case r.Method == http.MethodGet && path == "search/jql":
		m := labelsIn.FindStringSubmatch(r.URL.Query().Get("jql"))
		if m == nil {
			s.fail(w, 400, "unexpected JQL "+r.URL.Query().Get("jql"))
			return
		}
		var found []map[string]any
		for _, is := range s.issues {
			for _, l := range is.Labels {
				if !is.Done && strings.Contains(m[1], `"`+l+`"`) {
					found = append(found, map[string]any{"id": "1", "key": is.Key, "fields": map[string]any{"labels": is.Labels}})
					break
				}
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"issues": found, "isLast": true})
	case r.Method == http.MethodPost && path == "issue":
		f, _ := body["fields"].(map[string]any)
		proj, _ := f["project"].(map[string]any)
		it, _ := f["issuetype"].(map[string]any)
		sum, _ := f["summary"].(string)
		if proj["key"] != "SEC" || it["name"] != "Task" || sum == "" || strings.ContainsAny(sum, "\n\r") || utf8.RuneCountInString(sum) > jira.MaxSummary {
			s.fail(w, 400, fmt.Sprintf("fields %v", f))
			return
		}
		var labels []string
		for _, l := range f["labels"].([]any) {
			ls := l.(string)
			if strings.ContainsAny(ls, " \t") || len(ls) > jira.MaxLabel {
				s.fail(w, 400, "label "+ls)
				return
			}
			labels = append(labels, ls)
		}
		if msg := s.checkDoc(f["description"]); msg != "" {
			s.fail(w, 400, "description: "+msg)
			return
		}
		is := &issue{Key: fmt.Sprintf("SEC-%d", len(s.issues)+1), Summary: sum, Labels: labels, Desc: f["description"]}
		s.issues = append(s.issues, is)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"1000%d","key":%q,"self":"http://x/rest/api/3/issue/1"}`, len(s.issues), is.Key)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "issue/") && strings.HasSuffix(path, "/comment"):
		is := s.find(strings.TrimSuffix(strings.TrimPrefix(path, "issue/"), "/comment"))
		if is == nil {
			s.fail(w, 404, "Issue does not exist or you do not have permission to see it.")
			return
		}
		if msg := s.checkDoc(body["body"]); msg != "" {
			s.fail(w, 400, "comment: "+msg)
			return
		}
		is.Comments = append(is.Comments, body["body"])
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"10000"}`)
	case r.Method == http.MethodPut && strings.HasPrefix(path, "issue/"):
		is := s.find(strings.TrimPrefix(path, "issue/"))
		upd, _ := body["update"].(map[string]any)
		ops, _ := upd["labels"].([]any)
		if is == nil || len(ops) == 0 {
			s.fail(w, 400, "label update")
			return
		}
		for _, op := range ops {
			is.Labels = append(is.Labels, op.(map[string]any)["add"].(string))
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		s.fail(w, 404, "unexpected "+r.Method+" "+r.URL.Path)
	}
}

func (s *fakeJira) find(key string) *issue {
	for _, is := range s.issues {
		if is.Key == key {
			return is
		}
	}
	return nil
}

// checkDoc: v3 wants an ADF document (type doc, version 1, paragraphs of non-empty text nodes), v2 a string.
func (s *fakeJira) checkDoc(v any) string {
	if s.v == 2 {
		if str, ok := v.(string); !ok || str == "" {
			return "v2 wants a string"
		}
		return ""
	}
	d, _ := v.(map[string]any)
	if d["type"] != "doc" || d["version"] != float64(1) {
		return fmt.Sprintf("not an ADF document: %v", v)
	}
	content, _ := d["content"].([]any)
	if len(content) == 0 {
		return "empty document"
	}
	for _, p := range content {
		pm := p.(map[string]any)
		texts, _ := pm["content"].([]any)
		if pm["type"] != "paragraph" || len(texts) == 0 {
			return "not a paragraph"
		}
		for _, tx := range texts {
			tm := tx.(map[string]any)
			if tm["type"] != "text" || tm["text"] == "" {
				return "empty text node"
			}
		}
	}
	return ""
}

func (s *fakeJira) text(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func setup(t *testing.T, v int) (*fakeJira, *jira.Publisher) {
	s := &fakeJira{t: t, v: v, play: map[string][]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, &jira.Publisher{BaseURL: srv.URL, Email: "sec@example.com", Token: "api-token", Project: "SEC", APIVersion: v,
		HTTP: publish.HTTP{Sleep: func(context.Context, time.Duration) error { return nil }}}
}

// One issue per group, labelled with its finding ids; the same findings in a later run (another run
// directory, nothing recorded there) comment on the open issue instead of opening another; once the
// issue is done, a recurrence opens a new one.
func TestIssuePerGroupThenComment(t *testing.T) {
	for _, v := range []int{3, 2} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			s, p := setup(t, v)
			story := publishtest.Story()
			outs, err := publish.Run(t.Context(), publishtest.RunDir(t, "run-1", story), []publish.Publisher{p}, publish.Options{ReportURL: "https://r.example/report.html"})
			if err != nil || publish.Failed(outs) != nil {
				t.Fatal(err, publish.Failed(outs))
			}
			if len(s.issues) != 2 {
				t.Fatalf("%d issues, want 2 (one per group)", len(s.issues))
			}
			ben := s.issues[0]
			if !slices.Equal(ben.Labels, []string{"f-recon01", "f-stoplg2", "f-ticont3", "lakehunt"}) ||
				ben.Summary != "HIGH: principal:arn:aws:iam::111122223333:user/ben.schmidt: 3 findings" {
				t.Errorf("issue %+v", ben)
			}
			desc := s.text(ben.Desc)
			if !strings.Contains(desc, "https://r.example/report.html#"+reports.Anchor("f-stoplg2")) {
				t.Errorf("description lacks the report link: %s", desc)
			}
			if v == 2 && !strings.Contains(desc, `{ noformat}`) {
				t.Errorf("v2: the finding's {noformat} was not neutralised: %s", desc)
			}
			if got := outs[0].Sent; len(got) != 2 || got[0].Ref != "SEC-1" || got[0].Action != "created" {
				t.Errorf("sent %+v", got)
			}

			// The next window finds the StopLogging again, and something new by ben.
			again := []lake.Finding{story[1], publishtest.Finding("f-newstep", lake.SeverityMedium, "CreateAccessKey by ben.schmidt", story[0].Entity.Key, 5*time.Hour)}
			outs, err = publish.Run(t.Context(), publishtest.RunDir(t, "run-2", again), []publish.Publisher{p}, publish.Options{})
			if err != nil || publish.Failed(outs) != nil {
				t.Fatal(err, publish.Failed(outs))
			}
			if len(s.issues) != 2 || len(ben.Comments) != 1 || !slices.Contains(ben.Labels, "f-newstep") {
				t.Fatalf("issues %d, comments %d, labels %v", len(s.issues), len(ben.Comments), ben.Labels)
			}
			if got := outs[0].Sent; len(got) != 1 || got[0].Ref != "SEC-1" || got[0].Action != "commented" {
				t.Errorf("sent %+v", got)
			}

			ben.Done = true
			if _, err := publish.Run(t.Context(), publishtest.RunDir(t, "run-3", again), []publish.Publisher{p}, publish.Options{}); err != nil {
				t.Fatal(err)
			}
			if len(s.issues) != 3 {
				t.Errorf("%d issues: a finding whose issue is done did not open a new one", len(s.issues))
			}
		})
	}
}

// Per finding: one issue each, at or above the threshold; publishing the same run directory again
// sends nothing (run.json's record), and each search names the finding's label.
func TestIssuePerFinding(t *testing.T) {
	s, p := setup(t, 3)
	p.PerFinding, p.MinSeverity = true, lake.SeverityMedium
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	if len(s.issues) != 3 || s.issues[1].Summary != "HIGH: StopLogging on org-trail by ben.schmidt" {
		t.Fatalf("issues %+v", s.issues)
	}
	n := len(s.requests)
	if _, err := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{}); err != nil {
		t.Fatal(err)
	}
	if len(s.requests) != n {
		t.Errorf("publishing again sent %v", s.requests[n:])
	}
}

// 429 (with Retry-After) and 5xx are retried; a 4xx is reported with Jira's messages and the other
// units are still filed.
func TestJiraErrors(t *testing.T) {
	s, p := setup(t, 3)
	s.play["GET /rest/api/3/search/jql"] = []int{429, 502}
	s.play["POST /rest/api/3/issue"] = []int{400}
	outs, err := publish.Run(t.Context(), publishtest.RunDir(t, "run-1", publishtest.Story()), []publish.Publisher{p}, publish.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := outs[0].Err
	if e == nil || !strings.Contains(e.Error(), "create an issue: POST ") || !strings.Contains(e.Error(), "HTTP 400: Field 'customfield_1' is required.; summary: You must specify a summary of the issue.") {
		t.Fatalf("err = %v", e)
	}
	if len(outs[0].Sent) != 1 || len(s.issues) != 1 {
		t.Errorf("sent %+v, issues %d: the second group was not filed after the first failed", outs[0].Sent, len(s.issues))
	}
}

func TestJQLQuotes(t *testing.T) {
	got := jira.JQL(`SEC`, []string{`f-1`, `a"b\c`})
	if got != `project = "SEC" AND labels in ("f-1", "a\"b\\c") AND statusCategory != Done ORDER BY created ASC` {
		t.Errorf("JQL = %s", got)
	}
}

func TestCheck(t *testing.T) {
	err := (&jira.Publisher{BaseURL: "https://x.atlassian.net", Project: "SEC"}).Check()
	if err == nil || err.Error() != "jira: set email, token" {
		t.Errorf("Check = %v", err)
	}
}
