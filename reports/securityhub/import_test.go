package securityhub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/internal/shmodel"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var fast = Options{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// build makes ASFF findings the way the CLI does: lake findings through asff.Build.
// Each finding gets 40 evidence rows of rowChars characters (0: none).
func build(t *testing.T, n int, account string, rowChars int) []types.AwsSecurityFinding {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run := &lake.Run{ID: "run-1", StartedAt: t0.Add(25 * time.Hour), FinishedAt: t0.Add(25 * time.Hour), Hunts: []lake.HuntRun{{ID: "h1", Status: "ok"}}}
	var fs []lake.Finding
	for i := 0; i < n; i++ {
		f := lake.Finding{ID: fmt.Sprintf("%s-%03d", account, i), HuntID: "h1", HuntVersion: 1, Severity: lake.SeverityMedium, Title: "t",
			Entity: lake.Entity{Type: "principal", Key: "arn:aws:iam::" + account + ":role/R"}, AccountID: account, Region: "us-east-1",
			FirstSeen: t0, LastSeen: t0.Add(time.Hour), Count: 1, CreatedAt: t0.Add(25 * time.Hour)}
		for e := 0; rowChars > 0 && e < 40; e++ {
			f.Evidence = append(f.Evidence, lake.Evidence{Time: t0, Row: map[string]any{"v": strings.Repeat("x", rowChars)}})
		}
		fs = append(fs, f)
	}
	built, err := asff.Build(run, fs, asff.Options{Region: "us-east-1"})
	if err != nil || len(built.LeftOut) > 0 {
		t.Fatal(err, built.LeftOut)
	}
	return built.Findings
}

func TestImport250FindingsOver2Accounts(t *testing.T) {
	hub := newFakeHub(t)
	findings := append(build(t, 150, acctA, 50), build(t, 100, acctB, 50)...)
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), findings, fast)
	if err != nil {
		t.Fatal(err)
	}
	hub.checkClean(t)
	if sum.Imported != 250 || sum.Batches != 3 || len(sum.Failed) != 0 || sum.Retries != 0 {
		t.Errorf("summary %+v; want 250 imported in 3 batches", sum)
	}
	want := []AccountSummary{{acctA, 150, 150, 2}, {acctB, 100, 100, 1}}
	if !reflect.DeepEqual(sum.Accounts, want) {
		t.Errorf("accounts %+v, want %+v", sum.Accounts, want)
	}
	var sizes []int
	for _, b := range hub.batches {
		sizes = append(sizes, len(b))
	}
	if fmt.Sprint(sizes) != "[100 50 100]" {
		t.Errorf("batch sizes %v, want [100 50 100]", sizes)
	}
	// What the SDK put on the wire is what asff.Marshal writes to asff.json.
	for i, raw := range hub.batches[0][:3] {
		mine, _ := asff.Marshal(findings[i])
		a, _ := shmodel.Decode(raw)
		b, _ := shmodel.Decode(mine)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("finding %d on the wire:\n%s\nasff.Marshal:\n%s", i, raw, mine)
		}
	}
}

func TestImportSplitsAt6MB(t *testing.T) {
	hub := newFakeHub(t)
	findings := build(t, 100, acctA, 1900) // ~70 KB each: 100 of them are ~7 MB
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), findings, fast)
	if err != nil {
		t.Fatal(err)
	}
	hub.checkClean(t)
	if sum.Imported != 100 || sum.Batches < 2 || len(hub.batches) != sum.Batches {
		t.Errorf("summary %+v, %d requests; want 100 imported in 2+ batches", sum, len(hub.batches))
	}
	for i, b := range hub.batches {
		n := 0
		for _, f := range b {
			n += len(f)
		}
		if n > MaxBatchBytes {
			t.Errorf("batch %d carries %d bytes of findings", i, n)
		}
	}
}

