package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

// defaultConfigFile is read by run --due and status when --config is not given and it exists.
const defaultConfigFile = "lakehunt.yaml"

// config is lakehunt.yaml: everything a scheduled tick needs. Flags override it.
type config struct {
	Lake     string         `yaml:"lake"`
	Raw      []rawConfig    `yaml:"raw"`
	Accounts []string       `yaml:"accounts"`
	Org      orgConfig      `yaml:"organization"`
	TIFeeds  []tiFeedConfig `yaml:"ti_feeds"`
	Hunts    huntsConfig    `yaml:"hunts"`
	Outputs  outputsConfig  `yaml:"outputs"`
	Schedule scheduleConfig `yaml:"schedule"`
	S3       s3Config       `yaml:"s3"`
	Catalog  catalogConfig  `yaml:"catalog"`

	path string // the file it was read from ("" = flags only)
}

// catalogConfig: a scheduled tick that committed points these Glue tables at the lake's new Iceberg
// snapshot, so Athena reads what lakehunt reads without a separate 'catalog register'.
type catalogConfig struct {
	GlueDatabase string `yaml:"glue_database"`
	Region       string `yaml:"region"`
	Endpoint     string `yaml:"endpoint"`
}

type rawConfig struct {
	URL     string   `yaml:"url"`
	Prefix  string   `yaml:"prefix"` // deprecated: loadConfig appends it to URL
	Sources []string `yaml:"sources"`
	// Prefixes maps a source to folders under url its objects are delivered to outside the AWSLogs/
	// layout (Firehose, agents): {waf: [firehose/waf/]}.
	Prefixes map[string][]string `yaml:"prefixes"`
}

// orgConfig names the accounts hunts treat as ours: a principal, trust policy or share naming any other
// account is "outside the organization".
type orgConfig struct {
	ID       string   `yaml:"id"`
	Accounts []string `yaml:"accounts"`
}

// organization is the accounts hunts treat as ours: organization.accounts, else the compacted accounts,
// else none (the engine then takes every account the lake holds logs for).
func (c *config) organization() []string {
	if len(c.Org.Accounts) > 0 {
		return c.Org.Accounts
	}
	return c.Accounts
}

type tiFeedConfig struct {
	Name   string   `yaml:"name"`
	URLs   []string `yaml:"urls"`
	Format string   `yaml:"format"`
}

type huntsConfig struct {
	Library *bool    `yaml:"library"`
	Dirs    []string `yaml:"dirs"`
	Only    []string `yaml:"only"`
	// Each hunt's DuckDB session: memory (e.g. 2GB), threads, and how long its SQL may run.
	MemoryLimit string   `yaml:"memory_limit"`
	Threads     int      `yaml:"threads"`
	Timeout     duration `yaml:"timeout"`
}

// limits is the hunts' session limits, defaults filled in.
func (h huntsConfig) limits() (hunts.Limits, error) {
	return hunts.Limits{MemoryLimit: h.MemoryLimit, Threads: h.Threads, Timeout: time.Duration(h.Timeout)}.WithDefaults()
}

type outputsConfig struct {
	Runs        string            `yaml:"runs"`
	ReportURL   string            `yaml:"report_url"`
	SecretID    string            `yaml:"secret_id"`
	ASFF        asffConfig        `yaml:"asff"`
	SecurityHub securityHubConfig `yaml:"securityhub"`
	Slack       slackConfig       `yaml:"slack"`
	Jira        jiraConfig        `yaml:"jira"`
	Webhook     webhookConfig     `yaml:"webhook"`
}

type asffConfig struct {
	Region         string `yaml:"region"`
	DefaultAccount string `yaml:"default_account"`
	ProductARN     string `yaml:"product_arn"`
	ReportURL      string `yaml:"report_url"`
}

type securityHubConfig struct {
	Enabled       bool   `yaml:"enabled"`
	Region        string `yaml:"region"`
	Endpoint      string `yaml:"endpoint"`
	CallerAccount string `yaml:"caller_account"`
}

type scheduleConfig struct {
	Delay        duration `yaml:"delay"`
	MaxCatchUp   int      `yaml:"max_catch_up"`
	LateLookback duration `yaml:"late_lookback"`
	LeaseTTL     duration `yaml:"lease_ttl"`
}

type s3Config struct {
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	CacheDir string `yaml:"cache_dir"`
}

// duration is a Go duration (90m, 1h30m) or a day/week count (7d, 2w).
type duration time.Duration

