package gen

import (
	"strconv"
	"strings"
	"time"
)

// IAM persistence scenarios: a role trust backdoor, an administrator user, a console takeover of a
// programmatic user and alternate credentials (federation token, Roles Anywhere trust anchor).
const (
	ScenarioRoleTrustBackdoor = "iam-role-trust-backdoor"
	ScenarioAdminUser         = "iam-admin-user-backdoor"
	ScenarioConsoleTakeover   = "iam-console-takeover"
	ScenarioAlternateCreds    = "iam-alternate-credentials"
	uaIAMAttacker             = "aws-cli/2.17.20 Python/3.12.4 Linux/6.8.0-40-generic exe/x86_64.ubuntu.24 prompt/off"
	uaIAMAttackerSDK          = "aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64"
	uaIAMAttackerBrowser      = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

// The APIs only these scenarios call; added unless the catalogue has them already.
func init() {
	for _, a := range []*api{
		{source: "iam", name: "CreateUser", global: true},
		{source: "iam", name: "AttachUserPolicy", global: true},
		{source: "iam", name: "CreateLoginProfile", global: true},
		{source: "iam", name: "UpdateAssumeRolePolicy", global: true},
		{source: "sts", name: "GetFederationToken"},
		{source: "rolesanywhere", name: "CreateTrustAnchor"},
		{source: "rolesanywhere", name: "CreateProfile"},
	} {
		if _, ok := apis[a.name]; !ok {
			a.source += ".amazonaws.com"
			apis[a.name] = a
		}
	}
}

// iamAttackIPs picks n addresses of the planted-activity range that no other scenario or TI decoy uses.
func (pl *planner) iamAttackIPs(n int) []string {
	used := map[string]bool{}
	for _, ip := range append(append([]string{}, pl.attack...), pl.decoys...) {
		used[ip] = true
	}
	for ip := range pl.reservedIPs {
		used[ip] = true
	}
	var free []string
	for _, h := range hostRange(10, 250) {
		if ip := "192.0.2." + h; !used[ip] {
			free = append(free, ip)
		}
	}
	r := pl.rng("iam-attack-ips")
	return pickDistinct(&r, free, n)
}

func (pl *planner) iamLastOf(ps []*principal, ok func(*principal) bool) *principal {
	for i := len(ps) - 1; i >= 0; i-- {
		if ok(ps[i]) && !pl.reservedPrincipals[ps[i]] {
			return ps[i]
		}
	}
	for i := len(ps) - 1; i >= 0; i-- { // small worlds: share a principal rather than fail
		if ok(ps[i]) {
			return ps[i]
		}
	}
	return nil
}

// outsideAccount is a 12-digit account id that is not one of the generated accounts.
func (pl *planner) iamOutsideAccount(r *rng) string {
	for {
		id := "9" + strconv.FormatUint(1e10+r.u64()%9e10, 10)
		if !containsStr(pl.gt.Accounts, id) {
			return id
		}
	}
}

func iamJSON(s string) string { return string(appendStr(nil, s)) }

func iamDate(t int64) string { return time.Unix(t, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// iamCall records a planted call with the given request parameters and response elements (raw JSON; "" is null).
func (pl *planner) iamCall(sc *Scenario, r *rng, p *principal, name string, region int, t int64, ip, ua, params, resp string) *ctEvent {
	ev := pl.ct(sc, r, p, name, region, t, ip, ua, false)
	ev.fixed, ev.params, ev.resp = true, params, resp
	return ev
}

// A leaked key is used to let an account the attacker owns assume an existing, privileged workload role.
func (pl *planner) roleTrustBackdoor(ip string) Scenario {
	w := pl.w
	r := pl.rng(ScenarioRoleTrustBackdoor)
	acct := w.accounts[1%len(w.accounts)]
	actor := pl.iamLastOf(acct.people, isKeyUser)
	role := acct.regions[0].vpcs[0].byTier[tApp][0].role
	outside := pl.iamOutsideAccount(&r)
	roleARN := "arn:aws:iam::" + acct.id + ":role/" + role
	sc := Scenario{Name: ScenarioRoleTrustBackdoor,
		Description: "Access key of " + actor.userName + " used from " + ip + " to add account " + outside +
			" (outside the organization, no external id) to the trust policy of the workload role " + role + ".",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": actor.arn, "role_arn": roleARN,
			"outside_account": outside, "source_ip": ip},
		ExpectedHunts: []string{"iam-role-trust-outside-org"}}
	t := pl.at(&r, 10, 50, pl.end-6*3600)
	step := func() int64 { t += int64(r.between(20, 200)); return t }
	pl.ct(&sc, &r, actor, "GetCallerIdentity", 0, t, ip, uaIAMAttacker, false)
	pl.ct(&sc, &r, actor, "ListRoles", 0, step(), ip, uaIAMAttacker, false)
	pl.iamCall(&sc, &r, actor, "GetRole", 0, step(), ip, uaIAMAttacker, obj("roleName", role), "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + outside + `:root"},"Action":"sts:AssumeRole"}]}`
	pl.iamCall(&sc, &r, actor, "UpdateAssumeRolePolicy", 0, step(), ip, uaIAMAttacker,
		`{"roleName":`+iamJSON(role)+`,"policyDocument":`+iamJSON(trust)+`}`, "")
	return sc
}

// A leaked key creates a user of its own, makes it an administrator and takes an access key for it.
func (pl *planner) adminUser(ip string) Scenario {
	w := pl.w
	r := pl.rng(ScenarioAdminUser)
	acct := w.accounts[0]
	actor := pl.iamLastOf(acct.people, isKeyUser)
	user := "svc-" + r.pick(words) + "-sync"
	userARN := "arn:aws:iam::" + acct.id + ":user/" + user
	sc := Scenario{Name: ScenarioAdminUser,
		Description: "Access key of " + actor.userName + " used from " + ip + " to create the IAM user " + user +
			", attach AdministratorAccess to it and create an access key for it, within a minute.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": actor.arn, "new_user_arn": userARN,
			"new_user": user, "source_ip": ip},
		ExpectedHunts: []string{"iam-admin-grant", "iam-credential-persistence"}}
	// Before the stolen-key scenario stops CloudTrail in this account.
	t := pl.at(&r, 6, 36, pl.end-8*3600)
	step := func() int64 { t += int64(r.between(2, 20)); return t }
	pl.ct(&sc, &r, actor, "GetCallerIdentity", 0, t, ip, uaIAMAttackerSDK, false)
	pl.ct(&sc, &r, actor, "ListUsers", 0, step(), ip, uaIAMAttackerSDK, false)
	pl.iamCall(&sc, &r, actor, "CreateUser", 0, step(), ip, uaIAMAttackerSDK, obj("userName", user),
		`{"user":{"path":"/","userName":`+iamJSON(user)+`,"userId":"`+awsID("AIDA", seedOf(hashStr(userARN)))+
			`","arn":`+iamJSON(userARN)+`,"createDate":"`+iamDate(t)+`"}}`)
	pl.iamCall(&sc, &r, actor, "AttachUserPolicy", 0, step(), ip, uaIAMAttackerSDK,
		obj("userName", user, "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"), "")
	pl.iamCall(&sc, &r, actor, "CreateAccessKey", 0, step(), ip, uaIAMAttackerSDK, obj("userName", user),
		`{"accessKey":{"userName":`+iamJSON(user)+`,"accessKeyId":"`+awsID("AKIA", seedOf(hashStr(userARN), 1))+
			`","status":"Active","createDate":"`+iamDate(t)+`"}}`)
	return sc
}

