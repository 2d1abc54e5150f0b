package alb

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Source describes the alb table to the compactor. ALB entries have no id of their own (a client can set
// the trace id): each object is read once, as the compactor's ledger ensures, and its rows are not
// deduplicated, so a large object's rows are written out while it is read.
var Source = source.Def[Request]{
	Table:          Table,
	Doc:            "Application Load Balancer access logs, one row per request (or WebSocket connection)",
	Layout:         source.Layout{Services: []string{"elasticloadbalancing"}, Classify: classify},
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*Request) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(r *Request) time.Time { return r.EventTime },
	Partition: func(r *Request) (string, string) { return r.AccountID, r.Region },
	Lineage:   func(r *Request) *lake.Lineage { return &r.Lineage },
	Fixture:   fixture,
	Generate:  generate,
}

// classify reads REGION/YYYY/MM/DD/FILE after AWSLogs/ACCOUNT/elasticloadbalancing/. The folder also
// holds Network and Classic Load Balancer logs and ALB connection logs, in other formats: the file
// name (ACCOUNT_elasticloadbalancing_REGION_LOAD-BALANCER-ID_END-TIME_IP_RANDOM.log.gz, the id's
// slashes turned to dots) tells them apart.
func classify(info *rawkey.Info, _ string, rest []string) {
	if len(rest) != 5 {
		info.Reason = "expected REGION/YYYY/MM/DD/FILE after elasticloadbalancing/"
		return
	}
	day, ok := rawkey.ParseDay(rest[1], rest[2], rest[3])
	if !ok {
		info.Reason = "bad date folders " + strings.Join(rest[1:4], "/")
		return
	}
	name := rest[4]
	if !strings.HasSuffix(name, ".log.gz") && !strings.HasSuffix(name, ".log") {
		info.Reason = "load balancer log files end in .log.gz"
		return
	}
	parts := strings.Split(name, "_")
	switch {
	case strings.HasPrefix(name, "conn_log."):
		info.Reason = "an ALB connection log: not read (the alb table holds access logs)"
	case len(parts) < 5 || parts[1] != "elasticloadbalancing":
		info.Reason = "not a load balancer log file name (ACCOUNT_elasticloadbalancing_REGION_app.NAME.ID_...)"
	case strings.HasPrefix(parts[3], "app."):
		info.Region, info.Day, info.FileTime, info.Kind = rest[0], day, rawkey.FileTime(name), rawkey.Events
	case strings.HasPrefix(parts[3], "net."):
		info.Reason = "a Network Load Balancer log: not read (the alb table holds Application Load Balancer logs)"
	default:
		info.Reason = "a Classic Load Balancer log: not read (the alb table holds Application Load Balancer logs)"
	}
}

// logKey is the key ALB delivers the 5-minute file holding t under; node is IP-ADDRESS_RANDOM-STRING.
func logKey(acct, region, elb string, t time.Time, node string) string {
	end := t.UTC().Truncate(5 * time.Minute).Add(5 * time.Minute)
	return fmt.Sprintf("AWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_%s_%s_%s.log.gz",
		acct, region, end.Format("2006/01/02"), acct, region, strings.ReplaceAll(elb, "/", "."), end.Format("20060102T1504Z"), node)
}