func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("duration %q must not be negative", s)
		}
		return d, nil
	}
	d, err := huntfile.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: use e.g. 15m, 1h30m, 7d or 2w", s)
	}
	return d.D(), nil
}

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// loadConfig reads a config file. Unknown keys are errors (a typo must not silently drop a setting).
// Relative local paths in it are relative to the file's directory.
func loadConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w (write one with 'lakehunt init')", err)
	}
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.path = path
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Dir(path)
	rel := func(p *string) {
		if *p != "" && !strings.Contains(*p, "://") && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	rel(&c.Lake)
	rel(&c.Outputs.Runs)
	rel(&c.S3.CacheDir)
	for i := range c.Raw {
		rel(&c.Raw[i].URL)
		c.Raw[i].URL, c.Raw[i].Prefix = withPrefix(c.Raw[i].URL, c.Raw[i].Prefix), ""
	}
	for i := range c.Hunts.Dirs {
		rel(&c.Hunts.Dirs[i])
	}
	for i := range c.TIFeeds {
		for j := range c.TIFeeds[i].URLs {
			rel(&c.TIFeeds[i].URLs[j])
		}
	}
	return &c, nil
}

func (c *config) validate() error {
	for i, r := range c.Raw {
		if r.URL == "" {
			return fmt.Errorf("raw[%d] has no url", i)
		}
		if err := checkPrefixes(r.Prefixes); err != nil {
			return fmt.Errorf("raw[%d].prefixes: %w", i, err)
		}
	}
	for _, a := range c.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return fmt.Errorf("accounts: %q is not a 12-digit AWS account id (quote it in YAML so leading zeros stay)", a)
		}
	}
	for _, a := range c.Org.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return fmt.Errorf("organization.accounts: %q is not a 12-digit AWS account id (quote it in YAML so leading zeros stay)", a)
		}
	}
	if c.Org.ID != "" && !orgIDPattern.MatchString(c.Org.ID) {
		return fmt.Errorf("organization.id: %q is not an AWS Organizations id (o- and 10 to 32 lower-case letters or digits)", c.Org.ID)
	}
	for i, f := range c.TIFeeds {
		if f.Name == "" || len(f.URLs) == 0 {
			return fmt.Errorf("ti_feeds[%d] needs a name and at least one url", i)
		}
	}
	if _, err := c.Hunts.limits(); err != nil {
		return fmt.Errorf("hunts: %w", err)
	}
	if err := c.Outputs.validate(); err != nil {
		return err
	}
	if c.Schedule.MaxCatchUp < 0 {
		return errors.New("schedule.max_catch_up must not be negative")
	}
	return nil
}

var orgIDPattern = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)

// findConfig returns the config to use: the given path, else ./lakehunt.yaml if it exists, else none.
func findConfig(path string) (*config, error) {
	if path != "" {
		return loadConfig(path)
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return loadConfig(defaultConfigFile)
	}
	return &config{}, nil
}

