package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/publish/publishtest"
	"github.com/lakehunt/lakehunt/reports/publish/webhook"
)

const secret = "whsec-test"

// receiver verifies every delivery as a receiver would, and answers the statuses in play first.
type receiver struct {
	t          *testing.T
	mu         sync.Mutex
	play       []int
	deliveries []webhook.Payload
	ids        []string
}

func (s *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		s.t.Errorf("delivery does not verify: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if len(s.play) > 0 {
		st := s.play[0]
		s.play = s.play[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "receiver says no", st)
		return
	}
	var p webhook.Payload
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &p) != nil {
		s.t.Errorf("not JSON: %s", body)
	}
	s.deliveries = append(s.deliveries, p)
	s.ids = append(s.ids, r.Header.Get(webhook.HeaderDelivery))
}

func setup(t *testing.T, play ...int) (*receiver, *webhook.Publisher) {
	s := &receiver{t: t, play: play}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, &webhook.Publisher{URL: srv.URL + "/hook", Secret: secret, HTTP: publish.HTTP{Sleep: func(context.Context, time.Duration) error { return nil }}}
}

// Each group is one signed JSON delivery carrying the whole group; a retried 429/5xx is the same delivery.
func TestDeliveries(t *testing.T) {
	s, p := setup(t, 429, 503)
	p.MinSeverity = lake.SeverityMedium
	outs, err := publish.Run(t.Context(), publishtest.RunDir(t, "run-1", publishtest.Story()), []publish.Publisher{p}, publish.Options{ReportURL: "https://r.example/report.html"})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	if len(s.deliveries) != 1 {
		t.Fatalf("%d deliveries, want 1 (the LOW group is below the threshold)", len(s.deliveries))
	}
	d := s.deliveries[0]
	if d.Type != "lakehunt.finding_group" || d.RunID != "run-1" || d.ReportURL != "https://r.example/report.html" ||
		len(d.Group.Findings) != 3 || d.Group.Findings[1].ID != "f-stoplg2" || d.Group.Severity != lake.SeverityHigh {
		t.Errorf("payload %+v", d)
	}
	if s.ids[0] != "run-1/"+d.Group.ID || outs[0].Sent[0].GroupID != d.Group.ID {
		t.Errorf("delivery id %q, sent %+v", s.ids[0], outs[0].Sent)
	}
}

// A 4xx stops the webhook with the receiver's message; nothing is recorded as sent.
func TestRefused(t *testing.T) {
	_, p := setup(t, 400)
	outs, _ := publish.Run(t.Context(), publishtest.RunDir(t, "run-1", publishtest.Story()), []publish.Publisher{p}, publish.Options{})
	if e := outs[0].Err; e == nil || !strings.Contains(e.Error(), "HTTP 400: receiver says no") || len(outs[0].Sent) != 0 {
		t.Fatalf("err = %v, sent %v", e, outs[0].Sent)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1764763200, 0)
	body := []byte(`{"type":"lakehunt.finding_group"}`)
	ts := "1764763200"
	sig := webhook.Sign(secret, ts, body)
	cases := []struct {
		name, secret, ts, sig string
		body                  []byte
		wantErr               string
	}{
		{"valid", secret, ts, sig, body, ""},
		{"body changed", secret, ts, sig, []byte(`{"type":"x"}`), "does not match"},
		{"other secret", "nope", ts, sig, body, "does not match"},
		{"timestamp changed", secret, "1764763201", sig, body, "does not match"},
		{"replayed later", secret, "1764762000", webhook.Sign(secret, "1764762000", body), body, "more than 5m0s from now"},
		{"not a timestamp", secret, "yesterday", sig, body, "not Unix seconds"},
	}
	for _, c := range cases {
		err := webhook.Verify(c.secret, c.ts, c.sig, c.body, now, 5*time.Minute)
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.wantErr)
		}
	}
}
