package gen

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIAMScenarios checks that each IAM persistence scenario holds the calls its hunts look for.
func TestIAMScenarios(t *testing.T) {
	o := tiny(t)
	byName := func(sc Scenario) map[string][]ctRecord {
		m := map[string][]ctRecord{}
		for _, r := range o.eventsOf(sc) {
			m[r.EventName] = append(m[r.EventName], r)
		}
		return m
	}
	params := func(r ctRecord) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(r.RequestParameters, &m); err != nil {
			t.Fatalf("%s %s: requestParameters %s: %v", r.EventName, r.EventID, r.RequestParameters, err)
		}
		return m
	}

	sc := scenario(t, o.gt, ScenarioRoleTrustBackdoor)
	ev := byName(sc)["UpdateAssumeRolePolicy"]
	if len(ev) != 1 {
		t.Fatalf("role trust backdoor: %d UpdateAssumeRolePolicy calls", len(ev))
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
		}
	}
	if err := json.Unmarshal([]byte(params(ev[0])["policyDocument"].(string)), &trust); err != nil {
		t.Fatalf("trust policy: %v", err)
	}
	outside := sc.Entities["outside_account"]
	if len(trust.Statement) != 2 || trust.Statement[1].Principal["AWS"] != "arn:aws:iam::"+outside+":root" || slices.Contains(o.gt.Accounts, outside) {
		t.Errorf("trust policy %+v does not let outside account %s (organization %v) in", trust, outside, o.gt.Accounts)
	}

	sc = scenario(t, o.gt, ScenarioAdminUser)
	m := byName(sc)
	user := sc.Entities["new_user"]
	var times []time.Time
	for _, name := range []string{"CreateUser", "AttachUserPolicy", "CreateAccessKey"} {
		if len(m[name]) != 1 || params(m[name][0])["userName"] != user || m[name][0].UserIdentity.ARN != sc.Entities["principal_arn"] {
			t.Fatalf("admin user: %s calls %+v, want one for %s by %s", name, m[name], user, sc.Entities["principal_arn"])
		}
		times = append(times, m[name][0].t)
	}
	if params(m["AttachUserPolicy"][0])["policyArn"] != "arn:aws:iam::aws:policy/AdministratorAccess" || !slices.IsSortedFunc(times, time.Time.Compare) ||
		times[2].Sub(times[0]) > time.Minute {
		t.Errorf("admin user: policy %v at %v", params(m["AttachUserPolicy"][0])["policyArn"], times)
	}

	sc = scenario(t, o.gt, ScenarioConsoleTakeover)
	m = byName(sc)
	target := sc.Entities["target_user_arn"]
	if len(m["CreateLoginProfile"]) != 1 || len(m["ConsoleLogin"]) != 1 {
		t.Fatalf("console takeover: calls %v", m)
	}
	lp, login := m["CreateLoginProfile"][0], m["ConsoleLogin"][0]
	var add struct{ MFAUsed string }
	_ = json.Unmarshal(login.AdditionalEventData, &add)
	if params(lp)["passwordResetRequired"] != false || login.UserIdentity.ARN != target || login.UserIdentity.Type != "IAMUser" ||
		add.MFAUsed != "No" || !login.t.After(lp.t) || lp.UserIdentity.Type != "AssumedRole" {
		t.Errorf("console takeover: CreateLoginProfile %s by %s (%s) at %s, then ConsoleLogin %s by %s (%s) at %s with MFAUsed %q",
			lp.EventID, lp.UserIdentity.ARN, lp.RequestParameters, lp.t, login.EventID, login.UserIdentity.ARN, login.UserIdentity.Type, login.t, add.MFAUsed)
	}

	sc = scenario(t, o.gt, ScenarioAlternateCreds)
	m = byName(sc)
	if len(m["GetFederationToken"]) != 1 || !strings.Contains(params(m["GetFederationToken"][0])["policy"].(string), `"Action": "*"`) {
		t.Errorf("alternate credentials: GetFederationToken %+v", m["GetFederationToken"])
	}
	if len(m["CreateTrustAnchor"]) != 1 || len(m["CreateProfile"]) != 1 ||
		params(m["CreateTrustAnchor"][0])["source"].(map[string]any)["sourceType"] != "CERTIFICATE_BUNDLE" {
		t.Errorf("alternate credentials: trust anchor %+v, profile %+v", m["CreateTrustAnchor"], m["CreateProfile"])
	}
}

// TestIAMBackgroundIsQuiet: the background never makes the calls the IAM persistence hunts look for and
// its IAM users always sign in with MFA, so the hunts' silence on it is not luck. The small scale's
// people (tiny has no console users), over two short days.
func TestIAMBackgroundIsQuiet(t *testing.T) {
	o := generate(t, Config{Scale: "custom", Seed: 11, Days: 2, Accounts: 2, Regions: 1, CloudTrailPerDay: 4000, FlowsPerDay: 100, DNSPerDay: 100})
	o.parse()
	planted := map[string]bool{}
	for _, sc := range o.gt.Scenarios {
		for _, id := range sc.EventIDs {
			planted[id] = true
		}
	}
	logins := 0
	for _, r := range o.ct {
		if planted[r.EventID] {
			continue
		}
		switch r.EventName {
		case "UpdateAssumeRolePolicy", "CreateUser", "AttachUserPolicy", "CreateLoginProfile", "GetFederationToken", "CreateTrustAnchor", "CreateProfile", "CreateAccessKey":
			t.Errorf("background event %s %s by %s", r.EventID, r.EventName, r.UserIdentity.ARN)
		case "ConsoleLogin":
			var add struct{ MFAUsed string }
			_ = json.Unmarshal(r.AdditionalEventData, &add)
			if r.UserIdentity.Type != "IAMUser" {
				continue
			}
			logins++
			if add.MFAUsed != "Yes" {
				t.Errorf("background IAM user sign-in %s by %s without MFA (%q)", r.EventID, r.UserIdentity.ARN, add.MFAUsed)
			}
		}
	}
	if logins == 0 {
		t.Error("no background IAM user console sign-ins: the check above tested nothing")
	}
}
