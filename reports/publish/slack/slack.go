// Package slack posts one Slack message per new finding group, through an incoming webhook or a bot
// token (chat.postMessage), in Block Kit within Slack's limits.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
)

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
const (
	MaxBlocks      = 50   // blocks in one message
	MaxHeaderChars = 150  // a header block's plain_text
	MaxSectionText = 3000 // a section block's text
	MaxContextText = 3000 // a context element's text
	// MaxFallbackText bounds the top-level text (notifications, clients without blocks).
	MaxFallbackText = 3000
)

// DefaultAPI is the Web API base chat.postMessage is called on.
const DefaultAPI = "https://slack.com/api"

// Publisher posts to Slack: WebhookURL, or Token and Channel.
type Publisher struct {
	WebhookURL string // an incoming webhook (https://hooks.slack.com/services/...)
	Token      string // a bot token (xoxb-...) with chat:write
	Channel    string // the channel id or name for Token
	// MinSeverity leaves out groups below it ("" posts every group).
	MinSeverity string
	API         string // default DefaultAPI
	HTTP        publish.HTTP
}

func (p *Publisher) Name() string { return "slack" }

// Check reports a configuration that cannot post.
func (p *Publisher) Check() error {
	switch {
	case p.WebhookURL == "" && p.Token == "":
		return errors.New("slack: set webhook_url, or token and channel")
	case p.WebhookURL != "" && p.Token != "":
		return errors.New("slack: set webhook_url or token, not both")
	case p.Token != "" && p.Channel == "":
		return errors.New("slack: a token needs a channel (its id, e.g. C0123456789, or #name)")
	}
	return nil
}

// Publish posts one message per group at or above MinSeverity that has findings not posted before.
// It stops at the first group Slack refuses (the rest would most likely fail the same way).
func (p *Publisher) Publish(ctx context.Context, in publish.Input) ([]lake.Sent, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var sent []lake.Sent
	for _, g := range publish.AtLeast(in.Groups, p.MinSeverity) {
		msg := Message(in.Run, g, in.ReportURL)
		ts, err := p.post(ctx, msg)
		if err != nil {
			return sent, fmt.Errorf("group %s: %w", g.ID, err)
		}
		s := lake.Sent{GroupID: g.ID, Ref: ts, Action: "posted", At: time.Now().UTC()}
		for _, f := range g.Findings {
			s.FindingIDs = append(s.FindingIDs, f.ID)
		}
		sent = append(sent, s)
	}
	return sent, nil
}