// A stolen SSO session gives the CI deploy user (keys only, never the console) a password, and the
// attacker signs in with it, without MFA, minutes later.
func (pl *planner) consoleTakeover(ip string) Scenario {
	w := pl.w
	r := pl.rng(ScenarioConsoleTakeover)
	acct := w.accounts[len(w.accounts)-1]
	actor := pl.iamLastOf(acct.people, func(p *principal) bool { return isSSOCLI(p) && strings.Contains(p.userName, "_AdministratorAccess_") })
	if actor == nil {
		actor = pl.iamLastOf(acct.people, isSSOCLI)
	}
	target := acct.ci
	sc := Scenario{Name: ScenarioConsoleTakeover,
		Description: "The SSO session of " + actor.sessionName + " used from " + ip + " to create a console password for the programmatic user " +
			target.userName + " (no reset required); the user signs in to the console from " + ip + " without MFA.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": actor.roleARN, "target_user_arn": target.arn,
			"target_user": target.userName, "source_ip": ip},
		ExpectedHunts: []string{"iam-credential-persistence", "console-login-without-mfa"}}
	t := pl.at(&r, 12, 48, pl.end-6*3600)
	pl.ct(&sc, &r, actor, "ListUsers", 0, t, ip, uaIAMAttacker, false)
	t += int64(r.between(30, 120))
	pl.iamCall(&sc, &r, actor, "GetUser", 0, t, ip, uaIAMAttacker, obj("userName", target.userName), "")
	t += int64(r.between(30, 120))
	pl.iamCall(&sc, &r, actor, "CreateLoginProfile", 0, t, ip, uaIAMAttacker,
		`{"userName":`+iamJSON(target.userName)+`,"passwordResetRequired":false}`,
		`{"loginProfile":{"userName":`+iamJSON(target.userName)+`,"createDate":"`+iamDate(t)+`","passwordResetRequired":false}}`)
	t += int64(r.between(180, 600))
	pl.iamCall(&sc, &r, target, "ConsoleLogin", 0, t, ip, uaIAMAttackerBrowser, "", "").mfaUsed = "No"
	return sc
}

