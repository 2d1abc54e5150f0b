package gen

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The family's scenarios must look like the attacks the hunts are written for: these are the shapes
// instance-remote-execution, unusual-instance-launch, discovery-burst and bedrock-first-use key on.
func TestInstanceScenarios(t *testing.T) {
	o := tiny(t)
	type params struct {
		InstanceIDs  []string `json:"instanceIds"`
		DocumentName string   `json:"documentName"`
		Target       string   `json:"target"`
		InstanceID   string   `json:"instanceId"`
		UserData     string   `json:"userData"`
		Attribute    string   `json:"attribute"`
		InstanceType string   `json:"instanceType"`
		ModelID      string   `json:"modelId"`
		Set          struct {
			Items []struct {
				InstanceID string `json:"instanceId"`
			} `json:"items"`
		} `json:"instancesSet"`
	}
	decode := func(r ctRecord) params {
		var p params
		if err := json.Unmarshal(r.RequestParameters, &p); err != nil && len(r.RequestParameters) > 0 && string(r.RequestParameters) != "null" {
			t.Errorf("%s %s: request parameters %s: %v", r.EventName, r.EventID, r.RequestParameters, err)
		}
		return p
	}
	// before returns the background events of arn before the scenario started.
	before := func(sc Scenario, arn string) []ctRecord {
		var out []ctRecord
		for _, r := range o.ct {
			if r.UserIdentity.ARN == arn && r.t.Before(sc.Start) && !slices.Contains(sc.EventIDs, r.EventID) {
				out = append(out, r)
			}
		}
		return out
	}

	t.Run("remote execution", func(t *testing.T) {
		sc := scenario(t, o.gt, ScenarioRemoteExecution)
		var shell []string
		var stop, modify, start string
		for _, r := range o.eventsOf(sc) {
			if r.SourceIP != sc.Entities["source_ip"] || r.UserIdentity.ARN != sc.Entities["principal_arn"] || r.ErrorCode != "" {
				t.Errorf("%s %s from %s by %s (%s)", r.EventName, r.EventID, r.SourceIP, r.UserIdentity.ARN, r.ErrorCode)
			}
			p := decode(r)
			switch r.EventName {
			case "SendCommand":
				if p.DocumentName != "AWS-RunShellScript" {
					t.Errorf("SendCommand document %q", p.DocumentName)
				}
				shell = p.InstanceIDs
			case "StopInstances":
				stop = r.EventTime + " " + p.Set.Items[0].InstanceID
			case "ModifyInstanceAttribute":
				if p.UserData == "" {
					t.Errorf("ModifyInstanceAttribute %s", r.RequestParameters)
				}
				modify = r.EventTime + " " + p.InstanceID
			case "StartInstances":
				start = r.EventTime + " " + p.Set.Items[0].InstanceID
			}
		}
		if len(shell) < 2 {
			t.Errorf("shell script sent to %v", shell)
		}
		_, id, _ := strings.Cut(modify, " ")
		if id == "" || !strings.HasSuffix(stop, " "+id) || !strings.HasSuffix(start, " "+id) || !(stop < modify && modify < start) {
			t.Errorf("user data swap out of order: stop %q, modify %q, start %q", stop, modify, start)
		}
		for _, r := range before(sc, sc.Entities["principal_arn"]) {
			if r.EventName == "SendCommand" || r.EventName == "StartSession" {
				t.Errorf("the victim used %s before the attack: the hunt would not see a new principal", r.EventName)
			}
		}
	})

	t.Run("GPU launch", func(t *testing.T) {
		sc := scenario(t, o.gt, ScenarioGPULaunch)
		refused, launched := map[string]bool{}, 0
		for _, r := range o.eventsOf(sc) {
			if r.EventName != "RunInstances" {
				continue
			}
			p := decode(r)
			switch {
			case r.ErrorCode == "Client.VcpuLimitExceeded":
				refused[p.InstanceType] = true
			case r.ErrorCode == "" && p.InstanceType == sc.Entities["instance_type"]:
				launched++
			default:
				t.Errorf("RunInstances %s %s", p.InstanceType, r.ErrorCode)
			}
		}
		if !refused["p3.16xlarge"] || !refused["g5.12xlarge"] || launched != 1 {
			t.Errorf("refused %v, launched %d", refused, launched)
		}
	})

	t.Run("discovery from an instance", func(t *testing.T) {
		sc := scenario(t, o.gt, ScenarioInstanceRecon)
		services, userData := map[string]bool{}, map[string]bool{}
		ip := ""
		for _, r := range o.eventsOf(sc) {
			if r.UserIdentity.ARN != sc.Entities["principal_arn"] || !strings.Contains(r.UserIdentity.ARN, "/i-") {
				t.Errorf("%s by %s", r.EventName, r.UserIdentity.ARN)
			}
			if ip == "" {
				ip = r.SourceIP
			}
			if r.SourceIP != ip || strings.HasPrefix(ip, "192.0.2.") {
				t.Errorf("%s from %s: the instance calls from its own egress", r.EventName, r.SourceIP)
			}
			services[r.EventSource] = true
			if p := decode(r); r.EventName == "DescribeInstanceAttribute" && p.Attribute == "userData" {
				userData[p.InstanceID] = true
			}
		}
		if len(services) < 5 || len(userData) < 5 || !services["ses.amazonaws.com"] {
			t.Errorf("services %v, user data of %d instances", services, len(userData))
		}
	})

	t.Run("Bedrock", func(t *testing.T) {
		sc := scenario(t, o.gt, ScenarioBedrockAbuse)
		names := map[string]int{}
		for _, r := range o.eventsOf(sc) {
			names[r.EventName]++
			if r.EventSource == "bedrock.amazonaws.com" && r.EventName != "ListFoundationModels" && r.EventName != "PutUseCaseForModelAccess" &&
				r.EventName != "GetModelInvocationLoggingConfiguration" && decode(r).ModelID != sc.Entities["model_id"] {
				t.Errorf("%s names model %s", r.EventName, r.RequestParameters)
			}
		}
		if names["CreateFoundationModelAgreement"] != 1 || names["PutFoundationModelEntitlement"] != 1 || names["InvokeModel"] < 10 {
			t.Errorf("events %v", names)
		}
		for _, r := range before(sc, sc.Entities["principal_arn"]) {
			if r.EventSource == "bedrock.amazonaws.com" {
				t.Errorf("the victim used Bedrock before the attack: %s", r.EventName)
			}
		}
	})
}
