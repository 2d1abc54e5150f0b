package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts/scheduler"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/publish/jira"
	"github.com/lakehunt/lakehunt/reports/publish/slack"
	"github.com/lakehunt/lakehunt/reports/publish/webhook"
)

// The hand-off outputs of lakehunt.yaml. Secret values are references, never the secret itself:
// env:NAME (an environment variable) or secretsmanager:KEY (the field KEY of the JSON object stored in
// the AWS Secrets Manager secret outputs.secret_id).
type slackConfig struct {
	Enabled     bool   `yaml:"enabled"`
	WebhookURL  string `yaml:"webhook_url"` // secret
	Token       string `yaml:"token"`       // secret
	Channel     string `yaml:"channel"`
	MinSeverity string `yaml:"min_severity"`
}

type jiraConfig struct {
	Enabled     bool     `yaml:"enabled"`
	URL         string   `yaml:"url"`
	Email       string   `yaml:"email"`
	Token       string   `yaml:"token"` // secret
	Project     string   `yaml:"project"`
	IssueType   string   `yaml:"issue_type"`
	Per         string   `yaml:"per"` // group (default) or finding
	APIVersion  int      `yaml:"api_version"`
	MinSeverity string   `yaml:"min_severity"`
	Labels      []string `yaml:"labels"`
}

type webhookConfig struct {
	Enabled     bool   `yaml:"enabled"`
	URL         string `yaml:"url"`
	Secret      string `yaml:"secret"` // secret
	MinSeverity string `yaml:"min_severity"`
}

var secretRef = regexp.MustCompile(`^(env|secretsmanager):([A-Za-z0-9_./+=@-]+)$`)

// validateOutputs checks the hand-off settings as far as the file alone can tell.
func (o *outputsConfig) validate() error {
	for _, s := range []struct{ field, ref string }{
		{"outputs.slack.webhook_url", o.Slack.WebhookURL}, {"outputs.slack.token", o.Slack.Token},
		{"outputs.jira.token", o.Jira.Token}, {"outputs.webhook.secret", o.Webhook.Secret},
	} {
		m := secretRef.FindStringSubmatch(s.ref)
		switch {
		case s.ref == "":
		case m == nil:
			return fmt.Errorf("%s: give a reference to the secret, env:NAME (an environment variable) or secretsmanager:KEY (a field of the secret outputs.secret_id), not the secret itself", s.field)
		case m[1] == "secretsmanager" && o.SecretID == "":
			return fmt.Errorf("%s: %s needs outputs.secret_id, the AWS Secrets Manager secret that holds %s", s.field, s.ref, m[2])
		}
	}
	for _, s := range []struct {
		field string
		v     *string
	}{{"outputs.slack.min_severity", &o.Slack.MinSeverity}, {"outputs.jira.min_severity", &o.Jira.MinSeverity}, {"outputs.webhook.min_severity", &o.Webhook.MinSeverity}} {
		*s.v = strings.ToUpper(*s.v)
		if *s.v != "" && lake.SeverityRank(*s.v) == 0 && *s.v != lake.SeverityInformational {
			return fmt.Errorf("%s: %q is not a severity (informational, low, medium, high, critical)", s.field, *s.v)
		}
	}
	if p := o.Jira.Per; p != "" && p != "group" && p != "finding" {
		return fmt.Errorf("outputs.jira.per: %q: use group or finding", p)
	}
	if v := o.Jira.APIVersion; v != 0 && v != 2 && v != 3 {
		return fmt.Errorf("outputs.jira.api_version: %d: use 3 (or 2)", v)
	}
	return nil
}

// reportURL is where a run's report.html is published: outputs.report_url, else outputs.asff.report_url,
// with {run_id} replaced by the run's id.
func (o *outputsConfig) reportURL(runID string) string {
	u := o.ReportURL
	if u == "" {
		u = o.ASFF.ReportURL
	}
	return strings.ReplaceAll(u, "{run_id}", runID)
}

// secrets resolves secret references; Secrets Manager is read once per process.
type secrets struct {
	id     string // outputs.secret_id
	region string

	once   sync.Once
	fields map[string]string
	err    error
}