// post sends a message and returns its ts (chat.postMessage; an incoming webhook returns none).
func (p *Publisher) post(ctx context.Context, msg Msg) (string, error) {
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	url := p.WebhookURL
	if p.Token != "" {
		api := p.API
		if api == "" {
			api = DefaultAPI
		}
		url = strings.TrimSuffix(api, "/") + "/chat.postMessage"
		h.Set("Authorization", "Bearer "+p.Token)
		msg.Channel = p.Channel
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return "", err
	}
	resp, err := p.HTTP.Do(ctx, publish.Request{Method: http.MethodPost, URL: url, Header: h, Body: body})
	if err != nil || p.Token == "" {
		return "", err
	}
	// The Web API answers 200 with ok:false for refusals (channel_not_found, invalid_blocks, ...).
	var r struct {
		OK       bool   `json:"ok"`
		Error    string `json:"error"`
		TS       string `json:"ts"`
		Response struct {
			Messages []string `json:"messages"`
		} `json:"response_metadata"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return "", fmt.Errorf("chat.postMessage: unreadable answer: %w", err)
	}
	if !r.OK {
		msg := r.Error
		if len(r.Response.Messages) > 0 {
			msg += " (" + strings.Join(r.Response.Messages, "; ") + ")"
		}
		return "", &publish.HTTPError{Method: http.MethodPost, URL: url, Status: http.StatusOK, Message: msg, Attempts: 1}
	}
	return r.TS, nil
}

// Msg is a Slack message: chat.postMessage's and an incoming webhook's JSON body.
type Msg struct {
	Channel     string  `json:"channel,omitempty"`
	Text        string  `json:"text"`
	Blocks      []Block `json:"blocks"`
	UnfurlLinks bool    `json:"unfurl_links"`
}

// Block is a header, section, divider or context block.
type Block struct {
	Type     string  `json:"type"`
	Text     *Text   `json:"text,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a plain_text or mrkdwn text object.
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func header(s string) Block {
	return Block{Type: "header", Text: &Text{"plain_text", cut(s, MaxHeaderChars)}}
}
func section(s string) Block {
	return Block{Type: "section", Text: &Text{"mrkdwn", cut(s, MaxSectionText)}}
}
func contextBlock(s string) Block {
	return Block{Type: "context", Elements: []*Text{{"mrkdwn", cut(s, MaxContextText)}}}
}

// Message builds the message for one group: a header, the group's summary, one section per finding in
// time order (as many as fit in MaxBlocks, then a count of the rest) and a link to the report.
func Message(run *lake.Run, g group.Group, reportURL string) Msg {
	title := fmt.Sprintf("%s: %s", g.Severity, g.Title())
	// The fallback text is mrkdwn too (notifications show it): escaped like the sections.
	m := Msg{Text: cut(esc("lakehunt "+title), MaxFallbackText)}
	m.Blocks = append(m.Blocks, header(title))
	var sum strings.Builder
	fmt.Fprintf(&sum, "*%s* group `%s`, %s to %s", esc(g.Severity), g.ID, g.Start.UTC().Format(time.RFC3339), g.End.UTC().Format(time.RFC3339))
	if run != nil {
		fmt.Fprintf(&sum, "\nRun `%s`, window %s to %s", esc(run.ID), run.WindowStart.UTC().Format(time.RFC3339), run.WindowEnd.UTC().Format(time.RFC3339))
	}
	if len(g.Tactics) > 0 {
		fmt.Fprintf(&sum, "\n*Tactics:* %s", esc(strings.Join(g.Tactics, " → ")))
	}
	if len(g.Links) > 0 {
		var ls []string
		for i, l := range g.Links {
			if i == 8 {
				ls = append(ls, fmt.Sprintf("and %d more", len(g.Links)-i))
				break
			}
			ls = append(ls, esc(l.String()))
		}
		fmt.Fprintf(&sum, "\n*Entities:* %s", strings.Join(ls, ", "))
	}
	m.Blocks = append(m.Blocks, section(sum.String()), Block{Type: "divider"})
	// header, summary, divider, the findings, perhaps "more", the link.
	room := MaxBlocks - len(m.Blocks) - 2
	for i, f := range g.Findings {
		if i == room && len(g.Findings) > room+1 {
			m.Blocks = append(m.Blocks, section(fmt.Sprintf("…and %d more findings: see the report.", len(g.Findings)-i)))
			break
		}
		m.Blocks = append(m.Blocks, section(findingText(f, reportURL)))
	}
	link := "The report is report.html in the run directory."
	if reportURL != "" {
		link = "<" + reportURL + "|Open the report>"
	}
	m.Blocks = append(m.Blocks, contextBlock(link))
	return m
}

func findingText(f lake.Finding, reportURL string) string {
	title := "*" + esc(cut(f.Title, 200)) + "*"
	if reportURL != "" {
		title = "<" + reportURL + "#" + reports.Anchor(f.ID) + "|" + esc(cut(f.Title, 200)) + ">"
	}
	events := fmt.Sprintf("%d events", f.Count)
	if f.Count == 1 {
		events = "1 event"
	}
	s := fmt.Sprintf("%s  [%s] hunt %s\n%s to %s, %s · %s %s", title, esc(f.Severity), esc(f.HuntID),
		f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339), events, esc(f.Entity.Type), esc(f.Entity.Key))
	if f.Description != "" {
		s += "\n" + esc(cut(f.Description, 600))
	}
	return s
}

// esc makes text inert in mrkdwn: Slack reads <...> as links and mentions (<!channel>) and &-escapes.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n characters, ending in "…" when shortened, never inside an escape.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	t := string(r)
	if i := strings.LastIndexByte(t, '&'); i >= 0 && !strings.Contains(t[i:], ";") {
		t = t[:i]
	}
	return t + "…"
}
