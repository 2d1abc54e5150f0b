// Package securityhub imports ASFF findings into AWS Security Hub with BatchImportFindings: batches of at
// most 100 findings and 6 MB, one account per batch, throttling retried with backoff, and every
// finding that was not imported reported with Security Hub's reason.
package securityhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/reports/asff"
)

// Service limits of BatchImportFindings.
const (
	MaxBatchFindings = 100
	// MaxBatchBytes is the 6 MB request limit, read as 6,000,000 bytes so it holds for either meaning of MB.
	MaxBatchBytes = 6_000_000
)

// BatchImporter is the part of the Security Hub client Import uses (*securityhub.Client satisfies it).
type BatchImporter interface {
	BatchImportFindings(ctx context.Context, in *awssh.BatchImportFindingsInput, optFns ...func(*awssh.Options)) (*awssh.BatchImportFindingsOutput, error)
}

// Options configures Import. The zero value imports everything through the one client.
type Options struct {
	// ClientFor returns the client that imports one account's findings (for example with a role assumed
	// in that account). Nil means the client passed to Import imports for every account.
	ClientFor func(ctx context.Context, account string) (BatchImporter, error)
	// CallerAccount is the account the client acts as. When set and ClientFor is nil, findings of another
	// account that carry that account's default product ARN are not sent: Security Hub accepts them
	// only from that account.
	CallerAccount string
	// DryRun plans and checks the batches without calling Security Hub.
	DryRun bool
	// MaxAttempts bounds the tries per batch on throttling and server errors (default 8).
	MaxAttempts int
	// BaseDelay and MaxDelay shape the exponential backoff (defaults 500ms and 30s).
	BaseDelay, MaxDelay time.Duration
	// Log receives one line per batch; nil is quiet.
	Log io.Writer
}

// Failure is a finding that was not imported and why.
type Failure struct {
	ID      string // the ASFF Id; empty when Security Hub counted a failure without naming it
	Account string
	Code    string
	Message string
	// Transient is set when the finding was not sent or not answered (throttling or server errors until
	// the retries gave up, a network failure, cancellation): the same import can succeed later. Findings
	// refused locally or by Security Hub are not transient: importing them again fails the same way.
	Transient bool
}

func (f Failure) String() string {
	id := f.ID
	if id == "" {
		id = "(unnamed)"
	}
	return fmt.Sprintf("account %s: finding %s not imported: %s: %s", f.Account, id, f.Code, f.Message)
}

// AccountSummary is one account's share of an import.
type AccountSummary struct {
	Account  string
	Findings int
	Imported int
	Batches  int
}

// Summary says what an import did.
type Summary struct {
	DryRun   bool
	Findings int
	Imported int // 0 on a dry run
	Batches  int
	Retries  int
	Accounts []AccountSummary
	Failed   []Failure
}

// Transient reports whether any finding failed for a reason that a later import can overcome.
func (s Summary) Transient() bool {
	for _, f := range s.Failed {
		if f.Transient {
			return true
		}
	}
	return false
}

// ErrNotImported is returned (wrapped) when any finding was not imported; Summary.Failed says which and why.
var ErrNotImported = errors.New("findings were not imported")

// WriteText prints the summary and each failure, for the CLI.
func (s Summary) WriteText(w io.Writer) {
	verb := "imported"
	if s.DryRun {
		verb = "would import (dry run)"
	}
	for _, a := range s.Accounts {
		if a.Account == "" {
			a.Account = "(none)"
		}
		n := a.Imported
		if s.DryRun {
			n = a.Findings
		}
		fmt.Fprintf(w, "account %s: %s %d of %d findings in %d batches\n", a.Account, verb, n, a.Findings, a.Batches)
	}
	for _, f := range s.Failed {
		fmt.Fprintln(w, safetext.Line(f.String()))
	}
	fmt.Fprintf(w, "total: %d findings, %d batches, %d imported, %d failed, %d retries\n", s.Findings, s.Batches, s.Imported, len(s.Failed), s.Retries)
}

type batch struct {
	account  string
	findings []types.AwsSecurityFinding
	bytes    int
}

