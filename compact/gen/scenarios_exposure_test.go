package gen

import (
	"slices"
	"strings"
	"testing"
)

// TestExposureScenarios: each exposure scenario's decisive call succeeded, names its outside account
// (never one of the generated accounts) or the world, and comes from the scenario's principal.
func TestExposureScenarios(t *testing.T) {
	o := tiny(t)
	for _, tc := range []struct {
		scenario string
		call     string   // the decisive event name
		want     []string // entity keys whose values its requestParameters must contain
		literal  string   // and this text
	}{
		{ScenarioSnapshotShare, "ModifySnapshotAttribute", []string{"snapshot_id", "outside_account"}, `"add"`},
		{ScenarioSnapshotShare, "ModifyDBSnapshotAttribute", []string{"db_snapshot", "outside_account"}, `"valuesToAdd"`},
		{ScenarioSnapshotShare, "ModifyImageAttribute", []string{"image_id"}, `{"group":"all"}`},
		{ScenarioBucketBackdoor, "DeleteBucketPublicAccessBlock", []string{"bucket"}, ""},
		{ScenarioBucketBackdoor, "PutBucketPolicy", []string{"bucket", "outside_account"}, `"Effect":"Allow"`},
		{ScenarioSSHOpened, "AuthorizeSecurityGroupIngress", []string{"security_group_id"}, `"cidrIp":"0.0.0.0/0"`},
		{ScenarioLambdaBackdoor, "UpdateFunctionCode20150331v2", nil, `"publish":true`},
		{ScenarioLambdaBackdoor, "UpdateFunctionConfiguration20150331v2", []string{"layer_arn", "function_arn"}, ""},
		{ScenarioLambdaBackdoor, "AddPermission20150331v2", nil, `"principal":"*"`},
	} {
		sc := scenario(t, o.gt, tc.scenario)
		if acct := sc.Entities["outside_account"]; acct != "" && (len(acct) != 12 || slices.Contains(o.gt.Accounts, acct)) {
			t.Errorf("%s: outside account %q is not a foreign 12-digit account", tc.scenario, acct)
		}
		found := false
		for _, r := range o.eventsOf(sc) {
			if r.EventName != tc.call {
				continue
			}
			found = true
			issuer := r.UserIdentity.ARN
			if r.UserIdentity.SessionContext != nil {
				issuer = r.UserIdentity.SessionContext.SessionIssuer.ARN
			}
			if want := sc.Entities["principal_arn"]; r.UserIdentity.ARN != want && issuer != want && sc.Entities["session_issuer_arn"] != issuer {
				t.Errorf("%s %s: by %s, want %s", tc.scenario, tc.call, r.UserIdentity.ARN, want)
			}
			if r.ErrorCode != "" {
				t.Errorf("%s %s: failed with %s", tc.scenario, tc.call, r.ErrorCode)
			}
			params := string(r.RequestParameters)
			for _, k := range tc.want {
				if v := sc.Entities[k]; v == "" || !strings.Contains(params, v) {
					t.Errorf("%s %s: requestParameters %s do not name %s %q", tc.scenario, tc.call, params, k, v)
				}
			}
			if !strings.Contains(params, tc.literal) {
				t.Errorf("%s %s: requestParameters %s lack %s", tc.scenario, tc.call, params, tc.literal)
			}
		}
		if !found {
			t.Errorf("%s: no %s event", tc.scenario, tc.call)
		}
	}
}