// fixture writes a hunt test's ALB entries (log text, one entry per line) as access log files, one per
// load balancer and 5-minute interval, of the account and region in the entry's target_group_arn
// (111122223333 and us-east-1 when it has none).
func fixture(events any, _ time.Time, put source.Put) error {
	text, ok := events.(string)
	if !ok {
		return fmt.Errorf("alb events are access log text, one entry per line")
	}
	files := map[string][]byte{}
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		row, why := parseLine([]byte(line), Options{FallbackAccount: "111122223333", FallbackRegion: "us-east-1"})
		if why != "" {
			return fmt.Errorf("alb event %d: %s", i+1, why)
		}
		if acct, region, ok := arnAccount(row.TargetGroupARN); ok {
			row.AccountID, row.Region = acct, region
		}
		k := logKey(row.AccountID, row.Region, row.ELB, row.EventTime, "198.51.100.1_test")
		files[k] = append(append(files[k], line...), '\n')
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

// generate writes background traffic for each of the world's load balancers: browsers and API clients
// of the world's client population forwarded to its targets, redirects from HTTP, a few server errors,
// and requests of the world's internet scanners that its WAF web ACL blocked (403, actions_executed waf).
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay
	if perDay <= 0 {
		perDay = 500
	}
	w := c.TheWorld()
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x616c622d67656e)) // "alb-gen"
	paths := []string{"/", "/login", "/api/v1/orders", "/api/v1/cart", "/static/app.js", "/health", "/search?q=shoes"}
	probes := []string{"/wp-admin/", "/.env", "/admin/config.php", "/phpmyadmin/", "/.git/config", "/search?q=1%27%20OR%20%271%27%3D%271"}
	agents := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "okhttp/4.12.0"}
	n := 0
	for _, lb := range w.LoadBalancers {
		elb := lb.Name
		tg := lb.TargetGroup
		cert := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%08x-1234-4234-8234-%012x", lb.Region, lb.Account, r.Uint32(), r.Uint64()&0xffffffffffff)
		targets, nodes := lb.Targets, lb.Nodes
		if len(targets) == 0 || len(nodes) == 0 {
			continue
		}
		host := lb.Host
		for d := 0; d < c.Days; d++ {
			day := c.Start.AddDate(0, 0, d)
			files := map[string][]byte{}
			for i := 0; i < perDay; i++ {
				t := day.Add(time.Duration(r.Int64N(int64(24*time.Hour/time.Microsecond))) * time.Microsecond)
				created := t.Add(-time.Duration(1+r.IntN(400)) * time.Millisecond)
				client := w.Clients[r.IntN(1+r.IntN(len(w.Clients)))]
				target := targets[r.IntN(len(targets))]
				typ, url, cipher, proto, certARN, ua := "https", "https://"+host+":443"+paths[r.IntN(len(paths))], "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", cert, agents[r.IntN(len(agents))]
				status, tstatus, actions, redirect := "200", "200", "forward", "-"
				switch x := r.IntN(100); {
				case x < 5: // plain HTTP, redirected to HTTPS by the listener
					typ, url, cipher, proto, certARN = "http", "http://"+host+":80"+paths[r.IntN(len(paths))], "-", "-", "-"
					status, tstatus, actions, target = "301", "-", "redirect", "-"
					redirect = "https://" + host + ":443" + strings.TrimPrefix(url, "http://"+host+":80")
				case x < 8 && len(w.Scanners) > 0: // a scanner, blocked by the web ACL
					client = w.Scanners[r.IntN(len(w.Scanners))]
					url, ua, status, tstatus, actions, target = "https://"+host+":443"+probes[r.IntN(len(probes))], "Mozilla/5.0 zgrab/0.x", "403", "-", "waf", "-"
				case x < 10:
					status, tstatus = "500", "500"
				}
				tProc := fmt.Sprintf("%.3f", r.Float64()/5)
				if target == "-" {
					tProc = "-1"
				}
				line := fmt.Sprintf(`%s %s %s %s:%d %s 0.000 %s 0.000 %s %s %d %d "GET %s HTTP/1.1" "%s" %s %s %s "Root=1-%08x-%024x" "%s" "%s" %d %s "%s" "%s" "-" "%s" "%s" "-" "-" TID_%016x`,
					typ, t.Format("2006-01-02T15:04:05.000000Z"), elb, client, 1024+r.IntN(60000), target, tProc, status, tstatus,
					200+r.IntN(600), 300+r.IntN(20000), url, ua, cipher, proto, tg, t.Unix(), r.Uint64(),
					domain(typ, host), certARN, r.IntN(3), created.Format("2006-01-02T15:04:05.000000Z"), actions, redirect, target, tstatus, r.Uint64())
				// A file per node and hour, not per 5 minutes as ALB writes them: fewer objects to generate.
				k := logKey(lb.Account, lb.Region, elb, t.Truncate(time.Hour).Add(55*time.Minute), nodes[r.IntN(len(nodes))]+"_gen")
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

func domain(typ, host string) string {
	if typ == "https" {
		return host
	}
	return "-"
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