// Import sends findings to Security Hub. It returns an error wrapping ErrNotImported if any finding was
// not imported; the summary lists each such finding with its reason.
func Import(ctx context.Context, client BatchImporter, findings []types.AwsSecurityFinding, opts Options) (Summary, error) {
	opts.defaults()
	sum := Summary{DryRun: opts.DryRun, Findings: len(findings)}
	batches, rejected := plan(findings, &opts)
	sum.Failed = append(sum.Failed, rejected...)
	perAccount := map[string]*AccountSummary{}
	account := func(a string) *AccountSummary {
		if perAccount[a] == nil {
			perAccount[a] = &AccountSummary{Account: a}
		}
		return perAccount[a]
	}
	for _, f := range findings {
		account(aws.ToString(f.AwsAccountId)).Findings++
	}
	clients, clientErr := map[string]BatchImporter{}, map[string]string{}
	for i, b := range batches {
		as := account(b.account)
		as.Batches++
		sum.Batches++
		if opts.DryRun {
			opts.logf("account %s: batch %d/%d: %d findings, %d bytes (dry run, not sent)", b.account, i+1, len(batches), len(b.findings), b.bytes)
			continue
		}
		c, ok := clients[b.account]
		if !ok {
			c = client
			if opts.ClientFor != nil {
				var err error
				if c, err = opts.ClientFor(ctx, b.account); err != nil {
					c, clientErr[b.account] = nil, err.Error()
				}
			}
			clients[b.account] = c
		}
		if c == nil {
			msg := clientErr[b.account]
			if msg == "" {
				msg = "Import was given no client"
			}
			sum.Failed = append(sum.Failed, failAll(b, "NoClient", "no Security Hub client for the account: "+msg, false)...)
			continue
		}
		imported, failed, retries := send(ctx, c, b, &opts)
		as.Imported += imported
		sum.Imported += imported
		sum.Retries += retries
		sum.Failed = append(sum.Failed, failed...)
		opts.logf("account %s: batch %d/%d: %d findings, %d bytes: %d imported, %d failed", b.account, i+1, len(batches), len(b.findings), b.bytes, imported, len(failed))
	}
	for _, a := range perAccount {
		sum.Accounts = append(sum.Accounts, *a)
	}
	sort.Slice(sum.Accounts, func(i, j int) bool { return sum.Accounts[i].Account < sum.Accounts[j].Account })
	if n := len(sum.Failed); n > 0 {
		return sum, fmt.Errorf("%w: %d of %d findings (each is listed with its reason)", ErrNotImported, failedFindings(sum.Failed), len(findings))
	}
	return sum, nil
}

func failedFindings(fs []Failure) int {
	ids := map[string]bool{}
	unnamed := 0
	for _, f := range fs {
		if f.ID == "" {
			unnamed++
		}
		ids[f.ID] = true
	}
	delete(ids, "")
	return len(ids) + unnamed
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 500 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 30 * time.Second
	}
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// plan checks each finding locally and groups the good ones into batches: one account per batch, at
// most MaxBatchFindings findings and MaxBatchBytes of request body, in input order.
func plan(findings []types.AwsSecurityFinding, opts *Options) ([]batch, []Failure) {
	var rejected []Failure
	byAccount := map[string][]int{}
	var accounts []string
	seen := map[string]bool{}
	sizes := make([]int, len(findings))
	for i, f := range findings {
		id, acct := aws.ToString(f.Id), aws.ToString(f.AwsAccountId)
		reject := func(code, msg string) {
			rejected = append(rejected, Failure{ID: id, Account: acct, Code: code, Message: msg})
		}
		raw, err := asff.Marshal(f)
		switch {
		case err != nil:
			reject("Unencodable", err.Error())
		case id == "" || acct == "":
			reject("Incomplete", "the finding has no Id or AwsAccountId; build findings with asff.Build")
		case seen[id]:
			reject("DuplicateId", "the same Id appears twice in this import; only the first was sent")
		case len(raw) > asff.MaxFindingBytes:
			reject("TooLarge", fmt.Sprintf("%d bytes, over Security Hub's 240 KB per finding; rebuild it with asff.Build, which truncates evidence", len(raw)))
		case opts.ClientFor == nil && opts.CallerAccount != "" && acct != opts.CallerAccount &&
			strings.HasSuffix(aws.ToString(f.ProductArn), ":product/"+acct+"/default"):
			reject("WrongAccount", fmt.Sprintf("Security Hub accepts findings of account %s under its default product ARN only from account %s, and these credentials are for %s; import them with credentials for %s", acct, acct, opts.CallerAccount, acct))
		default:
			if _, ok := byAccount[acct]; !ok {
				accounts = append(accounts, acct)
			}
			byAccount[acct] = append(byAccount[acct], i)
			sizes[i] = len(raw)
		}
		seen[id] = true
	}
	sort.Strings(accounts)
	const envelope = len(`{"Findings":[]}`)
	var batches []batch
	for _, a := range accounts {
		cur := batch{account: a, bytes: envelope}
		for _, i := range byAccount[a] {
			add := sizes[i]
			if len(cur.findings) > 0 {
				add++ // comma
			}
			if len(cur.findings) == MaxBatchFindings || (len(cur.findings) > 0 && cur.bytes+add > MaxBatchBytes) {
				batches = append(batches, cur)
				cur, add = batch{account: a, bytes: envelope}, sizes[i]
			}
			cur.findings = append(cur.findings, findings[i])
			cur.bytes += add
		}
		if len(cur.findings) > 0 {
			batches = append(batches, cur)
		}
	}
	return batches, rejected
}

