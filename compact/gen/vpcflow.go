package gen

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

type vpc struct {
	idx              int
	ar               *acctRegion
	vidx             int
	env              string
	id               string
	octet            int // 10.octet.0.0/16
	flowLogID        string
	vpce             string // S3 gateway endpoint
	resolverEndpoint string
	resolverENI      string
	format           *flowFormat
	natIP            string
	subnets          []*subnet
	instances        []*instance
	albs             []*instance // load balancer interfaces: no instance id
	offices          []uint32    // where admins SSH from
	clients          []uint32    // the world's: users of the load balancers
	scanners         []uint32    // the world's internet scanners
	byTier           [5][]*instance

	conns        []conn
	connSamp     sampler
	flowVol      volume
	flowInterval int
	// flowDeletedAt: the flow log was deleted (a planted DeleteFlowLogs); nothing is delivered after it.
	flowDeletedAt int64
	plantedFlows  []flowRec // sorted by start

	dnsSources   []*instance // nil entry = queries arriving through the inbound resolver endpoint
	dnsSamp      sampler
	dnsVol       volume
	dnsInterval  int
	plantedDNS   []dnsQuery // sorted by time
	dnsProfiles  [5]*domainProfile
	inboundNames []string
}

// Flow-log record formats. The first is a custom v5 order (fields reordered as users do); the
// second is the default format. Readers must take the order from the header line.
var flowFormats = []*flowFormat{
	newFlowFormat("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service", 5),
	newFlowFormat("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status", 2),
}

type flowField int

const (
	fVersion flowField = iota
	fAccount
	fInterface
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	fVPC
	fSubnet
	fInstance
	fTCPFlags
	fType
	fPktSrc
	fPktDst
	fRegion
	fAZ
	fDirection
	fPath
	fPktSrcSvc
	fPktDstSvc
)

var flowFieldNames = map[string]flowField{
	"version": fVersion, "account-id": fAccount, "interface-id": fInterface, "srcaddr": fSrcAddr, "dstaddr": fDstAddr,
	"srcport": fSrcPort, "dstport": fDstPort, "protocol": fProtocol, "packets": fPackets, "bytes": fBytes, "start": fStart,
	"end": fEnd, "action": fAction, "log-status": fLogStatus, "vpc-id": fVPC, "subnet-id": fSubnet, "instance-id": fInstance,
	"tcp-flags": fTCPFlags, "type": fType, "pkt-srcaddr": fPktSrc, "pkt-dstaddr": fPktDst, "region": fRegion, "az-id": fAZ,
	"flow-direction": fDirection, "traffic-path": fPath, "pkt-src-aws-service": fPktSrcSvc, "pkt-dst-aws-service": fPktDstSvc,
}

type flowFormat struct {
	header  string
	fields  []flowField
	version string
}

func newFlowFormat(header string, version int) *flowFormat {
	f := &flowFormat{header: header, version: strconv.Itoa(version)}
	for _, name := range strings.Fields(header) {
		id, ok := flowFieldNames[name]
		if !ok {
			panic("gen: unknown flow field " + name)
		}
		f.fields = append(f.fields, id)
	}
	return f
}

// flowRec is one record, captured on the interface eni.
type flowRec struct {
	start, end     int64
	eni            *instance
	src, dst       uint32
	sport, dport   int
	proto          int
	packets, bytes int64
	reject         bool
	status         byte // 0 OK, 1 NODATA
	flags          int
	egress         bool
	path           int // 0 renders '-'
	srcSvc, dstSvc string
}

type connKind int

const (
	cNet    connKind = iota // instance → Internet (via NAT, or directly from a public subnet)
	cS3                     // instance → S3 through the gateway endpoint
	cDDB                    // instance → DynamoDB through the gateway endpoint
	cPeer                   // instance → instance of another tier
	cClient                 // Internet client → load balancer
	cScan                   // Internet scanner → public interface, rejected
	cSSH                    // office → bastion:22
	cNTP                    // instance → public NTP (UDP)
)

type conn struct {
	kind    connKind
	from    *instance
	to      *instance
	toTier  tier
	port    int
	domains []string
}

