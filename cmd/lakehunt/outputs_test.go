package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/publish/publishtest"
	"github.com/lakehunt/lakehunt/reports/publish/webhook"
)

// handoffServer is a Slack incoming webhook and a webhook receiver in one local server: /slack answers
// with slackStatus, /hook verifies the signature and records each group id.
type handoffServer struct {
	mu          sync.Mutex
	slackStatus int
	slack, hook []string // what each accepted
}

func (s *handoffServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/slack":
		if s.slackStatus != http.StatusOK {
			w.WriteHeader(s.slackStatus)
			fmt.Fprint(w, "invalid_blocks")
			return
		}
		s.slack = append(s.slack, string(body))
	case "/hook":
		if err := webhook.Verify("whsec", r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		json.Unmarshal(body, &p)
		s.hook = append(s.hook, p.Group.ID)
	}
}

// Scheduled ticks hand new finding groups to Slack and the webhook. Slack refusing (4xx) does not stop the
// webhook or the run: the exit code is 3 and the log names Slack. A re-run of the window for late data
// (the same finding) sends the webhook nothing again, and Slack, taking messages again, gets the group
// it missed.
func TestRunDueHandoff(t *testing.T) {
	srv := &handoffServer{slackStatus: http.StatusBadRequest}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t.Setenv("LH_TEST_SLACK", hs.URL+"/slack")
	t.Setenv("LH_TEST_HOOK_SECRET", "whsec")

	dir := t.TempDir()
	raw, lk, runs := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "runs")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	writeTrail(t, raw, day.Add(3*time.Hour))
	cfg := filepath.Join(dir, "lakehunt.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: %s
raw: [{url: %s}]
hunts: {library: false, dirs: [%s]}
outputs:
  runs: %s
  report_url: https://reports.example/{run_id}/report.html
  slack: {enabled: true, webhook_url: "env:LH_TEST_SLACK", min_severity: high}
  webhook: {url: %s/hook, secret: "env:LH_TEST_HOOK_SECRET"}
`, lk, raw, writeHuntDir(t, ""), runs, hs.URL)), 0o644)
	base := []string{"run", "--due", "--config", cfg, "--webhook"}

	out, logs, code := cli(t, append(base, "--now", "2026-03-02T12:30:00Z")...)
	if code != exitBadInput || !strings.Contains(logs, `"output":"slack"`) || !strings.Contains(logs, "HTTP 400: invalid_blocks") {
		t.Fatalf("tick 1: exit %d, want %d with Slack's refusal logged\n%s\n%s", code, exitBadInput, out, logs)
	}
	if len(srv.hook) != 1 || len(srv.slack) != 0 {
		t.Fatalf("tick 1: webhook got %v, slack %v", srv.hook, srv.slack)
	}
	runFiles, _ := filepath.Glob(filepath.Join(runs, "*", lake.RunFile))
	if len(runFiles) != 1 {
		t.Fatalf("run directories %v", runFiles)
	}
	var run lake.Run
	b, _ := os.ReadFile(runFiles[0])
	json.Unmarshal(b, &run)
	if len(run.Sent) != 1 || run.Sent[0].Publisher != "webhook" || run.Sent[0].GroupID != srv.hook[0] || len(run.Sent[0].FindingIDs) != 1 {
		t.Fatalf("run.json sent = %+v", run.Sent)
	}

	// Late data for the same window: the window runs again and finds the same finding.
	writeTrailObject(t, raw, day.Add(13*time.Hour), "late", []map[string]any{{
		"eventVersion": "1.08", "eventTime": day.Add(5 * time.Hour).Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com",
		"eventName": "StopLogging", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "eventID": "late-1", "eventType": "AwsApiCall",
		"recipientAccountId": "111122223333",
		"userIdentity":       map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333"},
	}})
	srv.slackStatus = http.StatusOK
	out, logs, code = cli(t, append(base, "--now", "2026-03-02T13:30:00Z")...)
	if code != exitOK {
		t.Fatalf("tick 2: exit %d\n%s\n%s", code, out, logs)
	}
	if runFiles, _ = filepath.Glob(filepath.Join(runs, "*", lake.RunFile)); len(runFiles) != 2 {
		t.Fatalf("tick 2 did not re-run the window: %v\n%s", runFiles, out)
	}
	if len(srv.hook) != 1 {
		t.Errorf("the webhook got the re-run's group again: %v", srv.hook)
	}
	if len(srv.slack) != 1 || !strings.Contains(srv.slack[0], "https://reports.example/") {
		t.Errorf("slack got %d messages, want the one it refused before, linking the report:\n%v", len(srv.slack), srv.slack)
	}
}

func TestOutputsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"outputs:\n  slack: {webhook_url: https://hooks.slack.com/services/T/B/x}\n", "outputs.slack.webhook_url: give a reference to the secret, env:NAME"},
		{"outputs:\n  jira: {token: \"secretsmanager:jira\"}\n", "outputs.jira.token: secretsmanager:jira needs outputs.secret_id"},
		{"outputs:\n  webhook: {min_severity: urgent}\n", `outputs.webhook.min_severity: "URGENT" is not a severity`},
		{"outputs:\n  jira: {per: issue}\n", `outputs.jira.per: "issue": use group or finding`},
		{"outputs:\n  slack: {chanel: x}\n", "field chanel not found"},
	} {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte(c.text), 0o644)
		if _, err := loadConfig(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %q: error %v, want %q", c.text, err, c.want)
		}
	}
}

// fakeSecretsManager answers GetSecretValue (AWS JSON 1.1) for one secret, as the service documents it.
func fakeSecretsManager(t *testing.T, id, value string) (*httptest.Server, *int) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		var in struct{ SecretId string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch {
		case r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") || !strings.Contains(r.Header.Get("Authorization"), "AKIDSECRETS"):
			t.Errorf("not a signed GetSecretValue: %s %v", r.Method, r.Header)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"InvalidRequestException","message":"bad request"}`)
		case in.SecretId != id:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		default:
			json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + id, "Name": id, "SecretString": value})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func awsTestEnv(t *testing.T, endpoint string) {
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSECRETS")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// Secrets come from the environment or from fields of one Secrets Manager secret, read once.
func TestSecrets(t *testing.T) {
	srv, calls := fakeSecretsManager(t, "lakehunt/handoff", `{"slack_bot_token":"xoxb-1","jira_token":"jt"}`)
	awsTestEnv(t, srv.URL)
	t.Setenv("LH_TEST_SECRET", "from-env")
	s := &secrets{id: "lakehunt/handoff"}
	ctx := t.Context()
	for _, c := range []struct{ ref, want, wantErr string }{
		{"env:LH_TEST_SECRET", "from-env", ""},
		{"env:LH_TEST_UNSET", "", "f: the environment variable LH_TEST_UNSET is not set"},
		{"secretsmanager:slack_bot_token", "xoxb-1", ""},
		{"secretsmanager:jira_token", "jt", ""},
		{"secretsmanager:nope", "", `f: the secret lakehunt/handoff has no field "nope"`},
	} {
		got, err := s.get(ctx, "f", c.ref)
		if got != c.want || (err == nil) != (c.wantErr == "") || (err != nil && err.Error() != c.wantErr) {
			t.Errorf("%s: %q, %v; want %q, %q", c.ref, got, err, c.want, c.wantErr)
		}
	}
	if *calls != 1 {
		t.Errorf("%d GetSecretValue calls, want 1", *calls)
	}

	missing := &secrets{id: "lakehunt/other"}
	if _, err := missing.get(ctx, "outputs.jira.token", "secretsmanager:jira_token"); err == nil ||
		!strings.Contains(err.Error(), "outputs.jira.token: read the secret lakehunt/other from AWS Secrets Manager") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing secret: %v", err)
	}
}

