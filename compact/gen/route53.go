package gen

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// dnsQuery is one resolver log line. Background queries are drawn while rendering; planted ones
// are complete.
type dnsQuery struct {
	t         int64
	src       *instance // nil: a query that came in through the inbound resolver endpoint
	srcAddr   uint32
	srcPort   int
	name      string // with the trailing dot
	qtype     string
	rcode     string
	answers   string // raw JSON array
	transport string
}

// Internet services workloads talk to, by tier (DNS names and, via ipFor, their addresses in flows).
var tierInternet = [5][]string{
	tWeb: {"api.stripe.com", "hooks.slack.com", "api.datadoghq.com", "http-intake.logs.datadoghq.com", "o4504.ingest.sentry.io",
		"oauth2.googleapis.com", "www.googleapis.com", "api.sendgrid.com", "fonts.googleapis.com", "ocsp.digicert.com"},
	tApp: {"api.stripe.com", "api.twilio.com", "api.github.com", "hooks.slack.com", "api.datadoghq.com", "login.microsoftonline.com",
		"graph.microsoft.com", "o4504.ingest.sentry.io", "api.openai.com", "ocsp.r2m02.amazontrust.com"},
	tDB: {"ocsp.r2m02.amazontrust.com", "api.datadoghq.com"},
	tBatch: {"pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "github.com", "objects.githubusercontent.com",
		"registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com", "proxy.golang.org", "repo.maven.apache.org"},
	tBastion: {"security.ubuntu.com", "archive.ubuntu.com", "github.com", "api.github.com"},
}

var cnames = map[string]string{
	"files.pythonhosted.org":           "dualstack.python.map.fastly.net",
	"pypi.org":                         "dualstack.python.map.fastly.net",
	"registry.npmjs.org":               "registry.npmjs.org.cdn.cloudflare.net",
	"production.cloudflare.docker.com": "production.cloudflare.docker.com.cdn.cloudflare.net",
	"login.microsoftonline.com":        "login.mso.msidentity.com",
	"ocsp.digicert.com":                "ocsp.edge.digicert.com",
}

var awsServices = []string{"s3", "sts", "ec2", "ssm", "ec2messages", "ssmmessages", "logs", "monitoring", "kms",
	"secretsmanager", "dynamodb", "sqs", "api.ecr"}

type domainProfile struct {
	internet []string
	names    []string
	samp     sampler
}

func domainProfileFor(t tier, region string) *domainProfile {
	p := &domainProfile{internet: tierInternet[t]}
	ws := zipf(len(awsServices))
	for i, s := range awsServices {
		p.names = append(p.names, s+"."+region+".amazonaws.com")
		p.samp.add(5 * ws[i])
	}
	p.names = append(p.names, "al2023-repos-"+region+"-de612dc2.s3.dualstack."+region+".amazonaws.com")
	p.samp.add(0.3)
	ws = zipf(len(p.internet))
	for i, d := range p.internet {
		p.names = append(p.names, d)
		p.samp.add(4 * ws[i])
	}
	return p
}

func (v *vpc) buildDNS(w *world) {
	for t := range v.dnsProfiles {
		v.dnsProfiles[t] = domainProfileFor(tier(t), v.ar.info.name)
	}
	rates := [5]float64{tWeb: 2, tApp: 3, tDB: 0.5, tBatch: 3, tBastion: 0.5}
	for _, in := range v.instances {
		v.dnsSources = append(v.dnsSources, in)
		v.dnsSamp.add(rates[in.tier] * in.weight)
	}
	if v.vidx == 0 {
		v.dnsSources = append(v.dnsSources, nil)
		v.dnsSamp.add(1)
		for _, app := range v.ar.acct.repos {
			v.inboundNames = append(v.inboundNames, app+"."+v.env+"."+w.corp+".internal")
		}
	}
}

