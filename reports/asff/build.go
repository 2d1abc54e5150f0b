// Package asff turns a run's findings into AWS Security Finding Format (ASFF 2018-10-08) findings,
// within ASFF's field and size limits, ready for a file or for Security Hub BatchImportFindings.
package asff

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
)

// SchemaVersion is the ASFF version written.
const SchemaVersion = "2018-10-08"

// MaxFindingBytes bounds one encoded finding. Security Hub rejects findings over "240 KB"; this is
// 240,000 bytes so it holds whether KB means 1000 or 1024.
const MaxFindingBytes = 240_000

// Limits from the Security Hub service model (member documentation "Length Constraints" / "Array Members").
const (
	maxID          = 512
	maxTitle       = 256
	maxDescription = 1024
	maxRegion      = 16
	maxNameField   = 128 // ProductName, CompanyName
	maxSevOriginal = 64
	maxRecommend   = 512
	maxTypes       = 50
	maxResources   = 32
	maxResourceID  = 512 // ours: Resource.Id has no documented limit
	maxFieldPairs  = 50  // ProductFields
	maxFieldKey    = 128
	maxFieldValue  = 2048
	// ResourceDetails.Other has no documented limit; we hold it to UserDefinedFields' (50 pairs, 128/1024).
	maxOtherPairs = 50
	maxOtherValue = 1024
)

// Options configures Build.
type Options struct {
	// Region is the Security Hub region the findings are imported into: it goes into the default product
	// ARN and is the region of findings that have none. Empty means each finding's own region.
	Region string
	// ProductARN overrides the custom-integration ARN
	// arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default (per finding account).
	ProductARN string
	// DefaultAccount is the account of findings without one.
	DefaultAccount string
	// ReportURL is where the run's report.html is published (https://..., s3://..., file://...).
	// When set, each finding's SourceUrl is ReportURL#<finding anchor>.
	ReportURL string
	// ProductName and CompanyName default to "lakehunt".
	ProductName, CompanyName string
}

// Warning says what Build had to change to fit ASFF (truncation, dropped values). Nothing is changed silently.
type Warning struct {
	FindingID string
	Field     string
	Message   string
}

func (w Warning) String() string {
	return fmt.Sprintf("finding %s: %s: %s", w.FindingID, w.Field, w.Message)
}

var (
	accountRe    = regexp.MustCompile(`^\d{12}$`)
	productARNRe = regexp.MustCompile(`^arn:` + arnPartitions + `:securityhub:[a-z0-9-]+:\d{12}:product/.+`)
)

// Built is what Build made of a run's findings.
type Built struct {
	Findings []types.AwsSecurityFinding
	Warnings []Warning
	// LeftOut are the findings that cannot be ASFF (no account, unknown severity, ...), each with the
	// reason and the fix. One never holds back the others: every other finding is in Findings.
	LeftOut []lake.LeftOut
}

// Build maps findings to ASFF. The error is for options that are wrong (nothing is built); a finding
// that cannot be mapped is left out and listed in Built.LeftOut. Warnings list what was truncated or changed.
func Build(run *lake.Run, findings []lake.Finding, opts Options) (Built, error) {
	if run == nil {
		return Built{}, errors.New("asff: no run")
	}
	if opts.Region != "" && !ValidRegion(opts.Region) {
		return Built{}, fmt.Errorf("region %q is not an AWS region name (like us-east-1)", opts.Region)
	}
	if opts.DefaultAccount != "" && !accountRe.MatchString(opts.DefaultAccount) {
		return Built{}, fmt.Errorf("default account %q is not a 12-digit AWS account id", opts.DefaultAccount)
	}
	if opts.ProductARN != "" && !productARNRe.MatchString(opts.ProductARN) {
		return Built{}, fmt.Errorf("product ARN %q is not a Security Hub product ARN (arn:aws:securityhub:REGION:ACCOUNT:product/...)", opts.ProductARN)
	}
	hunts := make(map[string]*lake.HuntRun, len(run.Hunts))
	for i := range run.Hunts {
		hunts[run.Hunts[i].ID] = &run.Hunts[i]
	}
	out := Built{Findings: make([]types.AwsSecurityFinding, 0, len(findings))}
	var built []*lake.Finding // the finding of each out.Findings entry
	for i := range findings {
		f := &findings[i]
		b := builder{run: run, hunt: hunts[f.HuntID], f: f, opts: &opts}
		af, err := b.build()
		if err != nil {
			out.LeftOut = append(out.LeftOut, lake.LeftOut{FindingID: f.ID, HuntID: f.HuntID, Reason: err.Error()})
			continue
		}
		out.Warnings = append(out.Warnings, b.warns...)
		out.Findings = append(out.Findings, af)
		built = append(built, f)
	}
	out.Warnings = append(out.Warnings, relate(out.Findings, built)...)
	return out, nil
}

