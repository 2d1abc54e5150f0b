package waf

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
)

// classify reads REGION/WEBACL/YYYY/MM/DD/HH/mm/FILE after AWSLogs/ACCOUNT/WAFLogs/. REGION is
// "cloudfront" for CloudFront web ACLs (their rows take us-east-1 from the web ACL's ARN).
func classify(info *rawkey.Info, _ string, rest []string) {
	if len(rest) != 8 {
		info.Reason = "expected REGION/WEBACL/YYYY/MM/DD/HH/mm/FILE after WAFLogs/"
		return
	}
	day, ok := rawkey.ParseDay(rest[2], rest[3], rest[4])
	if !ok || !rawkey.IsHour(rest[5]) || len(rest[6]) != 2 || rest[6] < "00" || rest[6] > "59" {
		info.Reason = "bad date folders " + strings.Join(rest[2:7], "/")
		return
	}
	if !strings.HasSuffix(rest[7], ".log.gz") && !strings.HasSuffix(rest[7], ".log") {
		info.Reason = "WAF log files end in .log.gz"
		return
	}
	info.Region, info.Day, info.FileTime, info.Kind = rest[0], day, rawkey.FileTime(rest[7]), rawkey.Events
}

// fixture writes a hunt test's WAF records (a list of log objects, each with webaclId and timestamp) as
// direct-to-S3 log files, one per web ACL and 5-minute interval.
func fixture(events any, _ time.Time, put source.Put) error {
	records, ok := events.([]any)
	if !ok {
		return fmt.Errorf("waf events are a list of WAF log objects")
	}
	files := map[string][]byte{}
	for i, r := range records {
		m, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("waf event %d is not an object", i+1)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		arn, _ := m["webaclId"].(string)
		acct, region, name, ok := parseARN(arn)
		raw, _ := json.Marshal(m["timestamp"])
		t, tok := parseTime(raw)
		if !ok || name == "" || !tok {
			return fmt.Errorf("waf event %d needs webaclId (arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID) and timestamp (milliseconds or RFC 3339)", i+1)
		}
		key := logKey(acct, region, name, t, "test")
		files[key] = append(append(files[key], b...), '\n')
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := put(k, source.Gzip(files[k])); err != nil {
			return err
		}
	}
	return nil
}

// logKey is the key WAF delivers the 5-minute file holding t under.
func logKey(acct, region, acl string, t time.Time, suffix string) string {
	t = t.UTC().Truncate(5 * time.Minute)
	return fmt.Sprintf("AWSLogs/%s/WAFLogs/%s/%s/%s/%s_waflogs_%s_%s_%s_%s.log.gz",
		acct, region, acl, t.Format("2006/01/02/15/04"), acct, region, acl, t.Format("20060102T1504Z"), suffix)
}

