package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ctStream is the CloudTrail log of one account in one region.
type ctStream struct {
	idx      int
	ar       *acctRegion
	entries  []ctEntry
	samp     [2][24]sampler // per day type and UTC hour, over entries
	vol      volume
	interval int        // minutes covered by one delivery
	planted  []*ctEvent // sorted by time
}

type ctEntry struct {
	p *principal
	h *habit
}

// ctEvent is one record. Background events only carry t, p, h; everything else is drawn while
// rendering. Planted events set the fields that make them what they are.
type ctEvent struct {
	t      int64
	p      *principal
	h      *habit
	a      *api
	region int

	id, requestID string
	srcIP, ua     string
	errCode       string
	errMsg        string
	params        string // raw JSON; "" = drawn (background) or null (planted)
	resp          string
	addl          string
	resources     string
	delivery      string // ec2RoleDelivery override on instance sessions
	mfaUsed       string // ConsoleLogin: "Yes"/"No"
	planted       bool   // no random errors; errCode/srcIP/ua as set
	fixed         bool   // params/resp/addl/resources as set instead of drawn
}

// ctScratch holds per-worker buffers reused across records.
type ctScratch struct {
	events  []ctEvent
	times   []int64
	json    []byte
	params  []byte // valid when hasParams; otherwise requestParameters is null
	resp    []byte // valid when hasResp; otherwise responseElements is null
	addl    []byte // additionalEventData when non-empty
	res     []byte // resources when non-empty
	scratch []byte

	hasParams, hasResp bool
}

const maxRecordsPerCTFile = 2000

func (g *generator) ctHour(st *ctStream, day, hour int, sc *ctScratch, gz *gzipper) error {
	w := g.w
	dt := w.dayType(day)
	pre := st.vol.prefix(w.seed, seedOf(tagCT, uint64(st.idx)), day, dt)
	r := newRNG(w.seed, tagCT, uint64(st.idx), uint64(day), uint64(hour))
	dayStart := w.start + int64(day)*86400
	hourStart := dayStart + int64(hour)*3600
	acct := st.ar.acct
	stop := acct.ctStop
	var digest []digestEntry

	for m := hour * 60; m < hour*60+60; m += st.interval {
		n := countIn(&pre, m, m+st.interval)
		t0 := dayStart + int64(m)*60
		t1 := t0 + int64(st.interval)*60
		// Draw sorted times first, then merge the planted events in: no sort of the records themselves.
		sc.times = drawTimes(sc.times[:0], n, t0, t1, &r)
		evs := sc.events[:0]
		samp := &st.samp[dt][hour]
		pi, _ := slices.BinarySearchFunc(st.planted, t0, func(e *ctEvent, t int64) int { return cmpInt(e.t, t) })
		for _, t := range sc.times {
			for ; pi < len(st.planted) && st.planted[pi].t <= t; pi++ {
				evs = append(evs, *st.planted[pi])
			}
			k := samp.pick(&r)
			if k < 0 {
				break
			}
			e := st.entries[k]
			evs = append(evs, ctEvent{t: t, p: e.p, h: e.h, a: e.h.a, region: e.h.region})
		}
		for ; pi < len(st.planted) && st.planted[pi].t < t1; pi++ {
			evs = append(evs, *st.planted[pi])
		}
		if stop > 0 {
			// Logging was stopped: nothing after the StopLogging call is recorded.
			evs = slices.DeleteFunc(evs, func(e ctEvent) bool { return e.t > stop })
		}
		sc.events = evs
		if len(evs) == 0 {
			continue
		}

		nparts := 1
		if len(evs) > maxRecordsPerCTFile {
			nparts = (len(evs) + maxRecordsPerCTFile - 1) / maxRecordsPerCTFile
		} else if len(evs) > 1 && r.chance(0.08) {
			nparts = 2 // CloudTrail often delivers more than one file for the same few minutes
		}
		for part := 0; part < nparts; part++ {
			sc.json = append(sc.json[:0], `{"Records":[`...)
			first := true
			var oldest, newest int64
			count := 0
			for i := part; i < len(evs); i += nparts {
				if !first {
					sc.json = append(sc.json, ',')
				}
				first = false
				sc.json = g.appendCTEvent(sc.json, &evs[i], &r, sc)
				if count == 0 {
					oldest = evs[i].t
				}
				newest = evs[i].t
				count++
			}
			sc.json = append(sc.json, "]}"...)
			body, err := gz.compress(sc.json)
			if err != nil {
				return err
			}
			delivered := t1 + int64(r.between(1, 5))*60
			late := r.chance(g.cfg.lateRate)
			if late {
				delivered += int64(r.between(1, 18))*3600 + int64(r.intn(3600))
			}
			key := ctKey(acct.id, st.ar.info.name, delivered, r.from(mixedAlnum, 16))
			if err := g.put(key, body, tableCloudTrail, int64(count)); err != nil {
				return err
			}
			if late {
				g.sum.lateFiles.Add(1)
			} else {
				digest = append(digest, digestEntry{key: key, hash: sha256.Sum256(sc.json), oldest: oldest, newest: newest})
			}
			if r.chance(g.cfg.dupRate) {
				// The same file delivered a second time under another name (a retry or a second trail).
				dupKey := ctKey(acct.id, st.ar.info.name, delivered+int64(r.between(1, 10))*60, r.from(mixedAlnum, 16))
				if err := g.put(dupKey, body, tableCloudTrail, int64(count)); err != nil {
					return err
				}
				g.sum.duplicates.Add(int64(count))
				if late {
					g.sum.lateFiles.Add(1)
				}
			}
		}
	}
	if stop > 0 && hourStart >= stop {
		return nil
	}
	return g.ctDigest(st, hourStart, digest, sc, gz)
}