// send imports one batch, retrying throttling and server errors with exponential backoff and jitter.
// BatchImportFindings is idempotent per finding Id, so a retry after an unclear failure is safe.
func send(ctx context.Context, c BatchImporter, b batch, opts *Options) (imported int, failed []Failure, retries int) {
	in := &awssh.BatchImportFindingsInput{Findings: b.findings}
	for attempt := 1; ; attempt++ {
		out, err := c.BatchImportFindings(ctx, in)
		if err == nil {
			failed = responseFailures(b, out)
			return len(b.findings) - failedFindings(failed), failed, retries
		}
		code, msg := errorCode(err)
		if !retryable(err) || attempt >= opts.MaxAttempts || ctx.Err() != nil {
			if retryable(err) && attempt >= opts.MaxAttempts {
				msg = fmt.Sprintf("gave up after %d attempts: %s", attempt, msg)
			}
			return 0, failAll(b, code, msg, retryable(err) || ctx.Err() != nil), retries
		}
		d := backoff(attempt, opts.BaseDelay, opts.MaxDelay)
		opts.logf("account %s: %s, retrying in %s", b.account, code, d.Round(time.Millisecond))
		retries++
		select {
		case <-ctx.Done():
			return 0, failAll(b, "Canceled", ctx.Err().Error(), true), retries
		case <-time.After(d):
		}
	}
}

func responseFailures(b batch, out *awssh.BatchImportFindingsOutput) []Failure {
	var failed []Failure
	for _, e := range out.FailedFindings {
		failed = append(failed, Failure{ID: aws.ToString(e.Id), Account: b.account, Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.ErrorMessage)})
	}
	if n := int(aws.ToInt32(out.FailedCount)); n > len(out.FailedFindings) {
		for i := len(out.FailedFindings); i < n; i++ {
			failed = append(failed, Failure{Account: b.account, Code: "Unnamed",
				Message: fmt.Sprintf("Security Hub counted %d failed findings in this batch but named only %d", n, len(out.FailedFindings))})
		}
	}
	return failed
}

func failAll(b batch, code, msg string, transient bool) []Failure {
	out := make([]Failure, 0, len(b.findings))
	for _, f := range b.findings {
		out = append(out, Failure{ID: aws.ToString(f.Id), Account: b.account, Code: code, Message: msg, Transient: transient})
	}
	return out
}

func errorCode(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return "RequestSendError", err.Error()
	}
	return "Error", err.Error()
}

func retryable(err error) bool {
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 429, 500, 502, 503, 504:
			return true
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottlingException", "TooManyRequestsException", "LimitExceededException", "InternalException":
			return true
		}
	}
	return false
}

// backoff is exponential with jitter in [d/2, d].
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base << min(attempt-1, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}
