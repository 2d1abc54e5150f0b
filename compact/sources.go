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
// Flow-log and DNS objects can be far larger than a batch (a flow-log object is up to 75 MB of gzip,
// millions of records): past spillRows their rows are written to files as they come. CloudTrail rows are
// deduplicated against the batch, so they stay in memory; CloudTrail objects are small.
func (w *writer) parseSource(r io.Reader, t work, p *parsed, bad func(int64, string, []byte)) (int64, error) {
	k := t.kind
	maxRecord := w.opts.MaxRecordBytes
	spillRows := max(1, w.opts.BatchRows/2)
	switch k.Source {
	case lake.TableCloudTrail:
		return cloudtrail.Parse(r, cloudtrail.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, MaxRecordBytes: maxRecord},
			func(e *lake.CloudTrailEvent) error { p.ct = append(p.ct, e); return nil }, bad)
	case lake.TableVPCFlow:
		return vpcflow.Parse(r, vpcflow.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, MaxLineBytes: maxRecord},
			func(e *lake.VPCFlowRecord) error {
				p.vf = append(p.vf, e)
				if len(p.vf) >= spillRows {
					return spillParsed(w, w.vf, p, &p.vf)
				}
				return nil
			}, bad)
	case lake.TableRoute53Resolver:
		return route53.Parse(r, route53.Options{Key: t.info.Key, FallbackAccount: k.AccountID, FallbackRegion: k.Region, FallbackVPC: k.VPCID, MaxLineBytes: maxRecord},
			func(e *lake.Route53ResolverQuery) error {
				p.r53 = append(p.r53, e)
				if len(p.r53) >= spillRows {
					return spillParsed(w, w.r53, p, &p.r53)
				}
				return nil
			}, bad)
	}
	return 0, fmt.Errorf("no parser for source %q", k.Source)
}

func spillParsed[T any](w *writer, b *tableBuf[T], p *parsed, rows *[]*T) error {
	fs, err := b.spill(w, *rows)
	p.spilled = append(p.spilled, fs...)
	*rows = nil
	if err != nil {
		p.fatal = fmt.Errorf("write rows of %s to the lake: %w", p.w.info.Key, err)
	}
	return p.fatal
}