func ctKey(acct, region string, delivered int64, rand string) string {
	t := time.Unix(delivered, 0).UTC()
	b := make([]byte, 0, 128)
	b = append(b, "AWSLogs/"...)
	b = append(b, acct...)
	b = append(b, "/CloudTrail/"...)
	b = append(b, region...)
	b = t.AppendFormat(append(b, '/'), "2006/01/02/")
	b = append(b, acct...)
	b = append(b, "_CloudTrail_"...)
	b = append(b, region...)
	b = t.AppendFormat(append(b, '_'), "20060102T1504Z_")
	b = append(b, rand...)
	return string(append(b, ".json.gz"...))
}

type digestEntry struct {
	key            string
	hash           [32]byte
	oldest, newest int64
}

func (g *generator) digestKey(st *ctStream, hourStart int64) string {
	end := hourStart + 3600
	delivered := end + int64(seedOf(g.w.seed, tagDigest, uint64(st.idx), uint64(hourStart))%900)
	t := time.Unix(delivered, 0).UTC()
	acct, region := st.ar.acct.id, st.ar.info.name
	return "AWSLogs/" + acct + "/CloudTrail-Digest/" + region + "/" + t.Format("2006/01/02") + "/" +
		acct + "_CloudTrail-Digest_" + region + "_" + st.ar.acct.trailName + "_" + region + "_" + t.Format("20060102T150405Z") + ".json.gz"
}

