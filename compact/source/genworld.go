package source

import (
	"fmt"
	"math/rand/v2"
)

// GenWorld is the generated environment the background of every source is about, so that one story can
// be followed across tables: the hids agent on an instance has its interface address, WAF and ALB see the
// same clients the VPC flow logs do, GuardDuty and Security Hub report on the same instances and buckets.
type GenWorld struct {
	Instances     []GenInstance
	LoadBalancers []GenLoadBalancer
	// Clients are the public addresses of the applications' users; Scanners are internet scanners, whose
	// probes WAF blocks and the network rejects: no generated log ever lets one in.
	Clients, Scanners []string
	Offices           []string // the company's office addresses, where admins SSH to the bastions from
	Buckets           []GenBucket
	AccessKeys        []GenAccessKey
}

// GenInstance is an EC2 instance.
type GenInstance struct {
	Account, Region, ID string
	Hostname            string // the EC2 default host name (ip-10-1-2-3.ec2.internal), a hids agent's name
	PrivateIP, PublicIP string // PublicIP is "" for instances without one
	Tier                string // web, app, db, batch or bastion
	Role                string // the instance profile's role name
	AgentID             string // the id of its hids agent at the region's manager
}

// GenLoadBalancer is an internet-facing Application Load Balancer with a WAF web ACL in front of it.
type GenLoadBalancer struct {
	Account, Region string
	Name            string   // app/NAME/ID, as access logs name it
	Host            string   // the host name clients ask for
	Nodes           []string // the load balancer's interface addresses in the VPC
	Targets         []string // IP:PORT of the instances it forwards to
	TargetGroup     string   // the target group's ARN
	WebACL          string   // the ARN of the WAF web ACL in front of it
}

// GenBucket is an S3 bucket; GenAccessKey an IAM user's long-term access key.
type GenBucket struct{ Account, Name string }

type GenAccessKey struct{ Account, ID, UserName, PrincipalID string }

// TheWorld is c.World, or when it has no instances (a source's own tests) a small one for c.Accounts ×
// c.Regions: a bastion and three web servers behind a load balancer in each, and address pools.
func (c GenConfig) TheWorld() GenWorld {
	if len(c.World.Instances) > 0 {
		return c.World
	}
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x776f726c64)) // "world"
	var w GenWorld
	for ai, acct := range c.Accounts {
		for ri, region := range c.Regions {
			lb := GenLoadBalancer{Account: acct, Region: region, Name: fmt.Sprintf("app/prod-web/%016x", r.Uint64()),
				Host: "app.example.com", Nodes: []string{fmt.Sprintf("10.%d.%d.200", ai, ri), fmt.Sprintf("10.%d.%d.201", ai, ri)},
				TargetGroup: fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/prod-web/%016x", region, acct, r.Uint64()),
				WebACL:      fmt.Sprintf("arn:aws:wafv2:%s:%s:regional/webacl/prod-web-acl/%08x-0000-4000-8000-%012x", region, acct, r.Uint32(), r.Uint64()&0xffffffffffff)}
			for i := 0; i < 4; i++ {
				in := GenInstance{Account: acct, Region: region, ID: fmt.Sprintf("i-0%016x", r.Uint64()>>4),
					PrivateIP: fmt.Sprintf("10.%d.%d.%d", ai, ri, 10+i), Tier: "web", Role: "prod-web-ec2-role", AgentID: fmt.Sprintf("%03d", 1+i)}
				if i == 0 {
					in.Tier, in.Role, in.PublicIP = "bastion", "prod-bastion-ec2-role", fmt.Sprintf("3.%d.%d.%d", 80+r.IntN(16), r.IntN(256), 1+r.IntN(254))
				} else {
					lb.Targets = append(lb.Targets, in.PrivateIP+":8080")
				}
				in.Hostname = HostName(in.PrivateIP, region)
				w.Instances = append(w.Instances, in)
			}
			w.LoadBalancers = append(w.LoadBalancers, lb)
		}
		w.Buckets = append(w.Buckets, GenBucket{Account: acct, Name: "example-app-logs-" + acct})
		w.AccessKeys = append(w.AccessKeys, GenAccessKey{Account: acct, ID: fmt.Sprintf("AKIA%016X", r.Uint64()), UserName: "ci-deploy",
			PrincipalID: fmt.Sprintf("AIDA%017X", r.Uint64()>>4)})
	}
	for i := 0; i < 300; i++ {
		w.Clients = append(w.Clients, fmt.Sprintf("%d.%d.%d.%d", []int{73, 81, 101, 177}[r.IntN(4)], r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	}
	w.Offices = []string{"198.51.100.7", "203.0.113.9"}
	for i := 0; i < 60; i++ {
		w.Scanners = append(w.Scanners, fmt.Sprintf("%d.%d.%d.%d", []int{45, 89, 193}[r.IntN(3)], r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	}
	return w
}

// HostName is the EC2 default host name of an instance with private address ip in region.
func HostName(ip, region string) string {
	h := "ip-"
	for _, c := range ip {
		if c == '.' {
			c = '-'
		}
		h += string(c)
	}
	if region == "us-east-1" {
		return h + ".ec2.internal"
	}
	return h + "." + region + ".compute.internal"
}