// maxRelated is ASFF's limit on RelatedFindings.
const maxRelated = 10

// relate links each finding to the other members of its finding group (group_id in findings.jsonl;
// computed here for runs written before groups), the earliest first, at most maxRelated.
func relate(afs []types.AwsSecurityFinding, fs []*lake.Finding) []Warning {
	plain := make([]lake.Finding, len(fs))
	for i, f := range fs {
		plain[i] = *f
	}
	if slices.ContainsFunc(plain, func(f lake.Finding) bool { return f.GroupID == "" }) {
		group.Assign(plain)
	}
	members := map[string][]int{}
	for i, f := range plain {
		members[f.GroupID] = append(members[f.GroupID], i)
	}
	var warns []Warning
	for _, gid := range slices.Sorted(maps.Keys(members)) {
		idx := members[gid]
		slices.SortFunc(idx, func(a, b int) int {
			return cmp.Or(plain[a].FirstSeen.Compare(plain[b].FirstSeen), cmp.Compare(plain[a].ID, plain[b].ID))
		})
		for _, i := range idx {
			for _, j := range idx {
				if i == j {
					continue
				}
				if len(afs[i].RelatedFindings) == maxRelated {
					warns = append(warns, Warning{FindingID: plain[i].ID, Field: "RelatedFindings",
						Message: fmt.Sprintf("group %s has %d findings; ASFF holds %d related findings, the earliest are linked", gid, len(idx), maxRelated)})
					break
				}
				afs[i].RelatedFindings = append(afs[i].RelatedFindings, types.RelatedFinding{ProductArn: afs[j].ProductArn, Id: afs[j].Id})
			}
		}
	}
	return warns
}

type builder struct {
	run   *lake.Run
	hunt  *lake.HuntRun // nil when run.json does not list the finding's hunt
	f     *lake.Finding
	opts  *Options
	warns []Warning
	// sourceRegion is the finding's region when it was not usable and the import region replaced it.
	sourceRegion string
}

func (b *builder) warn(field, format string, args ...any) {
	b.warns = append(b.warns, Warning{FindingID: b.f.ID, Field: field, Message: fmt.Sprintf(format, args...)})
}

// text truncates s to max characters, with a warning when it cut.
func (b *builder) text(field, s string, max int) string {
	t, cut := reports.Truncate(s, max)
	if cut {
		b.warn(field, "cut to %d characters (was %d bytes)", max, len(s))
	}
	return t
}

func (b *builder) build() (types.AwsSecurityFinding, error) {
	f := b.f
	account := f.AccountID
	if account == "" {
		account = b.opts.DefaultAccount
	}
	if account == "" {
		return types.AwsSecurityFinding{}, errors.New("no account id: pass a default account (--account)")
	}
	if !accountRe.MatchString(account) {
		return types.AwsSecurityFinding{}, fmt.Errorf("account id %q is not a 12-digit AWS account id", account)
	}
	region, err := b.region()
	if err != nil {
		return types.AwsSecurityFinding{}, err
	}
	if lake.SeverityRank(f.Severity) == 0 && f.Severity != lake.SeverityInformational {
		return types.AwsSecurityFinding{}, fmt.Errorf("severity %q is not an ASFF label (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL); fix the hunt's severity expression", f.Severity)
	}
	home := b.opts.Region
	if home == "" {
		home = region
	}
	homePart, _, _ := partitionOf(home)
	productARN := b.opts.ProductARN
	if productARN == "" {
		productARN = fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", homePart, home, account, account)
	}

	created, updated, err := b.times()
	if err != nil {
		return types.AwsSecurityFinding{}, err
	}
	sevLabel := types.SeverityLabel(f.Severity)
	sevOriginal := b.text("Severity.Original", f.Severity, maxSevOriginal)
	findingTypes := b.types()

	af := types.AwsSecurityFinding{
		SchemaVersion: aws.String(SchemaVersion),
		Id:            aws.String(findingID(f.HuntID, f.ID)),
		ProductArn:    aws.String(productARN),
		ProductName:   aws.String(b.text("ProductName", orDefault(b.opts.ProductName, "lakehunt"), maxNameField)),
		CompanyName:   aws.String(b.text("CompanyName", orDefault(b.opts.CompanyName, "lakehunt"), maxNameField)),
		GeneratorId:   aws.String(b.text("GeneratorId", "lakehunt/"+f.HuntID, maxID)),
		AwsAccountId:  aws.String(account),
		Region:        aws.String(region),
		CreatedAt:     aws.String(stamp(created)),
		UpdatedAt:     aws.String(stamp(updated)),
		Title:         aws.String(b.text("Title", b.title(), maxTitle)),
		Description:   aws.String(b.text("Description", b.description(), maxDescription)),
		Types:         findingTypes,
		Severity:      &types.Severity{Label: sevLabel, Original: aws.String(sevOriginal)},
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: sevLabel, Original: aws.String(sevOriginal)},
			Types:    findingTypes,
		},
		Resources:   b.resources(account, region),
		RecordState: types.RecordStateActive,
	}
	if !f.FirstSeen.IsZero() {
		af.FirstObservedAt = aws.String(stamp(f.FirstSeen))
	}
	if !f.LastSeen.IsZero() {
		af.LastObservedAt = aws.String(stamp(f.LastSeen))
	}
	if b.opts.ReportURL != "" {
		af.SourceUrl = aws.String(b.reportLink())
	}
	if b.hunt != nil && strings.TrimSpace(b.hunt.Triage) != "" {
		rec := &types.Recommendation{Text: aws.String(b.text("Remediation.Recommendation.Text", b.hunt.Triage, maxRecommend))}
		for _, ref := range b.hunt.References {
			if strings.HasPrefix(ref, "https://") {
				rec.Url = aws.String(ref)
				break
			}
		}
		af.Remediation = &types.Remediation{Recommendation: rec}
	}
	pf := b.productFields()
	af.ProductFields = pf.asMap()
	if err := b.fit(&af, pf); err != nil {
		return types.AwsSecurityFinding{}, err
	}
	return af, nil
}

