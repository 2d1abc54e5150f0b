package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/publish/publishtest"
	"github.com/lakehunt/lakehunt/reports/publish/slack"
)

// fakeSlack checks each request the way Slack documents them: a POST of JSON with a non-empty
// fallback text and at most 50 blocks, each of a known type within its limits; chat.postMessage also
// needs the bearer token and a channel. It answers with the statuses in play (then 200).
type fakeSlack struct {
	t        *testing.T
	token    string // "" = incoming webhook
	mu       sync.Mutex
	play     []int
	messages []map[string]any
}

func (s *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.play) > 0 {
		st := s.play[0]
		s.play = s.play[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(st)
		fmt.Fprint(w, map[bool]string{true: "invalid_blocks", false: "internal_error"}[st < 500])
		return
	}
	refuse := func(code int, msg string) {
		s.t.Errorf("slack refuses: %s", msg)
		if s.token != "" {
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, msg)
			return
		}
		w.WriteHeader(code)
		fmt.Fprint(w, msg)
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		refuse(400, "invalid_payload: "+r.Method+" "+r.Header.Get("Content-Type"))
		return
	}
	if s.token != "" && (r.URL.Path != "/api/chat.postMessage" || r.Header.Get("Authorization") != "Bearer "+s.token) {
		refuse(401, "not_authed: "+r.URL.Path)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var m struct {
		Channel string           `json:"channel"`
		Text    string           `json:"text"`
		Blocks  []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		refuse(400, "invalid_json")
		return
	}
	if s.token != "" && m.Channel == "" {
		refuse(400, "channel_not_found")
		return
	}
	if m.Text == "" || len(m.Blocks) == 0 || len(m.Blocks) > slack.MaxBlocks {
		refuse(400, fmt.Sprintf("invalid_blocks: text %q, %d blocks", m.Text, len(m.Blocks)))
		return
	}
	for i, b := range m.Blocks {
		if msg := checkBlock(b); msg != "" {
			refuse(400, fmt.Sprintf("invalid_blocks: block %d: %s", i, msg))
			return
		}
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	s.messages = append(s.messages, raw)
	if s.token != "" {
		fmt.Fprintf(w, `{"ok":true,"channel":"C024BE91L","ts":"1764763200.%06d"}`, len(s.messages))
		return
	}
	fmt.Fprint(w, "ok")
}

func text(v any) (typ, s string) {
	m, _ := v.(map[string]any)
	typ, _ = m["type"].(string)
	s, _ = m["text"].(string)
	return typ, s
}

func checkBlock(b map[string]any) string {
	switch b["type"] {
	case "header":
		typ, s := text(b["text"])
		if typ != "plain_text" || s == "" || utf8.RuneCountInString(s) > slack.MaxHeaderChars {
			return fmt.Sprintf("header %s of %d chars", typ, utf8.RuneCountInString(s))
		}
	case "section":
		typ, s := text(b["text"])
		if (typ != "mrkdwn" && typ != "plain_text") || s == "" || utf8.RuneCountInString(s) > slack.MaxSectionText {
			return fmt.Sprintf("section %s of %d chars", typ, utf8.RuneCountInString(s))
		}
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > 10 {
			return fmt.Sprintf("context with %d elements", len(els))
		}
		for _, e := range els {
			if _, s := text(e); s == "" || utf8.RuneCountInString(s) > slack.MaxContextText {
				return "context element text"
			}
		}
	case "divider":
	default:
		return fmt.Sprintf("unknown block type %v", b["type"])
	}
	return ""
}

func server(t *testing.T, token string, play ...int) (*fakeSlack, *httptest.Server) {
	s := &fakeSlack{t: t, token: token, play: play}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func noWait() publish.HTTP {
	return publish.HTTP{Sleep: func(context.Context, time.Duration) error { return nil }}
}

// One message per group at or above the threshold, through an incoming webhook; mrkdwn from findings
// stays inert (no mention, no link) and the findings link into the report.
func TestWebhookOneMessagePerGroup(t *testing.T) {
	fs, srv := server(t, "")
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	p := &slack.Publisher{WebhookURL: srv.URL + "/services/T0/B0/secret", MinSeverity: lake.SeverityMedium, HTTP: noWait()}
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{ReportURL: "https://reports.example/run-1/report.html"})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	if len(fs.messages) != 1 {
		t.Fatalf("%d messages, want 1 (the LOW group is below the threshold)", len(fs.messages))
	}
	b, _ := json.Marshal(fs.messages[0])
	body := string(b)
	for _, want := range []string{
		`"text":"HIGH: principal:arn:aws:iam::111122223333:user/ben.schmidt: 3 findings"`,
		`\u0026lt;!channel\u0026gt; \u0026amp; {noformat}`, // &lt;!channel&gt; &amp; in Go's JSON
		`\u003chttps://reports.example/run-1/report.html#` + reports.Anchor("f-stoplg2") + `|StopLogging on org-trail by ben.schmidt\u003e`,
		`discovery`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, `\u003c!channel`) {
		t.Error("a finding's <!channel> reached Slack as a mention")
	}
	if len(outs[0].Sent) != 1 || outs[0].Sent[0].Ref != "" || len(outs[0].Sent[0].FindingIDs) != 3 {
		t.Errorf("sent %+v", outs[0].Sent)
	}
}

// A group larger than one message allows is cut to 50 blocks with a count of the rest, every text within
// its limit; chat.postMessage gets the token and channel and its ts is recorded.
func TestBotTokenLargeGroupWithinLimits(t *testing.T) {
	fs, srv := server(t, "xoxb-test")
	dir := publishtest.RunDir(t, "run-big", publishtest.Big(120))
	p := &slack.Publisher{Token: "xoxb-test", Channel: "C024BE91L", API: srv.URL + "/api", HTTP: noWait()}
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	if len(fs.messages) != 1 {
		t.Fatalf("%d messages", len(fs.messages))
	}
	blocks := fs.messages[0]["blocks"].([]any)
	if len(blocks) != slack.MaxBlocks {
		t.Errorf("%d blocks, want %d", len(blocks), slack.MaxBlocks)
	}
	if _, s := text(blocks[len(blocks)-2].(map[string]any)["text"]); !strings.Contains(s, "and 75 more findings") {
		t.Errorf("second-to-last block %q", s)
	}
	run, _ := reports.ReadRun(dir)
	if len(run.Sent) != 1 || run.Sent[0].Ref != "1764763200.000001" || len(run.Sent[0].FindingIDs) != 120 {
		t.Errorf("run.json sent %+v", run.Sent)
	}
}

// 429 and 5xx are retried; a 4xx stops the publisher with Slack's message; chat.postMessage's ok:false
// is a refusal too. Nothing is recorded as sent that Slack did not take.
func TestSlackErrors(t *testing.T) {
	cases := []struct {
		name    string
		token   string
		play    []int
		channel string
		wantErr string
		sent    int
	}{
		{"429 then 5xx then ok", "", []int{429, 503}, "", "", 2},
		{"4xx", "", []int{400}, "", "group g-", 0},
		{"token without channel", "xoxb-t", nil, "", "a token needs a channel", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, srv := server(t, c.token, c.play...)
			p := &slack.Publisher{WebhookURL: srv.URL, HTTP: noWait()}
			if c.token != "" {
				p = &slack.Publisher{Token: c.token, Channel: c.channel, API: srv.URL + "/api", HTTP: noWait()}
			}
			dir := publishtest.RunDir(t, "run-1", publishtest.Story())
			outs, err := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(outs[0].Sent) != c.sent {
				t.Errorf("sent %d, want %d", len(outs[0].Sent), c.sent)
			}
			if c.wantErr == "" {
				if outs[0].Err != nil {
					t.Fatal(outs[0].Err)
				}
				return
			}
			if outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", outs[0].Err, c.wantErr)
			}
		})
	}
}

// chat.postMessage answers refusals with 200 and ok:false: that is an error with Slack's code.
func TestPostMessageNotOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
	}))
	defer srv.Close()
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	p := &slack.Publisher{Token: "xoxb-t", Channel: "#nope", API: srv.URL, HTTP: noWait()}
	outs, _ := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{})
	if outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), "HTTP 200: channel_not_found") || len(outs[0].Sent) != 0 {
		t.Fatalf("err = %v, sent %v", outs[0].Err, outs[0].Sent)
	}
}

// The incoming webhook's URL is its secret: errors do not show it.
func TestWebhookURLNotInErrors(t *testing.T) {
	p := &slack.Publisher{WebhookURL: "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX",
		HTTP: publish.HTTP{MaxAttempts: 1, Client: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader("no_service")), Header: http.Header{}}, nil
		})}}}
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	outs, _ := publish.Run(t.Context(), dir, []publish.Publisher{p}, publish.Options{})
	if outs[0].Err == nil || strings.Contains(outs[0].Err.Error(), "secret") || !strings.Contains(outs[0].Err.Error(), "no_service") {
		t.Fatalf("err = %v", outs[0].Err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