func TestImportRetriesThrottling(t *testing.T) {
	hub := newFakeHub(t)
	hub.throttle = 3
	var log bytes.Buffer
	opts := fast
	opts.Log = &log
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), build(t, 5, acctA, 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	hub.checkClean(t)
	if sum.Imported != 5 || sum.Retries != 3 || hub.requests != 4 {
		t.Errorf("imported %d with %d retries in %d requests; want 5, 3, 4", sum.Imported, sum.Retries, hub.requests)
	}
	if strings.Count(log.String(), "ThrottlingException, retrying") != 3 {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestImportGivesUpOnEndlessThrottling(t *testing.T) {
	hub := newFakeHub(t)
	hub.throttle = 1000
	opts := fast
	opts.MaxAttempts = 3
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), build(t, 4, acctA, 0), opts)
	if !errors.Is(err, ErrNotImported) {
		t.Fatalf("err = %v, want ErrNotImported", err)
	}
	if hub.requests != 3 || sum.Imported != 0 || len(sum.Failed) != 4 {
		t.Fatalf("%d requests, summary %+v", hub.requests, sum)
	}
	if f := sum.Failed[0]; f.Code != "ThrottlingException" || !strings.Contains(f.Message, "gave up after 3 attempts") || !f.Transient {
		t.Errorf("failure %+v, want a transient throttling failure", f)
	}
	if !sum.Transient() {
		t.Error("an import that gave up on throttling is not reported as transient: a scheduler would not retry it")
	}
}

func TestImportPartialFailure(t *testing.T) {
	hub := newFakeHub(t)
	findings := build(t, 10, acctA, 0)
	bad1, bad2 := aws.ToString(findings[2].Id), aws.ToString(findings[7].Id)
	hub.failIDs[bad1] = "InvalidInput"
	hub.failIDs[bad2] = "FindingSizeExceeded"
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), findings, fast)
	if !errors.Is(err, ErrNotImported) || !strings.Contains(err.Error(), "2 of 10 findings") {
		t.Fatalf("err = %v, want ErrNotImported for 2 of 10", err)
	}
	hub.checkClean(t)
	if sum.Imported != 8 || len(sum.Failed) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Transient() {
		t.Errorf("findings Security Hub refused are reported as transient (a retry fails the same way): %+v", sum.Failed)
	}
	var out bytes.Buffer
	sum.WriteText(&out)
	for _, want := range []string{
		"finding " + bad1 + " not imported: InvalidInput: finding " + bad1 + " rejected",
		"finding " + bad2 + " not imported: FindingSizeExceeded",
		"account " + acctA + ": imported 8 of 10 findings in 1 batches",
		"total: 10 findings, 1 batches, 8 imported, 2 failed, 0 retries",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary text lacks %q:\n%s", want, out.String())
		}
	}
}

// With one set of credentials, another account's findings are refused per finding; with a client per
// account (ClientFor) each account imports its own.
func TestImportPerAccountCredentials(t *testing.T) {
	findings := append(build(t, 3, acctA, 0), build(t, 2, acctB, 0)...)

	hub := newFakeHub(t)
	hub.accountOf = map[string]string{"AKIDA": acctA, "AKIDB": acctB}
	sum, err := Import(context.Background(), hub.client(t, "AKIDA"), findings, fast)
	if !errors.Is(err, ErrNotImported) || sum.Imported != 3 || len(sum.Failed) != 2 || sum.Failed[0].Code != "AccessDeniedException" {
		t.Fatalf("one client: err %v, summary %+v", err, sum)
	}

	hub = newFakeHub(t)
	hub.accountOf = map[string]string{"AKIDA": acctA, "AKIDB": acctB}
	opts := fast
	opts.ClientFor = func(_ context.Context, account string) (BatchImporter, error) {
		return hub.client(t, map[string]string{acctA: "AKIDA", acctB: "AKIDB"}[account]), nil
	}
	sum, err = Import(context.Background(), nil, findings, opts)
	if err != nil || sum.Imported != 5 {
		t.Fatalf("client per account: err %v, summary %+v", err, sum)
	}
	if fmt.Sprint(hub.keys) != "[AKIDA AKIDB]" {
		t.Errorf("requests signed with %v, want [AKIDA AKIDB]", hub.keys)
	}
	hub.checkClean(t)

	// Knowing the caller's account, findings it cannot import are not even sent.
	hub = newFakeHub(t)
	opts = fast
	opts.CallerAccount = acctA
	sum, err = Import(context.Background(), hub.client(t, "AKIDA"), findings, opts)
	if !errors.Is(err, ErrNotImported) || sum.Imported != 3 || len(sum.Failed) != 2 || sum.Failed[0].Code != "WrongAccount" || len(hub.batches) != 1 {
		t.Fatalf("caller account: err %v, summary %+v, %d requests", err, sum, len(hub.batches))
	}
}