// findingID is deterministic in the finding id (itself hash(hunt, entity, window)), so a re-run updates
// the same Security Hub finding.
func findingID(huntID, id string) string {
	s := "lakehunt/" + huntID + "/" + id
	if len(s) <= maxID && strings.TrimSpace(id) != "" {
		return s
	}
	sum := sha256.Sum256([]byte(huntID + "\x00" + id))
	return "lakehunt/" + hex.EncodeToString(sum[:])
}

// region is the finding's own region, else the import region. A region that is not an AWS region name
// (an odd awsRegion in CloudTrail) does not cost the finding: it is filed under the import region, as
// Security Hub itself does with every imported finding, and the original value stays in ProductFields.
func (b *builder) region() (string, error) {
	region, home := b.f.Region, b.opts.Region
	switch {
	case ValidRegion(region):
		return region, nil
	case region == "" && home == "":
		return "", errors.New("no region: pass the Security Hub region (--region)")
	case region == "":
		return home, nil
	case home == "":
		return "", fmt.Errorf("region %q is not an AWS region name: pass the Security Hub region (--region) to file the finding there", region)
	}
	b.warn("Region", "%q is not an AWS region name; used the import region %s (the original is in ProductFields %s)", region, home, keySourceRegion)
	b.sourceRegion = region
	return home, nil
}

func (b *builder) times() (created, updated time.Time, err error) {
	created = firstNonZero(b.f.CreatedAt, b.run.StartedAt, b.run.FinishedAt)
	updated = firstNonZero(b.run.FinishedAt, b.run.StartedAt, b.f.CreatedAt)
	if created.IsZero() {
		return created, updated, errors.New("no created_at and the run has no start time: the run directory is damaged")
	}
	if updated.Before(created) {
		updated = created
	}
	return created, updated, nil
}

// title and description are read in the Security Hub console: characters that reorder or hide text are
// shown escaped (findings of runs before lakehunt escaped them at creation still hold them raw).
func (b *builder) title() string {
	for _, s := range []string{b.f.Title, b.f.HuntTitle, b.f.HuntID} {
		if strings.TrimSpace(s) != "" {
			return safetext.Line(s)
		}
	}
	return "lakehunt finding"
}

func (b *builder) description() string {
	if strings.TrimSpace(b.f.Description) != "" {
		return safetext.Text(b.f.Description)
	}
	if b.hunt != nil && strings.TrimSpace(b.hunt.Description) != "" {
		return safetext.Text(b.hunt.Description)
	}
	f := b.f
	return safetext.Text(fmt.Sprintf("Hunt %s v%d matched %s %s: %d events between %s and %s.",
		f.HuntID, f.HuntVersion, orDefault(f.Entity.Type, "entity"), orDefault(f.Entity.Key, "(none)"), f.Count, stamp(f.FirstSeen), stamp(f.LastSeen)))
}

func (b *builder) reportLink() string {
	return b.opts.ReportURL + "#" + reports.Anchor(b.f.ID)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