// generate writes background traffic: a web ACL in front of each of the world's load balancers, requests
// from the world's clients (allowed) and from its internet scanners (blocked by managed rules: SQL
// injection, remote file inclusion, Log4j, IP reputation). It writes one file per hour where WAF writes
// one per 5 minutes of traffic: a twelfth of the objects keeps gen and the demo fast, and compact reads
// either the same.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay
	if perDay <= 0 {
		perDay = 500
	}
	w := c.TheWorld()
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x7761662d67656e)) // "waf-gen"
	paths := []string{"/", "/login", "/api/v1/orders", "/api/v1/cart", "/static/app.js", "/health", "/search"}
	agents := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "okhttp/4.12.0"}
	scanAgents := []string{"Mozilla/5.0 zgrab/0.x", "sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "python-requests/2.31.0"}
	countries := []string{"US", "US", "US", "DE", "GB", "FR", "JP", "BR", "IN", "CA"}
	blocks := []struct{ group, rule, label, uri, args string }{
		{"AWS-AWSManagedRulesCommonRuleSet", "GenericRFI_QUERYARGUMENTS", "awswaf:managed:aws:core-rule-set:GenericRFI_QueryArguments", "/index.php", "page=http://evil.example/shell.txt"},
		{"AWS-AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", "awswaf:managed:aws:sql-database:SQLi_QueryArguments", "/search", "q=1%27%20OR%20%271%27%3D%271"},
		{"AWS-AWSManagedRulesKnownBadInputsRuleSet", "Log4JRCE_HEADER", "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Header", "/", ""},
		{"AWS-AWSManagedRulesAmazonIpReputationList", "AWSManagedIPReputationList", "awswaf:managed:aws:amazon-ip-list:AWSManagedIPReputationList", "/.env", ""},
	}
	n := 0
	for _, lb := range w.LoadBalancers {
		arn := lb.WebACL
		_, _, acl, ok := parseARN(arn)
		if !ok {
			return n, fmt.Errorf("load balancer %s: web ACL %q is not arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID", lb.Name, arn)
		}
		for d := 0; d < c.Days; d++ {
			day := c.Start.AddDate(0, 0, d)
			files := map[string][]byte{}
			for i := 0; i < perDay; i++ {
				t := day.Add(time.Duration(r.Int64N(int64(24*time.Hour/time.Millisecond))) * time.Millisecond)
				ip, ua, uri, args := w.Clients[r.IntN(1+r.IntN(len(w.Clients)))], agents[r.IntN(len(agents))], paths[r.IntN(len(paths))], ""
				scan := len(w.Scanners) > 0 && r.IntN(20) == 0
				if scan {
					ip, ua = w.Scanners[r.IntN(len(w.Scanners))], scanAgents[r.IntN(len(scanAgents))]
				}
				rec := map[string]any{
					"timestamp": t.UnixMilli(), "formatVersion": 1, "webaclId": arn,
					"terminatingRuleId": "Default_Action", "terminatingRuleType": "REGULAR", "action": "ALLOW",
					"terminatingRuleMatchDetails": []any{}, "httpSourceName": "ALB", "httpSourceId": lb.Account + "-" + lb.Name,
					"ruleGroupList": []any{}, "rateBasedRuleList": []any{}, "nonTerminatingMatchingRules": []any{},
					"requestHeadersInserted": nil, "responseCodeSent": nil, "labels": []any{},
					"ja3Fingerprint": fmt.Sprintf("%032x", r.Uint64()%64),
				}
				if scan {
					b := blocks[r.IntN(len(blocks))]
					uri, args = b.uri, b.args
					rec["terminatingRuleId"], rec["terminatingRuleType"], rec["action"] = b.group, "MANAGED_RULE_GROUP", "BLOCK"
					rec["ruleGroupList"] = []any{map[string]any{"ruleGroupId": "AWS#" + strings.TrimPrefix(b.group, "AWS-"),
						"terminatingRule": map[string]any{"ruleId": b.rule, "action": "BLOCK"}}}
					rec["labels"] = []any{map[string]any{"name": b.label}}
				}
				rec["httpRequest"] = map[string]any{
					"clientIp": ip, "country": countries[r.IntN(len(countries))],
					"headers": []any{map[string]any{"name": "Host", "value": lb.Host}, map[string]any{"name": "User-Agent", "value": ua}},
					"uri":     uri, "args": args, "httpVersion": "HTTP/1.1", "httpMethod": "GET",
					"requestId": fmt.Sprintf("1-%08x-%024x", t.Unix(), r.Uint64()),
				}
				line, err := json.Marshal(rec)
				if err != nil {
					return n, err
				}
				k := logKey(lb.Account, lb.Region, acl, t.Truncate(time.Hour), "gen")
				files[k] = append(append(files[k], line...), '\n')
				n++
			}
			if err := putAll(files, put); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// putAll stores a day's files, several at a time: each is small, and a store's cost is per object.
func putAll(files map[string][]byte, put source.Put) error {
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(files))
	for k, b := range files {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- put(k, source.Gzip(b))
		}()
	}
	for range cap(sem) {
		sem <- struct{}{}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