func TestImportAccountNotEnabled(t *testing.T) {
	hub := newFakeHub(t)
	hub.denyKey["AKIDB"] = true
	opts := fast
	opts.ClientFor = func(_ context.Context, account string) (BatchImporter, error) {
		if account == acctA {
			return hub.client(t, "AKIDA"), nil
		}
		return hub.client(t, "AKIDB"), nil
	}
	sum, err := Import(context.Background(), nil, append(build(t, 2, acctA, 0), build(t, 3, acctB, 0)...), opts)
	if !errors.Is(err, ErrNotImported) {
		t.Fatalf("err = %v", err)
	}
	if sum.Imported != 2 || len(sum.Failed) != 3 || sum.Failed[0].Code != "InvalidAccessException" || sum.Retries != 0 || sum.Transient() {
		t.Errorf("summary %+v; want account B's 3 findings failed without retries, not transient", sum)
	}
}

// Every finding of an account without a client is reported, in every batch.
func TestImportNoClientForAccount(t *testing.T) {
	hub := newFakeHub(t)
	opts := fast
	opts.ClientFor = func(_ context.Context, account string) (BatchImporter, error) {
		if account == acctB {
			return nil, errors.New("assume role lakehunt-import in 444455556666: AccessDenied")
		}
		return hub.client(t, "AKIDA"), nil
	}
	sum, err := Import(context.Background(), nil, append(build(t, 1, acctA, 0), build(t, 150, acctB, 0)...), opts)
	if !errors.Is(err, ErrNotImported) || !strings.Contains(err.Error(), "150 of 151") {
		t.Fatalf("err = %v", err)
	}
	if sum.Imported != 1 || len(sum.Failed) != 150 || sum.Failed[149].Code != "NoClient" || !strings.Contains(sum.Failed[149].Message, "AccessDenied") {
		t.Errorf("summary: imported %d, %d failed, last %+v", sum.Imported, len(sum.Failed), sum.Failed[len(sum.Failed)-1])
	}
}

func TestImportRejectsLocally(t *testing.T) {
	hub := newFakeHub(t)
	good := build(t, 2, acctA, 0)
	huge := build(t, 1, acctA, 0)[0]
	huge.Id = aws.String("huge")
	huge.ProductFields = map[string]string{}
	for i := 0; i < 200; i++ { // bypasses asff.Build's limits on purpose
		huge.ProductFields[fmt.Sprint(i)] = strings.Repeat("x", 2000)
	}
	findings := []types.AwsSecurityFinding{good[0], good[0], huge, good[1], {Id: aws.String("no-account")}}
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), findings, fast)
	if !errors.Is(err, ErrNotImported) {
		t.Fatalf("err = %v", err)
	}
	hub.checkClean(t)
	codes := map[string]string{}
	for _, f := range sum.Failed {
		codes[f.ID] = f.Code
	}
	want := map[string]string{aws.ToString(good[0].Id): "DuplicateId", "huge": "TooLarge", "no-account": "Incomplete"}
	if !reflect.DeepEqual(codes, want) || sum.Imported != 2 || len(hub.batches) != 1 || len(hub.batches[0]) != 2 {
		t.Errorf("failures %v (want %v), imported %d, requests %d", codes, want, sum.Imported, len(hub.batches))
	}
}

func TestImportDryRun(t *testing.T) {
	hub := newFakeHub(t)
	opts := fast
	opts.DryRun = true
	sum, err := Import(context.Background(), hub.client(t, "AKIDTEST"), append(build(t, 120, acctA, 0), build(t, 1, acctB, 0)...), opts)
	if err != nil {
		t.Fatal(err)
	}
	if hub.requests != 0 || sum.Batches != 3 || sum.Imported != 0 || !sum.DryRun {
		t.Errorf("dry run sent %d requests; summary %+v", hub.requests, sum)
	}
	var out bytes.Buffer
	sum.WriteText(&out)
	if !strings.Contains(out.String(), "would import (dry run) 120 of 120 findings in 2 batches") {
		t.Errorf("dry-run text:\n%s", out.String())
	}
}

func TestImportStopsOnCancel(t *testing.T) {
	hub := newFakeHub(t)
	hub.throttle = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	opts := Options{BaseDelay: time.Second, MaxDelay: time.Second, MaxAttempts: 100}
	start := time.Now()
	sum, err := Import(ctx, hub.client(t, "AKIDTEST"), build(t, 2, acctA, 0), opts)
	if !errors.Is(err, ErrNotImported) || len(sum.Failed) != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v, summary %+v after %s", err, sum, time.Since(start))
	}
}
