package securityhub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	awssh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/lakehunt/lakehunt/reports/internal/shmodel"
)

// fakeHub speaks the Security Hub REST-JSON protocol for POST /findings/import, as the service model
// describes it, and checks every request against that model. It stands in for Security Hub the way the
// service behaves for a custom integration: a caller may import only its own account's findings.
type fakeHub struct {
	t     *testing.T
	model *shmodel.Model
	srv   *httptest.Server

	mu sync.Mutex
	// set by the test
	throttle  int               // answer the next N requests with 429 ThrottlingException
	failIDs   map[string]string // finding Id -> ErrorCode to put in FailedFindings
	accountOf map[string]string // access key id -> the account it belongs to
	denyKey   map[string]bool   // access key ids answered with 401 InvalidAccessException
	// recorded
	requests   int
	batches    [][]json.RawMessage // accepted request bodies, per request
	keys       []string            // access key of each accepted request
	violations []string
}

var opModel struct {
	once sync.Once
	m    *shmodel.Model
	err  error
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	opModel.once.Do(func() {
		opModel.m, opModel.err = shmodel.LoadSecurityHub(filepath.Join("..", "..", "testdata"))
	})
	if opModel.err != nil {
		t.Fatal(opModel.err)
	}
	op := opModel.m.Operations["BatchImportFindings"]
	if op.HTTP.Method != http.MethodPost || op.HTTP.RequestURI != "/findings/import" {
		t.Fatalf("the model's BatchImportFindings is %s %s", op.HTTP.Method, op.HTTP.RequestURI)
	}
	h := &fakeHub{t: t, model: opModel.m, failIDs: map[string]string{}, accountOf: map[string]string{}, denyKey: map[string]bool{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

var credentialRe = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([a-z0-9-]+)/securityhub/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`)

func (h *fakeHub) violate(format string, args ...any) {
	h.violations = append(h.violations, fmt.Sprintf(format, args...))
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}

func (h *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/findings/import" {
		h.violate("unexpected %s %s", r.Method, r.URL.Path)
		apiError(w, 404, "UnknownOperationException", "not found")
		return
	}
	m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		h.violate("request not signed with SigV4 for securityhub: %q", r.Header.Get("Authorization"))
		apiError(w, 403, "InvalidSignatureException", "bad signature")
		return
	}
	key := m[1]
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.violate("read body: %v", err)
		return
	}
	if len(body) > 6*1024*1024 {
		h.violate("request body is %d bytes, over 6 MB", len(body))
		apiError(w, 413, "RequestEntityTooLargeException", "too large")
		return
	}
	if h.throttle > 0 {
		h.throttle--
		apiError(w, 429, "ThrottlingException", "Rate exceeded")
		return
	}
	if h.denyKey[key] {
		apiError(w, 401, "InvalidAccessException", "Account is not subscribed to AWS Security Hub")
		return
	}
	v, err := shmodel.Decode(body)
	if err != nil {
		h.violate("body is not JSON: %v", err)
		apiError(w, 400, "InvalidInputException", "not JSON")
		return
	}
	if errs := h.model.Validate("BatchImportFindingsRequest", v); len(errs) > 0 {
		h.violate("request %d does not match the model:\n%s", h.requests, strings.Join(errs, "\n"))
		apiError(w, 400, "InvalidInputException", errs[0])
		return
	}
	var req struct{ Findings []json.RawMessage }
	json.Unmarshal(body, &req)
	var failed []map[string]string
	accounts := map[string]bool{}
	for _, raw := range req.Findings {
		if len(raw) > 240*1024 {
			h.violate("a finding of %d bytes, over 240 KB", len(raw))
		}
		var f struct{ Id, AwsAccountId string }
		json.Unmarshal(raw, &f)
		accounts[f.AwsAccountId] = true
		switch {
		case h.accountOf[key] != "" && h.accountOf[key] != f.AwsAccountId:
			failed = append(failed, map[string]string{"Id": f.Id, "ErrorCode": "AccessDeniedException",
				"ErrorMessage": "The caller account " + h.accountOf[key] + " cannot import findings for account " + f.AwsAccountId})
		case h.failIDs[f.Id] != "":
			failed = append(failed, map[string]string{"Id": f.Id, "ErrorCode": h.failIDs[f.Id], "ErrorMessage": "finding " + f.Id + " rejected"})
		}
	}
	if len(accounts) > 1 {
		h.violate("request %d mixes accounts %v", h.requests, accounts)
	}
	h.batches = append(h.batches, req.Findings)
	h.keys = append(h.keys, key)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"FailedCount": len(failed), "SuccessCount": len(req.Findings) - len(failed), "FailedFindings": failed})
}

// client is the real SDK client, configured by NewClient, pointed at the fake hub.
func (h *fakeHub) client(t *testing.T, accessKey string) *awssh.Client {
	t.Helper()
	c, err := NewClient(context.Background(), ClientOptions{Region: "us-east-1", Endpoint: h.srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *fakeHub) checkClean(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range h.violations {
		t.Errorf("fake Security Hub: %s", v)
	}
}
