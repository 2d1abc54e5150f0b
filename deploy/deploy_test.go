package deploy

// These tests check the template and the examples without an AWS account: the template as CloudFormation
// reads it (short-form tags expanded), its resource types and required properties, its references, and
// that the task role grants no more than lakehunt run --due needs.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lakehunt/lakehunt/hunts/schedule"
)

// cfnValue turns a YAML node into plain values, expanding CloudFormation's short-form tags into their
// long form ({"Ref": x}, {"Fn::Sub": x}, {"Fn::GetAtt": [res, attr]}, ...), as CloudFormation reads them.
func cfnValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.ScalarNode:
		v = n.Value
	case yaml.SequenceNode:
		var list []any
		for _, c := range n.Content {
			x, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		v = list
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %s", n.Content[i].Line, k)
			}
			x, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		v = m
	}
	tag := n.Tag
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Sub", "Join", "If", "Equals", "Not", "And", "Or", "Select", "Split", "FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr":
		return map[string]any{"Fn::" + name: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown CloudFormation tag %s", n.Line, tag)
}

type template struct {
	Parameters, Conditions, Resources, Outputs map[string]any
	raw                                        map[string]any
}

func loadTemplate(t *testing.T) *template {
	t.Helper()
	b, err := os.ReadFile("cloudformation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("cloudformation.yaml is not YAML: %v", err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		t.Fatalf("cloudformation.yaml: %v", err)
	}
	raw := v.(map[string]any)
	tp := &template{raw: raw}
	for name, dst := range map[string]*map[string]any{"Parameters": &tp.Parameters, "Conditions": &tp.Conditions, "Resources": &tp.Resources, "Outputs": &tp.Outputs} {
		if m, ok := raw[name].(map[string]any); ok {
			*dst = m
		}
	}
	return tp
}