// export handoff sends a run directory's groups; run again after a refusal, it sends only the rest.
func TestExportHandoff(t *testing.T) {
	srv := &handoffServer{slackStatus: http.StatusNotFound}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t.Setenv("LH_TEST_SLACK", hs.URL+"/slack")
	t.Setenv("LH_TEST_HOOK_SECRET", "whsec")
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	cfg := filepath.Join(t.TempDir(), "lakehunt.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("outputs:\n  slack: {webhook_url: \"env:LH_TEST_SLACK\"}\n  webhook: {enabled: true, url: %s/hook, secret: \"env:LH_TEST_HOOK_SECRET\"}\n", hs.URL)), 0o644)
	args := []string{"export", "handoff", "--run", dir, "--config", cfg, "--slack"}

	out, errs, code := cli(t, args...)
	if code != exitBadInput || !strings.Contains(out, "webhook: sent 2 groups") || !strings.Contains(errs, "slack: group g-") || !strings.Contains(errs, "HTTP 404: invalid_blocks") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	srv.slackStatus = http.StatusOK
	out, errs, code = cli(t, args...)
	if code != exitOK || !strings.Contains(out, "slack: sent 2 groups") || !strings.Contains(out, "webhook: sent 0 groups, 2 groups sent before") {
		t.Fatalf("again: exit %d\n%s\n%s", code, out, errs)
	}
	if len(srv.hook) != 2 || len(srv.slack) != 2 {
		t.Errorf("webhook got %d, slack %d; want 2 each", len(srv.hook), len(srv.slack))
	}
	if _, errs, code := cli(t, "export", "handoff", "--run", dir, "--config", cfg); code != exitOK {
		t.Errorf("webhook only, all sent: exit %d %s", code, errs)
	}
	os.WriteFile(cfg, []byte("outputs: {}\n"), 0o644)
	if _, errs, code := cli(t, "export", "handoff", "--run", dir, "--config", cfg); code != exitUsage || !strings.Contains(errs, "no hand-off output is enabled") {
		t.Errorf("nothing enabled: exit %d %s", code, errs)
	}
}
