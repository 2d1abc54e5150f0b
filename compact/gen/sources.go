package gen

import (
	"fmt"
	"strings"

	"github.com/lakehunt/lakehunt/compact/source"
)

// The sources with their own generator (compact/source.Def.Generate: waf, alb, guardduty, securityhub,
// hids) write their background about the world exported here, and their planted records are written
// with the source's Fixture, as a hunt test's events are: the planner builds them in that form.

// loadBalancer is the internet-facing ALB of a VPC that has one, with the WAF web ACL in front of it.
type loadBalancer struct {
	name, host, webACL, aclName, targetGroup string
}

func (w *world) loadBalancer(v *vpc) loadBalancer {
	r := newRNG(w.seed, hashStr("alb"), hashStr(v.id))
	region, acct := v.ar.info.name, v.ar.acct.id
	lb := loadBalancer{name: "app/" + v.env + "-web/" + r.hex(16), host: v.env + "." + w.corp + ".example", aclName: v.env + "-web-acl"}
	lb.webACL = "arn:aws:wafv2:" + region + ":" + acct + ":regional/webacl/" + lb.aclName + "/" + r.uuid()
	lb.targetGroup = "arn:aws:elasticloadbalancing:" + region + ":" + acct + ":targetgroup/" + v.env + "-web/" + r.hex(16)
	return lb
}

func (in *instance) hostname() string { return source.HostName(in.ipStr, in.vpc.ar.info.name) }

// export is the world as the other sources' generators see it.
func (w *world) export() source.GenWorld {
	var g source.GenWorld
	for _, acct := range w.accounts {
		for _, ar := range acct.regions {
			agents := 0
			for _, v := range ar.vpcs {
				for _, in := range v.instances {
					agents++
					gi := source.GenInstance{Account: acct.id, Region: ar.info.name, ID: in.id, Hostname: in.hostname(), PrivateIP: in.ipStr,
						Tier: tierNames[in.tier], Role: in.role, AgentID: agentID(agents)}
					if in.publicIP != 0 {
						gi.PublicIP = ipString(in.publicIP)
					}
					g.Instances = append(g.Instances, gi)
				}
				if len(v.albs) == 0 || len(v.byTier[tWeb]) == 0 {
					continue
				}
				lb := w.loadBalancer(v)
				gl := source.GenLoadBalancer{Account: acct.id, Region: ar.info.name, Name: lb.name, Host: lb.host, TargetGroup: lb.targetGroup, WebACL: lb.webACL}
				for _, n := range v.albs {
					gl.Nodes = append(gl.Nodes, n.ipStr)
				}
				for _, t := range v.byTier[tWeb] {
					gl.Targets = append(gl.Targets, t.ipStr+":8080")
				}
				g.LoadBalancers = append(g.LoadBalancers, gl)
			}
		}
		for _, b := range acct.buckets {
			g.Buckets = append(g.Buckets, source.GenBucket{Account: acct.id, Name: b})
		}
		for _, p := range append(append([]*principal{}, acct.people...), acct.ci) {
			if p.kind == kIAMUser {
				g.AccessKeys = append(g.AccessKeys, source.GenAccessKey{Account: acct.id, ID: p.akia, UserName: p.userName, PrincipalID: p.principalID})
			}
		}
	}
	for _, ips := range []struct {
		from []uint32
		to   *[]string
	}{{w.clients, &g.Clients}, {w.scanners, &g.Scanners}, {w.offices, &g.Offices}} {
		for _, ip := range ips.from {
			*ips.to = append(*ips.to, ipString(ip))
		}
	}
	return g
}

// agentID is the id of the n-th (1-based) agent at a region's manager.
func agentID(n int) string { return fmt.Sprintf("%03d", n) }

// agentOf is the hids agent id of in (instances are numbered per account and region, in world order).
func (w *world) agentOf(in *instance) string {
	n := 0
	for _, v := range in.vpc.ar.vpcs {
		for _, x := range v.instances {
			n++
			if x == in {
				return agentID(n)
			}
		}
	}
	return ""
}

// planted holds the records planted in the other sources, in the form each source's Fixture takes.
type planted struct {
	waf, guardduty, securityhub, hids []any
	alb                               []string
}

func (p *planted) byTable() map[string]any {
	out := map[string]any{}
	for t, v := range map[string][]any{"waf": p.waf, "guardduty": p.guardduty, "securityhub": p.securityhub, "hids": p.hids} {
		if len(v) > 0 {
			out[t] = v
		}
	}
	if len(p.alb) > 0 {
		out["alb"] = strings.Join(p.alb, "\n") + "\n"
	}
	return out
}