func (s *secrets) get(ctx context.Context, field, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	m := secretRef.FindStringSubmatch(ref)
	if m == nil {
		return "", fmt.Errorf("%s: %q is not env:NAME or secretsmanager:KEY", field, ref)
	}
	if m[1] == "env" {
		v := os.Getenv(m[2])
		if v == "" {
			return "", fmt.Errorf("%s: the environment variable %s is not set", field, m[2])
		}
		return v, nil
	}
	s.once.Do(func() { s.fields, s.err = s.load(ctx) })
	if s.err != nil {
		return "", fmt.Errorf("%s: %w", field, s.err)
	}
	v, ok := s.fields[m[2]]
	if !ok || v == "" {
		return "", fmt.Errorf("%s: the secret %s has no field %q", field, s.id, m[2])
	}
	return v, nil
}

// load reads the secret with GetSecretValue (the only permission the deploy template grants on it).
func (s *secrets) load(ctx context.Context) (map[string]string, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if s.region != "" {
		opts = append(opts, awsconfig.WithRegion(s.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		return nil, fmt.Errorf("read the secret %s from AWS Secrets Manager: %w", s.id, err)
	}
	fields := map[string]string{}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &fields); err != nil {
		return nil, fmt.Errorf("the secret %s is not a JSON object of strings (store it as key/value pairs): %v", s.id, err)
	}
	return fields, nil
}

// handoffs makes the enabled Slack, Jira and webhook publishers, their secrets read.
func handoffs(ctx context.Context, o *outputsConfig, sec *secrets) ([]publish.Publisher, error) {
	var pubs []publish.Publisher
	var errs []error
	get := func(field, ref string) string {
		v, err := sec.get(ctx, field, ref)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	if c := o.Slack; c.Enabled {
		p := &slack.Publisher{WebhookURL: get("outputs.slack.webhook_url", c.WebhookURL), Token: get("outputs.slack.token", c.Token),
			Channel: c.Channel, MinSeverity: c.MinSeverity}
		pubs = append(pubs, p)
		if err := p.Check(); err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
	}
	if c := o.Jira; c.Enabled {
		p := &jira.Publisher{BaseURL: c.URL, Email: c.Email, Token: get("outputs.jira.token", c.Token), Project: c.Project, IssueType: c.IssueType,
			PerFinding: c.Per == "finding", APIVersion: c.APIVersion, MinSeverity: c.MinSeverity, Labels: c.Labels}
		pubs = append(pubs, p)
		if err := p.Check(); err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
	}
	if c := o.Webhook; c.Enabled {
		p := &webhook.Publisher{URL: c.URL, Secret: get("outputs.webhook.secret", c.Secret), MinSeverity: c.MinSeverity}
		pubs = append(pubs, p)
		if err := p.Check(); err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
	}
	return pubs, errors.Join(errs...)
}

// priorSends is what earlier runs of the same window sent (a re-run for late data, or after a failed
// publish, has the same finding ids), read from their run.json.
func priorSends(ctx context.Context, lk *lake.Lake, runs lake.Store, so lake.StoreOptions, run *lake.Run) ([]lake.Sent, error) {
	entries, err := listRuns(ctx, lk, run.WindowStart, run.WindowEnd)
	if err != nil {
		return nil, err
	}
	stores := map[string]lake.Store{lk.Store().URL(): lk.Store()}
	if runs != nil {
		stores[runs.URL()] = runs
	}
	var out []lake.Sent
	for _, e := range entries {
		if e.ID == run.ID || !e.WindowStart.Equal(run.WindowStart) || !e.WindowEnd.Equal(run.WindowEnd) {
			continue
		}
		st := stores[e.Store]
		if st == nil {
			if st, err = lake.OpenStore(ctx, e.Store, so); err != nil {
				return nil, fmt.Errorf("open the store of run %s: %w", e.ID, err)
			}
			stores[e.Store] = st
		}
		b, err := lake.ReadAll(ctx, st, e.Dir+lake.RunFile)
		if errors.Is(err, lake.ErrNotFound) {
			continue // indexed but deleted: nothing to learn from it
		}
		if err != nil {
			return nil, fmt.Errorf("read what run %s sent: %w", e.ID, err)
		}
		var r lake.Run
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read what run %s sent: %s%s: %w", e.ID, e.Location(), lake.RunFile, err)
		}
		out = append(out, r.Sent...)
	}
	return out, nil
}

// registerHandoffFlags adds --slack, --jira and --webhook, which override outputs.*.enabled, and
// --secret-id, which overrides outputs.secret_id.
func registerHandoffFlags(c *cobra.Command) {
	c.Flags().String("secret-id", "", "the AWS Secrets Manager secret that secretsmanager:KEY references in outputs read (overrides outputs.secret_id)")
	c.Flags().Bool("slack", false, "post each new finding group to Slack (overrides outputs.slack.enabled)")
	c.Flags().Bool("jira", false, "file Jira issues for new finding groups (overrides outputs.jira.enabled)")
	c.Flags().Bool("webhook", false, "send each new finding group to the webhook (overrides outputs.webhook.enabled)")
}

func handoffFlags(cmd *cobra.Command, o *outputsConfig) {
	if cmd.Flags().Changed("secret-id") {
		o.SecretID, _ = cmd.Flags().GetString("secret-id")
	}
	for name, dst := range map[string]*bool{"slack": &o.Slack.Enabled, "jira": &o.Jira.Enabled, "webhook": &o.Webhook.Enabled} {
		if cmd.Flags().Changed(name) {
			*dst, _ = cmd.Flags().GetBool(name)
		}
	}
}

var listRuns = scheduler.ListRuns

func newExportHandoffCmd() *cobra.Command {
	var (
		run, cfgPath, reportURL string
	)
	c := &cobra.Command{
		Use:   "handoff --run RUNDIR [--config lakehunt.yaml] [--slack] [--jira] [--webhook]",
		Short: "Send a run's new finding groups to Slack, Jira and the webhook configured in outputs",
		Long: `handoff sends the run's finding groups to the outputs lakehunt.yaml enables (or the flags): one Slack
message per group, one Jira issue per group or finding (a finding with an open issue gets a comment), one
signed webhook delivery per group. What was sent is recorded in RUNDIR/run.json (sent), and only what is
not recorded there is sent: run it again after fixing a refusal and it sends the rest. A failing output does
not stop the others; the exit status is 3 if any failed.`,
		Example: `  lakehunt export handoff --run runs/today --slack
  lakehunt export handoff --run runs/today --config /etc/lakehunt/lakehunt.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := findConfig(cfgPath)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: err.Error()}
			}
			o := &cfg.Outputs
			handoffFlags(cmd, o)
			if err := o.validate(); err != nil {
				return &exitCodeError{code: exitUsage, msg: err.Error()}
			}
			if cmd.Flags().Changed("report-url") {
				o.ReportURL = reportURL
			}
			if !o.Slack.Enabled && !o.Jira.Enabled && !o.Webhook.Enabled {
				return &exitCodeError{code: exitUsage, msg: "no hand-off output is enabled: set outputs.slack/jira/webhook.enabled in " + defaultConfigFile + " or pass --slack, --jira or --webhook"}
			}
			pubs, err := handoffs(ctx, o, &secrets{id: o.SecretID})
			if err != nil {
				return err
			}
			r, err := reports.ReadRun(run)
			if err != nil {
				return err
			}
			outs, err := publish.Run(ctx, run, pubs, publish.Options{ReportURL: o.reportURL(r.ID)})
			if err != nil {
				return err
			}
			for _, out := range outs {
				line := fmt.Sprintf("%s: sent %s", out.Publisher, plural(len(out.Sent), "group"))
				if out.Skipped > 0 {
					line += fmt.Sprintf(", %s sent before", plural(out.Skipped, "group"))
				}
				for _, s := range out.Sent {
					if s.Ref != "" {
						line += fmt.Sprintf("\n  %s: %s %s", s.GroupID, s.Action, safetext.Line(s.Ref))
					}
				}
				fmt.Fprintln(cmd.OutOrStdout(), line)
			}
			if err := publish.Failed(outs); err != nil {
				return &exitCodeError{code: exitBadInput, msg: safetext.Text(err.Error())}
			}
			return nil
		},
	}
	c.Flags().StringVar(&run, "run", "", "the run directory")
	c.Flags().StringVar(&cfgPath, "config", "", "lakehunt.yaml with the outputs (default ./"+defaultConfigFile+" if it exists)")
	c.Flags().StringVar(&reportURL, "report-url", "", "where report.html is published (overrides outputs.report_url)")
	registerHandoffFlags(c)
	_ = c.MarkFlagRequired("run")
	return c
}