// buildTraffic sets up what each interface in the VPC talks to.
func (v *vpc) buildTraffic(w *world) {
	for _, in := range v.instances {
		v.byTier[in.tier] = append(v.byTier[in.tier], in)
	}
	v.buildDNS(w)
	add := func(c conn, wt float64) {
		v.conns = append(v.conns, c)
		v.connSamp.add(wt)
	}
	for _, in := range v.instances {
		net := v.dnsProfiles[in.tier].internet
		wt := in.weight
		switch in.tier {
		case tWeb:
			add(conn{kind: cNet, from: in, port: 443, domains: net}, 2*wt)
			add(conn{kind: cS3, from: in, port: 443}, 2*wt)
			add(conn{kind: cPeer, from: in, toTier: tApp, port: 8080}, 4*wt)
		case tApp:
			add(conn{kind: cPeer, from: in, toTier: tDB, port: 5432}, 4*wt)
			add(conn{kind: cDDB, from: in, port: 443}, 3*wt)
			add(conn{kind: cS3, from: in, port: 443}, wt)
			add(conn{kind: cNet, from: in, port: 443, domains: net}, 2*wt)
		case tDB:
			add(conn{kind: cS3, from: in, port: 443}, wt)
			add(conn{kind: cNet, from: in, port: 443, domains: net}, 0.2*wt)
		case tBatch:
			add(conn{kind: cS3, from: in, port: 443}, 5*wt)
			add(conn{kind: cNet, from: in, port: 443, domains: net}, 2*wt)
			add(conn{kind: cNTP, from: in, port: 123}, 0.3*wt)
		case tBastion:
			add(conn{kind: cSSH, to: in, port: 22}, wt)
			add(conn{kind: cScan, to: in}, 3*wt)
			add(conn{kind: cNet, from: in, port: 443, domains: net}, 0.5*wt)
		}
	}
	for _, alb := range v.albs {
		add(conn{kind: cClient, to: alb, port: 443}, 6)
		add(conn{kind: cPeer, from: alb, toTier: tWeb, port: 8080}, 6)
		add(conn{kind: cScan, to: alb}, 2)
	}
	// Drop peer patterns whose tier this VPC does not have.
	var conns []conn
	var s sampler
	for i, c := range v.conns {
		if c.kind == cPeer && len(v.byTier[c.toTier]) == 0 {
			continue
		}
		conns = append(conns, c)
		prev := 0.0
		if i > 0 {
			prev = v.connSamp.cum[i-1]
		}
		s.add(v.connSamp.cum[i] - prev)
	}
	v.conns, v.connSamp = conns, s
}

var scanPorts = []int{22, 23, 445, 3389, 5900, 6379, 8080, 9200, 1433, 3306, 5432, 2375, 7547, 81}

func s3Block(ridx int) block {
	return block{base: ip4(52, 216, 0, 0) + uint32(ridx)<<13, size: 1 << 13}
}
func ddbBlock(ridx int) block {
	return block{base: ip4(3, 218, 176, 0) + uint32(ridx)<<10, size: 1 << 10}
}

const ephemeralLo, ephemeralHi = 32768, 60999