// spec is the part of the CloudFormation resource specification the template uses: the properties a
// type accepts and the ones it requires (for the Fargate launch type where it matters).
var spec = map[string]struct{ allowed, required []string }{
	"AWS::ECS::Cluster":   {allowed: []string{"ClusterName", "ClusterSettings", "CapacityProviders", "DefaultCapacityProviderStrategy", "Configuration", "ServiceConnectDefaults", "Tags"}},
	"AWS::Logs::LogGroup": {allowed: []string{"LogGroupName", "RetentionInDays", "KmsKeyId", "DataProtectionPolicy", "LogGroupClass", "FieldIndexPolicies", "Tags"}},
	"AWS::IAM::Role": {
		allowed:  []string{"AssumeRolePolicyDocument", "Description", "ManagedPolicyArns", "MaxSessionDuration", "Path", "PermissionsBoundary", "Policies", "RoleName", "Tags"},
		required: []string{"AssumeRolePolicyDocument"},
	},
	"AWS::ECS::TaskDefinition": {
		allowed: []string{"ContainerDefinitions", "Cpu", "EnableFaultInjection", "EphemeralStorage", "ExecutionRoleArn", "Family", "InferenceAccelerators", "IpcMode", "Memory",
			"NetworkMode", "PidMode", "PlacementConstraints", "ProxyConfiguration", "RequiresCompatibilities", "RuntimePlatform", "TaskRoleArn", "Volumes", "Tags"},
		required: []string{"ContainerDefinitions", "Cpu", "Memory", "NetworkMode", "RequiresCompatibilities", "ExecutionRoleArn"},
	},
	"AWS::EC2::SecurityGroup": {
		allowed:  []string{"GroupDescription", "GroupName", "SecurityGroupEgress", "SecurityGroupIngress", "VpcId", "Tags"},
		required: []string{"GroupDescription"},
	},
	"AWS::Scheduler::Schedule": {
		allowed:  []string{"Description", "EndDate", "FlexibleTimeWindow", "GroupName", "KmsKeyArn", "Name", "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "State", "Target"},
		required: []string{"FlexibleTimeWindow", "ScheduleExpression", "Target"},
	},
}

var pseudo = []string{"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::URLSuffix"}

// get walks maps by key and lists by index ("0", "1", ...).
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// walk calls fn for every map in v.
func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func TestTemplateResourcesAndReferences(t *testing.T) {
	tp := loadTemplate(t)
	if tp.raw["AWSTemplateFormatVersion"] != "2010-09-09" || len(tp.Resources) == 0 {
		t.Fatalf("not a CloudFormation template: version %v, %d resources", tp.raw["AWSTemplateFormatVersion"], len(tp.Resources))
	}
	byType := map[string][]string{}
	for name, r := range tp.Resources {
		typ, _ := get(r, "Type").(string)
		byType[typ] = append(byType[typ], name)
		s, known := spec[typ]
		if !known {
			t.Errorf("resource %s: type %q is not one the test knows; add its specification", name, typ)
			continue
		}
		props, _ := get(r, "Properties").(map[string]any)
		for p := range props {
			if !slices.Contains(s.allowed, p) {
				t.Errorf("resource %s (%s): unknown property %s", name, typ, p)
			}
		}
		for _, p := range s.required {
			if props[p] == nil {
				t.Errorf("resource %s (%s): required property %s missing", name, typ, p)
			}
		}
	}
	for _, typ := range []string{"AWS::Scheduler::Schedule", "AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::Logs::LogGroup", "AWS::EC2::SecurityGroup"} {
		if len(byType[typ]) != 1 {
			t.Errorf("want one %s, have %v", typ, byType[typ])
		}
	}
	if len(byType["AWS::IAM::Role"]) != 3 {
		t.Errorf("want 3 roles (task, execution, scheduler), have %v", byType["AWS::IAM::Role"])
	}

	// Every reference resolves; every parameter is used.
	known := map[string]bool{}
	for _, p := range pseudo {
		known[p] = true
	}
	for n := range tp.Parameters {
		known[n] = true
	}
	for n := range tp.Resources {
		known[n] = true
	}
	used := map[string]bool{}
	check := func(where, name string) {
		used[name] = true
		if !known[name] {
			t.Errorf("%s refers to %s, which is neither a parameter, a resource nor a pseudo parameter", where, name)
		}
	}
	for _, section := range []map[string]any{tp.Resources, tp.Outputs, tp.Conditions} {
		walk(section, func(m map[string]any) {
			if r, ok := m["Ref"].(string); ok {
				check("Ref", r)
			}
			if ga, ok := m["Fn::GetAtt"].([]any); ok {
				res, _ := ga[0].(string)
				if tp.Resources[res] == nil {
					t.Errorf("GetAtt %v: no resource %s", ga, res)
				}
				used[res] = true
			}
			if sub, ok := m["Fn::Sub"]; ok {
				text, _ := sub.(string)
				if list, ok := sub.([]any); ok {
					text, _ = list[0].(string)
				}
				for _, v := range subVar.FindAllStringSubmatch(text, -1) {
					res, _, _ := strings.Cut(v[1], ".")
					if strings.HasPrefix(v[1], "AWS::") {
						res = v[1]
					}
					check("Sub "+text, res)
				}
			}
			if c, ok := m["Fn::If"].([]any); ok {
				if name, _ := c[0].(string); tp.Conditions[name] == nil {
					t.Errorf("Fn::If on unknown condition %v", c[0])
				}
			}
		})
	}
	for p := range tp.Parameters {
		if !used[p] {
			t.Errorf("parameter %s is never used", p)
		}
	}

	// The schedule starts the task on Fargate with the scheduler role; the task runs 'run --due'.
	sched := tp.Resources[byType["AWS::Scheduler::Schedule"][0]]
	target := get(sched, "Properties", "Target")
	for _, path := range [][]string{{"Arn"}, {"RoleArn"}, {"EcsParameters", "TaskDefinitionArn"}, {"EcsParameters", "NetworkConfiguration", "AwsvpcConfiguration", "Subnets"}} {
		if get(target, path...) == nil {
			t.Errorf("schedule target lacks %s", strings.Join(path, "."))
		}
	}
	if get(target, "EcsParameters", "LaunchType") != "FARGATE" || get(sched, "Properties", "FlexibleTimeWindow", "Mode") == nil {
		t.Errorf("schedule target: launch type %v, flexible time window %v", get(target, "EcsParameters", "LaunchType"), get(sched, "Properties", "FlexibleTimeWindow"))
	}
	td := get(tp.Resources[byType["AWS::ECS::TaskDefinition"][0]], "Properties")
	if get(td, "NetworkMode") != "awsvpc" || !slices.Contains(get(td, "RequiresCompatibilities").([]any), any("FARGATE")) {
		t.Errorf("task definition is not Fargate-ready: %v %v", get(td, "NetworkMode"), get(td, "RequiresCompatibilities"))
	}
	containers, _ := get(td, "ContainerDefinitions").([]any)
	if len(containers) != 1 || get(containers[0], "Name") == nil || get(containers[0], "Image") == nil {
		t.Fatalf("want one container with Name and Image: %v", containers)
	}
	cmd := fmt.Sprint(get(containers[0], "Command"))
	if !strings.Contains(cmd, "run --due") || get(containers[0], "User") == nil || get(containers[0], "LogConfiguration", "LogDriver") != "awslogs" {
		t.Errorf("container: command %s, user %v, logs %v", cmd, get(containers[0], "User"), get(containers[0], "LogConfiguration"))
	}
}

// statements returns a role's inline policy statements, with conditional (Fn::If) ones taken as present.
func statements(role any) []map[string]any {
	var out []map[string]any
	for _, p := range get(role, "Properties", "Policies").([]any) {
		for _, s := range get(p, "PolicyDocument", "Statement").([]any) {
			if c, ok := get(s, "Fn::If").([]any); ok {
				s = c[1]
			}
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func TestTaskRoleIsLeastPrivilege(t *testing.T) {
	tp := loadTemplate(t)
	role := tp.Resources["TaskRole"]
	if role == nil {
		t.Fatal("no TaskRole")
	}
	allowed := []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "securityhub:BatchImportFindings", "kms:Decrypt", "kms:GenerateDataKey", "secretsmanager:GetSecretValue",
		"glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"}
	grants := map[string][]string{} // action → resources
	for _, s := range statements(role) {
		if s["Effect"] != "Allow" {
			continue
		}
		res := strs(s["Resource"])
		for _, r := range res {
			if r == "*" {
				t.Errorf("statement %v grants on every resource", s["Sid"])
			}
		}
		for _, a := range strs(s["Action"]) {
			if strings.Contains(a, "*") || !slices.Contains(allowed, a) {
				t.Errorf("task role grants %s, which lakehunt run --due does not need", a)
			}
			grants[a] = append(grants[a], res...)
		}
		if slices.Contains(strs(s["Action"]), "s3:ListBucket") {
			if get(s, "Condition", "StringLike", "s3:prefix") == nil {
				t.Errorf("statement %v lists a whole bucket; restrict it with s3:prefix", s["Sid"])
			}
		}
	}
	has := func(action, fragment string) bool {
		for _, r := range grants[action] {
			if strings.Contains(r, fragment) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "${RawBucketName}/${RawPrefix}*", true},
		{"s3:ListBucket", ":::${RawBucketName}", true},
		{"s3:GetObject", "${LakeBucketName}/${LakePrefix}*", true},
		{"s3:PutObject", "${LakeBucketName}/${LakePrefix}*", true},
		{"s3:ListBucket", ":::${LakeBucketName}", true},
		{"s3:PutObject", "${RawBucketName}", false}, // never write the raw logs
		{"securityhub:BatchImportFindings", ":product/${AWS::AccountId}/default", true},
		{"secretsmanager:GetSecretValue", "map[Ref:HandoffSecretArn]", true}, // that one secret
		{"glue:UpdateTable", ":table/${GlueDatabase}/*", true},               // that database's tables
		{"glue:UpdateTable", ":database/${GlueDatabase}", true},
	} {
		if got := has(c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v (grants: %v)", c.action, c.resource, got, c.want, grants[c.action])
		}
	}
	if r := grants["secretsmanager:GetSecretValue"]; len(r) != 1 {
		t.Errorf("GetSecretValue on %v, want only the HandoffSecretArn secret", r)
	}
	for _, a := range []string{"glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"} {
		for _, r := range grants[a] {
			if !strings.Contains(r, "${GlueDatabase}") && !strings.HasSuffix(r, ":catalog]") {
				t.Errorf("%s on %s: only the GlueDatabase parameter's database and its tables", a, r)
			}
		}
	}
	if len(grants["s3:DeleteObject"]) > 0 {
		t.Error("the task role may delete objects")
	}
	// The scheduler may only start this task and pass its roles to ECS tasks.
	var actions []string
	for _, s := range statements(tp.Resources["SchedulerRole"]) {
		actions = append(actions, strs(s["Action"])...)
		if slices.Contains(strs(s["Action"]), "iam:PassRole") && get(s, "Condition", "StringEquals", "iam:PassedToService") != "ecs-tasks.amazonaws.com" {
			t.Error("iam:PassRole is not restricted to ecs-tasks.amazonaws.com")
		}
	}
	sort.Strings(actions)
	if strings.Join(actions, ",") != "ecs:RunTask,iam:PassRole" {
		t.Errorf("scheduler role actions %v, want ecs:RunTask and iam:PassRole", actions)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	user := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "FROM" {
			froms = append(froms, f[1])
		}
		if len(f) >= 2 && f[0] == "USER" {
			user = f[1]
		}
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "golang:1.26-bookworm") || froms[1] != "debian:bookworm-slim" {
		t.Errorf("stages %v: want a golang:1.26-bookworm build stage and a debian:bookworm-slim runtime", froms)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("runtime user %q: want a non-root user", user)
	}
	if !strings.Contains(string(b), "CGO_ENABLED=1") || !strings.Contains(string(b), "./cmd/lakehunt") {
		t.Error("the build must use cgo (DuckDB) and build ./cmd/lakehunt")
	}
}

func TestCrontabExample(t *testing.T) {
	f, err := os.Open("crontab.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || regexp.MustCompile(`^[A-Z_]+=`).MatchString(text) {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 6 {
			t.Errorf("crontab.example:%d: not a cron entry: %s", line, text)
			continue
		}
		if _, err := schedule.Parse(strings.Join(fields[:5], " ")); err != nil {
			t.Errorf("crontab.example:%d: %v", line, err)
		}
		if !strings.Contains(text, "lakehunt run --due") {
			t.Errorf("crontab.example:%d: the active entry should run 'lakehunt run --due'", line)
		}
		entries++
	}
	if entries != 1 {
		t.Errorf("%d active entries, want 1", entries)
	}
}

// TestIAMPolicyFiles: the policies for 'catalog register' and Athena readers are valid IAM policy JSON
// that grant no wildcard action and never delete or write the lake.
func TestIAMPolicyFiles(t *testing.T) {
	for _, name := range []string{"iam-catalog-register.json", "iam-athena-reader.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Version   string
			Statement []map[string]any
		}
		if err := json.Unmarshal(b, &p); err != nil || p.Version != "2012-10-17" || len(p.Statement) == 0 {
			t.Fatalf("%s: not an IAM policy: %v", name, err)
		}
		for _, s := range p.Statement {
			if s["Effect"] != "Allow" || s["Resource"] == nil {
				t.Errorf("%s: statement %v", name, s["Sid"])
			}
			for _, a := range strs(s["Action"]) {
				if strings.Contains(a, "*") || strings.HasPrefix(a, "s3:Delete") {
					t.Errorf("%s grants %s", name, a)
				}
				if a == "s3:PutObject" && slices.ContainsFunc(strs(s["Resource"]), func(r string) bool { return strings.Contains(r, "LAKE_BUCKET") }) {
					t.Errorf("%s lets its holder write the lake", name)
				}
			}
			for _, r := range strs(s["Resource"]) {
				if r == "*" {
					t.Errorf("%s: statement %v grants on every resource", name, s["Sid"])
				}
			}
		}
	}
}
