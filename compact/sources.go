package compact

import (
	"fmt"
	"io"

	"github.com/lakehunt/lakehunt/compact/cloudtrail"
	"github.com/lakehunt/lakehunt/compact/route53"
	"github.com/lakehunt/lakehunt/compact/vpcflow"
	"github.com/lakehunt/lakehunt/lake"
)

// parseSource runs the object's parser, collecting its rows into p. It returns the number of records read
// (rows plus bad records) and an object-level error when the object is not a valid log of its source.
func parseSource(r io.Reader, t work, maxRecord int, p *parsed, bad func(int64, string, []byte)) (int64, error) {
	k := t.kind
	switch k.Source {
	case lake.TableCloudTrail:
		return cloudtrail.Parse(r, cloudtrail.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, MaxRecordBytes: maxRecord},
			func(e *lake.CloudTrailEvent) error { p.ct = append(p.ct, e); return nil }, bad)
	case lake.TableVPCFlow:
		return vpcflow.Parse(r, vpcflow.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, MaxLineBytes: maxRecord},
			func(e *lake.VPCFlowRecord) error { p.vf = append(p.vf, e); return nil }, bad)
	case lake.TableRoute53Resolver:
		return route53.Parse(r, route53.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, FallbackVPC: k.VPCID, MaxLineBytes: maxRecord},
			func(e *lake.Route53ResolverQuery) error { p.r53 = append(p.r53, e); return nil }, bad)
	}
	return 0, fmt.Errorf("no parser for source %q", k.Source)
}