// The CI deploy key, leaked, mints credentials that outlive it: an allow-all federation token and an
// IAM Roles Anywhere trust anchor for the attacker's own CA with a profile for a workload role.
func (pl *planner) alternateCreds(ip string) Scenario {
	w := pl.w
	r := pl.rng(ScenarioAlternateCreds)
	acct := w.accounts[0]
	actor := acct.ci
	role := acct.regions[0].vpcs[0].byTier[tWeb][0].role
	fedName := r.pick(words) + "-" + r.pick(words)
	anchor, profile := "edge-"+r.pick(words)+"-ca", "edge-"+r.pick(words)
	region := acct.regions[0].info.name
	anchorID, profileID := r.uuid(), r.uuid()
	sc := Scenario{Name: ScenarioAlternateCreds,
		Description: "Access key of " + actor.userName + " used from " + ip + " to call GetFederationToken with an allow-all session policy (federated user " +
			fedName + "), then to create the IAM Roles Anywhere trust anchor " + anchor + " for an uploaded CA bundle and a profile for role " + role + ".",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": actor.arn, "federated_user": fedName,
			"trust_anchor": anchor, "source_ip": ip},
		ExpectedHunts: []string{"iam-credential-persistence"}}
	t := pl.at(&r, 2, 30, pl.end-8*3600)
	pl.ct(&sc, &r, actor, "GetCallerIdentity", 0, t, ip, uaIAMAttackerSDK, false)
	t += int64(r.between(5, 60))
	policy := "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]\n}"
	pl.iamCall(&sc, &r, actor, "GetFederationToken", 0, t, ip, uaIAMAttackerSDK,
		`{"name":`+iamJSON(fedName)+`,"policy":`+iamJSON(policy)+`}`,
		`{"credentials":{"accessKeyId":"`+awsID("ASIA", seedOf(hashStr(fedName), uint64(t)))+`","expiration":"`+iamDate(t+12*3600)+`"},`+
			`"federatedUser":{"federatedUserId":"`+acct.id+`:`+fedName+`","arn":"arn:aws:sts::`+acct.id+`:federated-user/`+fedName+`"},"packedPolicySize":4}`)
	t += int64(r.between(600, 2400))
	cert := "-----BEGIN CERTIFICATE-----\n" + r.from(mixedAlnum, 64) + "\n" + r.from(mixedAlnum, 64) + "\n-----END CERTIFICATE-----"
	pl.iamCall(&sc, &r, actor, "CreateTrustAnchor", 0, t, ip, uaIAMAttackerSDK,
		`{"name":`+iamJSON(anchor)+`,"enabled":true,"source":{"sourceType":"CERTIFICATE_BUNDLE","sourceData":{"x509CertificateData":`+iamJSON(cert)+`}}}`,
		`{"trustAnchor":{"trustAnchorId":"`+anchorID+`","trustAnchorArn":"arn:aws:rolesanywhere:`+region+`:`+acct.id+`:trust-anchor/`+anchorID+
			`","name":`+iamJSON(anchor)+`,"enabled":true}}`)
	t += int64(r.between(5, 60))
	pl.iamCall(&sc, &r, actor, "CreateProfile", 0, t, ip, uaIAMAttackerSDK,
		`{"name":`+iamJSON(profile)+`,"enabled":true,"durationSeconds":3600,"roleArns":["arn:aws:iam::`+acct.id+`:role/`+role+`"]}`,
		`{"profile":{"profileId":"`+profileID+`","profileArn":"arn:aws:rolesanywhere:`+region+`:`+acct.id+`:profile/`+profileID+
			`","name":`+iamJSON(profile)+`,"enabled":true,"durationSeconds":3600}}`)
	return sc
}

// iamScenarios plants the four IAM persistence scenarios.
func (pl *planner) iamScenarios() []Scenario {
	ips := pl.iamAttackIPs(4)
	return []Scenario{pl.roleTrustBackdoor(ips[0]), pl.adminUser(ips[1]), pl.consoleTakeover(ips[2]), pl.alternateCreds(ips[3])}
}
