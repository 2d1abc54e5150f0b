package asff

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/internal/shmodel"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	testdata   = filepath.Join("..", "..", "testdata")
	reportsDir = filepath.Join(testdata, "reports")
)

func model(t *testing.T) *shmodel.Model {
	t.Helper()
	m, err := shmodel.LoadSecurityHub(testdata)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// validate checks findings, as encoded by Marshal, against the Security Hub model and the size limit.
func validate(t *testing.T, m *shmodel.Model, fs []types.AwsSecurityFinding) {
	t.Helper()
	for _, f := range fs {
		raw, err := Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > MaxFindingBytes {
			t.Errorf("finding %s is %d bytes, over %d", aws.ToString(f.Id), len(raw), MaxFindingBytes)
		}
		v, err := shmodel.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range m.Validate("AwsSecurityFinding", v) {
			t.Errorf("finding %s: %s", aws.ToString(f.Id), e)
		}
	}
}

func TestGolden(t *testing.T) {
	run, findings, err := reports.ReadRunDir(filepath.Join(reportsDir, "run-mixed"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Region: "us-east-1", ReportURL: "https://reports.example.com/runs/" + run.ID + "/report.html"}
	built, err := Build(run, findings, opts)
	if err != nil || len(built.LeftOut) > 0 {
		t.Fatal(err, built.LeftOut)
	}
	out, warns := built.Findings, built.Warnings
	validate(t, model(t), out)
	got, err := MarshalList(out)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(reportsDir, "asff", "run-mixed.asff.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./reports/asff -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ASFF differs from %s; if the change is intended, run with -update and review the diff", golden)
	}
	// The one change Build had to make to this run: a type outside ASFF's namespaces.
	if len(warns) != 1 || warns[0].Field != "Types" || !strings.Contains(warns[0].Message, `"Bogus Namespace/Thing"`) {
		t.Errorf("warnings = %v, want one about the bogus type", warns)
	}
}

// Marshal names members after Go fields; this proves each field is a member of the model's shape,
// with a matching type, over the whole AwsSecurityFinding tree.
func TestEncoderNamesMatchModel(t *testing.T) {
	m := model(t)
	seen := map[string]bool{}
	var walk func(shape string, typ reflect.Type, path string)
	walk = func(shape string, typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		s := m.Shapes[shape]
		if s == nil {
			t.Fatalf("%s: no shape %s", path, shape)
		}
		switch s.Type {
		case "structure":
			if seen[shape] {
				return
			}
			seen[shape] = true
			if typ.Kind() != reflect.Struct {
				t.Errorf("%s: shape %s is a structure, Go type %s is not", path, shape, typ)
				return
			}
			fields := map[string]bool{}
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if !f.IsExported() || f.Anonymous {
					continue
				}
				fields[f.Name] = true
				mem, ok := s.Members[f.Name]
				if !ok {
					t.Errorf("%s.%s: Go field is not a member of shape %s", path, f.Name, shape)
					continue
				}
				walk(mem.Shape, f.Type, path+"."+f.Name)
			}
			for name := range s.Members {
				if !fields[name] {
					// The model may be newer than the SDK; the SDK cannot send what it lacks, so this is news, not an error.
					t.Logf("%s.%s: model member the SDK does not have", path, name)
				}
			}
		case "list":
			if typ.Kind() != reflect.Slice {
				t.Errorf("%s: list shape %s but Go type %s", path, shape, typ)
				return
			}
			walk(s.Member.Shape, typ.Elem(), path+"[]")
		case "map":
			if typ.Kind() != reflect.Map {
				t.Errorf("%s: map shape %s but Go type %s", path, shape, typ)
				return
			}
			walk(s.Value.Shape, typ.Elem(), path+"{}")
		case "string":
			if typ.Kind() != reflect.String {
				t.Errorf("%s: string shape %s but Go type %s", path, shape, typ)
			}
		case "integer", "long":
			if k := typ.Kind(); k != reflect.Int32 && k != reflect.Int64 && k != reflect.Int {
				t.Errorf("%s: %s shape %s but Go type %s", path, s.Type, shape, typ)
			}
		case "double", "float":
			if k := typ.Kind(); k != reflect.Float64 && k != reflect.Float32 {
				t.Errorf("%s: %s shape %s but Go type %s", path, s.Type, shape, typ)
			}
		case "boolean":
			if typ.Kind() != reflect.Bool {
				t.Errorf("%s: boolean shape %s but Go type %s", path, shape, typ)
			}
		default:
			t.Errorf("%s: shape type %s (%s) has no encoding in Marshal", path, s.Type, shape)
		}
	}
	walk("AwsSecurityFinding", reflect.TypeOf(types.AwsSecurityFinding{}), "AwsSecurityFinding")
	if len(seen) < 100 {
		t.Fatalf("walked only %d structures; the walk is broken", len(seen))
	}
}

