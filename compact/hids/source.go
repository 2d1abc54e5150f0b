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
	{id: "40112", level: 12, desc: "Multiple authentication failures followed by a success.", decoder: "sshd", location: "/var/log/auth.log", groups: []string{"syslog", "attack", "authentication_success"}, mitre: []string{"T1110"},
		log: "sshd[%d]: Accepted password for admin from %s port 40022 ssh2", src: true},
	{id: "510", level: 7, desc: "Host-based anomaly detection event (rootcheck).", decoder: "rootcheck", location: "rootcheck", groups: []string{"ossec", "rootcheck"},
		log: "Trojaned version of file '/bin/diff' detected. Signature used: 'bash|^/bin/sh|file\\.h|proc\\.h|/dev/[^n]|^/bin/.*sh' (Generic) (pid %d)"},
}

// generate writes background traffic: a few agents per account and region (EC2 instances labelled with
// their account, region and instance id), mostly routine sshd and sudo alerts, some integrity changes
// and rootcheck findings, and failed logins from the internet.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay
	if perDay <= 0 {
		perDay = 100
	}
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x686964732d67656e)) // "hids-gen"
	n := 0
	offset := map[string]int64{} // per manager: alert ids are EPOCH.OFFSET in its alerts log
	for ai, acct := range c.Accounts {
		for ri, region := range c.Regions {
			type agent struct{ id, name, ip, instance string }
			agents := make([]agent, 4)
			for i := range agents {
				agents[i] = agent{id: fmt.Sprintf("%03d", 1+i), name: fmt.Sprintf("web-%d-%d-%d", ai, ri, i),
					ip: fmt.Sprintf("10.%d.%d.%d", ai%250, 10+ri, 10+i), instance: fmt.Sprintf("i-%017x", r.Uint64()>>4)}
			}
			manager := fmt.Sprintf("wazuh-manager-%s", region)
			files := map[string][]byte{}
			for d := 0; d < c.Days; d++ {
				day := c.Start.AddDate(0, 0, d)
				for i := 0; i < perDay; i++ {
					t := day.Add(time.Duration(r.Int64N(int64(24*time.Hour/time.Millisecond))) * time.Millisecond)
					ag := agents[r.IntN(len(agents))]
					rule := genRules[0]
					switch x := r.IntN(100); {
					case x < 40:
					case x < 70:
						rule = genRules[1]
					case x < 92:
						rule = genRules[2]
					case x < 97:
						rule = genRules[3]
					case x < 98:
						rule = genRules[4]
					default:
						rule = genRules[5]
					}
					src := fmt.Sprintf("%d.%d.%d.%d", 23+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
					var full string
					if rule.src {
						full = fmt.Sprintf(rule.log, 1000+r.IntN(60000), src)
					} else {
						full = fmt.Sprintf(rule.log, 1000+r.IntN(60000))
					}
					full = t.Format("Jan _2 15:04:05 ") + ag.name + " " + full
					a := map[string]any{
						"timestamp": t.Format("2006-01-02T15:04:05.000-0700"),
						"rule": map[string]any{"level": rule.level, "description": rule.desc, "id": rule.id, "firedtimes": 1 + r.IntN(20),
							"mail": false, "groups": rule.groups},
						"agent": map[string]any{"id": ag.id, "name": ag.name, "ip": ag.ip,
							"labels": map[string]any{"aws": map[string]any{"account_id": acct, "region": region, "instance_id": ag.instance}}},
						"manager":  map[string]any{"name": manager},
						"id":       fmt.Sprintf("%d.%d", t.Unix(), offset[manager]),
						"full_log": full, "decoder": map[string]any{"name": rule.decoder}, "location": rule.location,
					}
					if len(rule.mitre) > 0 {
						a["rule"].(map[string]any)["mitre"] = map[string]any{"id": rule.mitre}
					}
					if rule.src {
						a["data"] = map[string]any{"srcip": src, "srcport": "52144", "dstuser": "ec2-user"}
					}
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