// emitConn appends the records one connection produces on the interfaces of this VPC.
func (v *vpc) emitConn(out []flowRec, c *conn, t int64, r *rng) []flowRec {
	start := t
	end := start + int64(r.between(1, 60))
	ridx := v.ar.ridx
	pair := func(on *instance, src, dst uint32, sport, dport, proto int, outB, inB int, path int, svcOut string) {
		pk := int64(max(1, outB/400))
		flagsOut, flagsIn := 3, 19
		if proto == 17 {
			flagsOut, flagsIn = 0, 0
		}
		out = append(out,
			flowRec{start: start, end: end, eni: on, src: src, dst: dst, sport: sport, dport: dport, proto: proto,
				packets: pk, bytes: int64(outB), flags: flagsOut, egress: true, path: path, dstSvc: svcOut},
			flowRec{start: start, end: end, eni: on, src: dst, dst: src, sport: dport, dport: sport, proto: proto,
				packets: int64(max(1, inB/900)), bytes: int64(inB), flags: flagsIn, srcSvc: svcOut})
	}
	eph := r.between(ephemeralLo, ephemeralHi)
	switch c.kind {
	case cNet:
		d := c.domains[r.intn(len(c.domains))]
		path := 1
		if c.from.publicIP != 0 {
			path = 8
		}
		pair(c.from, c.from.ip, ipFor(d, ridx), eph, c.port, 6, r.heavy(400, 6000), r.heavy(1500, 90000), path, "")
	case cS3:
		pair(c.from, c.from.ip, s3Block(ridx).host(r), eph, 443, 6, r.heavy(600, 40000), r.heavy(1000, 400000), 7, "S3")
	case cDDB:
		pair(c.from, c.from.ip, ddbBlock(ridx).host(r), eph, 443, 6, r.heavy(400, 3000), r.heavy(400, 9000), 7, "DYNAMODB")
	case cNTP:
		pair(c.from, c.from.ip, hostingBlocks[3].hostOf(hashStr("ntp")+uint64(r.intn(4))), 123, 123, 17, 76, 76, 1, "")
	case cPeer:
		peers := v.byTier[c.toTier]
		to := peers[r.intn(len(peers))]
		outB, inB := r.heavy(300, 4000), r.heavy(600, 30000)
		pair(c.from, c.from.ip, to.ip, eph, c.port, 6, outB, inB, 1, "")
		// The same connection seen on the receiving interface.
		out = append(out,
			flowRec{start: start, end: end, eni: to, src: c.from.ip, dst: to.ip, sport: eph, dport: c.port, proto: 6,
				packets: int64(max(1, outB/400)), bytes: int64(outB), flags: 3},
			flowRec{start: start, end: end, eni: to, src: to.ip, dst: c.from.ip, sport: c.port, dport: eph, proto: 6,
				packets: int64(max(1, inB/900)), bytes: int64(inB), flags: 19, egress: true, path: 1})
	case cClient:
		client := v.clients[r.intn(len(v.clients))]
		inB, outB := r.heavy(300, 3000), r.heavy(1000, 60000)
		out = append(out,
			flowRec{start: start, end: end, eni: c.to, src: client, dst: c.to.ip, sport: eph, dport: 443, proto: 6,
				packets: int64(max(1, inB/400)), bytes: int64(inB), flags: 3},
			flowRec{start: start, end: end, eni: c.to, src: c.to.ip, dst: client, sport: 443, dport: eph, proto: 6,
				packets: int64(max(1, outB/900)), bytes: int64(outB), flags: 19, egress: true, path: 8})
	case cSSH:
		office := v.offices[r.intn(len(v.offices))]
		inB, outB := r.heavy(2000, 20000), r.heavy(3000, 80000)
		out = append(out,
			flowRec{start: start, end: end, eni: c.to, src: office, dst: c.to.ip, sport: eph, dport: 22, proto: 6,
				packets: int64(max(1, inB/200)), bytes: int64(inB), flags: 3},
			flowRec{start: start, end: end, eni: c.to, src: c.to.ip, dst: office, sport: 22, dport: eph, proto: 6,
				packets: int64(max(1, outB/600)), bytes: int64(outB), flags: 19, egress: true, path: 8})
	case cScan:
		scanner := v.scanners[r.intn(len(v.scanners))]
		out = append(out, flowRec{start: start, end: start + int64(r.intn(5)), eni: c.to, src: scanner, dst: c.to.ip,
			sport: eph, dport: scanPorts[r.intn(len(scanPorts))], proto: 6, packets: 1, bytes: int64(40 + 4*r.intn(6)),
			reject: true, flags: 2})
	}
	return out
}

type flowScratch struct {
	recs  []flowRec
	times []int64
	buf   []byte
}

func (g *generator) flowHour(v *vpc, day, hour int, sc *flowScratch, gz *gzipper) error {
	w := g.w
	dt := w.dayType(day)
	pre := v.flowVol.prefix(w.seed, seedOf(tagFlow, uint64(v.idx)), day, dt)
	r := newRNG(w.seed, tagFlow, uint64(v.idx), uint64(day), uint64(hour))
	dayStart := w.start + int64(day)*86400
	carry := 0 // records emitted beyond the previous window's count (a connection yields up to four)
	for m := hour * 60; m < hour*60+60; m += v.flowInterval {
		n := countIn(&pre, m, m+v.flowInterval) - carry
		t0 := dayStart + int64(m)*60
		t1 := t0 + int64(v.flowInterval)*60
		if v.flowDeletedAt > 0 && t0 >= v.flowDeletedAt {
			return nil
		}
		recs := sc.recs[:0]
		if len(v.instances) > 0 && r.chance(0.15) {
			in := v.instances[r.intn(len(v.instances))]
			recs = append(recs, flowRec{start: t0, end: t0 + int64(r.between(50, 60)), eni: in, status: 1})
		}
		// Connections at sorted times (at most n of them), planted records merged in by start.
		sc.times = drawTimes(sc.times[:0], max(n, 0), t0, t1, &r)
		pi, _ := slices.BinarySearchFunc(v.plantedFlows, t0, func(f flowRec, t int64) int { return cmpInt(f.start, t) })
		bg := 0
		for _, t := range sc.times {
			if bg >= n {
				break
			}
			for ; pi < len(v.plantedFlows) && v.plantedFlows[pi].start <= t; pi++ {
				recs = append(recs, v.plantedFlows[pi])
			}
			k := v.connSamp.pick(&r)
			if k < 0 {
				break
			}
			before := len(recs)
			recs = v.emitConn(recs, &v.conns[k], t, &r)
			bg += len(recs) - before
		}
		carry = bg - n
		for ; pi < len(v.plantedFlows) && v.plantedFlows[pi].start < t1; pi++ {
			recs = append(recs, v.plantedFlows[pi])
		}
		if v.flowDeletedAt > 0 {
			recs = slices.DeleteFunc(recs, func(f flowRec) bool { return f.start >= v.flowDeletedAt })
		}
		sc.recs = recs
		if len(recs) == 0 {
			continue
		}
		b := append(sc.buf[:0], v.format.header...)
		b = append(b, '\n')
		for i := range recs {
			b = v.appendFlow(b, &recs[i])
			b = append(b, '\n')
		}
		sc.buf = b
		body, err := gz.compress(b)
		if err != nil {
			return err
		}
		key := flowKey(v, t1+int64(r.between(0, 4))*60, r.hex(8))
		if err := g.put(key, body, tableVPCFlow, int64(len(recs))); err != nil {
			return err
		}
	}
	return nil
}

