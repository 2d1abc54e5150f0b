package tifeed

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Indicator types, as stored in ti_indicators.type.
const (
	TypeIPv4   = "ipv4"
	TypeIPv6   = "ipv6"
	TypeCIDR4  = "cidr4"
	TypeCIDR6  = "cidr6"
	TypeDomain = "domain"
	TypeURL    = "url"
	TypeMD5    = "md5"
	TypeSHA1   = "sha1"
	TypeSHA256 = "sha256"
	TypeASN    = "asn"
)

// refang undoes the usual defanging of indicators in reports ("evil[.]com", "hxxp://").
var refang = strings.NewReplacer("[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[:]", ":", "[://]", "://")

func refangValue(s string) string {
	s = refang.Replace(strings.TrimSpace(s))
	for _, r := range [][2]string{{"hxxps://", "https://"}, {"hxxp://", "http://"}, {"fxp://", "ftp://"}} {
		if len(s) >= len(r[0]) && strings.EqualFold(s[:len(r[0])], r[0]) {
			return r[1] + s[len(r[0]):]
		}
	}
	return s
}

// ipIndicator parses an IPv4/IPv6 address or CIDR. A CIDR with host bits set is masked (1.2.3.4/24 →
// 1.2.3.0/24), as iprange and firewalls do; a /32 or /128 is a single address.
func ipIndicator(s string) (Indicator, error) {
	s = refangValue(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Indicator{}, fmt.Errorf("%q is not an IP network (CIDR)", s)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return Indicator{}, fmt.Errorf("%q is an IPv4-mapped IPv6 network shorter than /96", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if p.IsSingleIP() {
			return ipIndicator(p.Addr().String())
		}
		ind := Indicator{Value: p.String(), Start: p.Addr(), End: lastAddr(p)}
		if p.Addr().Is4() {
			ind.Type = TypeCIDR4
		} else {
			ind.Type = TypeCIDR6
		}
		return ind, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return Indicator{}, fmt.Errorf("%q is not an IP address", s)
	}
	a = a.Unmap()
	ind := Indicator{Value: a.String(), Start: a, End: a, Type: TypeIPv6}
	if a.Is4() {
		ind.Type = TypeIPv4
	}
	return ind, nil
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// normDomain validates a DNS name and returns it lower-case, without a trailing dot or a leading "*.".
func normDomain(s string) (string, error) {
	d := strings.ToLower(refangValue(s))
	d = strings.TrimSuffix(d, ".")
	d = strings.TrimPrefix(d, "*.")
	if d == "" {
		return "", errors.New("empty domain name")
	}
	for i := 0; i < len(d); i++ {
		if d[i] >= 0x80 {
			return "", fmt.Errorf("%q is an internationalised name: give it in its punycode form (xn--…), as DNS logs show it", s)
		}
	}
	if len(d) > 253 {
		return "", fmt.Errorf("domain name longer than 253 characters (%d)", len(d))
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q is not a domain name (no dot)", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("%q is not a domain name (empty or over-long label)", s)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a domain name (label %q starts or ends with '-')", s, l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%q is not a domain name (character %q)", s, c)
			}
		}
	}
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return "", fmt.Errorf("%q is not a domain name (numeric top-level label: a truncated IP address?)", s)
	}
	return d, nil
}

func domainIndicator(s string) (Indicator, error) {
	d, err := normDomain(s)
	if err != nil {
		return Indicator{}, err
	}
	return Indicator{Value: d, Type: TypeDomain}, nil
}