// ipFor is the address a name resolves to: stable per name, from a plausible range.
func ipFor(name string, ridx int) uint32 {
	h := hashStr(name)
	switch {
	case strings.Contains(name, ".s3.") || strings.HasPrefix(name, "s3."):
		return s3Block(ridx).hostOf(h)
	case strings.HasPrefix(name, "dynamodb."):
		return ddbBlock(ridx).hostOf(h)
	case strings.HasSuffix(name, ".amazonaws.com") || strings.HasSuffix(name, "amazontrust.com") || strings.HasSuffix(name, "datadoghq.com"):
		return regionPool[ridx].ec2.hostOf(h)
	case strings.Contains(name, "github"):
		return cidr(140, 82, 112, 0, 20).hostOf(h)
	}
	return hostingBlocks[h%uint64(len(hostingBlocks))].hostOf(h)
}

type dnsScratch struct {
	qs    []dnsQuery
	times []int64
	buf   []byte
}

func (g *generator) dnsHour(v *vpc, day, hour int, sc *dnsScratch, gz *gzipper) error {
	w := g.w
	dt := w.dayType(day)
	pre := v.dnsVol.prefix(w.seed, seedOf(tagDNS, uint64(v.idx)), day, dt)
	r := newRNG(w.seed, tagDNS, uint64(v.idx), uint64(day), uint64(hour))
	dayStart := w.start + int64(day)*86400
	for m := hour * 60; m < hour*60+60; m += v.dnsInterval {
		n := countIn(&pre, m, m+v.dnsInterval)
		t0 := dayStart + int64(m)*60
		t1 := t0 + int64(v.dnsInterval)*60
		sc.times = drawTimes(sc.times[:0], n, t0, t1, &r)
		qs := sc.qs[:0]
		pi, _ := slices.BinarySearchFunc(v.plantedDNS, t0, func(q dnsQuery, t int64) int { return cmpInt(q.t, t) })
		for _, t := range sc.times {
			for ; pi < len(v.plantedDNS) && v.plantedDNS[pi].t <= t; pi++ {
				qs = append(qs, v.plantedDNS[pi])
			}
			k := v.dnsSamp.pick(&r)
			if k < 0 {
				break
			}
			qs = append(qs, dnsQuery{t: t, src: v.dnsSources[k]})
		}
		for ; pi < len(v.plantedDNS) && v.plantedDNS[pi].t < t1; pi++ {
			qs = append(qs, v.plantedDNS[pi])
		}
		sc.qs = qs
		if len(qs) == 0 {
			continue
		}
		b := sc.buf[:0]
		for i := range qs {
			b = g.appendDNS(b, v, &qs[i], &r)
			b = append(b, '\n')
		}
		sc.buf = b
		body, err := gz.compress(b)
		if err != nil {
			return err
		}
		key := dnsKey(v, t1+int64(r.between(0, 4))*60, r.hex(8))
		if err := g.put(key, body, tableRoute53, int64(len(qs))); err != nil {
			return err
		}
	}
	return nil
}

func dnsKey(v *vpc, delivered int64, hash string) string {
	t := time.Unix(delivered, 0).UTC()
	acct := v.ar.acct.id
	return "AWSLogs/" + acct + "/vpcdnsquerylogs/" + v.id + "/" + t.Format("2006/01/02") + "/" +
		acct + "_vpcdnsquerylogs_" + v.id + "_" + t.Format("20060102T1504Z") + "_" + hash + ".log.gz"
}

