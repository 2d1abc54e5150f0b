package hids

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// FixturePrefix is where hunt tests' alerts are written; the harness maps it to the source as a user
// maps a Firehose or agent prefix.
const FixturePrefix = Table + "/"

// Source describes the hids table to the compactor.
var Source = source.Def[Alert]{
	Table:          Table,
	Doc:            "OSSEC and Wazuh host IDS alerts (alerts.json), one row per alert",
	Layout:         source.Layout{Prefixed: true},
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*Alert) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(a *Alert) time.Time { return a.EventTime },
	Partition: func(a *Alert) (string, string) { return a.AccountID, a.Region },
	Lineage:   func(a *Alert) *lake.Lineage { return &a.Lineage },
	ID: func(a *Alert) string {
		if a.AlertKey == nil {
			return ""
		}
		return *a.AlertKey
	},
	IDColumn: "alert_key",
	Fixture:  fixture,
	Generate: generate,
}

// fixture writes a hunt test's alerts (a list of alert objects, each with a timestamp) as alerts.json
// files under FixturePrefix, one per hour as Firehose delivers them.
func fixture(events any, _ time.Time, put source.Put) error {
	alerts, ok := events.([]any)
	if !ok {
		return fmt.Errorf("hids events are a list of Wazuh or OSSEC alert objects")
	}
	files := map[string][]byte{}
	for i, a := range alerts {
		m, ok := a.(map[string]any)
		if !ok {
			return fmt.Errorf("hids event %d is not an object", i+1)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		row, why := parseAlert(b, Options{})
		if why != "" {
			return fmt.Errorf("hids event %d: %s", i+1, why)
		}
		k := objectKey(FixturePrefix, row.EventTime, "test")
		files[k] = append(append(files[k], b...), '\n')
	}
	return putAll(files, put)
}

// objectKey is a Firehose-style key: PREFIX/YYYY/MM/DD/HH/STREAM-1-YYYY-MM-DD-HH-00-00-SUFFIX.gz.
func objectKey(prefix string, t time.Time, suffix string) string {
	t = t.UTC().Truncate(time.Hour)
	return fmt.Sprintf("%s%s/wazuh-alerts-1-%s-%s.gz", prefix, t.Format("2006/01/02/15"), t.Format("2006-01-02-15-04-05"), suffix)
}

// putAll stores files several at a time: each is small, and a store's cost is per object.
func putAll(files map[string][]byte, put source.Put) error {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- put(k, source.Gzip(files[k]))
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

// GenPrefix is where `lakehunt gen` writes alerts: compact them with --source-prefix hids=hids/.
const GenPrefix = "hids/"

type genRule struct {
	id, desc, decoder, location string
	level                       int
	groups, mitre               []string
	log                         string // full_log; %s is the source IP
	src                         bool   // the alert has a remote source address
}

var genRules = []genRule{
	{id: "5715", level: 3, desc: "sshd: authentication success.", decoder: "sshd", location: "/var/log/auth.log", groups: []string{"syslog", "sshd", "authentication_success"}, mitre: []string{"T1078"},
		log: "sshd[%d]: Accepted publickey for ec2-user from %s port 52144 ssh2", src: true},
	{id: "5710", level: 5, desc: "sshd: Attempt to login using a non-existent user", decoder: "sshd", location: "/var/log/auth.log", groups: []string{"syslog", "sshd", "authentication_failed", "invalid_login"}, mitre: []string{"T1110.001"},
		log: "sshd[%d]: Invalid user admin from %s port 40022", src: true},
	{id: "5402", level: 3, desc: "Successful sudo to ROOT executed.", decoder: "sudo", location: "/var/log/auth.log", groups: []string{"syslog", "sudo"}, mitre: []string{"T1548.003"},
		log: "sudo[%d]: ec2-user : TTY=pts/0 ; PWD=/opt/app ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"},
	{id: "550", level: 7, desc: "Integrity checksum changed.", decoder: "syscheck_integrity_changed", location: "syscheck", groups: []string{"ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"}, mitre: []string{"T1565.001"},
		log: "File '/etc/nginx/nginx.conf' modified (pid %d)"},
	{id: "510", level: 7, desc: "Host-based anomaly detection event (rootcheck).", decoder: "rootcheck", location: "rootcheck", groups: []string{"ossec", "rootcheck"},
		log: "Trojaned version of file '/bin/diff' detected. Signature used: 'bash|^/bin/sh|file\\.h|proc\\.h|/dev/[^n]|^/bin/.*sh' (Generic) (pid %d)"},
}

// generate writes background traffic: a Wazuh agent on each of the world's instances (named by its host
// name, with its interface address, labelled with its account, region and instance id), mostly routine
// sshd logins (from the bastion, or the offices to the bastion) and sudo, configuration files changing,
// the well-known rootcheck false positive on /bin/diff now and then, and failed logins from internet
// scanners on instances with a public address. Nothing above level 7: a high-level alert is an incident.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay
	if perDay <= 0 {
		perDay = 100
	}
	w := c.TheWorld()
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x686964732d67656e)) // "hids-gen"
	n := 0
	offset := map[string]int64{} // per manager: alert ids are EPOCH.OFFSET in its alerts log
	for _, acct := range c.Accounts {
		for _, region := range c.Regions {
			type agent struct {
				id string
				in source.GenInstance
			}
			var agents, exposed []agent
			bastion := ""
			for _, in := range w.Instances {
				if in.Account != acct || in.Region != region {
					continue
				}
				ag := agent{id: in.AgentID, in: in}
				agents = append(agents, ag)
				if in.PublicIP != "" {
					exposed = append(exposed, ag)
				}
				if in.Tier == "bastion" && bastion == "" {
					bastion = in.PrivateIP
				}
			}
			if len(agents) == 0 {
				continue
			}
			manager := Manager(region)
			files := map[string][]byte{}
			for d := 0; d < c.Days; d++ {
				day := c.Start.AddDate(0, 0, d)
				for i := 0; i < perDay; i++ {
					t := day.Add(time.Duration(r.Int64N(int64(24*time.Hour/time.Millisecond))) * time.Millisecond)
					ag := agents[r.IntN(len(agents))]
					rule := genRules[0]
					switch x := r.IntN(100); {
					case x < 40:
					case x < 70 && len(exposed) > 0 && len(w.Scanners) > 0:
						rule, ag = genRules[1], exposed[r.IntN(len(exposed))]
					case x < 92:
						rule = genRules[2]
					case x < 99:
						rule = genRules[3]
					default:
						rule = genRules[4]
					}
					var src string
					switch {
					case rule.id == "5710":
						src = w.Scanners[r.IntN(len(w.Scanners))]
					case ag.in.PublicIP != "" && len(w.Offices) > 0:
						src = w.Offices[r.IntN(len(w.Offices))]
					case bastion != "":
						src = bastion
					default:
						src = ag.in.PrivateIP
					}
					a := Wazuh(acct, region, manager, ag.id, ag.in, t, fmt.Sprintf("%d.%d", t.Unix(), offset[manager]), rule.id, rule.level, rule.desc,
						rule.decoder, rule.location, rule.groups, rule.mitre, rule.log, 1000+r.IntN(60000), src, rule.src, 1+r.IntN(20))
					if rule.location == "syscheck" {
						a["syscheck"] = map[string]any{"path": "/etc/nginx/nginx.conf", "event": "modified", "mode": "realtime",
							"md5_after": fmt.Sprintf("%032x", r.Uint64()), "changed_attributes": []string{"size", "mtime", "md5", "sha1", "sha256"}}
					}
					line, err := json.Marshal(a)
					if err != nil {
						return n, err
					}
					offset[manager] += int64(len(line)) + 1
					k := objectKey(GenPrefix+acct+"/"+region+"/", t, "gen")
					files[k] = append(append(files[k], line...), '\n')
					n++
				}
			}
			if err := putAll(files, put); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Manager is the name of the Wazuh manager of region's agents.
func Manager(region string) string { return "wazuh-manager-" + region }

// Wazuh is an alert as a Wazuh manager writes it to alerts.json, raised by the agent on instance in.
// logFmt is the full log after the syslog header, with %d for a process id and, when withSrc, %s for src.
func Wazuh(acct, region, manager, agentID string, in source.GenInstance, t time.Time, id, ruleID string, level int, desc, decoder, location string,
	groups, mitre []string, logFmt string, pid int, src string, withSrc bool, fired int) map[string]any {
	var full string
	if withSrc {
		full = fmt.Sprintf(logFmt, pid, src)
	} else {
		full = fmt.Sprintf(logFmt, pid)
	}
	rule := map[string]any{"level": level, "description": desc, "id": ruleID, "firedtimes": fired, "mail": level >= 12, "groups": groups}
	if len(mitre) > 0 {
		rule["mitre"] = map[string]any{"id": mitre}
	}
	a := map[string]any{
		"timestamp": t.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"rule":      rule,
		"agent": map[string]any{"id": agentID, "name": in.Hostname, "ip": in.PrivateIP,
			"labels": map[string]any{"aws": map[string]any{"account_id": acct, "region": region, "instance_id": in.ID}}},
		"manager":  map[string]any{"name": manager},
		"id":       id,
		"full_log": t.UTC().Format("Jan _2 15:04:05 ") + in.Hostname + " " + full, "decoder": map[string]any{"name": decoder}, "location": location,
	}
	if withSrc {
		a["data"] = map[string]any{"srcip": src, "srcport": "52144", "dstuser": "ec2-user"}
	}
	return a
}
