// Package webhook posts each new finding group as JSON to an HTTPS endpoint, signed with HMAC-SHA256.
//
// The receiver checks a delivery with Verify: the signature header is "sha256=" and the hex HMAC-SHA256,
// keyed with the shared secret, of the timestamp header, a ".", and the body; a timestamp far from its
// own clock is a replay.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/publish"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Lakehunt-Signature" // sha256=<hex>
	HeaderTimestamp = "X-Lakehunt-Timestamp" // Unix seconds
	HeaderDelivery  = "X-Lakehunt-Delivery"  // <run id>/<group id>: the same on a retry
)

// Payload is a delivery's JSON body.
type Payload struct {
	Type        string      `json:"type"` // "lakehunt.finding_group"
	RunID       string      `json:"run_id"`
	WindowStart time.Time   `json:"window_start"`
	WindowEnd   time.Time   `json:"window_end"`
	ReportURL   string      `json:"report_url,omitempty"`
	Group       group.Group `json:"group"`
}

// Publisher posts to URL.
type Publisher struct {
	URL    string
	Secret string // the HMAC key
	// MinSeverity leaves out groups below it ("" sends every group).
	MinSeverity string
	HTTP        publish.HTTP
	Now         func() time.Time // default time.Now
}

func (p *Publisher) Name() string { return "webhook" }

// Check reports a configuration that cannot send.
func (p *Publisher) Check() error {
	if p.URL == "" || p.Secret == "" {
		return errors.New("webhook: set url and secret (the receiver verifies the signature with it)")
	}
	if !strings.HasPrefix(p.URL, "https://") && !strings.HasPrefix(p.URL, "http://") {
		return fmt.Errorf("webhook: url %q is not http(s)", p.URL)
	}
	return nil
}

// Publish posts one delivery per group at or above MinSeverity that has findings not sent before, and
// stops at the first the endpoint refuses.
func (p *Publisher) Publish(ctx context.Context, in publish.Input) ([]lake.Sent, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	var sent []lake.Sent
	for _, g := range publish.AtLeast(in.Groups, p.MinSeverity) {
		pl := Payload{Type: "lakehunt.finding_group", ReportURL: in.ReportURL, Group: g}
		if in.Run != nil {
			pl.RunID, pl.WindowStart, pl.WindowEnd = in.Run.ID, in.Run.WindowStart, in.Run.WindowEnd
		}
		body, err := json.Marshal(pl)
		if err != nil {
			return sent, err
		}
		// Signed once: a retry is the same delivery (the receiver de-duplicates on the delivery header).
		ts := strconv.FormatInt(now().Unix(), 10)
		h := http.Header{
			"Content-Type":  {"application/json"},
			HeaderTimestamp: {ts},
			HeaderSignature: {Sign(p.Secret, ts, body)},
			HeaderDelivery:  {pl.RunID + "/" + g.ID},
		}
		if _, err := p.HTTP.Do(ctx, publish.Request{Method: http.MethodPost, URL: p.URL, Header: h, Body: body}); err != nil {
			return sent, fmt.Errorf("group %s: %w", g.ID, err)
		}
		s := lake.Sent{GroupID: g.ID, Action: "posted", At: now().UTC()}
		for _, f := range g.Findings {
			s.FindingIDs = append(s.FindingIDs, f.ID)
		}
		sent = append(sent, s)
	}
	return sent, nil
}

// Sign is the signature header's value for a timestamp and body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature and that its timestamp is within tolerance of now.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not Unix seconds", HeaderTimestamp, timestamp)
	}
	if math.Abs(float64(now.Unix()-sec)) > tolerance.Seconds() {
		return fmt.Errorf("%s %s is more than %s from now: a replay or a wrong clock", HeaderTimestamp, timestamp, tolerance)
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return errors.New("signature does not match the body")
	}
	return nil
}