// urlIndicator validates a URL (scheme optional, host required) and lower-cases its scheme and host.
func urlIndicator(s string) (Indicator, error) {
	raw := refangValue(s)
	if raw == "" || strings.ContainsAny(raw, " \t\r\n") {
		return Indicator{}, fmt.Errorf("%q is not a URL", s)
	}
	parse := raw
	if !strings.Contains(raw, "://") {
		parse = "http://" + raw
	}
	u, err := url.Parse(parse)
	if err != nil || u.Host == "" {
		return Indicator{}, fmt.Errorf("%q is not a URL", s)
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err != nil {
		if _, err := normDomain(host); err != nil {
			return Indicator{}, fmt.Errorf("%q is not a URL: host %v", s, err)
		}
	}
	// Keep the path exactly as the feed wrote it; only scheme and host are case-insensitive.
	i := strings.Index(parse, "://") + 3
	rest := parse[i:]
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	v := strings.ToLower(rest[:hostEnd]) + rest[hostEnd:]
	if strings.Contains(raw, "://") {
		v = strings.ToLower(u.Scheme) + "://" + v
	}
	return Indicator{Value: v, Type: TypeURL}, nil
}

// hashIndicator accepts an MD5, SHA-1 or SHA-256 in hex.
func hashIndicator(s, want string) (Indicator, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	if _, err := hex.DecodeString(h); err != nil {
		return Indicator{}, fmt.Errorf("%q is not a hex hash", s)
	}
	t := map[int]string{32: TypeMD5, 40: TypeSHA1, 64: TypeSHA256}[len(h)]
	if t == "" || (want != "" && want != t) {
		if want == "" {
			want = "md5, sha1 or sha256"
		}
		return Indicator{}, fmt.Errorf("%q is not a %s hash (%d hex digits)", s, want, len(h))
	}
	return Indicator{Value: h, Type: t}, nil
}

func asnIndicator(n int64) (Indicator, error) {
	if n <= 0 || n > 4294967295 {
		return Indicator{}, fmt.Errorf("AS number %d out of range", n)
	}
	return Indicator{Value: "AS" + strconv.FormatInt(n, 10), Type: TypeASN}, nil
}

// classify recognises any indicator a plain list may hold: IP, CIDR, hash, URL or domain.
func classify(s string) (Indicator, error) {
	v := refangValue(s)
	if v == "" {
		return Indicator{}, errors.New("empty value")
	}
	if ind, err := ipIndicator(v); err == nil {
		return ind, nil
	} else if looksLikeIP(v) {
		return Indicator{}, err
	}
	if ind, err := hashIndicator(v, ""); err == nil {
		return ind, nil
	}
	if strings.Contains(v, "://") || strings.ContainsAny(v, "/?") {
		return urlIndicator(v)
	}
	return domainIndicator(v)
}

// looksLikeIP is true for values that were meant as an IP or CIDR (digits, dots, colons, a slash),
// so their error says "not an IP" rather than "not a domain".
func looksLikeIP(s string) bool {
	if strings.Count(s, ":") >= 2 {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return strings.Contains(s, ".")
}

// Bogon is a range excluded from matching, with the reason shown to the user.
type Bogon struct {
	Prefix netip.Prefix
	Name   string
}

// Bogons are the special-purpose ranges that must never be matched against our own logs: private, shared
// (CGNAT), loopback, link-local, multicast, reserved, "this network", benchmarking and IETF protocol space.
// Flows and DNS queries inside a VPC are full of them, so a feed listing one (FireHOL level1 lists
// 10.0.0.0/8) would flag every internal conversation.
//
// The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are deliberately
// not here: they are never internal addresses of a VPC, so they cannot cause that flood, and AWS's own log
// samples and our fixtures use them as stand-ins for public attacker addresses.
var Bogons = func() []Bogon {
	var out []Bogon
	for _, b := range []struct{ p, name string }{
		{"0.0.0.0/8", "\"this network\" (RFC 791)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (includes the instance metadata service)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "benchmarking (RFC 2544)"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved (includes broadcast)"},
		{"::/128", "unspecified address"},
		{"::1/128", "loopback"},
		{"64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"},
		{"100::/64", "discard-only (RFC 6666)"},
		{"fc00::/7", "unique local (ULA)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated)"},
		{"ff00::/8", "multicast"},
	} {
		out = append(out, Bogon{netip.MustParsePrefix(b.p), b.name})
	}
	return out
}()

// bogon returns why an IP indicator must not be matched: it overlaps a special-purpose range.
// A range that merely contains one (0.0.0.0/0, 8.0.0.0/5) is excluded too rather than split:
// listing it is almost certainly a feed error, and splitting would hide that.
func bogon(ind Indicator) (string, bool) {
	if !ind.Start.IsValid() {
		return "", false
	}
	for _, b := range Bogons {
		if b.Prefix.Addr().Is4() != ind.Start.Is4() {
			continue
		}
		bs, be := b.Prefix.Addr(), lastAddr(b.Prefix)
		if ind.Start.Compare(be) <= 0 && bs.Compare(ind.End) <= 0 {
			return fmt.Sprintf("overlaps %s, %s", b.Prefix, b.Name), true
		}
	}
	return "", false
}
