package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/internal/safetext"
)

// HTTP sends requests to a hand-off service: 429 (waiting as Retry-After says), 5xx and network errors
// are retried a bounded number of times; any other 4xx is returned at once as an *HTTPError carrying
// the service's own message.
type HTTP struct {
	Client *http.Client // default: a client with a 30s timeout
	// MaxAttempts bounds the tries per request (default 4).
	MaxAttempts int
	// BaseDelay is the first backoff after a 5xx or network error, doubled each time (default 1s).
	BaseDelay time.Duration
	// MaxWait is the longest a Retry-After is honoured; a longer one gives up (default 2m).
	MaxWait time.Duration
	// Sleep waits between tries (default: a timer that stops when ctx is done).
	Sleep func(ctx context.Context, d time.Duration) error
}

// HTTPError is a response the service refused, or the last failure once the retries gave up.
type HTTPError struct {
	Method, URL string
	Status      int    // 0: no response (network error)
	Message     string // the service's message, as one safe line
	Attempts    int
}

func (e *HTTPError) Error() string {
	what := "HTTP " + strconv.Itoa(e.Status)
	if e.Status == 0 {
		what = "no response"
	}
	s := fmt.Sprintf("%s %s: %s", e.Method, e.URL, what)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (gave up after %d tries)", e.Attempts)
	}
	return s
}

// Transient reports whether the same request may succeed later (throttled, server or network error).
func (e *HTTPError) Transient() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Request is one request to send; Body is re-sent on every try.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Do sends r and returns the body of a 2xx response.
func (h *HTTP) Do(ctx context.Context, r Request) ([]byte, error) {
	client, attempts, base, maxWait, sleep := h.Client, h.MaxAttempts, h.BaseDelay, h.MaxWait, h.Sleep
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if attempts <= 0 {
		attempts = 4
	}
	if base <= 0 {
		base = time.Second
	}
	if maxWait <= 0 {
		maxWait = 2 * time.Minute
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	shown := redactURL(r.URL)
	var last *HTTPError
	for try := 1; try <= attempts; try++ {
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Method, shown, err)
		}
		for k, v := range r.Header {
			req.Header[k] = v
		}
		wait := base << (try - 1)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the URL, which may hold a secret
			}
			last = &HTTPError{Method: r.Method, URL: shown, Message: safetext.Line(err.Error()), Attempts: try}
		} else {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 && rerr == nil {
				return body, nil
			}
			last = &HTTPError{Method: r.Method, URL: shown, Status: resp.StatusCode, Message: serviceMessage(body), Attempts: try}
			if rerr != nil && resp.StatusCode/100 == 2 {
				last.Status, last.Message = 0, safetext.Line(rerr.Error())
			}
			if !last.Transient() {
				return nil, last
			}
			if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
				if d > maxWait {
					last.Message = strings.TrimSpace(last.Message + fmt.Sprintf(" (Retry-After %s is longer than the %s this run waits)", d, maxWait))
					return nil, last
				}
				wait = d
			}
		}
		if try < attempts {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
	}
	return nil, last
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads Retry-After: delay seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// serviceMessage picks the service's explanation out of an error body: Jira's errorMessages and errors,
// Slack's error, a generic message; else the body's text.
func serviceMessage(body []byte) string {
	var v struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Error         string            `json:"error"`
		Message       string            `json:"message"`
	}
	var parts []string
	if json.Unmarshal(body, &v) == nil {
		parts = append(parts, v.ErrorMessages...)
		for k, m := range v.Errors {
			parts = append(parts, k+": "+m)
		}
		for _, s := range []string{v.Error, v.Message} {
			if s != "" {
				parts = append(parts, s)
			}
		}
	}
	msg := strings.Join(parts, "; ")
	if msg == "" {
		msg = string(body)
	}
	msg = safetext.Line(strings.TrimSpace(msg))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}

// redactURL keeps secrets that live in URLs (a Slack incoming webhook's path) out of messages.
func redactURL(u string) string {
	if strings.Contains(u, "hooks.slack.com/") {
		return "https://hooks.slack.com/services/(redacted)"
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
