package compact

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lakehunt/lakehunt/compact/alb"
	"github.com/lakehunt/lakehunt/compact/cloudtrail"
	"github.com/lakehunt/lakehunt/compact/guardduty"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/route53"
	"github.com/lakehunt/lakehunt/compact/securityhub"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/compact/vpcflow"
	"github.com/lakehunt/lakehunt/compact/waf"
	"github.com/lakehunt/lakehunt/lake"
)

// registry is every source compact reads, in the order batches write them. Adding a source is adding
// its package's descriptor here (see compact/README.md).
var registry = []Descriptor{
	register(cloudtrail.Source),
	register(vpcflow.Source),
	register(route53.Source),
	register(waf.Source),
	register(alb.Source),
	register(guardduty.Source),
	register(securityhub.Source),
	register(hids.Source),
}

// Sources the compactor reads, by table name.
var Sources = func() []string {
	var out []string
	for _, d := range registry {
		out = append(out, d.Table())
	}
	return out
}()

// Descriptor is a registered source, whatever its row type.
type Descriptor interface {
	Table() string
	// Prefixed reports whether the source's objects may be mapped to it by a configured prefix.
	Prefixed() bool
	// Fixture writes a hunt test's raw events of the source (nil: the source has no test fixtures).
	Fixture() func(events any, window time.Time, put source.Put) error
	// Generate writes background traffic for lakehunt gen (nil: compact/gen generates the source).
	Generate() func(c source.GenConfig, put source.Put) (int, error)
	idColumn() string
	newTable() table
	parse(w *writer, r io.Reader, t work, p *parsed, bad source.Bad) (int64, error)
}

// Descriptors lists the registered sources in registry order.
func Descriptors() []Descriptor { return slices.Clone(registry) }

// Lookup returns the registered source of that name.
func Lookup(name string) (Descriptor, bool) {
	for _, d := range registry {
		if d.Table() == name {
			return d, true
		}
	}
	return nil, false
}

type descriptor[T any] struct{ d source.Def[T] }

// register validates a descriptor and registers its table (unless the lake owns it) and key layout.
// A broken descriptor is a programming error, met by every test that imports compact.
func register[T any](d source.Def[T]) Descriptor {
	if d.Table == "" || d.Parse == nil || d.Time == nil || d.Partition == nil || d.Lineage == nil || (d.ID != nil && d.IDColumn == "") {
		panic(fmt.Sprintf("compact: incomplete source descriptor %q", d.Table))
	}
	if _, err := lake.LookupTable(d.Table); err != nil {
		if d.Doc == "" {
			panic(fmt.Sprintf("compact: source %q needs a Doc for its table", d.Table))
		}
		lake.RegisterTable(d.Table, d.Doc, *new(T))
	}
	lake.AddViews(d.Table, d.Views...)
	if d.Layout.Classify != nil {
		rawkey.Register(d.Table, d.Layout.Services, d.Layout.Classify)
	}
	return &descriptor[T]{d}
}

func (x *descriptor[T]) Table() string  { return x.d.Table }
func (x *descriptor[T]) Prefixed() bool { return x.d.Layout.Prefixed }
func (x *descriptor[T]) Fixture() func(any, time.Time, source.Put) error {
	return x.d.Fixture
}
func (x *descriptor[T]) Generate() func(source.GenConfig, source.Put) (int, error) {
	return x.d.Generate
}

func (x *descriptor[T]) idColumn() string { return x.d.IDColumn }

func (x *descriptor[T]) newTable() table {
	d := x.d
	return newTableBuf(d.Table, d.Time, d.Partition, d.ID, d.IDColumn, d.Lineage)
}

// parse runs the object's parser, collecting its rows into p. Sources without a dedup key can have
// objects far larger than a batch (a flow-log object is up to 75 MB of gzip, millions of records): past
// spillRows their rows are written to files as they come. Deduplicated rows are checked against the
// batch, so they stay in memory (CloudTrail objects are small).
func (x *descriptor[T]) parse(w *writer, r io.Reader, t work, p *parsed, bad source.Bad) (int64, error) {
	maxRecord := w.opts.MaxRecordBytes
	if maxRecord <= 0 {
		maxRecord = x.d.MaxRecordBytes
	}
	spillRows := max(1, w.opts.BatchRows/2)
	buf := w.tables[x.d.Table].(*tableBuf[T])
	var rows []*T
	defer func() { p.buf, p.nrows = rows, int64(len(rows)) }()
	return x.d.Parse(r, source.ParseOptions{Key: t.info.Key, Info: t.kind, MaxRecordBytes: maxRecord},
		func(e *T) error {
			rows = append(rows, e)
			if x.d.ID == nil && len(rows) >= spillRows {
				return spillParsed(w, buf, p, &rows)
			}
			return nil
		}, bad)
}

// parseSource runs the parser of the object's source. It returns the number of records read (rows plus
// bad records) and an object-level error when the object is not a valid log of its source.
func (w *writer) parseSource(r io.Reader, t work, p *parsed, bad source.Bad) (int64, error) {
	d, ok := Lookup(t.kind.Source)
	if !ok {
		return 0, fmt.Errorf("no parser for source %q", t.kind.Source)
	}
	return d.parse(w, r, t, p, bad)
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