var (
	t0  = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run = &lake.Run{ID: "run-1", StartedAt: t0.Add(30 * time.Hour), FinishedAt: t0.Add(30*time.Hour + time.Minute), ToolVersion: "test",
		WindowStart: t0, WindowEnd: t0.Add(24 * time.Hour),
		Hunts: []lake.HuntRun{{ID: "h1", Version: 2, Title: "Hunt one", Status: "ok", Triage: "Check the principal.", References: []string{"https://example.com/runbook"}}}}
)

func finding(mod func(f *lake.Finding)) lake.Finding {
	f := lake.Finding{ID: "f-1", HuntID: "h1", HuntVersion: 2, HuntTitle: "Hunt one", Severity: lake.SeverityHigh, Title: "Something odd",
		Entity: lake.Entity{Type: "principal", Key: "arn:aws:iam::111122223333:role/Admin"}, AccountID: "111122223333", Region: "eu-west-1",
		FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(2 * time.Hour), Count: 3, WindowStart: t0, WindowEnd: t0.Add(24 * time.Hour),
		CreatedAt: t0.Add(30 * time.Hour)}
	if mod != nil {
		mod(&f)
	}
	return f
}

func buildOne(t *testing.T, f lake.Finding, opts Options) (types.AwsSecurityFinding, []Warning) {
	t.Helper()
	built, err := Build(run, []lake.Finding{f}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(built.LeftOut) > 0 {
		t.Fatalf("left out: %v", built.LeftOut)
	}
	return built.Findings[0], built.Warnings
}

func TestBuildFields(t *testing.T) {
	af, _ := buildOne(t, finding(nil), Options{Region: "us-east-1", ReportURL: "https://r.example/report.html"})
	checks := map[string][2]string{
		"SchemaVersion":  {aws.ToString(af.SchemaVersion), "2018-10-08"},
		"Id":             {aws.ToString(af.Id), "lakehunt/h1/f-1"},
		"GeneratorId":    {aws.ToString(af.GeneratorId), "lakehunt/h1"},
		"ProductArn":     {aws.ToString(af.ProductArn), "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"},
		"Region":         {aws.ToString(af.Region), "eu-west-1"},
		"CreatedAt":      {aws.ToString(af.CreatedAt), "2026-03-02T06:00:00.000Z"},
		"UpdatedAt":      {aws.ToString(af.UpdatedAt), "2026-03-02T06:01:00.000Z"},
		"FirstObserved":  {aws.ToString(af.FirstObservedAt), "2026-03-01T01:00:00.000Z"},
		"Severity":       {string(af.Severity.Label), "HIGH"},
		"FPF Severity":   {string(af.FindingProviderFields.Severity.Label), "HIGH"},
		"SourceUrl":      {aws.ToString(af.SourceUrl), "https://r.example/report.html#" + reports.Anchor("f-1")},
		"Recommendation": {aws.ToString(af.Remediation.Recommendation.Text), "Check the principal."},
		"Resource type":  {aws.ToString(af.Resources[0].Type), "AwsIamRole"},
		"HuntVersion":    {af.ProductFields["lakehunt/HuntVersion"], "2"},
		"RunId":          {af.ProductFields["lakehunt/RunId"], "run-1"},
		"Types":          {strings.Join(af.Types, ","), "Unusual Behaviors"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	validate(t, model(t), []types.AwsSecurityFinding{af})
}

// Id depends only on hunt and finding id, so re-runs update the same Security Hub finding.
func TestIDDeterministic(t *testing.T) {
	a, _ := buildOne(t, finding(nil), Options{})
	b, _ := buildOne(t, finding(func(f *lake.Finding) { f.HuntVersion = 3; f.Count = 99; f.CreatedAt = f.CreatedAt.Add(time.Hour) }), Options{})
	c, _ := buildOne(t, finding(func(f *lake.Finding) { f.ID = "f-2" }), Options{})
	if aws.ToString(a.Id) != aws.ToString(b.Id) {
		t.Errorf("same finding id gave %q and %q", aws.ToString(a.Id), aws.ToString(b.Id))
	}
	if aws.ToString(a.Id) == aws.ToString(c.Id) {
		t.Error("different finding ids gave the same ASFF Id")
	}
	long, _ := buildOne(t, finding(func(f *lake.Finding) { f.ID = strings.Repeat("z", 600) }), Options{})
	long2, _ := buildOne(t, finding(func(f *lake.Finding) { f.ID = strings.Repeat("z", 601) }), Options{})
	if n := len(aws.ToString(long.Id)); n > maxID || aws.ToString(long.Id) == aws.ToString(long2.Id) {
		t.Errorf("long ids: %q (%d chars) and %q", aws.ToString(long.Id), n, aws.ToString(long2.Id))
	}
}

// A finding that cannot be ASFF is left out with its reason; the findings around it are built.
func TestBuildLeavesOutBadFinding(t *testing.T) {
	tests := []struct {
		name string
		mod  func(f *lake.Finding)
		want string
	}{
		{"no account", func(f *lake.Finding) { f.AccountID = "" }, "no account id: pass a default account"},
		{"bad account", func(f *lake.Finding) { f.AccountID = "12345" }, `account id "12345" is not a 12-digit`},
		{"no region", func(f *lake.Finding) { f.Region = "" }, "no region: pass the Security Hub region"},
		{"bad region", func(f *lake.Finding) { f.Region = "apiso-westcentral-3r" }, `region "apiso-westcentral-3r" is not an AWS region name: pass the Security Hub region (--region)`},
		{"bad severity", func(f *lake.Finding) { f.Severity = "SEVERE" }, `severity "SEVERE" is not an ASFF label`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := finding(tt.mod)
			bad.ID = "f-bad"
			built, err := Build(run, []lake.Finding{finding(nil), bad, finding(func(f *lake.Finding) { f.ID = "f-3" })}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(built.Findings) != 2 || aws.ToString(built.Findings[0].Id) != "lakehunt/h1/f-1" || aws.ToString(built.Findings[1].Id) != "lakehunt/h1/f-3" {
				t.Errorf("built %d findings, want f-1 and f-3", len(built.Findings))
			}
			if len(built.LeftOut) != 1 || built.LeftOut[0].FindingID != "f-bad" || built.LeftOut[0].HuntID != "h1" || !strings.Contains(built.LeftOut[0].Reason, tt.want) {
				t.Fatalf("left out %v, want f-bad: %q", built.LeftOut, tt.want)
			}
		})
	}
}

func TestBuildOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"bad option region", Options{Region: "mars"}, `region "mars"`},
		{"bad product arn", Options{ProductARN: "arn:aws:s3:::bucket"}, "not a Security Hub product ARN"},
		{"bad default account", Options{DefaultAccount: "1"}, `default account "1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Build(run, []lake.Finding{finding(nil)}, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Defaults fill in what the finding lacks.
	af, _ := buildOne(t, finding(func(f *lake.Finding) { f.AccountID, f.Region = "", "" }),
		Options{DefaultAccount: "444455556666", Region: "us-gov-west-1", ProductARN: "arn:aws-us-gov:securityhub:us-gov-west-1:444455556666:product/444455556666/default"})
	if aws.ToString(af.AwsAccountId) != "444455556666" || aws.ToString(af.Region) != "us-gov-west-1" || af.Resources[0].Partition != "aws-us-gov" {
		t.Errorf("defaults not applied: account %s region %s partition %s", aws.ToString(af.AwsAccountId), aws.ToString(af.Region), af.Resources[0].Partition)
	}
}

func TestResourcesFromEntity(t *testing.T) {
	tests := []struct {
		entity   lake.Entity
		typ, id  string
		detailOK func(map[string]string) bool
	}{
		{lake.Entity{Type: "principal", Key: "arn:aws:iam::111122223333:role/Admin"}, "AwsIamRole", "arn:aws:iam::111122223333:role/Admin", nil},
		{lake.Entity{Type: "principal", Key: "arn:aws:iam::111122223333:user/alice"}, "AwsIamUser", "arn:aws:iam::111122223333:user/alice", nil},
		{lake.Entity{Type: "principal", Key: "arn:aws:iam::111122223333:root"}, "AwsAccount", "AWS::::Account:111122223333", nil},
		{lake.Entity{Type: "principal", Key: "arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com"}, "AwsIamRole", "arn:aws:iam::111122223333:role/Dev",
			func(d map[string]string) bool { return d["SessionName"] == "alice@example.com" }},
		{lake.Entity{Type: "access_key", Key: "AKIAIOSFODNN7EXAMPLE"}, "AwsIamAccessKey", "AKIAIOSFODNN7EXAMPLE", nil},
		{lake.Entity{Type: "instance", Key: "i-0123456789abcdef0"}, "AwsEc2Instance", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0", nil},
		{lake.Entity{Type: "bucket", Key: "arn:aws:s3:::my-bucket"}, "AwsS3Bucket", "arn:aws:s3:::my-bucket", nil},
		{lake.Entity{Type: "ip", Key: "203.0.113.7"}, "Other", "203.0.113.7", func(d map[string]string) bool { return d["IpAddress"] == "203.0.113.7" }},
		{lake.Entity{Type: "domain", Key: "evil.example."}, "Other", "evil.example.", func(d map[string]string) bool { return d["EntityType"] == "domain" }},
		{lake.Entity{}, "AwsAccount", "AWS::::Account:111122223333", nil},
	}
	for _, tt := range tests {
		af, _ := buildOne(t, finding(func(f *lake.Finding) { f.Entity = tt.entity }), Options{})
		r := af.Resources[0]
		if aws.ToString(r.Type) != tt.typ || aws.ToString(r.Id) != tt.id {
			t.Errorf("entity %+v: resource %s %s, want %s %s", tt.entity, aws.ToString(r.Type), aws.ToString(r.Id), tt.typ, tt.id)
		}
		if tt.detailOK != nil && (r.Details == nil || !tt.detailOK(r.Details.Other)) {
			t.Errorf("entity %+v: details %+v", tt.entity, r.Details)
		}
	}
	// A hunt's own resource mapping wins over the entity.
	af, _ := buildOne(t, finding(func(f *lake.Finding) {
		f.Resources = []lake.Resource{{Type: "AwsEc2Instance", ID: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", Region: "us-east-1"}, {Type: "Other", ID: ""}}
	}), Options{})
	if len(af.Resources) != 1 || aws.ToString(af.Resources[0].Region) != "us-east-1" {
		t.Errorf("mapped resources = %+v", af.Resources)
	}
}

func TestTypes(t *testing.T) {
	tests := []struct {
		types, tactics []string
		want           string
		warn           bool
	}{
		{[]string{"TTPs/Defense Evasion/CloudTrailStopped"}, nil, "TTPs/Defense Evasion/CloudTrailStopped", false},
		{[]string{"Bogus/Type", "Effects/Data Exfiltration"}, nil, "Effects/Data Exfiltration", true},
		{[]string{"TTPs//x"}, []string{"credential-access", "TA0010", "unknown"}, "TTPs/Credential Access,Effects/Data Exfiltration", true},
		{nil, nil, "Unusual Behaviors", false},
	}
	for _, tt := range tests {
		af, warns := buildOne(t, finding(func(f *lake.Finding) { f.Types, f.Tactics = tt.types, tt.tactics }), Options{})
		if got := strings.Join(af.Types, ","); got != tt.want || strings.Join(af.FindingProviderFields.Types, ",") != tt.want {
			t.Errorf("types %q tactics %q: got %q, want %q", tt.types, tt.tactics, got, tt.want)
		}
		if (len(warns) > 0) != tt.warn {
			t.Errorf("types %q: warnings %v, want warning=%v", tt.types, warns, tt.warn)
		}
	}
}

func TestLongTextTruncatedWithWarning(t *testing.T) {
	af, warns := buildOne(t, finding(func(f *lake.Finding) {
		f.Title = strings.Repeat("T", 300)
		f.Description = strings.Repeat("ü", 2000)
	}), Options{})
	if n := len([]rune(aws.ToString(af.Title))); n != maxTitle {
		t.Errorf("title has %d characters, want %d", n, maxTitle)
	}
	if !strings.HasSuffix(aws.ToString(af.Description), reports.TruncMark) {
		t.Error("the cut description does not say it was cut")
	}
	fields := map[string]bool{}
	for _, w := range warns {
		fields[w.Field] = true
	}
	if !fields["Title"] || !fields["Description"] {
		t.Errorf("warnings %v lack Title and Description", warns)
	}
	validate(t, model(t), []types.AwsSecurityFinding{af})
}

// Title and Description are read in the Security Hub console: a finding written before titles were
// escaped at creation still shows no raw control or right-to-left character there; line breaks of a
// description stay. The entity key quoted by the fallback description is escaped too.
func TestTitleAndDescriptionEscaped(t *testing.T) {
	who := "erin\u202etxt.exe\x1b]0;pwned\x07"
	af, _ := buildOne(t, finding(func(f *lake.Finding) {
		f.Title = "Access keys created by " + who
		f.Description = "Line one.\nMade by " + who + "\u009b2J"
	}), Options{})
	if got, want := aws.ToString(af.Title), `Access keys created by erin\u202etxt.exe\x1b]0;pwned\x07`; got != want {
		t.Errorf("Title %q, want %q", got, want)
	}
	if got, want := aws.ToString(af.Description), "Line one.\nMade by erin\\u202etxt.exe\\x1b]0;pwned\\x07\\u009b2J"; got != want {
		t.Errorf("Description %q, want %q", got, want)
	}
	fallback, _ := buildOne(t, finding(func(f *lake.Finding) { f.Description = ""; f.Entity.Key = who }), Options{})
	if d := aws.ToString(fallback.Description); strings.ContainsAny(d, "\u202e\x1b\x07") || !strings.Contains(d, `erin\u202etxt.exe`) {
		t.Errorf("fallback Description %q: want the entity key escaped", d)
	}
}

func TestHugeEvidenceTruncatedUnderLimit(t *testing.T) {
	big := strings.Repeat("A", 20_000)
	f := finding(func(f *lake.Finding) {
		for i := 0; i < 500; i++ {
			f.Evidence = append(f.Evidence, lake.Evidence{Time: t0.Add(time.Duration(i) * time.Minute), Table: "cloudtrail", SourceKey: "AWSLogs/x.json.gz", SourceLine: int64(i + 1),
				Row: map[string]any{"request_parameters": big, "event_name": "PutBucketPolicy", "n": i}})
		}
		f.Fields = map[string]any{}
		for i := 0; i < 40; i++ {
			f.Fields[fmt.Sprintf("col%02d", i)] = big
		}
		f.EvidenceNote = "showing 500 of 9000 rows"
	})
	af, warns := buildOne(t, f, Options{})
	raw, _ := Marshal(af)
	if len(raw) > MaxFindingBytes {
		t.Fatalf("finding is %d bytes", len(raw))
	}
	note := af.ProductFields[keyNote]
	for _, want := range []string{"hunt: showing 500 of 9000 rows", "for ASFF, evidence truncated: kept ", "of 500 evidence rows", "kept 15 of 40 result columns",
		"evidence shortened: 15 result values cut to 2048 characters (columns col00, col01, ", "findings.jsonl and report.html of run run-1"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	if len(af.ProductFields) != maxFieldPairs {
		t.Errorf("%d product fields, want the %d allowed", len(af.ProductFields), maxFieldPairs)
	}
	if w := fmt.Sprint(warns); !strings.Contains(w, "evidence truncated: kept ") || !strings.Contains(w, "of 500 evidence rows, kept 15 of 40 result columns") {
		t.Errorf("warnings %v do not say what was dropped", warns)
	}
	validate(t, model(t), []types.AwsSecurityFinding{af})
}

func TestOversizedFindingLosesResourceDetails(t *testing.T) {
	f := finding(func(f *lake.Finding) {
		for r := 0; r < 40; r++ {
			d := map[string]string{}
			for k := 0; k < 60; k++ {
				d[fmt.Sprintf("k%02d", k)] = strings.Repeat("v", 1500)
			}
			f.Resources = append(f.Resources, lake.Resource{Type: "Other", ID: fmt.Sprintf("r-%d", r), Detail: d})
		}
	})
	af, warns := buildOne(t, f, Options{})
	raw, _ := Marshal(af)
	if len(raw) > MaxFindingBytes {
		t.Fatalf("finding is %d bytes", len(raw))
	}
	if len(af.Resources) != maxResources || af.Resources[0].Details != nil {
		t.Errorf("%d resources, details %v; want %d without details", len(af.Resources), af.Resources[0].Details, maxResources)
	}
	if !strings.Contains(af.ProductFields[keyNote], "resource details removed to stay under 240 KB") {
		t.Errorf("note %q does not say the details were removed", af.ProductFields[keyNote])
	}
	if !strings.Contains(fmt.Sprint(warns), "over the 240 KB limit") {
		t.Errorf("warnings %v", warns)
	}
	validate(t, model(t), []types.AwsSecurityFinding{af})
}

func TestWriteReadFile(t *testing.T) {
	built, err := Build(run, []lake.Finding{finding(nil), finding(func(f *lake.Finding) { f.ID = "f-2" })}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := built.Findings
	path := filepath.Join(t.TempDir(), reports.ASFFFile)
	if err := WriteFile(path, out); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := MarshalList(out)
	b, _ := MarshalList(back)
	if !bytes.Equal(a, b) {
		t.Errorf("read back differs:\n%s\n%s", a, b)
	}
}

// Values cut to fit, with every row and column kept, are reported as shortened, per column, and not as
// rows or columns dropped.
func TestShortenedValuesWarning(t *testing.T) {
	long := strings.Repeat("x", 3000)
	af, warns := buildOne(t, finding(func(f *lake.Finding) {
		for i := 0; i < 5; i++ {
			row := map[string]any{"event_name": "PutBucketPolicy", "user_agent": "aws-cli"}
			if i < 2 {
				row["request_parameters"] = long
			}
			if i == 4 {
				row["user_agent"] = long
			}
			f.Evidence = append(f.Evidence, lake.Evidence{Time: t0, Table: "cloudtrail", Row: row})
		}
	}), Options{})
	want := "evidence shortened: 3 evidence values cut to 512 characters (columns request_parameters, user_agent)"
	if len(warns) != 1 || warns[0].Field != "ProductFields" || warns[0].Message != want {
		t.Fatalf("warnings %v, want one: %s", warns, want)
	}
	if note := af.ProductFields[keyNote]; !strings.Contains(note, want) || strings.Contains(note, "truncated") {
		t.Errorf("note %q", note)
	}
	if n := countPrefix(af.ProductFields, "lakehunt/Evidence/"); n != 5 {
		t.Errorf("%d evidence rows, want all 5", n)
	}
	// Nothing cut, nothing said.
	af, warns = buildOne(t, finding(func(f *lake.Finding) {
		f.Evidence = []lake.Evidence{{Time: t0, Row: map[string]any{"user_agent": "aws-cli"}}}
	}), Options{})
	if len(warns) > 0 || af.ProductFields[keyNote] != "" {
		t.Errorf("warnings %v, note %q", warns, af.ProductFields[keyNote])
	}
}

func countPrefix(m map[string]string, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// One principal's recon, logging evasion and threat-intel contact link to each other, earliest first;
// an unrelated principal's finding links to nothing.
func TestRelatedFindingsLinkTheGroup(t *testing.T) {
	const ben = "arn:aws:iam::111122223333:user/ben"
	step := func(id, hunt string, hour int, key string) lake.Finding {
		return finding(func(f *lake.Finding) {
			f.ID, f.HuntID, f.Entity.Key = id, hunt, key
			f.FirstSeen = t0.Add(time.Duration(hour) * time.Hour)
		})
	}
	fs := []lake.Finding{step("f-ti", "ti-ip-cloudtrail", 5, ben), step("f-other", "h1", 1, "arn:aws:iam::111122223333:user/amy"),
		step("f-evasion", "cloudtrail-logging-evasion", 3, ben), step("f-recon", "discovery-burst", 1, ben)}
	built, err := Build(run, fs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	related := map[string][]string{}
	for _, af := range built.Findings {
		for _, r := range af.RelatedFindings {
			if aws.ToString(r.ProductArn) != aws.ToString(af.ProductArn) {
				t.Errorf("%s: related ProductArn %s", aws.ToString(af.Id), aws.ToString(r.ProductArn))
			}
			related[aws.ToString(af.Id)] = append(related[aws.ToString(af.Id)], aws.ToString(r.Id))
		}
	}
	want := map[string][]string{
		"lakehunt/discovery-burst/f-recon":              {"lakehunt/cloudtrail-logging-evasion/f-evasion", "lakehunt/ti-ip-cloudtrail/f-ti"},
		"lakehunt/cloudtrail-logging-evasion/f-evasion": {"lakehunt/discovery-burst/f-recon", "lakehunt/ti-ip-cloudtrail/f-ti"},
		"lakehunt/ti-ip-cloudtrail/f-ti":                {"lakehunt/discovery-burst/f-recon", "lakehunt/cloudtrail-logging-evasion/f-evasion"},
	}
	if !reflect.DeepEqual(related, want) {
		t.Errorf("RelatedFindings = %v, want %v", related, want)
	}
	validate(t, model(t), built.Findings)

	// ASFF holds 10 related findings: a bigger group links the earliest and says so.
	var many []lake.Finding
	for i := range 12 {
		many = append(many, step(fmt.Sprintf("f-%02d", i), "h1", i, ben))
	}
	built, err = Build(run, many, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(built.Findings[0].RelatedFindings); n != maxRelated {
		t.Errorf("%d related findings, want %d", n, maxRelated)
	}
	warned := 0
	for _, w := range built.Warnings {
		if w.Field == "RelatedFindings" {
			warned++
		}
	}
	if warned != len(many) {
		t.Errorf("%d RelatedFindings warnings, want one per finding of the 12-finding group", warned)
	}
	validate(t, model(t), built.Findings)
}
