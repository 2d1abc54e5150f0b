package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

func writeRunDir(t *testing.T, runJSON, findings string) string {
	t.Helper()
	dir := t.TempDir()
	if runJSON != "" {
		if err := os.WriteFile(filepath.Join(dir, lake.RunFile), []byte(runJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if findings != "-" {
		if err := os.WriteFile(filepath.Join(dir, lake.FindingsFile), []byte(findings), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadRunDir(t *testing.T) {
	big := strings.Repeat("x", 1<<20) // a 1 MB evidence value: longer than bufio.Scanner's default line limit
	tests := []struct {
		name      string
		run       string
		findings  string // "-" means no findings.jsonl
		wantN     int
		wantErr   string // substring; "" means success
		wantFirst string
	}{
		{name: "two findings, blank line, CRLF", run: `{"id":"r1","finding_count":2}`,
			findings: "{\"id\":\"a\",\"hunt_id\":\"h\"}\r\n\n{\"id\":\"b\",\"hunt_id\":\"h\"}", wantN: 2, wantFirst: "a"},
		{name: "huge line", run: `{"id":"r1","finding_count":1}`,
			findings: `{"id":"a","hunt_id":"h","fields":{"v":"` + big + `"}}` + "\n", wantN: 1, wantFirst: "a"},
		{name: "no findings file and none counted", run: `{"id":"r1","finding_count":0}`, findings: "-", wantN: 0},
		{name: "missing run.json", run: "", findings: "", wantErr: "run.json not found"},
		{name: "run.json not JSON", run: `{"id":`, findings: "", wantErr: "run.json is not a valid run file"},
		{name: "run without id", run: `{"finding_count":0}`, findings: "", wantErr: "has no run id"},
		{name: "bad line named", run: `{"id":"r1","finding_count":2}`,
			findings: "{\"id\":\"a\",\"hunt_id\":\"h\"}\n{not json}\n", wantErr: "findings.jsonl line 2 is not a finding"},
		{name: "finding without id", run: `{"id":"r1","finding_count":1}`, findings: `{"hunt_id":"h"}`, wantErr: "line 1: finding without id"},
		{name: "truncated file", run: `{"id":"r1","finding_count":3}`,
			findings: "{\"id\":\"a\",\"hunt_id\":\"h\"}\n", wantErr: "has 1 findings but"},
		{name: "findings file missing but counted", run: `{"id":"r1","finding_count":1}`, findings: "-", wantErr: "has 0 findings but"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRunDir(t, tt.run, tt.findings)
			run, fs, err := ReadRunDir(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if run.ID != "r1" || len(fs) != tt.wantN {
				t.Fatalf("run %q with %d findings, want r1 with %d", run.ID, len(fs), tt.wantN)
			}
			if tt.wantFirst != "" && fs[0].ID != tt.wantFirst {
				t.Errorf("first finding %q, want %q", fs[0].ID, tt.wantFirst)
			}
		})
	}
}

func TestReadRunDirFixtures(t *testing.T) {
	for _, name := range []string{"run-mixed", "run-empty"} {
		run, fs, err := ReadRunDir(filepath.Join("..", "testdata", "reports", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(fs) != run.FindingCount {
			t.Errorf("%s: %d findings, run says %d", name, len(fs), run.FindingCount)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		want    string
		wantCut bool
	}{
		{"short", 10, "short", false},
		{"exactly10!", 10, "exactly10!", false},
		{"héllo wörld, this is long", 20, "héllo wö" + TruncMark, true},
		{"abcdef", 3, "abc", true}, // too short for the mark
		{"bad\xffutf8", 20, "bad\uFFFDutf8", false},
		{"日本語のテキストです。とても長い文章になります", 15, "日本語" + TruncMark, true},
	}
	for _, tt := range tests {
		got, cut := Truncate(tt.in, tt.max)
		if got != tt.want || cut != tt.wantCut {
			t.Errorf("Truncate(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, cut, tt.want, tt.wantCut)
		}
		if n := len([]rune(got)); n > tt.max {
			t.Errorf("Truncate(%q, %d) has %d characters", tt.in, tt.max, n)
		}
	}
}

func TestAnchorIsStableAndSafe(t *testing.T) {
	a := Anchor(`"><script>x</script>`)
	if a != Anchor(`"><script>x</script>`) || a == Anchor("other") {
		t.Fatal("Anchor is not a stable function of the id")
	}
	if strings.Trim(a, "finding-0123456789abcdef") != "" {
		t.Errorf("Anchor %q has characters outside [a-z0-9-]", a)
	}
}

func TestAttackURL(t *testing.T) {
	tests := map[string]string{
		"T1098":           "https://attack.mitre.org/techniques/T1098/",
		"t1562.008":       "https://attack.mitre.org/techniques/T1562/008/",
		"defense-evasion": "https://attack.mitre.org/tactics/TA0005/",
		"Defense Evasion": "https://attack.mitre.org/tactics/TA0005/",
		"TA0011":          "https://attack.mitre.org/tactics/TA0011/",
		"javascript:x":    "",
		"T12345":          "",
		"":                "",
	}
	for in, want := range tests {
		if got := AttackURL(in); got != want {
			t.Errorf("AttackURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Scheduled runs are kept side by side: the one that started last before this run is the previous run;
// directories that are not runs are passed over, and --previous (run.Previous) wins.
func TestPreviousRunDir(t *testing.T) {
	parent := t.TempDir()
	mk := func(name, runJSON string) string {
		dir := filepath.Join(parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if runJSON != "" {
			if err := os.WriteFile(filepath.Join(dir, lake.RunFile), []byte(runJSON), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	mon := mk("mon", `{"id":"r-mon","started_at":"2026-03-02T01:00:00Z"}`)
	tue := mk("tue", `{"id":"r-tue","started_at":"2026-03-03T01:00:00Z"}`)
	wed := mk("wed", `{"id":"r-wed","started_at":"2026-03-04T01:00:00Z"}`)
	mk("lake", "")
	mk("broken", `{not json`)
	tests := []struct {
		name string
		dir  string
		prev string // run.Previous
		want string
	}{
		{"the latest earlier run", wed, "", tue},
		{"runs started later are not previous", tue, "", mon},
		{"the first run has none", mon, "", ""},
		{"--previous wins", wed, mon, mon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := ReadRun(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			run.Previous = tt.prev
			if got := PreviousRunDir(tt.dir, run); got != tt.want {
				t.Errorf("PreviousRunDir(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}