// initConfig is what `lakehunt init` writes: every setting, commented.
const initConfig = `# lakehunt configuration, read by 'lakehunt run --due' and 'lakehunt status' (--config FILE, default
# ./lakehunt.yaml). Command-line flags override what is set here. Relative paths are relative to this file.
# Locations are local directories or s3://bucket/prefix/ (credentials: the standard AWS chain).

# The Parquet lake. The scheduler keeps its state in it (_lakehunt/state/), so any machine can run the
# next tick; one runner works at a time (a lease in the lake, _lakehunt/leases/scheduler.json).
lake: {{LAKE}}

# Raw logs exactly as AWS delivers them (the keys contain AWSLogs/...): each url is the folder that holds
# AWSLogs/, AWSLogs/ itself, or any folder below it (AWSLogs/111122223333/, AWSLogs/o-ORG/). Each tick
# compacts the objects the lake has not consumed yet, exactly once.
raw:
{{RAW}}

# Only these accounts' logs are compacted (organization trails' included); empty = all. Each raw url is
# still listed whole: to list less, point a url at AWSLogs/ACCOUNT/. Quote the ids so YAML keeps leading zeros.
accounts: []
#  - "111122223333"

# The organization: hunts about outside principals (a role trusting another account, a snapshot shared
# with one) treat every account not listed here as outside. Default: the accounts above, else every
# account the lake holds logs for. run.json records which list a run used.
organization:
  id: ""              # o-... (recorded with findings)
  accounts: []
#    - "111122223333"

# Threat-intel feeds, re-imported at each tick (an unchanged feed commits nothing). Formats: auto,
# or one of those 'lakehunt ti import --help' lists.
ti_feeds: []
#  - name: feodo
#    urls: [s3://intel-bucket/feodo/ipblocklist.txt]
#    format: auto

hunts:
  library: true   # the hunts shipped in the binary
  dirs: []        # your own hunt directories (reviewed YAML files with hunts.lock)
  only: []        # run only these hunt ids (default: all loaded hunts)
  # Each hunt runs in its own DuckDB session that reads the lake's tables and nothing else.
  memory_limit: 1GB  # DuckDB memory per hunt; above it DuckDB spills to a temporary directory
  threads: 2         # DuckDB threads per hunt
  timeout: 10m       # the longest a hunt's SQL (baselines and query) may run; then it is stopped and fails

outputs:
  # Where run directories go: "" keeps them in the lake (_lakehunt/runs/RUN_ID/); or a local directory
  # or s3:// prefix. Every run is indexed in the lake either way, for 'lakehunt report --lake L --since 30d'.
  runs: ""
  asff:                  # asff.json written into every run directory
    region: ""           # Security Hub region (default: each finding's region)
    default_account: ""  # account for findings that have none
    product_arn: ""      # default: arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default
    report_url: ""       # where report.html is published; findings' SourceUrl points into it
  securityhub:           # BatchImportFindings after each run; a failed import re-runs the window next tick
    enabled: false
    region: ""
    endpoint: ""         # a VPC endpoint, if any
    caller_account: ""   # the account the credentials belong to
  # Hand-off: each new finding group (findings that share a principal, key, IP, ...) to Slack, Jira or a
  # webhook. What was sent is recorded in run.json (sent), so a re-run of a window does not send it twice.
  # A service's refusal (4xx) is reported and the window is done; throttling and 5xx are retried, then
  # the window runs again next tick. Secrets are references: env:NAME, or secretsmanager:KEY for the
  # field KEY of the JSON secret secret_id (the deploy template lets the task read that one secret).
  report_url: ""         # where report.html is published, {run_id} replaced; messages link to it
  secret_id: ""          # AWS Secrets Manager secret name or ARN
  slack:                 # an incoming webhook, or a bot token (chat:write) and a channel
    enabled: false
    webhook_url: env:LAKEHUNT_SLACK_WEBHOOK_URL
    token: ""            # e.g. secretsmanager:slack_bot_token
    channel: ""          # channel id (C0123456789) for the token
    min_severity: high   # groups below it are not posted
  jira:                  # Jira Cloud REST API, an account's email and API token
    enabled: false
    url: ""              # https://your-site.atlassian.net
    email: ""
    token: env:LAKEHUNT_JIRA_TOKEN
    project: ""          # project key, e.g. SEC
    issue_type: Task
    per: group           # one issue per group, or per finding; recurring findings comment on their open issue
    api_version: 3
    min_severity: high
  webhook:               # POST of the group as JSON, X-Lakehunt-Signature: sha256=HMAC(secret, timestamp.body)
    enabled: false
    url: ""
    secret: env:LAKEHUNT_WEBHOOK_SECRET
    min_severity: medium

schedule:
  # A hunt's own 'schedule' (cron, @hourly, rate(...), cron(...)) cuts its windows; these bound the ticks.
  delay: 15m          # a window closes this long after its end (CloudTrail delivers 5-15 minutes late)
  max_catch_up: 24    # windows per hunt per tick after an outage, oldest first (the rest next tick)
  late_lookback: 7d   # late data re-opens windows this far back; older late data is reported, not hunted
  lease_ttl: 5m       # a crashed runner blocks the others this long (real time; renewed every third of it)

s3:
  endpoint: ""        # an S3-compatible endpoint (path-style); default $AWS_ENDPOINT_URL_S3, else AWS
  region: ""
  cache_dir: ""       # local cache of an S3 lake's files (default: the user cache dir + /lakehunt)

# Athena: each tick points these AWS Glue tables (Iceberg) at the lake's current snapshot, as 'lakehunt
# catalog register' does, so Athena reads what lakehunt reads. Needs an S3 lake and
# deploy/iam-catalog-register.json.
catalog:
  glue_database: ""   # e.g. lakehunt; "" = do not touch Glue
  region: ""          # Glue's region (default: AWS_REGION)
  endpoint: ""        # a VPC endpoint, if any
`

func renderInitConfig(lakeURL string, raws []string) string {
	if lakeURL == "" {
		lakeURL = "./lake"
	}
	var raw strings.Builder
	if len(raws) == 0 {
		raws = []string{"./raw"}
	}
	for _, r := range raws {
		fmt.Fprintf(&raw, "  - url: %s\n    # sources: [%s]   # tables to fill (default all)\n"+
			"    # prefixes: {waf: [firehose/waf/]}   # logs delivered outside AWSLogs/ (Firehose, agents), by source\n", yamlScalar(r), strings.Join(compact.Sources, ", "))
	}
	return strings.NewReplacer("{{LAKE}}", yamlScalar(lakeURL), "{{RAW}}\n", raw.String()).Replace(initConfig)
}

func yamlScalar(s string) string {
	b, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(b))
}

// checkPrefixes checks a source -> prefixes mapping against the registered sources.
func checkPrefixes(m map[string][]string) error {
	for s, ps := range m {
		d, ok := compact.Lookup(s)
		if !ok {
			return fmt.Errorf("unknown source %q (known: %s)", s, strings.Join(compact.Sources, ", "))
		}
		if !d.Prefixed() {
			return fmt.Errorf("source %s is read only in its AWSLogs/ layout and cannot be mapped to a prefix", s)
		}
		if len(ps) == 0 {
			return fmt.Errorf("source %s: give at least one prefix, such as firehose/%s/", s, s)
		}
	}
	return nil
}