// ctDigest writes the hourly integrity digest that CloudTrail delivers next to the logs. The shape is
// AWS's; the hashes of the listed files are real (SHA-256 of their uncompressed content), the
// signatures are random hex (there is no key to sign with).
func (g *generator) ctDigest(st *ctStream, hourStart int64, files []digestEntry, sc *ctScratch, gz *gzipper) error {
	r := newRNG(g.w.seed, tagDigest, uint64(st.idx), uint64(hourStart))
	acct := st.ar.acct
	key := g.digestKey(st, hourStart)
	b := append(sc.scratch[:0], `{"awsAccountId":`...)
	b = appendStr(b, acct.id)
	b = kv(b, "digestStartTime", isoTime(hourStart))
	b = kv(b, "digestEndTime", isoTime(hourStart+3600))
	b = kv(b, "digestS3Bucket", acct.bucket)
	b = kv(b, "digestS3Object", key)
	fp := newRNG(g.w.seed, tagDigest, uint64(st.idx))
	b = kv(b, "digestPublicKeyFingerprint", fp.hex(32))
	b = kv(b, "digestSignatureAlgorithm", "SHA256withRSA")
	if len(files) > 0 {
		oldest, newest := files[0].oldest, files[0].newest
		for _, f := range files {
			oldest, newest = min(oldest, f.oldest), max(newest, f.newest)
		}
		b = kv(b, "newestEventTime", isoTime(newest))
		b = kv(b, "oldestEventTime", isoTime(oldest))
	} else {
		b = kraw(b, "newestEventTime", "null")
		b = kraw(b, "oldestEventTime", "null")
	}
	if hourStart > g.w.start {
		b = kv(b, "previousDigestS3Bucket", acct.bucket)
		b = kv(b, "previousDigestS3Object", g.digestKey(st, hourStart-3600))
		b = kv(b, "previousDigestHashValue", r.hex(64))
		b = kv(b, "previousDigestHashAlgorithm", "SHA-256")
		b = kv(b, "previousDigestSignature", r.hex(512))
	} else {
		for _, k := range []string{"previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm", "previousDigestSignature"} {
			b = kraw(b, k, "null")
		}
	}
	b = append(b, `,"logFiles":[`...)
	for i, f := range files {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"s3Bucket":`...)
		b = appendStr(b, acct.bucket)
		b = kv(b, "s3Object", f.key)
		b = kv(b, "hashValue", hex.EncodeToString(f.hash[:]))
		b = kv(b, "hashAlgorithm", "SHA-256")
		b = kv(b, "newestEventTime", isoTime(f.newest))
		b = kv(b, "oldestEventTime", isoTime(f.oldest))
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	sc.scratch = b
	body, err := gz.compress(b)
	if err != nil {
		return err
	}
	g.sum.digests.Add(1)
	return g.put(key, body, "", 0)
}

// sessionKey is the temporary access key a session principal holds at time t.
func sessionKey(p *principal, t int64) string {
	secs := p.sessionSecs
	if secs <= 0 {
		secs = 3600
	}
	return awsID("ASIA", seedOf(p.id, uint64(t/secs)))
}

func sessionStart(p *principal, t int64) int64 {
	secs := p.sessionSecs
	if secs <= 0 {
		secs = 3600
	}
	return t/secs*secs - int64(p.id%300)
}

func (g *generator) appendIdentity(b []byte, ev *ctEvent) []byte {
	p := ev.p
	acct := p.acct.id
	switch p.kind {
	case kService:
		b = append(b, `{"type":"AWSService","invokedBy":`...)
		b = appendStr(b, p.invokedBy)
		return append(b, '}')
	case kExternal:
		b = append(b, `{"type":"AWSAccount","principalId":`...)
		b = appendStr(b, p.principalID)
		b = kv(b, "accountId", p.extAccount)
		return append(b, '}')
	case kRoot:
		b = append(b, `{"type":"Root","principalId":`...)
		b = appendStr(b, acct)
		b = kv(b, "arn", p.arn)
		b = kv(b, "accountId", acct)
		if ev.a.console {
			b = kv(b, "accessKeyId", "")
			return append(b, '}')
		}
		b = kv(b, "accessKeyId", sessionKey(p, ev.t))
		b = append(b, `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":`...)
		b = appendStr(b, isoTime(sessionStart(p, ev.t)))
		b = append(b, `,"mfaAuthenticated":"false"}}}`...)
		return b
	case kIAMUser, kIAMConsole:
		b = append(b, `{"type":"IAMUser","principalId":`...)
		b = appendStr(b, p.principalID)
		b = kv(b, "arn", p.arn)
		b = kv(b, "accountId", acct)
		if ev.a.console {
			b = kv(b, "userName", p.userName)
			return append(b, '}')
		}
		if p.kind == kIAMUser {
			b = kv(b, "accessKeyId", p.akia)
			b = kv(b, "userName", p.userName)
			return append(b, '}')
		}
		b = kv(b, "accessKeyId", sessionKey(p, ev.t))
		b = kv(b, "userName", p.userName)
		b = append(b, `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":`...)
		b = appendStr(b, isoTime(sessionStart(p, ev.t)))
		b = append(b, `,"mfaAuthenticated":"true"}}}`...)
		return b
	}
	// Role sessions: SSO, workloads, instances, service-linked roles.
	b = append(b, `{"type":"AssumedRole","principalId":`...)
	b = appendStr(b, p.principalID)
	b = kv(b, "arn", p.arn)
	b = kv(b, "accountId", acct)
	b = kv(b, "accessKeyId", sessionKey(p, ev.t))
	b = append(b, `,"sessionContext":{"sessionIssuer":{"type":"Role","principalId":`...)
	b = appendStr(b, p.roleID)
	b = kv(b, "arn", p.roleARN)
	b = kv(b, "accountId", acct)
	b = kv(b, "userName", p.userName)
	b = append(b, `},"webIdFederationData":{},"attributes":{"creationDate":`...)
	b = appendStr(b, isoTime(sessionStart(p, ev.t)))
	b = append(b, `,"mfaAuthenticated":"false"}`...)
	if p.kind == kInstance {
		d := ev.delivery
		if d == "" {
			d = "2.0"
		}
		b = kv(b, "ec2RoleDelivery", d)
	}
	b = append(b, '}')
	if p.invokedBy != "" {
		b = kv(b, "invokedBy", p.invokedBy)
	}
	return append(b, '}')
}

// appendCTEvent renders one record in CloudTrail's field order.
func (g *generator) appendCTEvent(b []byte, ev *ctEvent, r *rng, sc *ctScratch) []byte {
	p, a := ev.p, ev.a
	region := g.w.regions[ev.region].name
	svc := p.kind == kService || p.kind == kServiceLinked

	// Draw what a background event leaves open.
	srcIP, ua, vpce := ev.srcIP, ev.ua, ""
	if srcIP == "" {
		switch {
		case svc:
			srcIP = p.invokedBy
		case p.kind == kInstance && ev.h != nil && ev.h.vpce:
			srcIP, vpce = p.inst.ipStr, p.inst.vpc.vpce
		case p.kind == kRole && len(p.lambdaIPs) > 0:
			srcIP = p.lambdaIPs[r.intn(len(p.lambdaIPs))]
		case len(p.ips) > 1 && r.chance(0.3):
			srcIP = p.ips[1+r.intn(len(p.ips)-1)]
		case len(p.ips) > 0:
			srcIP = p.ips[0]
		default:
			srcIP = "AWS Internal"
		}
	}
	if ua == "" {
		switch {
		case svc:
			ua = p.invokedBy
		case ev.h != nil && ev.h.ua != "":
			ua = ev.h.ua
		default:
			ua = p.ua
		}
	}
	if a.service() == "s3" && !svc && !strings.HasPrefix(ua, "[") {
		ua = "[" + ua + "]" // S3 logs the agent in brackets
	}
	errCode, errMsg := ev.errCode, ev.errMsg
	if !ev.planted && p.errRate > 0 && r.chance(p.errRate) {
		if a.console {
			errMsg = "Failed authentication"
		} else if r.chance(0.75) {
			errCode, errMsg = a.denyCode(), denyMessage(a, p.arn)
		} else {
			errCode, errMsg = a.notFoundCode(), "The requested resource was not found."
		}
	}
	failed := errCode != "" || errMsg != ""
	g.buildParams(ev, region, r, sc, failed)

	b = append(b, `{"eventVersion":`...)
	switch {
	case a.data:
		b = append(b, `"1.10"`...)
	case a.console:
		b = append(b, `"1.08"`...)
	default:
		b = append(b, `"1.09"`...)
	}
	b = append(b, `,"userIdentity":`...)
	b = g.appendIdentity(b, ev)
	b = append(b, `,"eventTime":"`...)
	b = appendTime(b, ev.t)
	b = append(b, '"')
	b = kv(b, "eventSource", a.source)
	b = kv(b, "eventName", a.name)
	b = kv(b, "awsRegion", region)
	b = kv(b, "sourceIPAddress", srcIP)
	b = kv(b, "userAgent", ua)
	if errCode != "" {
		b = kv(b, "errorCode", errCode)
	}
	if errMsg != "" {
		b = kv(b, "errorMessage", errMsg)
	}
	b = append(b, `,"requestParameters":`...)
	if sc.hasParams {
		b = append(b, sc.params...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"responseElements":`...)
	if sc.hasResp {
		b = append(b, sc.resp...)
	} else {
		b = append(b, "null"...)
	}
	if len(sc.addl) > 0 {
		b = append(b, `,"additionalEventData":`...)
		b = append(b, sc.addl...)
	}
	if !a.console {
		b = append(b, `,"requestID":"`...)
		if ev.requestID != "" {
			b = append(b, ev.requestID...)
		} else {
			b = r.appendUUID(b)
		}
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	if ev.id != "" {
		b = append(b, ev.id...)
	} else {
		b = r.appendUUID(b)
	}
	b = append(b, '"')
	b = kbool(b, "readOnly", a.readOnly)
	if len(sc.res) > 0 {
		b = append(b, `,"resources":`...)
		b = append(b, sc.res...)
	}
	if a.console {
		b = kv(b, "eventType", "AwsConsoleSignIn")
	} else {
		b = kv(b, "eventType", "AwsApiCall")
	}
	b = kbool(b, "managementEvent", !a.data)
	b = kv(b, "recipientAccountId", p.acct.id)
	if vpce != "" {
		b = kv(b, "vpcEndpointId", vpce)
		b = kv(b, "vpcEndpointAccountId", p.acct.id)
	}
	if a.data {
		b = kv(b, "eventCategory", "Data")
	} else {
		b = kv(b, "eventCategory", "Management")
	}
	if !svc {
		b = append(b, `,"tlsDetails":{"tlsVersion":`...)
		if p.id&7 == 0 {
			b = append(b, `"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256"`...)
		} else {
			b = append(b, `"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"`...)
		}
		b = kv(b, "clientProvidedHostHeader", hostHeader(a, region, sc))
		b = append(b, '}')
	}
	if p.console && !a.console {
		b = kv(b, "sessionCredentialFromConsole", "true")
	}
	return append(b, '}')
}

func hostHeader(a *api, region string, sc *ctScratch) string {
	switch a.service() {
	case "iam":
		return "iam.amazonaws.com"
	case "organizations":
		return "organizations.us-east-1.amazonaws.com"
	case "signin":
		return "signin.aws.amazon.com"
	case "ecr":
		return "api.ecr." + region + ".amazonaws.com"
	case "monitoring":
		return "monitoring." + region + ".amazonaws.com"
	}
	return a.service() + "." + region + ".amazonaws.com"
}

// buildParams fills sc.params/resp/addl/res for ev.
func (g *generator) buildParams(ev *ctEvent, region string, r *rng, sc *ctScratch, failed bool) {
	sc.params, sc.resp, sc.addl, sc.res = sc.params[:0], sc.resp[:0], sc.addl[:0], sc.res[:0]
	sc.hasParams, sc.hasResp = false, false
	if ev.fixed {
		sc.params = append(sc.params, ev.params...)
		sc.hasParams = ev.params != ""
		if ev.resp != "" && !failed {
			sc.resp = append(sc.resp, ev.resp...)
			sc.hasResp = true
		}
		sc.addl = append(sc.addl, ev.addl...)
		sc.res = append(sc.res, ev.resources...)
		if ev.a.params == pConsoleLogin {
			if !sc.hasResp {
				sc.resp, sc.hasResp = append(sc.resp, `{"ConsoleLogin":"Success"}`...), true
			}
			if ev.addl == "" {
				sc.addl = consoleLoginAddl(sc.addl, ev.p, ev.mfaUsed != "No")
			}
		}
		return
	}
	p, a := ev.p, ev.a
	acct := p.acct
	ar := acct.regions[ev.region]
	b := sc.params[:0]
	switch a.params {
	case pNull:
		goto resp
	case pEmpty:
		b = append(b, "{}"...)
	case pEC2Filter:
		switch a.name {
		case "DescribeInstances":
			b = append(b, `{"instancesSet":{},"filterSet":{}}`...)
		case "DescribeRegions":
			b = append(b, `{"regionSet":{}}`...)
		case "DescribeTags":
			b = append(b, `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":`...)
			b = appendStr(b, pickInstance(ar, r))
			b = append(b, `}]}}]}}`...)
		default:
			b = append(b, `{"maxResults":1000,"filterSet":{}}`...)
		}
	case pInstance:
		b = append(b, `{"instancesSet":{"items":[{"instanceId":`...)
		b = appendStr(b, pickInstance(ar, r))
		b = append(b, `}]}}`...)
	case pTags:
		b = append(b, `{"resourcesSet":{"items":[{"resourceId":`...)
		b = appendStr(b, pickInstance(ar, r))
		b = append(b, `}]},"tagSet":{"items":[{"key":"Owner","value":`...)
		b = appendStr(b, p.userName)
		b = append(b, `}]}}`...)
	case pSGIngress:
		b = append(b, `{"groupId":"sg-0`...)
		b = r.appendHex(b, 16)
		b = append(b, `","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"groups":{},"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`...)
	case pS3Host:
		b = append(b, `{"Host":"s3.`...)
		b = append(b, region...)
		b = append(b, `.amazonaws.com"}`...)
	case pBucket, pObject:
		bucket := acct.buckets[r.intn(len(acct.buckets))]
		b = append(b, `{"bucketName":`...)
		b = appendStr(b, bucket)
		b = append(b, `,"Host":"`...)
		b = append(b, bucket...)
		b = append(b, ".s3."...)
		b = append(b, region...)
		b = append(b, `.amazonaws.com"`...)
		key := ""
		switch {
		case a.params == pObject:
			key = objectKey(p, ev.t, r)
			b = kv(b, "key", key)
		case a.name == "GetBucketAcl":
			b = kv(b, "acl", "")
		case a.name == "ListObjects":
			b = kv(b, "list-type", "2")
			b = kv(b, "prefix", "")
		}
		b = append(b, '}')
		if a.data {
			sc.res = append(sc.res[:0], '[')
			if key != "" {
				sc.res = append(sc.res, `{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::`...)
				sc.res = append(sc.res, bucket...)
				sc.res = append(sc.res, '/')
				sc.res = append(sc.res, key...)
				sc.res = append(sc.res, `"},`...)
			}
			sc.res = append(sc.res, `{"accountId":`...)
			sc.res = appendStr(sc.res, acct.id)
			sc.res = append(sc.res, `,"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
			sc.res = append(sc.res, bucket...)
			sc.res = append(sc.res, `"}]`...)
			sc.addl = append(sc.addl[:0], `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":`...)
			in, out := 0, 0
			if a.name == "PutObject" {
				in = r.heavy(200, 60000)
			} else if a.name == "GetObject" {
				out = r.heavy(200, 60000)
			}
			sc.addl = strconv.AppendInt(sc.addl, int64(in), 10)
			sc.addl = append(sc.addl, `,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
			sc.addl = r.appendFrom(sc.addl, mixedAlnum, 56)
			sc.addl = append(sc.addl, `","bytesTransferredOut":`...)
			sc.addl = strconv.AppendInt(sc.addl, int64(out), 10)
			sc.addl = append(sc.addl, '}')
		}
	case pUser:
		name := p.userName
		if p.kind != kIAMUser && p.kind != kIAMConsole || r.chance(0.4) {
			name = acct.userNames[r.intn(len(acct.userNames))]
		}
		b = append(b, `{"userName":`...)
		b = appendStr(b, name)
		b = append(b, '}')
	case pRole:
		b = append(b, `{"roleName":`...)
		b = appendStr(b, acct.roleNames[r.intn(len(acct.roleNames))])
		b = append(b, '}')
	case pPolicy:
		b = append(b, `{"policyArn":"arn:aws:iam::aws:policy/`...)
		b = append(b, []string{"ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole", "AmazonSSMManagedInstanceCore"}[r.intn(4)]...)
		b = append(b, '"')
		if a.name == "GetPolicyVersion" {
			b = kv(b, "versionId", "v1")
		}
		b = append(b, '}')
	case pAssumeRole:
		target := assumeTarget(p, ar, r)
		if target == nil {
			b = append(b, "{}"...)
			break
		}
		b = append(b, `{"roleArn":`...)
		b = appendStr(b, target.roleARN)
		b = kv(b, "roleSessionName", target.sessionName)
		b = append(b, '}')
		sc.res = append(sc.res[:0], `[{"accountId":`...)
		sc.res = appendStr(sc.res, acct.id)
		sc.res = append(sc.res, `,"type":"AWS::IAM::Role","ARN":`...)
		sc.res = appendStr(sc.res, target.roleARN)
		sc.res = append(sc.res, "}]"...)
		if !failed {
			sc.hasResp = true
			sc.resp = append(sc.resp[:0], `{"credentials":{"accessKeyId":`...)
			sc.resp = appendStr(sc.resp, sessionKey(target, ev.t+60))
			sc.resp = append(sc.resp, `,"sessionToken":"IQoJb3JpZ2luX2VjE`...)
			sc.resp = r.appendFrom(sc.resp, mixedAlnum, 48)
			sc.resp = append(sc.resp, `","expiration":`...)
			sc.resp = appendStr(sc.resp, time.Unix(ev.t+6*3600, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM"))
			sc.resp = append(sc.resp, `},"assumedRoleUser":{"assumedRoleId":`...)
			sc.resp = appendStr(sc.resp, target.principalID)
			sc.resp = kv(sc.resp, "arn", target.arn)
			sc.resp = append(sc.resp, "}}"...)
		}
	case pFunction:
		b = append(b, `{"functionName":`...)
		b = appendStr(b, acct.functions[r.intn(len(acct.functions))])
		b = append(b, '}')
	case pLogGroup:
		b = append(b, `{"logGroupName":"/aws/lambda/`...)
		b = append(b, acct.functions[r.intn(len(acct.functions))]...)
		b = append(b, `"}`...)
	case pKMS:
		arn := "arn:aws:kms:" + region + ":" + acct.id + ":key/" + ar.kmsKey
		b = append(b, `{"keyId":`...)
		b = appendStr(b, arn)
		switch a.name {
		case "Decrypt", "Encrypt":
			b = kv(b, "encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		case "GenerateDataKey":
			b = kv(b, "keySpec", "AES_256")
		}
		b = append(b, '}')
		sc.res = append(sc.res[:0], `[{"accountId":`...)
		sc.res = appendStr(sc.res, acct.id)
		sc.res = append(sc.res, `,"type":"AWS::KMS::Key","ARN":`...)
		sc.res = appendStr(sc.res, arn)
		sc.res = append(sc.res, "}]"...)
	case pSecret:
		b = append(b, `{"secretId":`...)
		b = appendStr(b, habitualSecret(p, r))
		b = append(b, '}')
	case pParam:
		b = append(b, `{"name":`...)
		b = appendStr(b, acct.params[(int(p.id%uint64(len(acct.params)))+r.intn(2))%len(acct.params)])
		b = append(b, `,"withDecryption":true}`...)
	case pParamsPath:
		b = append(b, `{"path":`...)
		b = appendStr(b, "/prod/"+acct.repos[r.intn(len(acct.repos))])
		b = append(b, `,"recursive":true,"withDecryption":true}`...)
	case pSSMAgent:
		in := p.inst
		if in == nil {
			b = append(b, "{}"...)
			break
		}
		b = append(b, `{"instanceId":`...)
		b = appendStr(b, in.id)
		b = append(b, `,"agentVersion":"3.3.1142.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":`...)
		b = appendStr(b, in.ipStr)
		b = kv(b, "agentName", "amazon-ssm-agent")
		b = kv(b, "availabilityZone", in.sub.az)
		b = kv(b, "availabilityZoneId", in.sub.azID)
		b = append(b, '}')
	case pSSMCommand:
		if a.name == "StartSession" {
			b = append(b, `{"target":`...)
			b = appendStr(b, pickInstance(ar, r))
			b = append(b, '}')
		} else {
			b = append(b, `{"instanceIds":[`...)
			b = appendStr(b, pickInstance(ar, r))
			b = append(b, `],"documentName":"AWS-RunShellScript","parameters":"HIDDEN_DUE_TO_SECURITY_REASONS","interactive":false}`...)
		}
	case pTable, pTableItem:
		table := acct.tables[int(p.id%uint64(len(acct.tables)))]
		if p.kind != kInstance && p.kind != kRole {
			table = acct.tables[r.intn(len(acct.tables))]
		}
		b = append(b, `{"tableName":`...)
		b = appendStr(b, table)
		switch a.name {
		case "GetItem", "PutItem":
			b = append(b, `,"key":{"pk":"HIDDEN_DUE_TO_SECURITY_REASONS"}`...)
		case "Query":
			b = append(b, `,"keyConditionExpression":"pk = :pk","expressionAttributeValues":{":pk":"HIDDEN_DUE_TO_SECURITY_REASONS"}`...)
		}
		b = append(b, '}')
		if a.data {
			sc.res = append(sc.res[:0], `[{"accountId":`...)
			sc.res = appendStr(sc.res, acct.id)
			sc.res = append(sc.res, `,"type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:`...)
			sc.res = append(sc.res, region...)
			sc.res = append(sc.res, ':')
			sc.res = append(sc.res, acct.id...)
			sc.res = append(sc.res, ":table/"...)
			sc.res = append(sc.res, table...)
			sc.res = append(sc.res, `"}]`...)
		}
	case pStack:
		b = append(b, `{"stackName":`...)
		b = appendStr(b, acct.stacks[r.intn(len(acct.stacks))])
		if a.name == "CreateChangeSet" {
			b = append(b, `,"changeSetName":"cs-`...)
			b = r.appendHex(b, 12)
			b = append(b, `","changeSetType":"UPDATE","capabilities":["CAPABILITY_NAMED_IAM"]`...)
		}
		b = append(b, '}')
	case pRepo:
		b = append(b, `{"registryId":`...)
		b = appendStr(b, acct.id)
		b = kv(b, "repositoryName", acct.repos[r.intn(len(acct.repos))])
		if a.name == "GetDownloadUrlForLayer" {
			b = append(b, `,"layerDigest":"sha256:`...)
			b = r.appendHex(b, 64)
			b = append(b, `"}`...)
		} else {
			b = append(b, `,"imageIds":[{"imageTag":"latest"}]}`...)
		}
	case pECSService:
		svc := acct.repos[r.intn(len(acct.repos))]
		b = append(b, `{"cluster":"prod-cluster"`...)
		if a.name == "UpdateService" {
			b = kv(b, "service", svc)
			b = append(b, `,"forceNewDeployment":true}`...)
		} else {
			b = append(b, `,"services":[`...)
			b = appendStr(b, svc)
			b = append(b, "]}"...)
		}
	case pQueue:
		b = append(b, `{"queueUrl":"https://sqs.`...)
		b = append(b, region...)
		b = append(b, ".amazonaws.com/"...)
		b = append(b, acct.id...)
		b = append(b, '/')
		b = append(b, acct.queues[r.intn(len(acct.queues))]...)
		b = append(b, `","attributeNames":["All"]}`...)
	case pTrail:
		arn := "arn:aws:cloudtrail:us-east-1:" + acct.id + ":trail/" + acct.trailName
		if a.name == "GetEventSelectors" {
			b = append(b, `{"trailName":`...)
		} else {
			b = append(b, `{"name":`...)
		}
		b = appendStr(b, arn)
		b = append(b, '}')
	case pDetector:
		b = append(b, `{"detectorId":`...)
		b = appendStr(b, ar.detector)
		b = append(b, '}')
	case pConsoleLogin:
		if failed {
			sc.resp = append(sc.resp[:0], `{"ConsoleLogin":"Failure"}`...)
		} else {
			sc.resp = append(sc.resp[:0], `{"ConsoleLogin":"Success"}`...)
		}
		sc.hasResp = true
		sc.addl = consoleLoginAddl(sc.addl[:0], p, p.mfa)
		return
	case pAlarm:
		if a.name == "DescribeAlarms" {
			b = append(b, `{"stateValue":"ALARM"}`...)
		} else {
			b = append(b, `{"alarmName":`...)
			b = appendStr(b, "prod-"+acct.repos[r.intn(len(acct.repos))]+"-high-cpu")
			b = append(b, `,"metricName":"CPUUtilization","namespace":"AWS/EC2","statistic":"Average","period":300,"threshold":80.0,"comparisonOperator":"GreaterThanThreshold","evaluationPeriods":3}`...)
		}
	}
	sc.params, sc.hasParams = b, true
resp:
	if failed || sc.hasResp {
		return
	}
	switch a.name {
	case "StartInstances", "StopInstances", "RebootInstances", "CreateTags", "AuthorizeSecurityGroupIngress":
		sc.hasResp = true
		sc.resp = append(sc.resp[:0], `{"requestId":"`...)
		sc.resp = r.appendUUID(sc.resp)
		sc.resp = append(sc.resp, `","_return":true}`...)
	case "CreateChangeSet":
		sc.hasResp = true
		sc.resp = append(sc.resp[:0], `{"id":"arn:aws:cloudformation:`...)
		sc.resp = append(sc.resp, region...)
		sc.resp = append(sc.resp, ':')
		sc.resp = append(sc.resp, acct.id...)
		sc.resp = append(sc.resp, ":changeSet/cs/"...)
		sc.resp = r.appendUUID(sc.resp)
		sc.resp = append(sc.resp, `"}`...)
	case "PutSecretValue":
		sc.hasResp = true
		sc.resp = append(sc.resp[:0], `{"versionId":"`...)
		sc.resp = r.appendUUID(sc.resp)
		sc.resp = append(sc.resp, `","versionStages":["AWSCURRENT"]}`...)
	}
}

func consoleLoginAddl(b []byte, p *principal, mfa bool) []byte {
	b = append(b, `{"LoginTo":"https://console.aws.amazon.com/console/home?region=us-east-1","MobileVersion":"No"`...)
	if mfa && p.kind != kRoot {
		b = kv(b, "MFAIdentifier", "arn:aws:iam::"+p.acct.id+":mfa/"+p.userName)
	}
	if mfa {
		b = kv(b, "MFAUsed", "Yes")
	} else {
		b = kv(b, "MFAUsed", "No")
	}
	return append(b, '}')
}

func pickInstance(ar *acctRegion, r *rng) string {
	if len(ar.instances) == 0 {
		return "i-00000000000000000"
	}
	return ar.instances[r.intn(len(ar.instances))].id
}

// assumeTarget: the session an AWS service is fetching credentials for.
func assumeTarget(p *principal, ar *acctRegion, r *rng) *principal {
	switch p.invokedBy {
	case "ec2.amazonaws.com":
		if len(ar.instances) > 0 {
			return ar.instances[r.intn(len(ar.instances))].p
		}
	case "lambda.amazonaws.com":
		if len(ar.lambdas) > 0 {
			return ar.lambdas[r.intn(len(ar.lambdas))]
		}
	}
	return nil
}

// habitualSecret: workloads read the one or two secrets of their app; people browse more widely.
func habitualSecret(p *principal, r *rng) string {
	s := p.acct.secrets
	if p.kind == kInstance || p.kind == kRole {
		return s[(int(p.id%uint64(len(s)))+r.intn(2))%len(s)]
	}
	return s[r.intn(len(s))]
}

var objectPrefixes = []string{"uploads", "exports", "reports", "images", "events", "backups", "artifacts"}

func objectKey(p *principal, t int64, r *rng) string {
	b := make([]byte, 0, 64)
	b = append(b, objectPrefixes[int(p.id%uint64(len(objectPrefixes)))]...)
	b = time.Unix(t, 0).UTC().AppendFormat(append(b, '/'), "2006/01/02/")
	b = r.appendHex(b, 16)
	return string(append(b, ".json"...))
}

// drawTimes appends n sorted times in [t0, t1).
func drawTimes(ts []int64, n int, t0, t1 int64, r *rng) []int64 {
	for i := 0; i < n; i++ {
		ts = append(ts, t0+int64(r.intn(int(t1-t0))))
	}
	slices.Sort(ts)
	return ts
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