// drawQuery fills in a background query: mostly AWS endpoints and the tier's usual services, some
// internal names, search-domain misses (NXDOMAIN) and a long tail of rarely seen domains.
func (v *vpc) drawQuery(q *dnsQuery, r *rng, scratch []byte) []byte {
	ridx := v.ar.ridx
	region := v.ar.info.name
	q.qtype, q.rcode, q.transport = "A", "NOERROR", "UDP"
	if r.chance(0.01) {
		q.transport = "TCP"
	}
	q.srcPort = r.between(ephemeralLo, ephemeralHi)
	b := scratch[:0]
	answerA := func(name string, ip uint32) {
		b = append(b, `[`...)
		if c, ok := cnames[name]; ok {
			b = append(b, `{"Rdata":`...)
			b = appendStr(b, c+".")
			b = append(b, `,"Type":"CNAME","Class":"IN"},`...)
		}
		b = append(b, `{"Rdata":"`...)
		b = appendIP(b, ip)
		b = append(b, `","Type":"A","Class":"IN"}]`...)
	}
	if q.src == nil {
		q.srcAddr = ip4(172, 16, r.intn(16), r.between(2, 254))
		name := v.inboundNames[r.intn(len(v.inboundNames))]
		q.name = name + "."
		peer := v.instances[int(hashStr(name)%uint64(len(v.instances)))]
		answerA(name, peer.ip)
		q.answers = string(b)
		return b
	}
	q.srcAddr = q.src.ip
	prof := v.dnsProfiles[q.src.tier]
	switch x := r.intn(1000); {
	case x < 860:
		name := prof.names[prof.samp.pick(r)]
		q.name = name + "."
		if r.chance(0.22) {
			q.qtype = "AAAA"
			b = append(b, `[{"Rdata":"2600:1f18:`...)
			b = r.appendHex(b, 4)
			b = append(b, ':')
			b = r.appendHex(b, 4)
			b = append(b, `::`...)
			b = r.appendHex(b, 3)
			b = append(b, `","Type":"AAAA","Class":"IN"}]`...)
		} else {
			answerA(name, ipFor(name, ridx))
		}
	case x < 920:
		peer := v.instances[r.intn(len(v.instances))]
		host := "ip-" + strings.ReplaceAll(peer.ipStr, ".", "-")
		if region == "us-east-1" {
			host += ".ec2.internal"
		} else {
			host += "." + region + ".compute.internal"
		}
		if r.chance(0.3) {
			o := strings.Split(peer.ipStr, ".")
			q.name = o[3] + "." + o[2] + "." + o[1] + "." + o[0] + ".in-addr.arpa."
			q.qtype = "PTR"
			b = append(b, `[{"Rdata":`...)
			b = appendStr(b, host+".")
			b = append(b, `,"Type":"PTR","Class":"IN"}]`...)
		} else {
			q.name = host + "."
			answerA(host, peer.ip)
		}
	case x < 970:
		// resolv.conf search domain tried first: NXDOMAIN.
		name := prof.internet[r.intn(len(prof.internet))]
		if region == "us-east-1" {
			q.name = name + ".ec2.internal."
		} else {
			q.name = name + "." + region + ".compute.internal."
		}
		q.rcode = "NXDOMAIN"
		b = append(b, "[]"...)
	default:
		name := longTailDomain(r)
		q.name = name + "."
		if r.chance(0.1) {
			q.rcode = "NXDOMAIN"
			b = append(b, "[]"...)
		} else {
			answerA(name, ipFor(name, ridx))
		}
	}
	q.answers = string(b)
	return b
}

func longTailDomain(r *rng) string {
	prefix := []string{"", "", "www.", "api.", "cdn.", "static."}[r.intn(6)]
	sep := ""
	if r.chance(0.3) {
		sep = "-"
	}
	return prefix + r.pick(words) + sep + r.pick(words) + "." + r.pick(tailTLDs)
}

func (g *generator) appendDNS(b []byte, v *vpc, q *dnsQuery, r *rng) []byte {
	if q.name == "" {
		v.drawQuery(q, r, nil)
	}
	acct := v.ar.acct.id
	b = append(b, `{"version":"1.100000","account_id":`...)
	b = appendStr(b, acct)
	b = kv(b, "region", v.ar.info.name)
	b = kv(b, "vpc_id", v.id)
	b = append(b, `,"query_timestamp":"`...)
	b = appendTime(b, q.t)
	b = append(b, '"')
	b = kv(b, "query_name", q.name)
	b = kv(b, "query_type", q.qtype)
	b = kv(b, "query_class", "IN")
	b = kv(b, "rcode", q.rcode)
	b = kraw(b, "answers", q.answers)
	b = append(b, `,"srcaddr":"`...)
	b = appendIP(b, q.srcAddr)
	b = append(b, `","srcport":"`...)
	b = strconv.AppendInt(b, int64(q.srcPort), 10)
	b = append(b, '"')
	b = kv(b, "transport", q.transport)
	if q.src != nil {
		b = append(b, `,"srcids":{"instance":`...)
		b = appendStr(b, q.src.id)
		b = append(b, '}')
	} else {
		b = append(b, `,"srcids":{"resolver_endpoint":`...)
		b = appendStr(b, v.resolverEndpoint)
		b = kv(b, "resolver_network_interface", v.resolverENI)
		b = append(b, '}')
	}
	return append(b, '}')
}
