package gen

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSecurityToolingScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioSecurityToolingDisabled)
	seen := map[string]string{} // event name -> error code
	for _, r := range o.eventsOf(sc) {
		if r.UserIdentity.ARN != sc.Entities["principal_arn"] || r.SourceIP != sc.Entities["source_ip"] {
			t.Errorf("event %s %s by %s from %s", r.EventID, r.EventName, r.UserIdentity.ARN, r.SourceIP)
		}
		seen[r.EventName] = r.ErrorCode
		var p struct {
			DetectorID string `json:"detectorId"`
			Action     string `json:"action"`
			Enable     *bool  `json:"enable"`
		}
		_ = json.Unmarshal(r.RequestParameters, &p)
		switch r.EventName {
		case "CreateFilter":
			if p.Action != "ARCHIVE" || p.DetectorID != sc.Entities["detector_id"] {
				t.Errorf("CreateFilter %s", r.RequestParameters)
			}
		case "UpdateDetector":
			if p.Enable == nil || *p.Enable || p.DetectorID != sc.Entities["detector_id"] {
				t.Errorf("UpdateDetector %s", r.RequestParameters)
			}
		}
	}
	want := map[string]string{"CreateFilter": "", "UpdateDetector": "", "BatchDisableStandards": "", "DeleteAnalyzer": "",
		"LeaveOrganization": "AccessDeniedException"}
	for name, code := range want {
		if got, ok := seen[name]; !ok || got != code {
			t.Errorf("%s: present %v, error code %q, want %q", name, ok, got, code)
		}
	}
}

func TestTrailBucketLifecycleScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioTrailBucketLifecycle)
	// The bucket the lifecycle rule hits is the one the account's digests say the logs go to.
	digestBuckets := map[string]bool{}
	for key := range o.digests {
		var d struct {
			Bucket string `json:"digestS3Bucket"`
		}
		_ = json.Unmarshal(o.decomp[key], &d)
		digestBuckets[d.Bucket] = true
	}
	if !digestBuckets[sc.Entities["bucket"]] {
		t.Fatalf("scenario bucket %s is not a digest bucket (%v)", sc.Entities["bucket"], digestBuckets)
	}
	found := false
	for _, r := range o.eventsOf(sc) {
		if r.EventName != "PutBucketLifecycle" {
			continue
		}
		var p struct {
			Bucket string `json:"bucketName"`
			LC     struct {
				Rule struct {
					Status     string
					Expiration struct{ Days int }
				}
			} `json:"LifecycleConfiguration"`
		}
		if err := json.Unmarshal(r.RequestParameters, &p); err != nil {
			t.Fatal(err)
		}
		found = p.Bucket == sc.Entities["bucket"] && p.LC.Rule.Status == "Enabled" && p.LC.Rule.Expiration.Days == 1 && r.ErrorCode == ""
		if r.EventSource != "s3.amazonaws.com" || *r.Management != true {
			t.Errorf("PutBucketLifecycle is a management event of s3: %s %v", r.EventSource, *r.Management)
		}
	}
	if !found {
		t.Error("no successful 1-day expiry rule on the trail bucket")
	}
}

func TestS3RansomwareScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioS3RansomwareSSEC)
	read, encrypted := map[string]bool{}, map[string]bool{}
	var last ctRecord
	for _, r := range o.eventsOf(sc) {
		var p map[string]string
		_ = json.Unmarshal(r.RequestParameters, &p)
		if p["bucketName"] != sc.Entities["bucket"] || r.SourceIP != sc.Entities["source_ip"] || r.ErrorCode != "" {
			t.Errorf("event %s %s: bucket %s from %s, error %q", r.EventID, r.EventName, p["bucketName"], r.SourceIP, r.ErrorCode)
		}
		if r.EventCat != "Data" || *r.Management {
			t.Errorf("%s %s is not a data event", r.EventID, r.EventName)
		}
		switch r.EventName {
		case "GetObject":
			read[p["key"]] = true
		case "CopyObject":
			if p["x-amz-server-side-encryption-customer-algorithm"] != "AES256" || p["x-amz-copy-source"] != p["bucketName"]+"/"+p["key"] || !read[p["key"]] {
				t.Errorf("CopyObject %s is not an in-place SSE-C rewrite of a downloaded object", r.RequestParameters)
			}
			encrypted[p["key"]] = true
		}
		last = r
	}
	if len(encrypted) < 50 || len(encrypted) != len(read) {
		t.Errorf("%d objects downloaded, %d rewritten with SSE-C", len(read), len(encrypted))
	}
	if last.EventName != "PutObject" || !strings.Contains(string(last.RequestParameters), sc.Entities["ransom_note"]) {
		t.Errorf("the last event is %s %s, want the ransom note upload", last.EventName, last.RequestParameters)
	}
}

// The three scenarios use attacker addresses and principals of their own.
func TestEvasionScenariosStandApart(t *testing.T) {
	o := tiny(t)
	ours := []string{ScenarioSecurityToolingDisabled, ScenarioTrailBucketLifecycle, ScenarioS3RansomwareSSEC}
	ips := map[string]string{}
	principals := map[string]string{}
	for _, sc := range o.gt.Scenarios {
		for _, k := range []string{"source_ip", "scanner_ip", "c2_ip"} {
			if ip := sc.Entities[k]; ip != "" {
				if other, dup := ips[ip]; dup {
					t.Errorf("%s and %s both use %s", other, sc.Name, ip)
				}
				ips[ip] = sc.Name
			}
		}
		if p := sc.Entities["principal_arn"]; p != "" {
			if other, dup := principals[p]; dup && (slices.Contains(ours, sc.Name) || slices.Contains(ours, other)) {
				t.Errorf("%s and %s both use %s", other, sc.Name, p)
			}
			principals[p] = sc.Name
		}
	}
}