func flowKey(v *vpc, delivered int64, hash string) string {
	t := time.Unix(delivered, 0).UTC()
	acct, region := v.ar.acct.id, v.ar.info.name
	return "AWSLogs/" + acct + "/vpcflowlogs/" + region + "/" + t.Format("2006/01/02") + "/" +
		acct + "_vpcflowlogs_" + region + "_" + v.flowLogID + "_" + t.Format("20060102T1504Z") + "_" + hash + ".log.gz"
}

func (v *vpc) appendFlow(b []byte, f *flowRec) []byte {
	nodata := f.status == 1
	for i, fld := range v.format.fields {
		if i > 0 {
			b = append(b, ' ')
		}
		if nodata {
			switch fld {
			case fVersion, fAccount, fInterface, fStart, fEnd, fLogStatus, fVPC, fSubnet, fInstance, fRegion, fAZ:
			default:
				b = append(b, '-')
				continue
			}
		}
		switch fld {
		case fVersion:
			b = append(b, v.format.version...)
		case fAccount:
			b = append(b, v.ar.acct.id...)
		case fInterface:
			b = append(b, f.eni.eni...)
		case fSrcAddr, fPktSrc:
			b = appendIP(b, f.src)
		case fDstAddr, fPktDst:
			b = appendIP(b, f.dst)
		case fSrcPort:
			b = strconv.AppendInt(b, int64(f.sport), 10)
		case fDstPort:
			b = strconv.AppendInt(b, int64(f.dport), 10)
		case fProtocol:
			b = strconv.AppendInt(b, int64(f.proto), 10)
		case fPackets:
			b = strconv.AppendInt(b, f.packets, 10)
		case fBytes:
			b = strconv.AppendInt(b, f.bytes, 10)
		case fStart:
			b = strconv.AppendInt(b, f.start, 10)
		case fEnd:
			b = strconv.AppendInt(b, f.end, 10)
		case fAction:
			if f.reject {
				b = append(b, "REJECT"...)
			} else {
				b = append(b, "ACCEPT"...)
			}
		case fLogStatus:
			if nodata {
				b = append(b, "NODATA"...)
			} else {
				b = append(b, "OK"...)
			}
		case fVPC:
			b = append(b, v.id...)
		case fSubnet:
			b = append(b, f.eni.sub.id...)
		case fInstance:
			if f.eni.id == "" {
				b = append(b, '-')
			} else {
				b = append(b, f.eni.id...)
			}
		case fTCPFlags:
			b = strconv.AppendInt(b, int64(f.flags), 10)
		case fType:
			b = append(b, "IPv4"...)
		case fRegion:
			b = append(b, v.ar.info.name...)
		case fAZ:
			b = append(b, f.eni.sub.azID...)
		case fDirection:
			if f.egress {
				b = append(b, "egress"...)
			} else {
				b = append(b, "ingress"...)
			}
		case fPath:
			if f.egress && f.path > 0 {
				b = strconv.AppendInt(b, int64(f.path), 10)
			} else {
				b = append(b, '-')
			}
		case fPktSrcSvc:
			b = appendDash(b, f.srcSvc)
		case fPktDstSvc:
			b = appendDash(b, f.dstSvc)
		}
	}
	return b
}

func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}
