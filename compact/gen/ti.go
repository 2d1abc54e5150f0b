package gen

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

var feodoFamilies = []string{"Pikabot", "QakBot", "Emotet", "IcedID", "BumbleBee", "Dridex"}

// writeTI writes the threat-intel feeds, dated the day after the range: the planted C2 and the
// stolen-key address are listed only "later", as happens in real retro-hunts.
func (g *generator) writeTI(pl *planner) error {
	r := newRNG(g.w.seed, tagTI)
	published := pl.end + 7*3600 + 3*60 + 3
	date := time.Unix(published, 0).UTC().Format("2006-01-02")

	// abuse.ch Feodo Tracker CSV, in the publisher's exact layout.
	type row struct {
		first         int64
		ip, port, fam string
		online        bool
	}
	rows := []row{{first: pl.feodoAt, ip: pl.c2IP, port: "443", fam: "Pikabot", online: true}}
	for i, ip := range pl.decoys[:10] {
		rows = append(rows, row{first: published - int64(r.between(2, 90))*86400 - int64(r.intn(86400)), ip: ip,
			port: []string{"443", "2222", "995", "8443", "13783"}[i%5], fam: r.pick(feodoFamilies), online: r.chance(0.3)})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmpInt(a.first, b.first) })
	var b strings.Builder
	b.WriteString("################################################################\n")
	b.WriteString("# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n")
	b.WriteString(fmt.Sprintf("# %-60s #\n", "Last updated: "+time.Unix(published, 0).UTC().Format("2006-01-02 15:04:05")+" UTC"))
	b.WriteString("#                                                              #\n")
	b.WriteString("# Terms Of Use: https://feodotracker.abuse.ch/blocklist/       #\n")
	b.WriteString("# For questions please contact feodotracker [at] abuse.ch      #\n")
	b.WriteString("################################################################\n")
	b.WriteString("#\n")
	b.WriteString(`"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"` + "\n")
	var feodoIPs []string
	for _, x := range rows {
		status, last := "offline", time.Unix(x.first+int64(r.between(1, 20))*86400, 0).UTC()
		if x.online {
			status, last = "online", time.Unix(published, 0).UTC()
		}
		if last.Unix() > published {
			last = time.Unix(published, 0).UTC()
		}
		fmt.Fprintf(&b, "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", time.Unix(x.first, 0).UTC().Format("2006-01-02 15:04:05"),
			x.ip, x.port, status, last.Format("2006-01-02"), x.fam)
		feodoIPs = append(feodoIPs, x.ip)
	}
	fmt.Fprintf(&b, "# END %d entries", len(rows))
	feeds := []TIFeed{{Key: "ti/feodo-" + date + ".csv", Format: "feodo-csv", Indicators: feodoIPs, Planted: []string{pl.c2IP}}}
	bodies := []string{b.String()}

	// A plain IP list, one address per line, with a comment header.
	ips := append(append([]string{}, pl.tiIPs...), pl.decoys[10:]...)
	slices.SortFunc(ips, func(a, b string) int { return cmpInt(int64(parseIP(a)), int64(parseIP(b))) })
	feeds = append(feeds, TIFeed{Key: "ti/ip-blocklist-" + date + ".txt", Format: "ip-list", Indicators: ips, Planted: pl.tiIPs})
	bodies = append(bodies, "# lakehunt synthetic IP blocklist\n# published "+date+"\n"+strings.Join(ips, "\n")+"\n")

	// A plain domain list.
	doms := append([]string{}, pl.tiDoms...)
	for len(doms) < 8 {
		d := r.pick(words) + "-" + r.pick(words) + "." + r.pick(attackTLDs)
		if !slices.Contains(doms, d) {
			doms = append(doms, d)
		}
	}
	slices.Sort(doms)
	feeds = append(feeds, TIFeed{Key: "ti/domains-" + date + ".txt", Format: "domain-list", Indicators: doms, Planted: pl.tiDoms})
	bodies = append(bodies, "# lakehunt synthetic domain blocklist\n# published "+date+"\n"+strings.Join(doms, "\n")+"\n")

	for i, f := range feeds {
		feeds[i].Published = time.Unix(published, 0).UTC()
		if err := g.put(f.Key, []byte(bodies[i]), "", 0); err != nil {
			return err
		}
	}
	pl.gt.TIFeeds = feeds
	return nil
}
