package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// play answers the requests in turn with the given statuses (the last repeats); 429s carry retryAfter.
func play(t *testing.T, retryAfter string, body string, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		if st == http.StatusTooManyRequests && retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(st)
		if st/100 == 2 {
			fmt.Fprint(w, "ok")
		} else {
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestHTTPDo(t *testing.T) {
	jiraErr := `{"errorMessages":["The value 'NOPE' does not exist for the field 'project'."],"errors":{}}`
	cases := []struct {
		name       string
		retryAfter string
		statuses   []int
		wantTries  int32
		wantWaits  []time.Duration
		wantErr    string // "" = success
		transient  bool
	}{
		{"ok", "", []int{200}, 1, nil, "", false},
		{"429 waits as Retry-After says", "7", []int{429, 429, 200}, 3, []time.Duration{7 * time.Second, 7 * time.Second}, "", false},
		{"5xx backs off", "", []int{503, 500, 200}, 3, []time.Duration{time.Second, 2 * time.Second}, "", false},
		{"5xx gives up", "", []int{502}, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, "HTTP 502: The value 'NOPE'", true},
		{"4xx is not retried", "", []int{400}, 1, nil, "HTTP 400: The value 'NOPE' does not exist for the field 'project'.", false},
		{"Retry-After too long", "3600", []int{429}, 1, nil, "HTTP 429: The value 'NOPE' does not exist for the field 'project'. (Retry-After 1h0m0s is longer than the 2m0s this run waits)", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, n := play(t, c.retryAfter, jiraErr, c.statuses...)
			var waits []time.Duration
			h := HTTP{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			body, err := h.Do(t.Context(), Request{Method: "POST", URL: srv.URL + "/x?token=secret", Body: []byte(`{}`)})
			if n.Load() != c.wantTries || !slices.Equal(waits, c.wantWaits) {
				t.Errorf("tries %d, waits %v; want %d, %v", n.Load(), waits, c.wantTries, c.wantWaits)
			}
			if c.wantErr == "" {
				if err != nil || string(body) != "ok" {
					t.Fatalf("body %q, err %v", body, err)
				}
				return
			}
			var he *HTTPError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), c.wantErr) || he.Transient() != c.transient {
				t.Fatalf("err = %v (transient %v), want %q", err, he != nil && he.Transient(), c.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the URL's query: %v", err)
			}
		})
	}
}

// An unreachable service is retried, then reported without the URL's secret parts.
func TestHTTPDoNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	tries := 0
	h := HTTP{MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { tries++; return nil }}
	_, err := h.Do(t.Context(), Request{Method: "POST", URL: u + "/hook?sig=topsecret"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 0 || !he.Transient() || tries != 1 || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v, sleeps %d", err, tries)
	}
}

func TestRetryAfterDate(t *testing.T) {
	d, ok := retryAfter(time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat))
	if !ok || d < 25*time.Second || d > 31*time.Second {
		t.Errorf("Retry-After date: %v %v", d, ok)
	}
	if _, ok := retryAfter("soon"); ok {
		t.Error("Retry-After: soon was read")
	}
}

func TestRetryable(t *testing.T) {
	refused := fmt.Errorf("group g-1: %w", &HTTPError{Status: 400})
	throttled := &HTTPError{Status: 429}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{refused, false},
		{errors.Join(refused, fmt.Errorf("x: %w", &HTTPError{Status: 404})), false},
		{errors.Join(refused, throttled), true},
		{errors.New("dial tcp: connection refused"), true},
		{&HTTPError{Status: 503}, true},
	}
	for i, c := range cases {
		if got := Retryable(c.err); got != c.want {
			t.Errorf("%d: Retryable(%v) = %v", i, c.err, got)
		}
	}
}
